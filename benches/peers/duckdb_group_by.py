#!/usr/bin/env python3
"""Peer comparison for the `engine/orders_group_by_customer` criterion benchmark: the same
query over the same Parquet files in DuckDB (in-process, same thread count), median of N runs.

    pip install duckdb
    python3 benches/peers/duckdb_group_by.py /path/to/dataset [runs] [threads]

The crmlens figure comes from `cargo bench --bench engine` (criterion median) on the same
dataset; run both on an otherwise idle machine.
"""
import statistics
import sys
import time

import duckdb

dataset = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2

con = duckdb.connect()
con.execute(f"set threads = {threads}")
orders = f"{dataset}/orders/*.parquet"
query = f"""
select customer_id, count(*) as orders, sum(amount) as revenue, max(ordered_at) as last
from read_parquet('{orders}') where status = 'paid' group by customer_id
"""
con.sql(query).to_arrow_table()  # warm-up: file cache, metadata
times = []
rows = 0
for _ in range(runs):
    start = time.perf_counter()
    rows = con.sql(query).to_arrow_table().num_rows
    times.append(time.perf_counter() - start)
print(f"duckdb {duckdb.__version__}: median {statistics.median(times) * 1000:.1f} ms over {runs} runs "
      f"({rows} groups, threads={threads})")
