#!/usr/bin/env bash
# The window_funnel benchmark of issue 4 end to end: generate the 50M-event dataset once, then
# time crmlens (release build), ClickHouse's windowFunnel through chdb and DuckDB's best
# plain-SQL formulation on the same Parquet files, median of RUNS runs each, with peak memory.
#
#   pip install chdb duckdb pyarrow
#   cargo build --release
#   benches/window_funnel.sh [DATASET=/tmp/wf50m] [RUNS=3]
#
# Run it on an otherwise idle machine: the load is printed before and after.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${1:-/tmp/wf50m}"
runs="${2:-3}"
binary="${CRMLENS:-${CARGO_TARGET_DIR:-$here/../target}/release/crmlens}"

if [ ! -d "$data/events" ]; then
    python3 "$here/peers/window_funnel_events.py" "$data"
fi
echo "load before: $(uptime)"
python3 "$here/peers/window_funnel_bench.py" crmlens "$data" "$runs" --binary "$binary"
python3 "$here/peers/window_funnel_bench.py" chdb "$data" "$runs"
python3 "$here/peers/window_funnel_bench.py" duckdb "$data" "$runs"
python3 "$here/peers/window_funnel_bench.py" crmlens "$data" "$runs" --binary "$binary" --mode strict_order
python3 "$here/peers/window_funnel_bench.py" chdb "$data" "$runs" --mode strict_order
echo "load after: $(uptime)"
