//! `crmlens managers` and `crmlens plan` on the demo dataset: output shapes, every flag, usage
//! and data errors, and the figures checked against independent counts done with plain
//! `crmlens sql` over the raw tables (the demo's time zone is UTC, so UTC dates are the
//! local ones). The exact definitions are held to hand-computed values by
//! `tests/slt/managers*.slt`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{crmlens, demo, demo_json as json, keys, run, tempdir};

const KPI_COLUMNS: &[&str] = &[
    "manager_id",
    "name",
    "department",
    "active",
    "period_from",
    "period_to",
    "working_days",
    "calls",
    "meetings",
    "emails",
    "tasks",
    "activities",
    "calls_per_day",
    "meetings_per_day",
    "emails_per_day",
    "tasks_per_day",
    "activities_per_day",
    "days_without_activity",
    "owned_customers",
    "active_customers_30d",
    "active_customers_90d",
    "deals_created",
    "deals_won",
    "deals_lost",
    "win_rate",
    "win_rate_closed",
    "revenue",
    "orders",
    "avg_deal_size",
    "avg_cycle_days",
    "response_median_minutes",
    "responded_within_sla",
    "response_sla_share",
    "deals_unanswered",
];

const PLAN_MEASURES: &[&str] = &[
    "plan_rows",
    "target",
    "actual",
    "attainment_pct",
    "unplanned_actual",
    "total_actual",
];

fn int(row: &Value, key: &str) -> i64 {
    row[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} is not an integer: {row}"))
}

fn num(row: &Value, key: &str) -> f64 {
    row[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number: {row}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

/// One number from `crmlens sql` on the demo.
fn sql_number(query: &str) -> f64 {
    let rows = json(&["sql", query]);
    let row = rows[0].as_object().unwrap();
    row.values().next().unwrap().as_f64().unwrap_or(0.0)
}

fn sum(rows: &[Value], key: &str) -> f64 {
    rows.iter().map(|r| r[key].as_f64().unwrap_or(0.0)).sum()
}

/// Checks what holds for every KPI row whatever the data.
fn check_kpi_rows(rows: &[Value]) {
    for r in rows {
        assert_eq!(keys(r), KPI_COLUMNS, "{r}");
        let kinds: i64 = ["calls", "meetings", "emails", "tasks"]
            .iter()
            .map(|k| int(r, k))
            .sum();
        assert_eq!(kinds, int(r, "activities"), "{r}");
        assert!(
            int(r, "days_without_activity") <= int(r, "working_days"),
            "{r}"
        );
        assert!(int(r, "days_without_activity") >= 0, "{r}");
        assert!(int(r, "active_customers_30d") <= int(r, "active_customers_90d"));
        assert!(int(r, "active_customers_90d") <= int(r, "owned_customers"));
        assert!(
            int(r, "responded_within_sla") + int(r, "deals_unanswered") <= int(r, "deals_created"),
            "{r}"
        );
        for rate in ["win_rate", "win_rate_closed", "response_sla_share"] {
            if let Some(v) = r[rate].as_f64() {
                assert!((0.0..=1.0).contains(&v), "{rate}: {r}");
            }
        }
        if int(r, "working_days") > 0 {
            let per_day = int(r, "activities") as f64 / int(r, "working_days") as f64;
            assert!(close(num(r, "activities_per_day"), per_day), "{r}");
        }
    }
}

#[test]
fn default_period_is_the_30_days_to_as_of_with_every_manager() {
    let rows = json(&["managers"]);
    check_kpi_rows(&rows);
    // Every manager of the table, once.
    let managers: BTreeSet<String> = json(&["sql", "select manager_id from managers"])
        .iter()
        .map(|r| r["manager_id"].as_str().unwrap().to_string())
        .collect();
    let listed: BTreeSet<String> = rows
        .iter()
        .map(|r| r["manager_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, managers);
    assert_eq!(rows.len(), managers.len());
    // As_of is the latest order date, 2025-12-31: the period is Dec 2 … Dec 31, with 22
    // weekdays (Tue 2 … Fri 5: 4, three whole weeks: 15, Mon 29 … Wed 31: 3).
    for r in &rows {
        assert_eq!(r["period_from"], "2025-12-02");
        assert_eq!(r["period_to"], "2025-12-31");
        assert_eq!(int(r, "working_days"), 22);
    }
    // Sorted by department, then manager.
    let order: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["department"].as_str().unwrap().to_string(),
                r["manager_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    // The view is the same table.
    let view = json(&[
        "sql",
        "select * from manager_kpis order by department, manager_id",
    ]);
    assert_eq!(view.len(), rows.len());
    for (v, r) in view.iter().zip(&rows) {
        assert_eq!(keys(v), keys(r));
        for k in KPI_COLUMNS {
            match (v[k].as_f64(), r[k].as_f64()) {
                (Some(a), Some(b)) => assert!(close(a, b), "{k}: {a} vs {b}"),
                _ => assert_eq!(v[k], r[k], "{k}"),
            }
        }
    }
    // Plausible: work is logged, deals are created and answered, revenue is earned.
    assert!(sum(&rows, "activities") > 100.0);
    assert!(sum(&rows, "deals_created") > 10.0);
    assert!(sum(&rows, "revenue") > 10_000.0);
    assert!(rows.iter().any(|r| int(r, "responded_within_sla") > 0));
}

#[test]
fn totals_match_plain_counts_over_the_raw_tables() {
    let (from, to) = ("2025-03-01", "2025-03-31");
    let rows = json(&["managers", "--from", from, "--to", to]);
    check_kpi_rows(&rows);
    let range = |c: &str| format!("cast({c} as date) between date '{from}' and date '{to}'");
    let activities = sql_number(&format!(
        "select count(*) from activities where {}",
        range("occurred_at")
    ));
    assert_eq!(sum(&rows, "activities"), activities);
    let calls = sql_number(&format!(
        "select count(*) from activities where kind = 'call' and {}",
        range("occurred_at")
    ));
    assert_eq!(sum(&rows, "calls"), calls);
    let created = sql_number(&format!(
        "select count(*) from deals where {}",
        range("created_at")
    ));
    assert_eq!(sum(&rows, "deals_created"), created);
    let won = sql_number(&format!(
        "select count(*) from deals where status = 'won' and {}",
        range("closed_at")
    ));
    assert_eq!(sum(&rows, "deals_won"), won);
    let revenue = sql_number(&format!(
        "select sum(cast(amount as double)) from orders \
         where status = 'paid' and manager_id is not null and {}",
        range("ordered_at")
    ));
    assert!(close(sum(&rows, "revenue"), revenue), "{revenue}");
    // March 2025 starts on a Saturday: 21 weekdays.
    assert!(rows.iter().all(|r| int(r, "working_days") == 21));
    // Idle days, independently for one manager: weekdays of March without their activity.
    let busiest = rows.iter().max_by_key(|r| int(r, "activities")).unwrap();
    let id = busiest["manager_id"].as_str().unwrap();
    let active_days = sql_number(&format!(
        "select count(distinct cast(occurred_at as date)) from activities \
         where manager_id = '{id}' and {} \
         and date_part('dow', occurred_at) between 1 and 5",
        range("occurred_at")
    ));
    assert_eq!(
        int(busiest, "days_without_activity") as f64,
        21.0 - active_days
    );
}

#[test]
fn manager_and_department_filters() {
    let one = json(&["managers", "--manager", "M001"]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["manager_id"], "M001");
    let dept = one[0]["department"].as_str().unwrap().to_string();
    let team = json(&["managers", "--department", &dept]);
    assert!(team.len() > 1);
    assert!(team.iter().all(|r| r["department"] == dept.as_str()));
    assert!(team.iter().any(|r| r["manager_id"] == "M001"));
    let both = json(&["managers", "--department", &dept, "--manager", "M001"]);
    assert_eq!(both, one);
}

fn demo_run(args: &[&str]) -> crate::common::Run {
    let tmp = tempdir();
    run(crmlens(tmp.path())
        .args(["--dataset", demo().to_str().unwrap()])
        .args(args))
}

#[test]
fn usage_errors_name_the_value() {
    for (args, needle) in [
        (&["managers", "--from", "2025-13-01"][..], "2025-13-01"),
        (
            &["managers", "--from", "2025-03-10", "--to", "2025-03-01"],
            "--from",
        ),
        (&["managers", "--to", "2026-01-31"], "after as_of"),
        (&["managers", "--manager", "M999"], "M999"),
        (&["managers", "--department", "Nowhere"], "Nowhere"),
        (&["plan", "--by", "region"], "region"),
        (&["plan", "--from", "2025-14"], "2025-14"),
        (&["plan", "--from", "2025-06", "--to", "2025-01"], "--from"),
        (&["plan", "--to", "2026-02"], "as_of"),
    ] {
        let r = demo_run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    // A typo gets a suggestion.
    let r = demo_run(&["managers", "--manager", "M01"]);
    assert!(r.stderr.contains("did you mean"), "{}", r.stderr);
}

/// The demo without some tables (copied into a temporary directory).
fn demo_without(tmp: &Path, left_out: &[&str]) -> PathBuf {
    let data = tmp.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for entry in std::fs::read_dir(demo()).unwrap() {
        let path = entry.unwrap().path();
        let table = path.file_stem().unwrap().to_str().unwrap().to_string();
        if !left_out.contains(&table.as_str()) {
            std::fs::copy(&path, data.join(path.file_name().unwrap())).unwrap();
        }
    }
    data
}

#[test]
fn a_dataset_without_activities_is_a_clear_error() {
    let tmp = tempdir();
    let data = demo_without(tmp.path(), &["activities"]);
    let r = run(crmlens(tmp.path()).args(["managers", "--dataset", data.to_str().unwrap()]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("activities") && r.stderr.contains("manager KPIs"),
        "{}",
        r.stderr
    );
    // The view says why in SQL too.
    let r = run(crmlens(tmp.path()).args([
        "sql",
        "--dataset",
        data.to_str().unwrap(),
        "select * from manager_kpis",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("activities"), "{}", r.stderr);
    // Plan vs actual needs no activities.
    let r = run(crmlens(tmp.path()).args(["plan", "--dataset", data.to_str().unwrap()]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn plan_by_month_adds_up_to_the_plans_and_the_sales() {
    let rows = json(&["plan"]);
    assert!(!rows.is_empty());
    for r in &rows {
        let mut want = vec!["month"];
        want.extend(PLAN_MEASURES);
        assert_eq!(keys(r), want, "{r}");
        let (target, actual) = (num(r, "target"), num(r, "actual"));
        if target > 0.0 {
            assert!(
                close(num(r, "attainment_pct"), 100.0 * actual / target),
                "{r}"
            );
        }
        assert!(close(
            num(r, "total_actual"),
            actual + num(r, "unplanned_actual")
        ));
    }
    // Months run up to the month of as_of (2025-12), in order.
    let months: Vec<&str> = rows.iter().map(|r| r["month"].as_str().unwrap()).collect();
    assert_eq!(*months.last().unwrap(), "2025-12-01");
    assert!(months.windows(2).all(|w| w[0] < w[1]));
    // Independent: Σ targets of the plan table, Σ plan rows.
    let target = sql_number("select sum(cast(target_amount as double)) from plans");
    assert!(close(sum(&rows, "target"), target));
    assert_eq!(
        sum(&rows, "plan_rows"),
        sql_number("select count(*) from plans")
    );
    // Nothing vanishes: planned + unplanned = every paid item sold by a manager.
    let sales = sql_number(
        "select sum(i.quantity * cast(i.unit_price as double)) from orders o \
         join order_items i on i.order_id = o.order_id \
         where o.status = 'paid' and o.manager_id is not null",
    );
    assert!(close(sum(&rows, "total_actual"), sales), "{sales}");
    // The plans are set near what was sold: recent months reach 80–110 %.
    let last = rows.last().unwrap();
    let pct = num(last, "attainment_pct");
    assert!((80.0..110.0).contains(&pct), "{last}");
}

#[test]
fn plan_groupings_and_month_range() {
    let by_month = json(&["plan", "--from", "2025-01", "--to", "2025-06"]);
    assert_eq!(by_month.len(), 6);
    assert_eq!(by_month[0]["month"], "2025-01-01");
    let by_manager = json(&[
        "plan", "--by", "manager", "--from", "2025-01", "--to", "2025-06",
    ]);
    let mut want = vec!["manager_id"];
    want.extend(PLAN_MEASURES);
    assert_eq!(keys(&by_manager[0]), want);
    // The same sales, grouped differently.
    for m in ["target", "actual", "unplanned_actual"] {
        assert!(close(sum(&by_manager, m), sum(&by_month, m)), "{m}");
    }
    // Attainment of an aggregate is Σ actual ÷ Σ target, not a mean of ratios.
    for r in &by_manager {
        if num(r, "target") > 0.0 {
            assert!(close(
                num(r, "attainment_pct"),
                100.0 * num(r, "actual") / num(r, "target")
            ));
        }
    }
    let two = json(&["plan", "--by", "month,department"]);
    assert_eq!(keys(&two[0])[..2], ["month", "department"]);
    let cats = json(&["plan", "--by", "category"]);
    assert_eq!(keys(&cats[0])[0], "product_category");
    assert!(close(sum(&cats, "total_actual"), sum(&two, "total_actual")));
}

#[test]
fn plan_without_order_items_measures_orders_and_says_why() {
    let tmp = tempdir();
    let data = demo_without(tmp.path(), &["order_items"]);
    let r = run(crmlens(tmp.path()).args([
        "plan",
        "--dataset",
        data.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("order_items"), "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    // Every demo plan row names a category: none can be measured, nothing is invented.
    assert!(rows.iter().all(|r| r["actual"].is_null()), "{rows:?}");
    assert!(sum(&rows, "target") > 0.0);
}

#[test]
fn csv_output_and_help() {
    let r = demo_run(&["managers", "--format", "csv", "--department", "SMB"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let header = r.stdout.lines().next().unwrap();
    assert_eq!(header, KPI_COLUMNS.join(","));
    let r = demo_run(&["managers", "--help"]);
    assert!(r.stdout.contains("Examples:") && r.stdout.contains("--from"));
    let r = demo_run(&["plan", "--help"]);
    assert!(r.stdout.contains("Examples:") && r.stdout.contains("product_category"));
}
