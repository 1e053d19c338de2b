#!/usr/bin/env bash
# Issue 4, Performance: the pipeline funnel over 1M deals / 5M stage rows, crmlens against
# DuckDB on the same Parquet files (medians of RUNS runs each, peak RSS of crmlens).
#
#   benches/pipeline_bench.sh [WORK_DIR] [DEALS] [RUNS]
#
# Builds the release binary (into $CARGO_TARGET_DIR, default target/), writes a small
# `crmlens generate` dataset for customers, orders and managers, synthesises deals and
# deal_stage_history at scale with DuckDB (benches/pipeline_synth.py), then times
# `crmlens funnel pipeline` and `--by manager` against the same funnel in DuckDB
# (benches/peers/duckdb_pipeline.py). Needs python3 with duckdb (pip install duckdb).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/crmlens-pipeline-bench}
deals=${2:-1000000}
runs=${3:-3}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
bin="$target/release/crmlens"
mkdir -p "$work"
if [ ! -f "$work/base/customers.parquet" ]; then
  "$bin" generate --out "$work/base" --customers 20000 -q
fi
data="$work/deals-$deals"
if [ ! -f "$data/deal_stage_history.parquet" ]; then
  python3 benches/pipeline_synth.py "$work/base" "$data" "$deals"
fi
echo "machine: $(nproc) cores; uptime: $(uptime)"
python3 benches/peers/duckdb_pipeline.py "$data" "$bin" "$runs"
echo "uptime after: $(uptime)"
