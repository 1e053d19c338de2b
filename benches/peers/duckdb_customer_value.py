#!/usr/bin/env python3
"""Peer comparison for issue 3: `customer_features` and `rfm` in crmlens against DuckDB
running the equivalent SQL (same definitions, same algorithms: see src/views/) over the same
Parquet files, side by side, medians of N runs each, both writing the result to Parquet.

    pip install duckdb
    python3 benches/peers/duckdb_customer_value.py DATASET [CRMLENS_BINARY] [runs] [threads]

crmlens runs as a process (`crmlens sql … --output x.parquet`), so its time includes start-up
and opening the dataset (~0.2 s); DuckDB runs in-process with a warm connection. Check the
row counts and checksums printed for both: they must agree.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import duckdb_features  # noqa: E402

dataset = sys.argv[1]
crmlens = sys.argv[2] if len(sys.argv) > 2 else "target/release/crmlens"
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2

con = duckdb.connect()
con.execute(f"set threads = {threads}")
con.execute("set TimeZone = 'UTC'")


def table(name):
    import os
    path = f"{dataset}/{name}"
    return f"read_parquet('{path}/*.parquet')" if os.path.isdir(path) else f"read_parquet('{path}.parquet')"


as_of = con.sql(f"select max(ordered_at)::date from {table('orders')}").fetchall()[0][0]
A = f"DATE '{as_of}'"
W = 180
xyz_start = con.sql(f"select (date_trunc('month', {A}) - interval 11 month)::date").fetchall()[0][0]
S = f"DATE '{xyz_start}'"

duckdb_features.create_views(con, table, A, W, S)

CHECK = {
    "customer_features": "select count(*), sum(frequency), round(sum(monetary), 2), sum(r_score), "
                         "count(abc_class), sum(case when is_active then 1 else 0 end), round(sum(margin), 2) from {}",
    "rfm": "select count(*), sum(frequency), round(sum(monetary), 2), sum(r_score), sum(f_score), "
           "sum(m_score), count(distinct rfm_segment) from {}",
}

with tempfile.TemporaryDirectory() as tmp:
    for view in ["rfm", "customer_features"]:
        out = f"{tmp}/{view}.parquet"
        # DuckDB
        con.execute(f"copy (select * from {view}) to '{out}' (format parquet)")  # warm-up
        duck = []
        for _ in range(runs):
            start = time.perf_counter()
            con.execute(f"copy (select * from {view}) to '{out}' (format parquet)")
            duck.append(time.perf_counter() - start)
        duck_check = con.sql(CHECK[view].format(f"read_parquet('{out}')")).fetchall()[0]
        # crmlens
        cl = []
        subprocess.run([crmlens, "sql", "--dataset", dataset, "--output", out, f"select * from {view}"], check=True)
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([crmlens, "sql", "--dataset", dataset, "--output", out, f"select * from {view}"],
                           check=True)
            cl.append(time.perf_counter() - start)
        cl_check = con.sql(CHECK[view].format(f"read_parquet('{out}')")).fetchall()[0]
        d, c = statistics.median(duck), statistics.median(cl)
        print(f"{view}: crmlens median {c * 1000:.0f} ms, duckdb {duckdb.__version__} median "
              f"{d * 1000:.0f} ms, ratio crmlens/duckdb {c / d:.2f} ({runs} runs, threads={threads})")
        print(f"  check crmlens {cl_check}")
        print(f"  check duckdb  {duck_check}")
