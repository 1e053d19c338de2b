#!/usr/bin/env python3
"""Peer comparison for issue 5 (Performance): the 50 segments of benches/segments/ evaluated
by `crmlens segment run --all` in one session, against the same 50 queries run one by one in
DuckDB on the same Parquet files, as a user would script them by hand.

    pip install duckdb
    python3 benches/peers/duckdb_segments.py DATASET CRMLENS_BINARY [RUNS] [THREADS] [SEGMENTS_DIR]

DuckDB (in-process, `set threads = THREADS`, time zone UTC): every segment is one
self-contained query. The definitions are read from the TOML files and translated
mechanically:
  - `filter = "<cond>"` becomes `with <customer_features CTEs> select customer_id from
    customer_features where <cond>`; the customer_features SQL comes from duckdb_features.py,
    shared with duckdb_customer_value.py (checked equal to crmlens there; CLV columns NULL);
  - `sql = "<query>"` becomes `select customer_id from (<query>) where customer_id is not null`
    (crmlens's rule: a NULL customer_id is not a member), with the CTEs in front when it reads
    customer_features;
  - `as_of()` becomes the DATE literal of the analysis date (the latest order date, as crmlens
    takes it), computed once before the timings;
  - `in_segment('x')` becomes `customer_id in (<x's query>)`, x's conditions inlined
    recursively (x's own CTE-less select over the shared customer_features CTE, or x's sql).
The base tables are views over read_parquet (created once, lazily; no data is read then).
Each query writes its customer_ids to a Parquet file (COPY … TO), as crmlens writes a members
file per segment; the row count COPY reports is the member count.

crmlens runs as a process: `crmlens segment run --all --segments DIR --out OUT --dataset DS
-q --format json`, a fresh OUT directory for every run (so each run writes first snapshots:
members, entered = everyone, exited = nobody, manifest), its wall time including start-up,
the as_of lookup, customer_features materialised once (`shared_ms` in its JSON summary) and
the 50 segments. Peak RSS comes from wait4() of the child.

crmlens gets one untimed warm-up run (page cache), then RUNS timed runs; DuckDB then RUNS timed
runs (no warm-up of its own: the files are in the page cache by then). Medians printed.
Finally every segment's member count is compared (crmlens JSON summary vs DuckDB); the script
exits 1 on any mismatch.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import duckdb_features  # noqa: E402

dataset = sys.argv[1]
crmlens = sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
seg_dir = sys.argv[5] if len(sys.argv) > 5 else os.path.join(os.path.dirname(__file__), "..", "segments")

TABLES = ["customers", "orders", "order_items", "products", "deals", "deal_stage_history",
          "activities", "contacts", "managers", "campaigns", "campaign_members", "events",
          "tickets", "surveys", "plans"]


def table(name):
    path = f"{dataset}/{name}"
    return f"read_parquet('{path}/*.parquet')" if os.path.isdir(path) else f"read_parquet('{path}.parquet')"


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


con = duckdb.connect()
con.execute(f"set threads = {threads}")
con.execute("set TimeZone = 'UTC'")
for t in TABLES:
    if os.path.isdir(f"{dataset}/{t}") or os.path.exists(f"{dataset}/{t}.parquet"):
        con.execute(f"create or replace view {t} as select * from {table(t)}")

as_of = con.sql("select max(ordered_at)::date from orders").fetchall()[0][0]
A = f"DATE '{as_of}'"
W = 180  # [churn] window_days, crmlens default
xyz_start = con.sql(f"select (date_trunc('month', {A}) - interval 11 month)::date").fetchall()[0][0]
S = f"DATE '{xyz_start}'"

# The customer_features SQL shared with duckdb_customer_value.py (checked equal to crmlens there),
# as CTEs over the base-table views.
CTES = duckdb_features.ctes(lambda name: name, A, W, S)

# --- the definitions, translated
defs = {}
for fn in sorted(os.listdir(seg_dir)):
    if fn.endswith(".toml"):
        with open(os.path.join(seg_dir, fn), "rb") as f:
            defs[fn[:-5].lower()] = tomllib.load(f)

AS_OF = re.compile(r"\bas_of\s*\(\s*\)", re.I)
IN_SEGMENT = re.compile(r"\bin_segment\s*\(\s*'([^']+)'\s*\)", re.I)


def body(name):
    """The segment's query without the CTEs: filters select from the customer_features CTE."""
    d = defs[name]
    if "filter" in d:
        q = f"select customer_id from customer_features where ({d['filter'].strip()})"
    else:
        # crmlens: "a NULL customer_id is not a member" (surveys may be anonymous)
        q = f"select customer_id from ({d['sql'].strip().rstrip(';')}) where customer_id is not null"
    q = AS_OF.sub(A, q)
    return IN_SEGMENT.sub(lambda m: f"customer_id in ({body(m.group(1).lower())})", q)


def query(name):
    q = body(name)
    if re.search(r"\bcustomer_features\b", q, re.I):
        q = f"with {CTES}\n{q}"
    return q


queries = {n: query(n) for n in defs}
if os.environ.get("SHOW_SQL"):
    for n, q in queries.items():
        print(f"-- {n}\n{q};\n")

# --- crmlens
def run_crmlens(out):
    cmd = [crmlens, "segment", "run", "--all", "--segments", seg_dir, "--out", out,
           "--dataset", dataset, "-q", "--format", "json"]
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    stdout = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"crmlens failed ({os.waitstatus_to_exitcode(status)}): {stdout[:2000]!r}")
    return wall, ru.ru_maxrss / 1024, json.loads(stdout)


tmp = tempfile.mkdtemp(prefix="segments-bench-")
try:
    print(f"dataset {dataset}, as_of {as_of}, {len(defs)} segments "
          f"({sum('filter' in d for d in defs.values())} filter, {sum('sql' in d for d in defs.values())} sql; "
          f"{sum(bool(IN_SEGMENT.search(d.get('filter', d.get('sql', '')))) for d in defs.values())} of them building on others with in_segment), "
          f"{runs} timed runs each (crmlens after one warm-up), duckdb threads={threads}")
    print(f"uptime before crmlens: {uptime()}")
    run_crmlens(f"{tmp}/cl-warm")
    cl = []
    for i in range(runs):
        wall, rss, summary = run_crmlens(f"{tmp}/cl-{i}")
        cl.append((wall, rss, summary["shared_ms"], summary["duration_ms"]))
        print(f"  crmlens run {i + 1}: {wall:.2f} s wall, peak RSS {rss:.0f} MiB, "
              f"shared_ms {summary['shared_ms']}, duration_ms {summary['duration_ms']}")
        shutil.rmtree(f"{tmp}/cl-{i}")
    wall, rss, again = run_crmlens(f"{tmp}/cl-warm")
    rerun = (wall, rss, again["shared_ms"], sum(s["previous_as_of"] is not None for s in again["segments"]))
    print(f"  crmlens re-run into the warm-up's out dir (replaces the {again['as_of']} snapshots): "
          f"{wall:.2f} s wall, peak RSS {rss:.0f} MiB, segments diffed against an earlier snapshot: {rerun[3]}")
    print(f"uptime after crmlens: {uptime()}")
    if str(summary["as_of"]) != str(as_of):
        sys.exit(f"as_of differs: crmlens {summary['as_of']}, duckdb {as_of}")
    if summary["failed"]:
        sys.exit(f"crmlens failures: {summary['failures']}")
    cl_counts = {s["name"]: s["count"] for s in summary["segments"]}
    cl_seg_ms = {s["name"]: s["duration_ms"] for s in summary["segments"]}

    # --- DuckDB, one by one
    print(f"uptime before duckdb: {uptime()}")
    os.makedirs(f"{tmp}/duck", exist_ok=True)

    def run_duck():
        times, counts = {}, {}
        for n, q in queries.items():
            start = time.perf_counter()
            counts[n] = con.execute(f"copy ({q}) to '{tmp}/duck/{n}.parquet' (format parquet)").fetchone()[0]
            times[n] = time.perf_counter() - start
        return times, counts

    # no DuckDB warm-up run: the crmlens runs before have just read the same files (page
    # cache warm), and one DuckDB run over 1M customers takes minutes
    duck_runs = []
    for i in range(runs):
        start = time.perf_counter()
        times, duck_counts = run_duck()
        total = time.perf_counter() - start
        duck_runs.append((total, times))
        print(f"  duckdb run {i + 1}: {total:.2f} s")
    print(f"uptime after duckdb: {uptime()}")

    # --- results
    print(f"\n{'segment':28} {'kind':6} {'members':>9} {'duckdb ms':>10} {'crmlens ms':>10}")
    for n in queries:
        kind = "filter" if "filter" in defs[n] else "sql"
        if IN_SEGMENT.search(defs[n].get("filter", defs[n].get("sql", ""))):
            kind += "+"
        med = statistics.median(r[1][n] for r in duck_runs) * 1000
        print(f"{n:28} {kind:6} {duck_counts[n]:>9} {med:>10.0f} {cl_seg_ms.get(n, -1):>10}")
    duck_med = statistics.median(r[0] for r in duck_runs)
    cl_med = statistics.median(c[0] for c in cl)
    print(f"\ncrmlens segment run --all: median {cl_med:.2f} s wall over {runs} runs "
          f"(runs {', '.join(f'{c[0]:.2f}' for c in cl)}), peak RSS max {max(c[1] for c in cl):.0f} MiB, "
          f"shared_ms (customer_features) median {statistics.median(c[2] for c in cl):.0f}, "
          f"duration_ms median {statistics.median(c[3] for c in cl):.0f}")
    print(f"duckdb {duckdb.__version__} one by one (threads={threads}): median total {duck_med:.2f} s over "
          f"{runs} runs (runs {', '.join(f'{r[0]:.2f}' for r in duck_runs)})")
    print(f"ratio crmlens / duckdb: {cl_med / duck_med:.3f}  (duckdb / crmlens: {duck_med / cl_med:.1f}x)")

    mismatches = [(n, cl_counts.get(n), duck_counts[n]) for n in queries if cl_counts.get(n) != duck_counts[n]]
    zero = [n for n, c in duck_counts.items() if c == 0]
    print(f"member counts: {len(queries) - len(mismatches)} of {len(queries)} agree, "
          f"{len(mismatches)} mismatch(es); empty segments: {zero or 'none'}")
    for n, c, d in mismatches:
        print(f"  MISMATCH {n}: crmlens {c}, duckdb {d}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if mismatches else 0)
