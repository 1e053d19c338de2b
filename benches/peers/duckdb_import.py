"""Issue 7, Performance: CSV → Parquet with DuckDB (read_csv + COPY … (FORMAT parquet)) on the
same file that `crmlens import` reads, for the comparison in benches/import_bench.sh.

    python3 benches/peers/duckdb_import.py ORDERS_CSV OUT_DIR RUNS

Prints the median wall time of RUNS runs (a fresh connection each, the Parquet file written
with the same Snappy compression crmlens uses) and the peak RSS of this process.
"""
import resource
import statistics
import sys
import time

import duckdb

csv, out, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
for i in range(runs):
    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{csv}', header = true)) "
        f"TO '{out}/orders_duckdb.parquet' (FORMAT parquet, COMPRESSION snappy)"
    )
    times.append(time.perf_counter() - t0)
    con.close()
rows = duckdb.sql(f"select count(*) from '{out}/orders_duckdb.parquet'").fetchall()[0][0]
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(
    f"duckdb {duckdb.__version__} read_csv+COPY parquet: {rows} rows, "
    f"median {statistics.median(times):.2f} s of {runs} ({', '.join(f'{t:.2f}' for t in times)}), "
    f"peak RSS {peak_mb:.0f} MB"
)
