#!/usr/bin/env bash
# Issue 16: the nightly job at 1M, 3M and 10M customers, default settings. For each size it
# generates the dataset once (seed 1, kept under WORK/N for later runs), runs `crmlens run
# --format json` from the repository root as a new user would, and prints one markdown row per
# phase (wall seconds, peak RSS of the process so far) plus the whole run (wall, CPU = user +
# system, peak RSS, exit code) from GNU time.
#
#   benches/nightly_scale.sh CRMLENS_BINARY WORK [SIZES...]      (sizes default: 1000000 3000000 10000000)
#
# Builds nothing: `cargo build --release` first. Needs /usr/bin/time (Debian package time).
# A size whose dataset exists under WORK/N is not generated again. The run's JSON summary,
# stderr and GNU time output stay in WORK/N.run.json, WORK/N.run.err.
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
bin=$(realpath "$1")
work=$2
shift 2
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 3000000 10000000)
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $("$bin" --version)"
echo
echo "| customers | phase | wall s | peak RSS GB |"
echo "|---|---|---|---|"
for n in "${sizes[@]}"; do
  data="$work/$n"
  if [ ! -f "$data/.complete" ]; then
    rm -rf "$data"
    start=$(date +%s.%N)
    "$bin" generate --out "$data" --customers "$n" --seed 1 >/dev/null
    touch "$data/.complete"
    echo "| $n | (generate) | $(echo "$(date +%s.%N) - $start" | bc | xargs printf '%.1f') | |"
  fi
  out="$work/$n.out"
  rm -rf "$out"
  set +e
  (cd "$here" && /usr/bin/time -v "$bin" run --dataset "$data" --out "$out" --format json \
    >"$work/$n.run.json" 2>"$work/$n.run.err")
  code=$?
  set -e
  python3 - "$work/$n.run.json" "$n" <<'PY'
import json, sys
path, n = sys.argv[1], sys.argv[2]
try:
    summary = json.load(open(path))
except Exception:
    sys.exit(0)
for p in summary.get("phases", []):
    rss = p.get("peak_rss_bytes")
    print(f"| {n} | {p['phase']} | {p['seconds']:.1f} | {rss / 1e9:.2f} |" if rss else f"| {n} | {p['phase']} | {p['seconds']:.1f} | |")
PY
  awk -v n="$n" -v code="$code" '
    /Elapsed \(wall clock\)/ { split($NF, t, ":"); wall = (length(t) == 3) ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2] }
    /User time/ { user = $NF } /System time/ { sys = $NF }
    /Maximum resident set size/ { rss = $NF }
    END { printf "| %s | **whole run** (exit %s) | %.1f (CPU %.1f) | %.2f |\n", n, code, wall, user + sys, rss * 1024 / 1e9 }
  ' "$work/$n.run.err"
  if [ "$code" != 0 ]; then
    echo "  (exit $code; last lines of $work/$n.run.err:)" >&2
    grep -v '^\s' "$work/$n.run.err" | tail -3 >&2
  fi
done
