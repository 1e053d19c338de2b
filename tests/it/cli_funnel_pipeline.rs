//! `crmlens funnel pipeline` on the demo dataset: the JSON shape, every flag, the figures
//! adding up (reached = converted + won + dropped + in_progress; breakdowns sum to the
//! total; the date range against a count over the raw `deals`), usage errors, a dataset
//! without `deal_stage_history`, and the warning for deals without history. The figures
//! themselves are checked by hand in tests/slt/pipeline*.slt.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::{crmlens, demo, demo_json as json, keys, run, tempdir};

const FUNNEL_COLUMNS: &[&str] = &[
    "stage_order",
    "stage",
    "reached",
    "converted",
    "won",
    "dropped",
    "in_progress",
    "drop_off",
    "conversion_to_next",
    "conversion_from_first",
    "drop_off_rate",
    "median_days_in_stage",
    "p90_days_in_stage",
];

const STAGES: [&str; 5] = ["lead", "qualified", "proposal", "negotiation", "won"];

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn sql_int(query: &str) -> i64 {
    let rows = json(&["sql", query]);
    int(rows[0].as_object().unwrap().values().next().unwrap())
}

/// The stage rows of one funnel (in order) hold together.
fn check_funnel(rows: &[&Value]) {
    assert_eq!(rows.len(), STAGES.len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["stage"], STAGES[i], "{row}");
        assert_eq!(int(&row["stage_order"]), i as i64 + 1);
        let reached = int(&row["reached"]);
        let converted = row["converted"].as_i64();
        let parts = converted.unwrap_or(0)
            + int(&row["won"])
            + int(&row["dropped"])
            + int(&row["in_progress"]);
        assert_eq!(reached, parts, "{row}");
        if i + 1 < rows.len() {
            assert_eq!(converted, Some(int(&rows[i + 1]["reached"])), "{row}");
            assert!(int(&rows[i + 1]["reached"]) <= reached);
            assert_eq!(int(&row["won"]), 0, "{row}");
        } else {
            assert!(row["converted"].is_null(), "{row}");
            assert_eq!(int(&row["won"]), reached, "{row}");
        }
    }
}

#[test]
fn demo_funnel_json_adds_up() {
    let rows = json(&["funnel", "pipeline"]);
    assert_eq!(keys(&rows[0]), FUNNEL_COLUMNS);
    check_funnel(&rows.iter().collect::<Vec<_>>());
    // Every demo deal has history; reached lead = deals created; won = won deals.
    assert_eq!(
        int(&rows[0]["reached"]),
        sql_int("select count(*) from deals")
    );
    assert_eq!(
        int(&rows[4]["reached"]),
        sql_int("select count(*) from deals where status = 'won'")
    );
    // Plausible: conversion falls along the stages, times are positive.
    assert!(int(&rows[0]["reached"]) > 4 * int(&rows[4]["reached"]));
    for row in &rows[..4] {
        let median = row["median_days_in_stage"].as_f64().unwrap();
        let p90 = row["p90_days_in_stage"].as_f64().unwrap();
        assert!(median > 0.0 && p90 >= median && p90 < 200.0, "{row}");
    }
}

#[test]
fn every_breakdown_sums_to_the_total() {
    let total = json(&["funnel", "pipeline"]);
    for (by, column) in [
        ("manager", "manager_id"),
        ("source", "source"),
        ("region", "region"),
        ("product_category", "product_category"),
        ("segment", "segment"),
        ("month", "month"),
    ] {
        let rows = json(&["funnel", "pipeline", "--by", by]);
        assert_eq!(keys(&rows[0])[0], column, "--by {by}");
        assert_eq!(&keys(&rows[0])[1..], FUNNEL_COLUMNS, "--by {by}");
        let mut groups: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        for row in &rows {
            let key = row[column].as_str().expect("a labelled group").to_string();
            groups.entry(key).or_default().push(row);
        }
        assert!(groups.len() > 1, "--by {by}: {} groups", groups.len());
        let mut sums = [0i64; 5];
        for group in groups.values() {
            check_funnel(group);
            for (i, row) in group.iter().enumerate() {
                sums[i] += int(&row["reached"]);
            }
        }
        for (i, sum) in sums.iter().enumerate() {
            assert_eq!(*sum, int(&total[i]["reached"]), "--by {by}, stage {i}");
        }
    }
    let months = json(&["funnel", "pipeline", "--by", "month"]);
    assert_eq!(months[0]["month"], "2023-01-01");
}

#[test]
fn date_range_selects_deals_by_creation_date() {
    let rows = json(&[
        "funnel",
        "pipeline",
        "--from",
        "2024-03-01",
        "--to",
        "2024-05-31",
    ]);
    check_funnel(&rows.iter().collect::<Vec<_>>());
    let created = sql_int(
        "select count(*) from deals where cast(created_at as date) \
         between date '2024-03-01' and date '2024-05-31'",
    );
    assert!(created > 100);
    assert_eq!(int(&rows[0]["reached"]), created);
    let summary = json(&[
        "funnel",
        "pipeline",
        "--summary",
        "--from",
        "2024-03-01",
        "--to",
        "2024-05-31",
    ]);
    assert_eq!(int(&summary[0]["deals_created"]), created);
}

#[test]
fn summary_has_win_rates_and_cycle() {
    let rows = json(&["funnel", "pipeline", "--summary"]);
    assert_eq!(rows.len(), 1);
    let s = &rows[0];
    let created = int(&s["deals_created"]);
    let won = int(&s["won"]);
    let lost = int(&s["lost"]);
    assert_eq!(created, won + lost + int(&s["open"]));
    assert_eq!(int(&s["deals_without_history"]), 0);
    assert_eq!(int(&s["orphan_history_rows"]), 0);
    let rate = s["win_rate"].as_f64().unwrap();
    assert!((rate - won as f64 / created as f64).abs() < 1e-12);
    let closed = s["win_rate_closed"].as_f64().unwrap();
    assert!((closed - won as f64 / (won + lost) as f64).abs() < 1e-12);
    let median = s["cycle_median_days"].as_f64().unwrap();
    let p90 = s["cycle_p90_days"].as_f64().unwrap();
    assert!(median > 1.0 && p90 > median, "{s}");
    // Broken down by manager: the deals add up.
    let by = json(&["funnel", "pipeline", "--summary", "--by", "manager"]);
    assert!(by.len() > 10);
    assert_eq!(
        by.iter().map(|r| int(&r["deals_created"])).sum::<i64>(),
        created
    );
    assert_eq!(by.iter().map(|r| int(&r["won"])).sum::<i64>(), won);
}

#[test]
fn per_hundred_json_and_breakdowns() {
    let rows = json(&["funnel", "pipeline", "--per-hundred"]);
    assert_eq!(
        keys(&rows[0]),
        [
            "cold_contacts",
            "cold_customers",
            "opportunities",
            "sales",
            "opportunities_per_100_contacts",
            "sales_per_100_contacts",
            "sales_per_100_opportunities"
        ]
    );
    let r = &rows[0];
    let contacts = int(&r["cold_contacts"]);
    let opportunities = int(&r["opportunities"]);
    let sales = int(&r["sales"]);
    assert!(contacts > 100 && opportunities > 10 && sales > 0, "{r}");
    assert!(int(&r["cold_customers"]) <= contacts);
    let per100 = r["opportunities_per_100_contacts"].as_f64().unwrap();
    assert!((per100 - 100.0 * opportunities as f64 / contacts as f64).abs() < 1e-9);
    for (by, column) in [("manager", "manager_id"), ("month", "month")] {
        let rows = json(&["funnel", "pipeline", "--per-hundred", "--by", by]);
        assert_eq!(keys(&rows[0])[0], column);
        let sum = |k: &str| rows.iter().map(|r| int(&r[k])).sum::<i64>();
        assert_eq!(sum("cold_contacts"), contacts, "--by {by}");
        assert_eq!(sum("opportunities"), opportunities, "--by {by}");
        assert_eq!(sum("sales"), sales, "--by {by}");
    }
}

fn demo_run(args: &[&str]) -> crate::common::Run {
    let tmp = tempdir();
    let dataset = demo();
    run(crmlens(tmp.path())
        .args(["--dataset", dataset.to_str().unwrap()])
        .args(args))
}

#[test]
fn usage_errors() {
    let r = demo_run(&["funnel", "pipeline", "--by", "colour"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for value in [
        "manager",
        "source",
        "region",
        "product_category",
        "segment",
        "month",
    ] {
        assert!(r.stderr.contains(value), "{}", r.stderr);
    }
    let r = demo_run(&["funnel", "pipeline", "--per-hundred", "--by", "source"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--by manager, region"), "{}", r.stderr);
    let r = demo_run(&[
        "funnel",
        "pipeline",
        "--from",
        "2025-02-01",
        "--to",
        "2025-01-01",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--from 2025-02-01 is after --to 2025-01-01")
    );
    let r = demo_run(&["funnel", "pipeline", "--summary", "--per-hundred"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn table_format_prints_the_three_tables() {
    let r = demo_run(&["--format", "table", "funnel", "pipeline", "--by", "source"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for heading in [
        "Pipeline funnel",
        "Win rate and sales cycle",
        "Per-hundred conversion (cold contacts have no source",
    ] {
        assert!(r.stdout.contains(heading), "{heading}: {}", r.stdout);
    }
    // CSV stays one table.
    let r = demo_run(&["--format", "csv", "funnel", "pipeline"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 6, "{}", r.stdout);
    assert!(r.stdout.starts_with("stage_order,stage,reached"));
}

/// Writes a dataset of demo tables; `history` is a query over the demo's
/// deal_stage_history that gives the new one (None: no such table).
fn dataset_with_history(dir: &Path, history: Option<&str>) -> std::path::PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for table in ["customers", "orders", "deals", "activities"] {
        let file = format!("{table}.parquet");
        std::fs::copy(demo().join(&file), data.join(&file)).unwrap();
    }
    if let Some(query) = history {
        let out = data.join("deal_stage_history.parquet");
        let r = run(crmlens(dir).args([
            "--dataset",
            demo().to_str().unwrap(),
            "--format",
            "parquet",
            "--output",
            out.to_str().unwrap(),
            "sql",
            query,
        ]));
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    data
}

#[test]
fn without_stage_history_the_error_names_the_table() {
    let tmp = tempdir();
    let data = dataset_with_history(tmp.path(), None);
    let r =
        run(crmlens(tmp.path()).args(["--dataset", data.to_str().unwrap(), "funnel", "pipeline"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("pipeline funnel") && r.stderr.contains("deal_stage_history"),
        "{}",
        r.stderr
    );
    // Per-hundred conversion needs no stage history.
    let r = run(crmlens(tmp.path()).args([
        "--dataset",
        data.to_str().unwrap(),
        "--format",
        "json",
        "funnel",
        "pipeline",
        "--per-hundred",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The views say why they are missing.
    for view in ["pipeline_deals", "pipeline_funnel"] {
        let r = run(crmlens(tmp.path()).args([
            "--dataset",
            data.to_str().unwrap(),
            "sql",
            &format!("select * from {view}"),
        ]));
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("is not available on this dataset"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn deals_without_history_are_reported_not_dropped() {
    let tmp = tempdir();
    // Two deals lose their history, one history row gets an unknown stage.
    let data = dataset_with_history(
        tmp.path(),
        Some(
            "select deal_id, case when deal_id = (select max(deal_id) from deals where status = 'won') \
               and stage = 'proposal' then 'on hold' else stage end as stage, entered_at \
             from deal_stage_history where deal_id not in \
               (select deal_id from deals order by deal_id limit 2)",
        ),
    );
    let r = run(crmlens(tmp.path()).args([
        "--dataset",
        data.to_str().unwrap(),
        "--format",
        "json",
        "funnel",
        "pipeline",
        "--summary",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("2 deal(s) have no history entry"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("1 deal_stage_history row(s)"),
        "{}",
        r.stderr
    );
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(int(&rows[0]["deals_without_history"]), 2);
    assert_eq!(int(&rows[0]["unknown_stage_rows"]), 1);
    assert_eq!(
        int(&rows[0]["deals_created"]),
        int(&rows[0]["deals_in_funnel"]) + 2
    );
}
