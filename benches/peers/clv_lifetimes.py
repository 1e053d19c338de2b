#!/usr/bin/env python3
"""CLV model fitting: crmlens (`crmlens clv fit`, BG/NBD + Gamma-Gamma in Rust) against the
Python `lifetimes` package (BetaGeoFitter + GammaGammaFitter) on the same per-customer
summaries, side by side.

    python3 -m venv /tmp/lt && /tmp/lt/bin/pip install lifetimes pyarrow
    /tmp/lt/bin/python benches/peers/clv_lifetimes.py DATASET [CRMLENS_BINARY] [runs]

The summaries (x, t_x, T in days, m) come from crmlens's `clv_summary` view, exported once to
Parquet, so both fitters see identical data; both fit in days. crmlens's time is the model fit
alone (its `-v` log line) and the whole command (summary SQL + fit) as wall time; lifetimes'
is its two `fit` calls.
"""
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time

import pyarrow.parquet as pq
from lifetimes import BetaGeoFitter, GammaGammaFitter

dataset = sys.argv[1]
crmlens = sys.argv[2] if len(sys.argv) > 2 else "target/release/crmlens"
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3

with tempfile.TemporaryDirectory() as tmp:
    path = f"{tmp}/summary.parquet"
    subprocess.run([crmlens, "sql", "--dataset", dataset, "--format", "parquet", "--output", path,
                    "select frequency, recency, t, monetary from clv_summary"], check=True)
    s = pq.read_table(path).to_pandas()
print(f"{len(s)} customers, {int((s.frequency > 0).sum())} repeat buyers")

fit_times, wall_times, fit = [], [], None
for _ in range(runs):
    start = time.perf_counter()
    out = subprocess.run([crmlens, "clv", "fit", "--dataset", dataset, "--format", "json", "-v"],
                         check=True, capture_output=True, text=True)
    wall_times.append(time.perf_counter() - start)
    m = re.search(r"in ([0-9.]+) s \(([0-9]+) iterations", out.stderr)
    fit_times.append(float(m.group(1)))
    fit = json.loads(out.stdout)
print(f"crmlens: fit median {statistics.median(fit_times):.2f} s, command median "
      f"{statistics.median(wall_times):.2f} s over {runs} runs; {fit['iterations']} iterations "
      f"(spend {fit['spend']['iterations']}); converged {fit['converged']}")
print(f"  BG/NBD {fit['params']}  LL {fit['log_likelihood']:.2f}")
print(f"  Gamma-Gamma p={fit['spend']['p']:.5f} q={fit['spend']['q']:.5f} v={fit['spend']['v']:.5f}")

lt_times = []
for _ in range(runs):
    start = time.perf_counter()
    bgf = BetaGeoFitter().fit(s.frequency, s.recency, s.t)
    repeat = s[(s.frequency > 0) & (s.monetary > 0)]
    ggf = GammaGammaFitter().fit(repeat.frequency, repeat.monetary)
    lt_times.append(time.perf_counter() - start)
import lifetimes  # noqa: E402
print(f"lifetimes {lifetimes.__version__}: fit median {statistics.median(lt_times):.2f} s over {runs} runs")
print(f"  BG/NBD { {k: float(v) for k, v in bgf.params_.items()} }")
print(f"  Gamma-Gamma { {k: float(v) for k, v in ggf.params_.items()} }")
print(f"ratio crmlens fit / lifetimes fit: {statistics.median(fit_times) / statistics.median(lt_times):.3f}")
