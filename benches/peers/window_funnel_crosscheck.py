#!/usr/bin/env python3
"""ClickHouse's windowFunnel (through chdb) as an oracle for crmlens' window_funnel: random
small groups, every combination of modes and a few windows, the same Parquet file for both.
Prints the mismatches (there should be none) and exits 1 if there is any.

    pip install chdb pyarrow
    python3 benches/peers/window_funnel_crosscheck.py CRMLENS_BINARY [groups=3000] [seed=7]

The groups are made to hit the corners: timestamps from a small range (ties), rows out of
order, rows matching two conditions (event X matches steps 1 and 2, Y steps 2 and 3: what
strict_once is about), rows matching none (Z), NULL timestamps and NULL events (a NULL event
makes every condition NULL: both engines skip such a row, and a group without a usable row is
NULL in both).

Modes: every combination of strict_order, strict_deduplication, strict_increase and
strict_once, and allow_reentry with each one holding strict_order (ClickHouse refuses it
without). One combination has a tie ClickHouse 26.9 decides by the order of the input rows
(strict_once with strict_deduplication; ClickHouse issue 124071, settled without the order in
crmlens, see src/functions/window_funnel/once.rs): there chdb also reads the rows reversed and
shuffled, and a group whose ClickHouse result changes with the order is counted apart, not
compared.

crmlens's `unordered` mode (steps in any order) has no ClickHouse equivalent; it is checked
against its definition written as plain ClickHouse SQL over the same file (for each usable row
with a step as the start, the distinct steps with a row in [start, start + window]; the most of
them per customer; 0 for a customer with usable rows but no step, NULL without usable rows).
"""
import csv
import io
import itertools
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
rows = []
for g in range(n_groups):
    span = rng.choice([3, 10, 40, 200])
    for _ in range(rng.randint(0, 14)):
        rows.append((f"G{g:05d}",
                     None if rng.random() < 0.04 else rng.choice("AAABBBCCCDDXYZ"),
                     None if rng.random() < 0.04 else 1_700_000_000 + rng.randrange(span)))

work = tempfile.mkdtemp(prefix="wf_crosscheck_")
for table in ("customers", "orders"):
    shutil.copy(os.path.join(demo, f"{table}.parquet"), os.path.join(work, f"{table}.parquet"))


def write(path, rows):
    pq.write_table(
        pa.table({
            "customer_id": pa.array([r[0] for r in rows], pa.string()),
            "event": pa.array([r[1] for r in rows], pa.string()),
            "occurred_at": pa.array([r[2] for r in rows], pa.timestamp("s", tz="UTC")),
            "properties": pa.array(["{}"] * len(rows), pa.string()),
        }),
        path,
    )


events = os.path.join(work, "events.parquet")
write(events, rows)
# The same rows in other orders, for the one order-dependent ClickHouse combination.
reordered = []
for name, order in (("reversed", rows[::-1]), ("shuffled", random.Random(seed + 1).sample(rows, len(rows)))):
    path = os.path.join(work, f"{name}.parquet")
    write(path, order)
    reordered.append(path)

conditions = ["event in ('A','X')", "event in ('B','X','Y')", "event in ('C','Y')", "event = 'D'"]
flags = ["strict_order", "strict_deduplication", "strict_increase", "strict_once"]
modes_list = [", ".join(c) for n in range(len(flags) + 1) for c in itertools.combinations(flags, n)]
modes_list += [m + ", allow_reentry" for m in modes_list if "strict_order" in m]
windows = [0, 2, 5, 30, 1000]


def parse(text):
    """customer → level, NULL (ClickHouse's \\N, crmlens' empty field) as None."""
    return {row[0]: (None if row[1] in ("\\N", "") else row[1])
            for row in csv.reader(io.StringIO(text)) if row and row[0] != "customer_id"}


def clickhouse(path, window, modes, conds):
    params = ", ".join([str(window)] + [f"'{m.strip()}'" for m in modes.split(",") if m])
    # One thread: the rows reach windowFunnel in file order (it matters for the tie only).
    return parse(chdb.query(
        f"select customer_id, windowFunnel({params})(toDateTime(occurred_at), {', '.join(conds)}) "
        f"from file('{path}', Parquet) group by customer_id settings max_threads = 1",
        "CSV",
    ).bytes().decode())


def crmlens(window, modes, conds):
    mode_arg = f"'{modes}', " if modes else ""
    return parse(subprocess.run(
        [binary, "sql", "--dataset", work, "--format", "csv",
         f"select customer_id, window_funnel({window}, {mode_arg}occurred_at, "
         f"{', '.join(conds)}) as level from events group by customer_id"],
        check=True, capture_output=True, text=True,
    ).stdout)


# Groups without a usable row (every row has a NULL timestamp or event): NULL in both.
no_usable_row = {c for c, _, _ in rows} - {c for c, e, t in rows if e is not None and t is not None}
nulls = 0
order_dependent = 0
checked = 0
per_mode = {}
mismatches = []
for steps in (1, 3, 4):
    conds = conditions[:steps]
    for modes in modes_list:
        tie = "strict_once" in modes and "strict_deduplication" in modes
        for window in windows:
            a = clickhouse(events, window, modes, conds)
            others = [clickhouse(p, window, modes, conds) for p in reordered] if tie else []
            b = crmlens(window, modes, conds)
            if a.keys() != b.keys():
                mismatches.append((steps, modes, window, "groups differ", len(a), len(b)))
                continue
            agree = per_mode.setdefault(modes or "(default)", [0, 0])
            for g in sorted(a):
                if any(o[g] != a[g] for o in others):
                    order_dependent += 1
                    continue
                checked += 1
                agree[1] += 1
                if a[g] != b[g]:
                    mismatches.append((steps, modes, window, g, a[g], b[g]))
                    continue
                agree[0] += 1
                if a[g] is None:
                    nulls += 1
                    if g not in no_usable_row:
                        mismatches.append((steps, modes, window, g, "NULL with usable rows", b[g]))



def unordered_by_definition(window, conds):
    flags = ", ".join(f"toUInt8({c}) as c{i}" for i, c in enumerate(conds))
    present = " + ".join(f"max(e.c{i})" for i in range(len(conds)))
    any_step = " or ".join(f"c{i} = 1" for i in range(len(conds)))
    found = parse(chdb.query(
        f"with ev as (select customer_id, toInt64(toUnixTimestamp(occurred_at)) as t, {flags} "
        f"  from file('{events}', Parquet) where event is not null and occurred_at is not null), "
        f"starts as (select distinct customer_id, t from ev where {any_step}) "
        f"select customer_id, max(n) from ("
        f"  select s.customer_id as customer_id, s.t, {present} as n from starts s "
        f"  join ev e on s.customer_id = e.customer_id "
        f"  where e.t >= s.t and e.t <= s.t + {window} group by s.customer_id, s.t) "
        f"group by customer_id",
        "CSV",
    ).bytes().decode())
    customers = {c for c, _, _ in rows}
    return {c: None if c in no_usable_row else found.get(c, "0") for c in customers}


unordered = [0, 0]
for steps in (1, 3, 4):
    conds = conditions[:steps]
    for window in windows:
        a = unordered_by_definition(window, conds)
        b = crmlens(window, "unordered", conds)
        for g in sorted(a):
            unordered[1] += 1
            if a[g] != b.get(g):
                mismatches.append((steps, "unordered", window, g, a[g], b.get(g)))
            else:
                unordered[0] += 1

version = chdb.query("select version()", "CSV").bytes().decode().strip()
print(f"chdb {chdb.__version__} (ClickHouse {version}): {len(rows)} rows, {n_groups} groups, "
      f"{len(modes_list)} mode combinations; {checked} (group, steps, modes, window) results "
      f"compared, {len(mismatches)} mismatches; {nulls} of the agreeing results are NULL "
      f"(groups without a usable row); {order_dependent} results left out where ClickHouse's "
      f"answer depends on the row order (strict_once with strict_deduplication)")
for modes, (ok, n) in per_mode.items():
    print(f"  {modes}: {ok} of {n} agree")
print(f"  unordered (against its definition in ClickHouse SQL): {unordered[0]} of {unordered[1]} agree")
for m in mismatches[:30]:
    print("  steps={} modes='{}' window={} group={} clickhouse={} crmlens={}".format(*m))
shutil.rmtree(work)
sys.exit(1 if mismatches else 0)
