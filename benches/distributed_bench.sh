#!/usr/bin/env bash
# Local vs Ballista standalone vs a scheduler with two executors on loopback (issue 8): median
# wall time of `customer_features` (select * → Parquet) and the event funnel, and the shuffle
# bytes each cluster job wrote to the executors' work directories.
#
#   benches/distributed_bench.sh DATASET BINARY [RUNS] [SLOTS]
#
# BINARY must be built with `--features distributed`. SLOTS is the task slots of each of the
# two executors (default 1: two slots in all, one per core of the 2-core machine).
set -euo pipefail
dataset=$(realpath "$1")
bin=$(realpath "$2")
runs=${3:-3}
slots=${4:-1}
tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

features=(sql "select * from customer_features" --output "$tmp/features.parquet")
funnel=(funnel events --steps visit,signup,cart,purchase --window 7d --format csv --output "$tmp/funnel.csv")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "port $1 not open" >&2; exit 1; }
# Bytes of the files the executors wrote into their work directories since the marker file was
# touched (shuffle files stay until the scheduler's clean-up, minutes after the job).
shuffle_bytes() { find "$tmp" -path "$tmp/work*" -type f -newer "$tmp/marker" -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {printf "%d\n", s}'; }

# time_runs LABEL ENGINE-ARGS... -- COMMAND...: prints one line per run and the median.
time_runs() {
    local label=$1; shift
    local engine=()
    while [ "$1" != "--" ]; do engine+=("$1"); shift; done; shift
    local times=()
    for i in $(seq "$runs"); do
        touch "$tmp/marker"
        local load; load=$(cut -d' ' -f1 /proc/loadavg)
        local start; start=$(date +%s.%N)
        /usr/bin/time -f %M -o "$tmp/rss" "$bin" --quiet --dataset "$dataset" "${engine[@]}" "$@" >/dev/null
        local end; end=$(date +%s.%N)
        local t; t=$(echo "$end - $start" | bc)
        local shuffle; shuffle=$(shuffle_bytes)
        echo "  $label run $i: ${t}s (load ${load}, client peak RSS $(cat "$tmp/rss") KB, shuffle bytes written ${shuffle})"
        times+=("$t")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v l="$label" '{a[NR]=$1} END {printf "%s median %.2fs\n", l, a[int((NR+1)/2)]}'
}

for job in features funnel; do
    declare -n cmd=$job
    echo "== $job: ${cmd[*]}"
    time_runs "$job local" -- "${cmd[@]}"
    time_runs "$job standalone" --engine standalone -- "${cmd[@]}"
done

sched=$(free_port)
"$bin" scheduler --bind-host 127.0.0.1 --external-host 127.0.0.1 --port "$sched" 2>"$tmp/scheduler.log" &
pids+=($!)
wait_port "$sched"
for n in 1 2; do
    flight=$(free_port); grpc=$(free_port)
    "$bin" executor --scheduler "127.0.0.1:$sched" --bind-host 127.0.0.1 --external-host 127.0.0.1 \
        --port "$flight" --grpc-port "$grpc" --concurrent-tasks "$slots" --work-dir "$tmp/work$n" \
        2>"$tmp/executor$n.log" &
    pids+=($!)
    wait_port "$flight"
done
for job in features funnel; do
    declare -n cmd=$job
    echo "== $job on scheduler + 2 executors ($slots slot(s) each)"
    time_runs "$job cluster" --engine "df://127.0.0.1:$sched" -- "${cmd[@]}"
done
# Peak resident memory of the cluster processes over all the jobs above.
for pid in "${pids[@]}"; do
    echo "pid $pid ($(tr '\0' ' ' </proc/"$pid"/cmdline | cut -d' ' -f2)): peak RSS $(grep VmHWM /proc/"$pid"/status | awk '{print $2, $3}')"
done
