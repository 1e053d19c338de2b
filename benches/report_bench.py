#!/usr/bin/env python3
"""Benchmark of `crmlens report run` (issue 6): median total wall time of each report on a
dataset, split into query time and rendering time (the JSON summary's query_ms and
render_ms), with peak RSS.

    cargo build --release
    crmlens generate --out /tmp/big1m --customers 1000000 --seed 7
    python3 benches/report_bench.py /tmp/big1m [--binary target/release/crmlens] [--runs 3] [--reports sales,customers]

Each run is a fresh process (`crmlens report run NAME --format json`), so the total includes
start-up, opening the dataset and, for `customers`, fitting the CLV model (no model file is
configured) and evaluating the segments of queries/segments. Run it on an idle machine;
`uptime` is printed before and after.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time

p = argparse.ArgumentParser()
p.add_argument("dataset")
p.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release/crmlens"))
p.add_argument("--runs", type=int, default=3)
p.add_argument("--reports", default="sales,customers")
a = p.parse_args()

print("uptime before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
for name in a.reports.split(","):
    totals, queries, renders, peaks = [], [], [], []
    for _ in range(a.runs):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            r = subprocess.run(
                ["/usr/bin/time", "-f", "%M", a.binary, "--dataset", a.dataset, "-q", "--format", "json",
                 "report", "run", name, "--out", out],
                capture_output=True, text=True,
            )
            total = time.perf_counter() - start
            if r.returncode not in (0, 1):
                raise SystemExit(f"{name}: exit {r.returncode}: {r.stderr}")
            summary = json.loads(r.stdout)
            peak_kb = int(r.stderr.strip().splitlines()[-1])
            totals.append(total)
            queries.append(summary["query_ms"] / 1000)
            renders.append(summary["render_ms"] / 1000)
            peaks.append(peak_kb / 1024)
            failed = summary["failed_sections"]
    print(f"{name}: total median {statistics.median(totals):.2f} s {[round(t, 2) for t in totals]}, "
          f"queries {statistics.median(queries):.2f} s, rendering {statistics.median(renders):.2f} s, "
          f"peak RSS {max(peaks):.0f} MB, failed sections {failed}")
print("uptime after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
