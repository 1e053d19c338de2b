#!/usr/bin/env python3
"""The window_funnel benchmark (issue 4, Performance): the level of every customer in a
5-step funnel with a 7-day window, counted per level, over the Parquet files of
`window_funnel_events.py`, in one engine:

    python3 benches/peers/window_funnel_bench.py crmlens DATASET [runs] [--binary PATH] [--mode M]
    python3 benches/peers/window_funnel_bench.py chdb    DATASET [runs] [--mode M]
    python3 benches/peers/window_funnel_bench.py duckdb  DATASET [runs]

- crmlens: `crmlens sql` (a release build) run as a process per run; the time is the
  process's wall time (start, planning, scan, aggregation), its peak memory that of the
  process (`/usr/bin/time -v`).
- chdb: ClickHouse's `windowFunnel(604800)(toDateTime(occurred_at), …)` over
  `file('…/events/*.parquet', Parquet)`, in process; peak memory = the process's maximum
  resident set (minus nothing: the figure printed before the first query is the baseline).
- duckdb: the best plain-SQL formulation found: the funnel entries (step-1 events) and a
  chain of ASOF LEFT JOINs, each step the earliest event of the next condition at or after
  the previous step (greedy earliest is optimal for a fixed entry), the level of an entry the
  number of steps found within 7 days of it, a customer's level the best of its entries. This
  is ClickHouse's default mode (no mode) exactly; the modes have no such formulation here.

Every engine uses 2 threads (the machine has 2 cores). One warm-up run, then `runs` timed
runs; prints the median and the per-level counts, which must agree between engines.
"""
import argparse
import re
import resource
import statistics
import subprocess
import sys
import time

STEPS = ["visit", "view_product", "cart", "checkout", "purchase"]
WINDOW_S = 7 * 86400

p = argparse.ArgumentParser()
p.add_argument("engine", choices=["crmlens", "chdb", "duckdb"])
p.add_argument("dataset")
p.add_argument("runs", nargs="?", type=int, default=3)
p.add_argument("--binary", default="target/release/crmlens")
p.add_argument("--mode", default="", help="window_funnel modes, e.g. strict_order")
p.add_argument("--threads", type=int, default=2)
args = p.parse_args()
files = f"{args.dataset}/events/*.parquet"


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def crmlens():
    mode = f"'{args.mode}', " if args.mode else ""
    conds = ", ".join(f"event = '{s}'" for s in STEPS)
    query = (
        "select level, count(*) as customers from (select customer_id, "
        f"window_funnel(interval '7 days', {mode}occurred_at, {conds}) as level "
        "from events group by customer_id) group by level order by level"
    )
    peak = []

    def run():
        out = subprocess.run(
            ["/usr/bin/time", "-v", args.binary, "sql", "--dataset", args.dataset,
             "--format", "csv", query],
            check=True, capture_output=True, text=True,
        )
        peak.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)[1]) / 1024)
        return [tuple(int(x) for x in line.split(",")) for line in out.stdout.split()[1:]]

    return run, lambda: f"peak RSS of the crmlens process {max(peak):.0f} MB (median {statistics.median(peak):.0f} MB)"


def chdb_engine():
    import chdb
    from chdb import session

    sess = session.Session()
    params = ", ".join([str(WINDOW_S)] + [f"'{m.strip()}'" for m in args.mode.split(",") if m])
    conds = ", ".join(f"event = '{s}'" for s in STEPS)
    query = (
        "select level, count() from (select customer_id, "
        f"windowFunnel({params})(toDateTime(occurred_at), {conds}) as level "
        f"from file('{files}', Parquet) group by customer_id) group by level order by level "
        f"settings max_threads = {args.threads}"
    )
    base = rss_mb()
    print(f"chdb {chdb.__version__}: baseline RSS before the first query {base:.0f} MB")

    def run():
        text = sess.query(query, "CSV").bytes().decode()
        return [tuple(int(x) for x in line.split(",")) for line in text.split()]

    return run, lambda: f"peak RSS of the python process {rss_mb():.0f} MB (baseline {base:.0f} MB)"


def duckdb_engine():
    import duckdb

    if args.mode:
        sys.exit("duckdb: no plain-SQL formulation of the modes here")
    con = duckdb.connect()
    con.execute(f"set threads = {args.threads}")
    steps = "\n".join(
        f", s{i} as (select customer_id, occurred_at as ts from e where event = '{s}')"
        for i, s in enumerate(STEPS, 1)
    )
    chain = "s1.customer_id, s1.ts as t1"
    joins = ""
    for i in range(2, len(STEPS) + 1):
        chain += f", s{i}.ts as t{i}"
        joins += (f" asof left join s{i} on s1.customer_id = s{i}.customer_id "
                  f"and s{i}.ts >= {'s1.ts' if i == 2 else f's{i - 1}.ts'}")
    level = " + ".join(
        f"(t{i} is not null and t{i} <= t1 + interval {WINDOW_S} second)::int"
        for i in range(2, len(STEPS) + 1)
    )
    query = f"""
    with e as (select customer_id, event, occurred_at from read_parquet('{files}')
               where event in ({', '.join(f"'{s}'" for s in STEPS)}))
    {steps}
    , chain as (select {chain} from s1 {joins})
    , levels as (select customer_id, max(1 + {level}) as level from chain group by customer_id)
    , customers as (select distinct customer_id from read_parquet('{files}'))
    select coalesce(l.level, 0) as level, count(*) from customers c
    left join levels l using (customer_id) group by 1 order by 1
    """
    base = rss_mb()
    print(f"duckdb {duckdb.__version__}: baseline RSS before the first query {base:.0f} MB")

    def run():
        return [tuple(int(x) for x in r) for r in con.execute(query).fetchall()]

    return run, lambda: f"peak RSS of the python process {rss_mb():.0f} MB (baseline {base:.0f} MB)"


run, memory = {"crmlens": crmlens, "chdb": chdb_engine, "duckdb": duckdb_engine}[args.engine]()
result = run()  # warm-up: page cache, metadata
times = []
for _ in range(args.runs):
    start = time.perf_counter()
    again = run()
    times.append(time.perf_counter() - start)
    assert again == result, (again, result)
print(f"{args.engine}{' ' + args.mode if args.mode else ''}: median {statistics.median(times):.2f} s "
      f"over {args.runs} runs ({', '.join(f'{t:.2f}' for t in times)}); {memory()}")
print(f"  levels: {result}")
