#!/usr/bin/env python3
"""ClickHouse's windowFunnel (through chdb) as an oracle for crmlens' window_funnel: random
small groups, every mode combination and a few windows, the same Parquet file for both.
Prints the mismatches (there should be none) and exits 1 if there is any.

    pip install chdb pyarrow
    python3 benches/peers/window_funnel_crosscheck.py CRMLENS_BINARY [groups=3000] [seed=7]

The groups are made to hit the corners: timestamps from a small range (ties), rows out of
order, rows matching two conditions (event X matches steps 1 and 2, Y steps 2 and 3), rows
matching none (Z), NULL timestamps and NULL events (a NULL event makes every condition NULL:
both engines skip such a row, and a group without a usable row is NULL in both).
"""
import csv
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile

import chdb
import pyarrow as pa
import pyarrow.parquet as pq

binary = sys.argv[1]
n_groups = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
demo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../datasets/demo")

rng = random.Random(seed)
customer, event, ts = [], [], []
for g in range(n_groups):
    span = rng.choice([3, 10, 40, 200])
    for _ in range(rng.randint(0, 14)):
        customer.append(f"G{g:05d}")
        event.append(None if rng.random() < 0.04 else rng.choice("AAABBBCCCDDXYZ"))
        ts.append(None if rng.random() < 0.04 else 1_700_000_000 + rng.randrange(span))

work = tempfile.mkdtemp(prefix="wf_crosscheck_")
for table in ("customers", "orders"):
    shutil.copy(os.path.join(demo, f"{table}.parquet"), os.path.join(work, f"{table}.parquet"))
events = os.path.join(work, "events.parquet")
pq.write_table(
    pa.table({
        "customer_id": pa.array(customer, pa.string()),
        "event": pa.array(event, pa.string()),
        "occurred_at": pa.array(ts, pa.timestamp("s", tz="UTC")),
        "properties": pa.array(["{}"] * len(ts), pa.string()),
    }),
    events,
)

conditions = ["event in ('A','X')", "event in ('B','X','Y')", "event in ('C','Y')", "event = 'D'"]
modes_list = ["", "strict_order", "strict_deduplication", "strict_increase",
              "strict_order, strict_deduplication", "strict_order, strict_increase",
              "strict_deduplication, strict_increase",
              "strict_order, strict_deduplication, strict_increase"]
windows = [0, 2, 5, 30, 1000]

def parse(text):
    """customer → level, NULL (ClickHouse's \\N, crmlens' empty field) as None."""
    return {row[0]: (None if row[1] in ("\\N", "") else row[1])
            for row in csv.reader(io.StringIO(text)) if row and row[0] != "customer_id"}

# Groups without a usable row (every row has a NULL timestamp or event): NULL in both.
no_usable_row = {c for c in set(customer)
                 if all(t is None or e is None for cc, t, e in zip(customer, ts, event) if cc == c)}
nulls = 0

checked = 0
mismatches = []
for steps in (1, 3, 4):
    conds = conditions[:steps]
    for modes in modes_list:
        for window in windows:
            ch_params = ", ".join([str(window)] + [f"'{m.strip()}'" for m in modes.split(",") if m])
            ch = chdb.query(
                f"select customer_id, windowFunnel({ch_params})(toDateTime(occurred_at), "
                f"{', '.join(conds)}) from file('{events}', Parquet) group by customer_id",
                "CSV",
            ).bytes().decode()
            mode_arg = f"'{modes}', " if modes else ""
            ours = subprocess.run(
                [binary, "sql", "--dataset", work, "--format", "csv",
                 f"select customer_id, window_funnel({window}, {mode_arg}occurred_at, "
                 f"{', '.join(conds)}) as level from events group by customer_id"],
                check=True, capture_output=True, text=True,
            ).stdout
            a, b = parse(ch), parse(ours)
            if a.keys() != b.keys():
                mismatches.append((steps, modes, window, "groups differ", len(a), len(b)))
                continue
            for g in sorted(a):
                checked += 1
                if a[g] != b[g]:
                    mismatches.append((steps, modes, window, g, a[g], b[g]))
                elif a[g] is None:
                    nulls += 1
                    if g not in no_usable_row:
                        mismatches.append((steps, modes, window, g, "NULL with usable rows", b[g]))

print(f"chdb {chdb.__version__} (ClickHouse {chdb.query('select version()', 'CSV').bytes().decode().strip()}): "
      f"{len(customer)} rows, {checked} (group, steps, modes, window) results compared, "
      f"{len(mismatches)} mismatches; {nulls} of the agreeing results are NULL (groups "
      f"without a usable row)")
for m in mismatches[:30]:
    print("  steps={} modes='{}' window={} group={} clickhouse={} crmlens={}".format(*m))
shutil.rmtree(work)
sys.exit(1 if mismatches else 0)
