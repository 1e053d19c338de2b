#!/usr/bin/env python3
"""Peer comparison for issue 4 (Performance): `crmlens funnel pipeline` (and `--by manager`)
against DuckDB computing the same funnel (same definitions: src/views/pipeline.rs) over the
same Parquet files, side by side, medians of N runs each.

    pip install duckdb
    python3 benches/peers/duckdb_pipeline.py DATASET [CRMLENS_BINARY] [runs] [as_of]

crmlens runs as a process writing CSV (`--format csv --output …`), so its time includes
start-up, opening the dataset and the log check of left-out deals (one more pass over the
deals); DuckDB runs in-process on a warm connection with 2 threads. crmlens's per-deal view
also joins the customer's region and RFM segment, which the funnel without --by does not
need; DuckDB's query leaves them out. The reached counts of both are printed: they must agree.
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb

dataset = sys.argv[1]
crmlens = sys.argv[2] if len(sys.argv) > 2 else "target/release/crmlens"
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
as_of = sys.argv[4] if len(sys.argv) > 4 else "2025-12-31"

con = duckdb.connect()
con.execute("set threads = 2")
con.execute("set TimeZone = 'UTC'")


def table(name):
    path = f"{dataset}/{name}"
    return f"read_parquet('{path}/*.parquet')" if os.path.isdir(path) else f"read_parquet('{path}.parquet')"


NEXT = f"(DATE '{as_of}' + 1)"


def funnel(by):
    grp = "d.manager_id" if by else "''"
    return f"""
with stages(stage, o) as (values ('lead', 1), ('qualified', 2), ('proposal', 3),
    ('negotiation', 4), ('won', 5), ('lost', 6)),
h as (select h.deal_id, s.o, h.entered_at from {table('deal_stage_history')} h
      join stages s using (stage) where h.entered_at < {NEXT}),
mx as (select deal_id, max(o) filter (where o <= 5) as mo from h group by deal_id),
dd as (
  select d.deal_id, {grp} as grp,
    case when d.closed_at is not null and d.closed_at >= {NEXT} then 'open'
         when d.status = 'won' then 'won' when d.status = 'lost' then 'lost' else 'open' end
      as status, mx.mo
  from {table('deals')} d left join mx using (deal_id) where d.created_at < {NEXT}),
dd2 as (select deal_id, grp, status,
    case when mo is null then null when status = 'won' then 5 else mo end as f from dd),
ends as (select grp, f as o, count(*) as n, count(*) filter (where status = 'won') as won,
    count(*) filter (where status = 'lost') as dropped,
    count(*) filter (where status = 'open') as in_progress
  from dd2 where f is not null group by grp, f),
visits as (select deal_id, o, entered_at,
    lead(entered_at) over (partition by deal_id order by entered_at, o) as left_at from h),
per as (select deal_id, o, count(*) as v, count(left_at) as c,
    sum(epoch(left_at) - epoch(entered_at)) / 86400.0 as days
  from visits where o <= 5 group by deal_id, o),
times as (select d.grp, p.o, quantile_cont(p.days, 0.5) filter (where p.v = p.c) as med,
    quantile_cont(p.days, 0.9) filter (where p.v = p.c) as p90
  from per p join dd2 d using (deal_id) where d.f is not null group by d.grp, p.o),
grid as (select g.grp, s.o, s.stage, coalesce(e.won, 0) as won,
    coalesce(e.dropped, 0) as dropped, coalesce(e.in_progress, 0) as in_progress,
    sum(coalesce(e.n, 0)) over (partition by g.grp order by s.o desc) as reached
  from (select distinct grp from dd2 where f is not null) g
  cross join (select * from stages where o <= 5) s
  left join ends e on e.grp = g.grp and e.o = s.o)
select g.grp, g.o, g.stage, g.reached,
  case when g.o < 5 then lead(g.reached) over (partition by g.grp order by g.o) end as converted,
  g.won, g.dropped, g.in_progress,
  converted / g.reached as conversion_to_next,
  g.reached / first_value(g.reached) over (partition by g.grp order by g.o) as conversion_from_first,
  t.med, t.p90
from grid g left join times t on t.grp = g.grp and t.o = g.o
order by g.grp, g.o
"""


def time_duckdb(by):
    q = funnel(by)
    rows = None
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        rows = con.sql(q).fetchall()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, rows


def time_crmlens(args):
    times = []
    peak = 0
    out = tempfile.mktemp(suffix=".csv")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [crmlens, "--dataset", dataset, "--as-of", as_of, "--format", "csv", "--output", out,
             "-q", "funnel", "pipeline", *args],
            check=True)
        times.append(time.perf_counter() - t)
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    with open(out) as f:
        text = f.read()
    os.remove(out)
    return statistics.median(times), times, peak, text


print(f"dataset {dataset}, as_of {as_of}, {runs} runs each; load: {os.getloadavg()}")
for label, args, by in [("funnel", [], False), ("funnel --by manager", ["--by", "manager"], True)]:
    c_med, c_times, peak, text = time_crmlens(args)
    d_med, d_times, rows = time_duckdb(by)
    print(f"\n{label}")
    print(f"  crmlens median {c_med:.2f} s  runs {[round(x, 2) for x in c_times]}  "
          f"peak RSS {peak / 1024:.0f} MB")
    print(f"  duckdb  median {d_med:.2f} s  runs {[round(x, 2) for x in d_times]}")
    print(f"  ratio crmlens / duckdb: {c_med / d_med:.2f}")
    lines = text.strip().splitlines()
    if not by:
        reached_c = [line.split(",")[2] for line in lines[1:]]
        reached_d = [str(r[3]) for r in rows]
        print(f"  reached crmlens {reached_c}\n  reached duckdb  {reached_d}")
        med_c = [line.split(",")[11][:8] for line in lines[1:]]
        med_d = [str(r[10])[:8] for r in rows]
        print(f"  median days crmlens {med_c}\n  median days duckdb  {med_d}")
    else:
        print(f"  rows crmlens {len(lines) - 1}, duckdb {len(rows)}")
