#!/usr/bin/env bash
# Issue 5, Performance: the 50 segments of benches/segments/ in one `crmlens segment run --all`
# against the same 50 queries run one by one in DuckDB (benches/peers/duckdb_segments.py) on the
# same Parquet files: medians of RUNS runs each (after one warm-up), crmlens peak RSS and
# shared_ms (customer_features materialised once), and a check that every segment's member
# count agrees (exit code 1 otherwise).
#
#   benches/segments_bench.sh DATASET CRMLENS_BINARY [RUNS] [DUCKDB_THREADS]
#
# Builds nothing: make the dataset and the binary first, e.g.
#   cargo build --release
#   target/release/crmlens generate --out /tmp/big1m --customers 1000000 --seed 7
#   benches/segments_bench.sh /tmp/big1m target/release/crmlens 3
# Needs python3 (3.11+, for tomllib) with duckdb: pip install duckdb
# SHOW_SQL=1 prints the DuckDB query of every segment first.
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
data=$1
bin=$(realpath "$2")
runs=${3:-3}
threads=${4:-2}
here=$(cd "$(dirname "$0")" && pwd)
echo "machine: $(nproc) cores; $("$bin" --version 2>/dev/null || true)"
python3 "$here/peers/duckdb_segments.py" "$data" "$bin" "$runs" "$threads" "$here/segments"
