#!/usr/bin/env bash
# Issue 7, Performance: `crmlens import` of a 1M-row orders CSV and a 200k-row customers CSV
# (normalisation, duplicate cards, key and reference checks), median wall time and peak RSS
# of RUNS runs; the CSV → Parquet part alone (orders only) against DuckDB's read_csv + COPY
# on the same file (benches/peers/duckdb_import.py).
#
#   benches/import_bench.sh [WORK_DIR] [RUNS]
#
# Uses the release binary in $CARGO_TARGET_DIR (default target/; build it first with
# `cargo build --release`). Writes the CSVs once from a `crmlens generate` dataset of 200,000
# customers: the customers (with the generator's duplicate cards, phones typed in mixed local
# formats) and the first 1,000,000 orders. Needs python3 with duckdb (pip install duckdb).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/crmlens-import-bench}
runs=${2:-3}
bin="${CARGO_TARGET_DIR:-target}/release/crmlens"
mkdir -p "$work"
if [ ! -f "$work/gen/orders.parquet" ]; then
  "$bin" generate --out "$work/gen" --customers 200000 --seed 7 -q
fi
if [ ! -f "$work/orders.csv" ]; then
  python3 - "$work" <<'PY'
import sys, duckdb
w = sys.argv[1]
duckdb.sql(f"COPY (SELECT * FROM '{w}/gen/customers.parquet') TO '{w}/customers.csv' (HEADER)")
duckdb.sql(f"COPY (SELECT * FROM '{w}/gen/orders.parquet' ORDER BY order_id LIMIT 1000000) TO '{w}/orders.csv' (HEADER)")
duckdb.sql(f"COPY (SELECT * FROM '{w}/gen/managers.parquet') TO '{w}/managers.csv' (HEADER)")
PY
fi
canonical() { # table columns… → a mapping section that maps each column to itself
  local t=$1; shift
  printf '[%s]\nfile = "%s.csv"\ncolumns = { ' "$t" "$t"
  local sep=""
  for c in "$@"; do printf '%s"%s" = "%s"' "$sep" "$c" "$c"; sep=", "; done
  printf ' }\n'
}
{
  echo 'default_country = "RU"'
  canonical managers manager_id name department region active
  canonical customers customer_id kind name email phone country region city created_at acquisition_source owner_manager_id
  canonical orders order_id customer_id ordered_at amount currency status channel manager_id
} > "$work/mapping.toml"
{
  echo '[orders]'
  echo 'file = "orders.csv"'
  grep -A0 '^columns = { "order_id"' "$work/mapping.toml"
} > "$work/orders_only.toml"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
timed() { # label, command… → median seconds and max peak RSS of $runs runs
  local label=$1; shift
  local times=() peaks=()
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" > /dev/null
    read -r t m < "$work/time.txt"
    times+=("$t"); peaks+=("$m")
  done
  local med; med=$(printf '%s\n' "${times[@]}" | median)
  local peak; peak=$(printf '%s\n' "${peaks[@]}" | sort -n | tail -1)
  echo "$label: median ${med} s of $runs (${times[*]}), peak RSS $((peak / 1024)) MB"
}

echo "machine: $(nproc) cores; uptime before: $(uptime)"
echo "inputs: $(wc -l < "$work/customers.csv") customers lines, $(wc -l < "$work/orders.csv") orders lines"
timed "crmlens import customers 200k + orders 1M (dedup)" \
  "$bin" import --input "$work/managers.csv" "$work/customers.csv" "$work/orders.csv" \
  --mapping "$work/mapping.toml" --out "$work/out" --overwrite -q
"$bin" import --input "$work/managers.csv" "$work/customers.csv" "$work/orders.csv" \
  --mapping "$work/mapping.toml" --out "$work/out" --overwrite -q --format json > "$work/summary.json"
python3 -c "import json,sys; s=json.load(open(sys.argv[1])); [print(f\"  {t['table']}: input {t['input']} loaded {t['loaded']} merged {t['merged']} quarantined {t['quarantined']} cleared {t['cleared_values']}\") for t in s['tables']]" "$work/summary.json"
timed "crmlens import orders 1M only (CSV -> Parquet)" \
  "$bin" import --input "$work/orders.csv" --mapping "$work/orders_only.toml" --out "$work/out_orders" --overwrite -q
python3 benches/peers/duckdb_import.py "$work/orders.csv" "$work" "$runs"
echo "uptime after: $(uptime)"
