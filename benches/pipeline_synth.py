#!/usr/bin/env python3
"""Builds the pipeline benchmark dataset (issue 4, Performance: 1M deals / 5M stage rows).

    python3 benches/pipeline_synth.py BASE OUT [DEALS]

BASE is a `crmlens generate` dataset: its customers, orders and managers are copied (the
funnel needs customers and orders; deals point at its customers and managers). `deals` and
`deal_stage_history` are synthesised with DuckDB, deterministically (hash-based draws): DEALS
deals (default 1,000,000) created over 2023-01-01 … 2025-12-26, walking
lead → qualified → proposal → negotiation → won with 1–13 days per stage; the furthest stage
is lead 8 %, qualified 8 %, proposal 10 %, negotiation 14 %, won 60 %; deals that stop short
are lost 1–13 days later; 40 % of the deals that reach proposal go back to qualified and
return to proposal (two more rows: times in stage with re-entries). Entries and closings after
2025-12-31 are cut, so the deals still running then are open. About 5.2 history rows per deal.
"""
import os
import shutil
import sys

import duckdb

base, out = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
os.makedirs(out, exist_ok=True)
for t in ["customers", "orders", "managers"]:
    src = f"{base}/{t}.parquet"
    if os.path.isdir(f"{base}/{t}"):
        shutil.copytree(f"{base}/{t}", f"{out}/{t}", dirs_exist_ok=True)
    else:
        shutil.copy(src, f"{out}/{t}.parquet")

con = duckdb.connect()
con.execute("set threads = 2")
con.execute("set TimeZone = 'UTC'")


def table(name):
    path = f"{base}/{name}"
    return f"read_parquet('{path}/*.parquet')" if os.path.isdir(path) else f"read_parquet('{path}.parquet')"


END = "TIMESTAMP '2025-12-31 23:59:59'"
con.execute(f"""
create table cust as select row_number() over (order by customer_id) as k, customer_id
  from {table('customers')};
create table mgr as select row_number() over (order by manager_id) as k, manager_id
  from {table('managers')};
""")
ncust = con.sql("select count(*) from cust").fetchall()[0][0]
nmgr = con.sql("select count(*) from mgr").fetchall()[0][0]


def u(i, salt):
    return f"((hash({i}, '{salt}') % 1000000) / 1e6)"


def days(i, salt):
    return f"to_seconds(cast((1 + 12 * {u(i, salt)}) * 86400 as bigint))"


con.execute(f"""
create table walk as
select i, 'BD' || lpad(cast(i as varchar), 8, '0') as deal_id,
  1 + hash(i, 'cust') % {ncust} as ck, 1 + hash(i, 'mgr') % {nmgr} as mk,
  (['web', 'referral', 'cold_call', 'campaign', 'existing_customer'])[1 + cast(hash(i, 'src') % 5 as bigint)]
    as source,
  (['software', 'hardware', 'services', 'training', 'support'])[1 + cast(hash(i, 'cat') % 5 as bigint)]
    as product_category,
  cast(round(500 + 20000 * {u('i', 'amt')}, 2) as decimal(14, 2)) as amount,
  case when {u('i', 'f')} < 0.08 then 1 when {u('i', 'f')} < 0.16 then 2
       when {u('i', 'f')} < 0.26 then 3 when {u('i', 'f')} < 0.40 then 4 else 5 end as f,
  {u('i', 'back')} < 0.4 as back,
  TIMESTAMP '2023-01-01 08:00:00' + to_seconds(cast({u('i', 't')} * 1090 * 86400 as bigint))
    as t1,
  {days('i', 'd1')} as d1, {days('i', 'd2')} as d2, {days('i', 'd3')} as d3,
  {days('i', 'd4')} as d4, {days('i', 'dl')} as dl
from range({n}) r(i);
create table times as
select *, t1 + d1 as t2, t1 + d1 + d2 as t3, t1 + d1 + d2 + d3 as t4,
  t1 + d1 + d2 + d3 + d4 as t5
from walk;
create table hist as
select * from (
  select deal_id, unnest(['lead', 'qualified', 'proposal', 'negotiation', 'won']) as stage,
    unnest([t1, t2, t3, t4, t5]) as entered_at, unnest([1, 2, 3, 4, 5]) as o, f
  from times) where o <= f
union all
select deal_id, 'lost', ([t1, t2, t3, t4])[f] + dl, 6, f from times where f < 5
union all
select deal_id, 'qualified', t3 + to_seconds(cast(epoch(d3) * 0.3 as bigint)), 2, f
  from times where f >= 3 and back
union all
select deal_id, 'proposal', t3 + to_seconds(cast(epoch(d3) * 0.6 as bigint)), 3, f
  from times where f >= 3 and back;
""")
con.execute(f"""
copy (select deal_id, stage, entered_at from hist where entered_at <= {END}
      order by deal_id, entered_at)
  to '{out}/deal_stage_history.parquet' (format parquet);
copy (
  select t.deal_id, c.customer_id, m.manager_id, t.source, cast(null as varchar) as campaign_id,
    t.t1 as created_at, t.amount,
    case when close_at <= {END} then case when f = 5 then 'won' else 'lost' end else 'open' end
      as status,
    case when close_at <= {END} then close_at end as closed_at,
    case when close_at <= {END} and f < 5 then 'price' end as lost_reason,
    t.product_category
  from (select *, case when f = 5 then t5 else ([t1, t2, t3, t4])[f] + dl end as close_at
        from times) t
  join cust c on c.k = t.ck join mgr m on m.k = t.mk
  order by t.deal_id)
  to '{out}/deals.parquet' (format parquet);
""")
deals = con.sql(f"select count(*), count(*) filter (where status = 'open') from read_parquet('{out}/deals.parquet')").fetchall()[0]
rows = con.sql(f"select count(*) from read_parquet('{out}/deal_stage_history.parquet')").fetchall()[0][0]
print(f"{out}: {deals[0]} deals ({deals[1]} open), {rows} stage rows, {ncust} customers")
