#!/usr/bin/env python3
"""Benchmark of `crmlens managers` (issue 4, Performance: manager KPIs over 20M activities),
side by side with the same KPIs in DuckDB over the same Parquet files.

    pip install duckdb
    cargo build --release
    python3 benches/managers_bench.py [--dir DIR] [--rows 20000000] [--customers 100000]
                                      [--runs 5] [--threads 2]
    python3 benches/managers_bench.py --as-is --dir datasets/demo --runs 3   (cross-check)

1. The dataset: `crmlens generate --customers N` writes every table once into DIR (default
   target/bench-data/managers-<rows>); its `activities` are then replaced by ROWS activities
   synthesised with DuckDB in the shape of the generated ones: copy k of every generated
   activity, moved by a whole number of days in [-7, +7] (so the hour of day, weekday mix,
   customers, managers, deals and kinds keep the generator's distribution), dropped when it
   would land after the last generated activity, until ROWS rows are reached.
2. crmlens: `crmlens --dataset DIR managers --format csv` (the release binary in
   $CARGO_TARGET_DIR or target/), end to end as a user runs it (process start, opening the
   dataset, registering the views, the KPI query, writing CSV), RUNS times; median and the
   peak RSS of the runs.
3. DuckDB: the same KPIs (the definitions of src/views/managers.rs, default period, UTC)
   in one SQL query over the same files, in-process with the same thread count, after one
   warm-up run; median of RUNS. The script also checks that both give the same activities,
   deals created, revenue and responses within the SLA per manager.
Run it on an otherwise idle machine; `uptime` is printed before and after.
"""
import argparse
import csv
import io
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent


def binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = Path(os.environ.get("CRMLENS_BIN", target / "release" / "crmlens"))
    if not path.exists():
        sys.exit(f"{path} not found: run `cargo build --release` first (or set CRMLENS_BIN)")
    return path


def table_glob(dataset: Path, table: str) -> str:
    file = dataset / f"{table}.parquet"
    return str(file) if file.exists() else str(dataset / table / "**" / "*.parquet")


def build(dataset: Path, rows: int, customers: int, threads: int) -> None:
    done = dataset / f".activities-{rows}"
    if done.exists():
        return
    # The generated activities are kept beside the dataset (not in it: it would be a table).
    original = dataset.parent / f"{dataset.name}.generated-activities.parquet"
    if not (dataset / "customers.parquet").exists() and not (dataset / "customers").exists():
        print(f"generating {customers} customers into {dataset}", flush=True)
        subprocess.run(
            [binary(), "-q", "generate", "--out", dataset, "--customers", str(customers),
             "--seed", "7"],
            check=True,
        )
        if original.exists():
            original.unlink()
    if not original.exists():
        con = duckdb.connect()
        con.execute(
            f"copy (select * from read_parquet('{table_glob(dataset, 'activities')}', "
            f"hive_partitioning = false)) to '{original}' (format parquet)"
        )
    con = duckdb.connect()
    con.execute(f"set threads = {threads}")
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")
    con.execute(f"create table base as select * from read_parquet('{original}')")
    n0, last = con.execute(
        "select count(*), cast(max(occurred_at) as varchar) from base"
    ).fetchall()[0]
    copies = math.ceil(rows / n0 * 1.1) + 1
    print(f"synthesising {rows} activities from {n0} generated ones ({copies} copies)", flush=True)
    out = dataset.parent / f"{dataset.name}.synth-activities.parquet"
    con.execute(
        f"""
        copy (
          select activity_id || '-' || k as activity_id, customer_id, contact_id, deal_id,
            manager_id, kind, direction,
            occurred_at + to_days(cast(hash(activity_id, k) % 15 as integer) - 7) as occurred_at,
            duration_s, outcome
          from base, range({copies}) as r(k)
          where k = 0 or occurred_at + to_days(cast(hash(activity_id, k) % 15 as integer) - 7)
                         <= timestamptz '{last}'
          limit {rows}
        ) to '{out}' (format parquet, row_group_size 1048576)
        """
    )
    for old in [dataset / "activities.parquet", dataset / "activities"]:
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
    shutil.move(out, dataset / "activities.parquet")
    n = con.execute(
        f"select count(*) from read_parquet('{dataset / 'activities.parquet'}')"
    ).fetchall()[0][0]
    print(f"activities: {n} rows", flush=True)
    done.touch()


def duckdb_sql(dataset: Path, as_of: str, sla_minutes: int = 30) -> str:
    a = f"read_parquet('{table_glob(dataset, 'activities')}', hive_partitioning = false)"
    d = f"read_parquet('{table_glob(dataset, 'deals')}', hive_partitioning = false)"
    o = f"read_parquet('{table_glob(dataset, 'orders')}', hive_partitioning = false)"
    c = f"read_parquet('{table_glob(dataset, 'customers')}', hive_partitioning = false)"
    m = f"read_parquet('{table_glob(dataset, 'managers')}', hive_partitioning = false)"
    frm = f"date '{as_of}' - interval 29 day"
    start = f"cast({frm} as timestamptz)"
    end = f"cast(date '{as_of}' + interval 1 day as timestamptz)"
    d30 = f"cast(date '{as_of}' - interval 29 day as timestamptz)"
    d90 = f"cast(date '{as_of}' - interval 89 day as timestamptz)"
    working = f"""(select count(*) from range(cast({frm} as date), date '{as_of}' + interval 1 day,
                  interval 1 day) t(day) where isodow(day) between 1 and 5)"""
    created = f"created_at >= {start} and created_at < {end}"
    closed = f"closed_at >= {start} and closed_at < {end}"
    return f"""
    with w as (select {working} as working_days),
    act_days as (
      select manager_id, cast(occurred_at as date) as day,
        count(*) filter (where kind = 'call') as calls,
        count(*) filter (where kind = 'meeting') as meetings,
        count(*) filter (where kind = 'email') as emails,
        count(*) filter (where kind = 'task') as tasks,
        count(*) as n
      from {a} where occurred_at >= {start} and occurred_at < {end} group by all),
    act as (
      select manager_id, sum(calls) as calls, sum(meetings) as meetings, sum(emails) as emails,
        sum(tasks) as tasks, sum(n) as activities,
        count(*) filter (where isodow(day) between 1 and 5) as days_with_activity
      from act_days group by all),
    dl as (
      select manager_id,
        count(*) filter (where {created}) as deals_created,
        count(*) filter (where {created} and status = 'won' and closed_at < {end}) as created_won,
        count(*) filter (where status = 'won' and {closed}) as deals_won,
        count(*) filter (where status = 'lost' and {closed}) as deals_lost,
        avg(cast(amount as double)) filter (where status = 'won' and {closed}) as avg_deal_size,
        avg(cast(closed_at as date) - cast(created_at as date))
          filter (where status = 'won' and {closed}) as avg_cycle_days
      from {d} where manager_id is not null and (({created}) or ({closed})) group by all),
    first_touch as (
      select dd.manager_id, dd.deal_id,
        min(epoch(a.occurred_at) - epoch(dd.created_at)) as seconds
      from (select deal_id, manager_id, created_at from {d}
            where manager_id is not null and {created}) dd
      left join {a} a on a.deal_id = dd.deal_id and a.occurred_at >= dd.created_at
        and a.kind <> 'task' and a.occurred_at < {end}
      group by all),
    resp as (
      select manager_id, median(seconds / 60.0) as response_median_minutes,
        count(*) filter (where seconds <= {sla_minutes * 60}) as responded_within_sla,
        count(*) filter (where seconds is null) as deals_unanswered
      from first_touch group by all),
    rev as (
      select manager_id, sum(cast(amount as double)) as revenue, count(*) as orders
      from {o} where status = 'paid' and manager_id is not null
        and ordered_at >= {start} and ordered_at < {end} group by all),
    touched as (
      select customer_id, max(touched_at) as last_at from (
        select customer_id, occurred_at as touched_at from {a}
        where customer_id is not null and occurred_at >= {d90} and occurred_at < {end}
        union all
        select customer_id, ordered_at from {o}
        where status = 'paid' and ordered_at >= {d90} and ordered_at < {end})
      group by all),
    owned as (
      select cc.owner_manager_id as manager_id, count(*) as owned_customers,
        count(t.customer_id) filter (where t.last_at >= {d30}) as active_customers_30d,
        count(t.customer_id) as active_customers_90d
      from {c} cc left join touched t on t.customer_id = cc.customer_id
      where cc.owner_manager_id is not null group by all),
    ids as (
      select manager_id from {m} union select manager_id from act
      union select manager_id from dl union select manager_id from rev
      union select manager_id from owned)
    select ids.manager_id, mm.name, mm.department, w.working_days,
      coalesce(a.calls, 0) as calls, coalesce(a.meetings, 0) as meetings,
      coalesce(a.emails, 0) as emails, coalesce(a.tasks, 0) as tasks,
      coalesce(a.activities, 0) as activities,
      coalesce(a.activities, 0) / w.working_days as activities_per_day,
      w.working_days - coalesce(a.days_with_activity, 0) as days_without_activity,
      coalesce(o.owned_customers, 0) as owned_customers,
      coalesce(o.active_customers_30d, 0) as active_customers_30d,
      coalesce(o.active_customers_90d, 0) as active_customers_90d,
      coalesce(dl.deals_created, 0) as deals_created, coalesce(dl.deals_won, 0) as deals_won,
      coalesce(dl.deals_lost, 0) as deals_lost,
      dl.created_won / nullif(dl.deals_created, 0) as win_rate,
      dl.deals_won / nullif(dl.deals_won + dl.deals_lost, 0) as win_rate_closed,
      coalesce(rev.revenue, 0) as revenue, coalesce(rev.orders, 0) as orders,
      dl.avg_deal_size, dl.avg_cycle_days, r.response_median_minutes,
      coalesce(r.responded_within_sla, 0) as responded_within_sla,
      r.responded_within_sla / nullif(dl.deals_created, 0) as response_sla_share,
      coalesce(r.deals_unanswered, 0) as deals_unanswered
    from ids cross join w
    left join {m} mm on mm.manager_id = ids.manager_id
    left join act a on a.manager_id = ids.manager_id
    left join dl on dl.manager_id = ids.manager_id
    left join resp r on r.manager_id = ids.manager_id
    left join rev on rev.manager_id = ids.manager_id
    left join owned o on o.manager_id = ids.manager_id
    order by mm.department nulls last, ids.manager_id
    """


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=20_000_000)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--dir", type=Path)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--as-is", action="store_true",
                   help="time the dataset in --dir as it is (no generation, no synthesis)")
    args = p.parse_args()
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    dataset = args.dir or target / "bench-data" / f"managers-{args.rows}"
    if not args.as_is:
        build(dataset, args.rows, args.customers, args.threads)
    print("uptime before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())

    cmd = [str(binary()), "--dataset", str(dataset), "managers", "--format", "csv"]
    times, out = [], ""
    for _ in range(args.runs):
        start = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ours = list(csv.DictReader(io.StringIO(out)))
    as_of = ours[0]["period_to"]

    con = duckdb.connect()
    con.execute(f"set threads = {args.threads}")
    con.execute("set TimeZone = 'UTC'")
    orders = table_glob(dataset, "orders")
    as_of_sql = f"select cast(max(ordered_at) as date) from read_parquet('{orders}', hive_partitioning = false)"
    query = duckdb_sql(dataset, as_of)
    con.sql(query).fetchall()  # warm-up: file cache, metadata
    dtimes, theirs = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        con.execute(as_of_sql).fetchall()
        res = con.sql(query)
        cols = res.columns
        theirs = [dict(zip(cols, r)) for r in res.fetchall()]
        dtimes.append(time.perf_counter() - start)

    # The two agree on the counts and sums.
    by_id = {r["manager_id"]: r for r in theirs}
    assert len(by_id) == len(ours), (len(by_id), len(ours))
    for r in ours:
        t = by_id[r["manager_id"]]
        for k in ["activities", "calls", "deals_created", "deals_won", "responded_within_sla",
                  "deals_unanswered", "days_without_activity", "active_customers_30d",
                  "active_customers_90d"]:
            assert int(r[k]) == int(t[k]), (r["manager_id"], k, r[k], t[k])
        assert math.isclose(float(r["revenue"]), float(t["revenue"]), rel_tol=1e-9, abs_tol=1e-6)

    n = sum(int(r["activities"]) for r in ours)
    med, dmed = statistics.median(times), statistics.median(dtimes)
    print(f"period {ours[0]['period_from']} .. {as_of}: {len(ours)} managers, {n} activities in the period")
    print(f"crmlens managers (end to end, release): median {med:.3f} s over {args.runs} runs "
          f"{[round(t, 3) for t in times]}, peak RSS {peak_mb:.0f} MB")
    print(f"duckdb {duckdb.__version__} (in-process, threads={args.threads}): median {dmed:.3f} s "
          f"over {args.runs} runs {[round(t, 3) for t in dtimes]}")
    print(f"ratio crmlens / duckdb: {med / dmed:.2f}")
    print("uptime after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
