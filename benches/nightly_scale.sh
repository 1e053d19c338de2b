#!/usr/bin/env bash
# Issue 16: the nightly job at 1M, 3M and 10M customers, default settings. For each size it
# generates the dataset once (seed 1, kept under WORK/N for later runs), runs `crmlens run
# --format json` from the repository root as a new user would, and prints one markdown row per
# phase (wall seconds, peak RSS during the phase) plus the whole run (wall and CPU = user +
# system from GNU time, peak RSS = the largest phase's, exit code).
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
  python3 - "$work/$n.run.json" "$work/$n.run.err" "$n" "$code" <<'PY'
# One row per phase from the run's JSON summary, or, when the run failed, from the
# "done: PHASE: S s, peak memory M MB" / "failed: …" lines it logs. The whole run's peak RSS is
# the largest phase peak: the run resets the peak at each phase (/proc/self/clear_refs), which
# resets what GNU time reports too, so GNU time's maximum would be the last phase's.
import json, re, sys
json_path, err_path, n, code = sys.argv[1:5]
err = open(err_path, errors="replace").read()
rows = []
try:
    for p in json.load(open(json_path)).get("phases", []):
        rss = p.get("peak_rss_bytes")
        rows.append((p["phase"], p["seconds"], rss / 1e9 if rss else None))
except Exception:
    for m in re.finditer(r"(done|failed): (\S+): ([0-9.]+) s, peak memory (\d+|unknown)", err):
        mb = m.group(4)
        name = m.group(2) + (" (failed)" if m.group(1) == "failed" else "")
        rows.append((name, float(m.group(3)), int(mb) * 2**20 / 1e9 if mb != "unknown" else None))
for name, secs, gb in rows:
    print(f"| {n} | {name} | {secs:.1f} | {gb:.2f} |" if gb is not None else f"| {n} | {name} | {secs:.1f} | |")
def field(label):
    m = re.search(re.escape(label) + r".*: (\S+)$", err, re.M)
    return m.group(1) if m else None
wall = field("Elapsed (wall clock) time")
secs = 0.0
if wall:
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
cpu = float(field("User time (seconds)") or 0) + float(field("System time (seconds)") or 0)
peak = max((gb for _, _, gb in rows if gb is not None), default=None)
peak_text = f"{peak:.2f}" if peak is not None else ""
print(f"| {n} | **whole run** (exit {code}) | {secs:.1f} (CPU {cpu:.1f}) | {peak_text} |")
PY
  if [ "$code" != 0 ]; then
    echo "  (exit $code; last lines of $work/$n.run.err:)" >&2
    grep -v '^\s' "$work/$n.run.err" | tail -3 >&2
  fi
done
