#!/usr/bin/env python3
"""Writes a deterministic dataset for the window_funnel benchmark: `events/` (Parquet files,
the `events` table's schema: customer_id utf8, event utf8, occurred_at timestamp UTC,
properties utf8 JSON) plus the demo's `customers.parquet` and `orders.parquet` (the tables a
crmlens dataset requires; the benchmark query reads only `events`).

    python3 benches/peers/window_funnel_events.py OUT [events=50000000] [customers=2000000]

The data (hash-based, so the same on every run and machine):
- activity is skewed: a customer has 1/u^0.8 sessions (u uniform; mean about 5, a long
  tail capped at 400);
- a session is a funnel attempt visit → view_product → cart → checkout → purchase with
  drop-off (70 %, 50 %, 60 %, 70 % continue to the next step), its steps minutes to hours
  apart, and for one session in ten hours to days apart, so that the 7-day window cuts
  some of them; plus 0–9 other events (search, signup, support_chat, or out-of-order
  visit/view_product/cart) within the session's next 10 days;
- sessions start anywhere in 2024; rows are written in time order (as an event log export
  is), so that a customer's rows are spread over the whole file;
- the total is cut at exactly `events` rows (the last customer may lose a few events).
"""
import os
import shutil
import sys
import time

import duckdb

out = sys.argv[1]
n_events = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000_000
n_customers = int(sys.argv[3]) if len(sys.argv) > 3 else 2_000_000
demo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../datasets/demo")

os.makedirs(out, exist_ok=True)
events_dir = os.path.join(out, "events")
if os.path.exists(events_dir):
    shutil.rmtree(events_dir)
for table in ("customers", "orders"):
    shutil.copy(os.path.join(demo, f"{table}.parquet"), os.path.join(out, f"{table}.parquet"))

con = duckdb.connect()
con.execute("set preserve_insertion_order = false")
start = time.time()
# u(x): a uniform number in [0, 1) from a hash of x.
con.execute("create macro u(x) as (hash(x) % 1000000007)::double / 1000000007")
con.execute(f"""
create temp table sessions as
with c as (
  select i as cid, least(400, floor(1 / pow(greatest(u(i * 31 + 7), 1e-9), 0.8)))::int as n
  from range({n_customers}) t(i)
), s as (
  select cid, unnest(range(n)) as s from c
)
select cid, s,
  -- funnel depth 1..5 with drop-off
  1 + (u(cid * 1000003 + s * 17 + 1) < 0.7)::int
    * (1 + (u(cid * 1000003 + s * 17 + 2) < 0.5)::int
      * (1 + (u(cid * 1000003 + s * 17 + 3) < 0.6)::int
        * (1 + (u(cid * 1000003 + s * 17 + 4) < 0.7)::int))) as depth,
  floor(u(cid * 1000003 + s * 17 + 5) * 10)::int as noise,
  (u(cid * 1000003 + s * 17 + 6) * 366 * 86400)::bigint as t0,
  case when u(cid * 1000003 + s * 17 + 7) < 0.1
       then 3600 * (6 + floor(u(cid * 1000003 + s * 17 + 8) * 72))
       else 60 * (1 + floor(u(cid * 1000003 + s * 17 + 8) * 120)) end::bigint as gap
from s
""")
con.execute("""
create temp table slots as
select cid, s, depth, t0, gap, before, unnest(range(depth + noise)) as k
from (select *, coalesce(sum(depth + noise) over (
        order by cid, s rows between unbounded preceding and 1 preceding), 0) as before
      from sessions)
""")
con.execute(f"""
copy (
  select
    'C' || lpad(cid::varchar, 7, '0') as customer_id,
    case when k < depth then ['visit', 'view_product', 'cart', 'checkout', 'purchase'][k + 1]
         else ['search', 'signup', 'support_chat', 'visit', 'view_product', 'cart', 'search']
              [1 + floor(u(cid * 7919 + s * 131 + k) * 7)::int] end as event,
    timestamptz '2024-01-01 00:00:00+00' + to_seconds(
      case when k < depth then t0 + k * gap + floor(u(cid * 7907 + s * 127 + k) * gap / 2)::bigint
           else t0 + floor(u(cid * 7901 + s * 113 + k) * 10 * 86400)::bigint end) as occurred_at,
    '{{"page":"/p/' || (hash(cid * 13 + s * 7 + k) % 5000)::varchar || '","device":"'
      || ['web', 'ios', 'android'][1 + (hash(cid + s + k) % 3)::int] || '"}}' as properties
  from slots
  where before + k < {n_events}
  order by occurred_at
) to '{events_dir}' (format parquet, file_size_bytes '128MB', row_group_size 1000000)
""")
rows, customers, levels = con.execute(f"""
select count(*), count(distinct customer_id), count(*) filter (where event = 'purchase')
from read_parquet('{events_dir}/*.parquet')
""").fetchone()
print(f"{out}: {rows} events, {customers} customers, {levels} purchases, "
      f"{time.time() - start:.0f} s")
