//! `crmlens forecast` on the demo dataset: the JSON shape of each table, the breakdowns
//! adding up, the weighted amount recomputed in Rust from the printed probabilities and the
//! open deals, usage errors and a dataset without `deal_stage_history`. The figures are
//! checked by hand in tests/slt/pipeline*.slt.

use std::collections::HashMap;

use serde_json::Value;

use crate::common::{crmlens, demo, demo_json as json, keys, run, tempdir};

fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

#[test]
fn probabilities_are_learned_shares() {
    let rows = json(&["forecast", "--probabilities"]);
    assert_eq!(
        keys(&rows[0]),
        [
            "stage_order",
            "stage",
            "closed_deals",
            "won_deals",
            "probability",
            "median_days_to_close",
            "learned_from",
            "learned_to"
        ]
    );
    assert_eq!(rows.len(), 5);
    let mut previous = 0.0;
    for row in &rows {
        let p = f64_of(&row["probability"]);
        assert!(
            (p - int(&row["won_deals"]) as f64 / int(&row["closed_deals"]) as f64).abs() < 1e-12
        );
        // Deals further down the pipeline win more often.
        assert!(p >= previous, "{row}");
        previous = p;
    }
    assert_eq!(f64_of(&rows[4]["probability"]), 1.0);
    assert_eq!(rows[0]["learned_from"], "2025-01-01");
    assert_eq!(rows[0]["learned_to"], "2025-12-31");
}

#[test]
fn weighted_amount_is_amount_times_probability() {
    let probabilities: HashMap<String, f64> = json(&["forecast", "--probabilities"])
        .iter()
        .map(|r| {
            (
                r["stage"].as_str().unwrap().to_string(),
                f64_of(&r["probability"]),
            )
        })
        .collect();
    let open = json(&[
        "sql",
        "select stage, cast(amount as double) as amount from pipeline_deals \
         where status = 'open' and stage is not null",
    ]);
    let expected: f64 = open
        .iter()
        .map(|r| f64_of(&r["amount"]) * probabilities[r["stage"].as_str().unwrap()])
        .sum();
    let months = json(&["forecast"]);
    assert_eq!(
        keys(&months[0]),
        [
            "expected_close_month",
            "open_deals",
            "overdue_deals",
            "deals_without_probability",
            "deals_without_amount",
            "open_amount",
            "weighted_amount",
            "amount_without_probability"
        ]
    );
    let weighted: f64 = months.iter().map(|r| f64_of(&r["weighted_amount"])).sum();
    assert!(
        (weighted - expected).abs() < 1e-6 * expected,
        "{weighted} vs {expected}"
    );
    let deals: i64 = months.iter().map(|r| int(&r["open_deals"])).sum();
    assert_eq!(deals, open.len() as i64);
    // Months are in order, none before as_of's month (overdue deals land there).
    let names: Vec<&str> = months
        .iter()
        .map(|r| r["expected_close_month"].as_str().unwrap())
        .collect();
    assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    assert!(names[0] >= "2025-12-01", "{names:?}");
    for (by, column) in [("stage", "stage_order"), ("manager", "manager_id")] {
        let rows = json(&["forecast", "--by", by]);
        assert_eq!(keys(&rows[0])[..2], ["expected_close_month", column]);
        let sum: f64 = rows.iter().map(|r| f64_of(&r["weighted_amount"])).sum();
        assert!((sum - expected).abs() < 1e-6 * expected, "--by {by}");
        let deals: i64 = rows.iter().map(|r| int(&r["open_deals"])).sum();
        assert_eq!(deals, open.len() as i64, "--by {by}");
    }
}

#[test]
fn usage_and_missing_table_errors() {
    let tmp = tempdir();
    let dataset = demo();
    let r = run(crmlens(tmp.path()).args([
        "--dataset",
        dataset.to_str().unwrap(),
        "forecast",
        "--by",
        "region",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("stage, manager, month"), "{}", r.stderr);
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for table in ["customers", "orders", "deals"] {
        let file = format!("{table}.parquet");
        std::fs::copy(demo().join(&file), data.join(&file)).unwrap();
    }
    let r = run(crmlens(tmp.path()).args(["--dataset", data.to_str().unwrap(), "forecast"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("forecast") && r.stderr.contains("deal_stage_history"),
        "{}",
        r.stderr
    );
}

#[test]
fn table_format_prints_both_tables() {
    let tmp = tempdir();
    let dataset = demo();
    let r = run(crmlens(tmp.path()).args([
        "--dataset",
        dataset.to_str().unwrap(),
        "--format",
        "table",
        "forecast",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Weighted open pipeline by expected close month")
    );
    assert!(r.stdout.contains("Stage probabilities"));
}
