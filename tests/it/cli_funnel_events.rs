//! `crmlens funnel events`: exact figures on a small hand-made dataset (every expectation
//! computed by hand below), and on the demo dataset the tables checked against each other and
//! against plain SQL over the raw events.
//!
//! The small dataset (UTC, as_of 2024-01-31), funnel visit → cart → purchase, window 1 day:
//! - C1: visit 01-01 10:00, cart 11:00, purchase 12:00 → level 3 (60 and 60 minutes)
//! - C2: visit 01-02 10:00, cart 01-03 10:00 (exactly the window: in), purchase 01-03
//!   10:00:01 (one second late) → level 2 (1440 minutes)
//! - C3: cart and purchase without a visit → not in the funnel
//! - C4: visit 01-10 09:00, search 09:30, cart 10:00, purchase 11:00 → level 3 (60, 60), but 1
//!   under strict_order (the search comes between the steps), and removed by --exclude search
//! - C5: visit 01-20 23:30, cart 01-21 00:10, purchase 00:20, written out of order → level 3
//!   (40, 10)
//! - C6: visit 01-25 08:00, visit 01-26 08:00, cart 01-26 12:00 → level 2; the chain starts at
//!   the later visit, as in ClickHouse (240 minutes)
//! - C7: a visit on 02-05, after as_of → not in the funnel

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray, TimestampMicrosecondArray};
use serde_json::Value;

use crate::common::{crmlens, demo_json, keys, run, tempdir};
use crate::fixtures::write;

fn text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn micros(values: &[&str]) -> ArrayRef {
    let v: Vec<i64> = values
        .iter()
        .map(|s| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .unwrap()
                .and_utc()
                .timestamp_micros()
        })
        .collect();
    Arc::new(TimestampMicrosecondArray::from(v).with_timezone("UTC"))
}

fn dataset(dir: &Path) {
    let ids = ["C1", "C2", "C3", "C4", "C5", "C6", "C7"].map(Some);
    write(
        &dir.join("customers.parquet"),
        vec![
            ("customer_id", text(&ids)),
            ("kind", text(&[Some("person"); 7])),
            ("name", text(&ids)),
            (
                "country",
                text(&[
                    Some("DE"),
                    Some("FR"),
                    Some("DE"),
                    Some("DE"),
                    Some("DE"),
                    None,
                    None,
                ]),
            ),
            ("created_at", micros(&["2023-12-01 00:00:00"; 7])),
        ],
    );
    write(
        &dir.join("orders.parquet"),
        vec![
            ("order_id", text(&[Some("O1")])),
            ("customer_id", text(&[Some("C1")])),
            ("ordered_at", micros(&["2024-01-31 12:00:00"])),
            (
                "amount",
                Arc::new(datafusion::arrow::array::Float64Array::from(vec![10.0])) as ArrayRef,
            ),
            ("currency", text(&[Some("EUR")])),
            ("status", text(&[Some("paid")])),
        ],
    );
    let google = Some(r#"{"utm_source":"google"}"#);
    let direct = Some(r#"{"utm_source":"direct"}"#);
    let vk = Some(r#"{"utm_source":"vk"}"#);
    let rows: Vec<(&str, &str, &str, Option<&str>)> = vec![
        ("C1", "visit", "2024-01-01 10:00:00", google),
        ("C1", "cart", "2024-01-01 11:00:00", None),
        ("C1", "purchase", "2024-01-01 12:00:00", None),
        ("C2", "visit", "2024-01-02 10:00:00", google),
        ("C2", "cart", "2024-01-03 10:00:00", None),
        ("C2", "purchase", "2024-01-03 10:00:01", None),
        ("C3", "cart", "2024-01-05 10:00:00", None),
        ("C3", "purchase", "2024-01-05 11:00:00", None),
        ("C4", "visit", "2024-01-10 09:00:00", direct),
        ("C4", "search", "2024-01-10 09:30:00", None),
        ("C4", "cart", "2024-01-10 10:00:00", None),
        ("C4", "purchase", "2024-01-10 11:00:00", None),
        ("C5", "purchase", "2024-01-21 00:20:00", None),
        ("C5", "cart", "2024-01-21 00:10:00", None),
        ("C5", "visit", "2024-01-20 23:30:00", None),
        ("C6", "visit", "2024-01-25 08:00:00", vk),
        ("C6", "visit", "2024-01-26 08:00:00", direct),
        ("C6", "cart", "2024-01-26 12:00:00", None),
        ("C7", "visit", "2024-02-05 10:00:00", google),
    ];
    write(
        &dir.join("events.parquet"),
        vec![
            (
                "customer_id",
                text(&rows.iter().map(|r| Some(r.0)).collect::<Vec<_>>()),
            ),
            (
                "event",
                text(&rows.iter().map(|r| Some(r.1)).collect::<Vec<_>>()),
            ),
            (
                "occurred_at",
                micros(&rows.iter().map(|r| r.2).collect::<Vec<_>>()),
            ),
            (
                "properties",
                text(&rows.iter().map(|r| r.3).collect::<Vec<_>>()),
            ),
        ],
    );
}

/// `crmlens funnel events --steps visit,cart,purchase --window 1d ARGS` on the small dataset.
fn small(args: &[&str]) -> Vec<Value> {
    let tmp = tempdir();
    dataset(tmp.path());
    let r = run(crmlens(tmp.path())
        .args([
            "--dataset",
            ".",
            "--as-of",
            "2024-01-31",
            "--format",
            "json",
        ])
        .args([
            "funnel",
            "events",
            "--steps",
            "visit,cart,purchase",
            "--window",
            "1d",
        ])
        .args(args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn column(rows: &[Value], k: &str) -> Vec<Value> {
    rows.iter().map(|r| r[k].clone()).collect()
}

fn ints(values: &[i64]) -> Vec<Value> {
    values.iter().map(|v| Value::from(*v)).collect()
}

/// The median minutes of a three-step table, from the previous and from the first step (none
/// at step 1).
fn assert_medians(rows: &[Value], from_previous: [f64; 2], from_first: [f64; 2]) {
    for (key, want) in [
        ("median_minutes_from_previous", from_previous),
        ("median_minutes_from_first", from_first),
    ] {
        let mut expected = vec![Value::Null];
        expected.extend(want.map(Value::from));
        assert_eq!(column(rows, key), expected, "{key}");
    }
}

#[test]
fn step_table_by_hand() {
    let rows = small(&[]);
    assert_eq!(
        keys(&rows[0]),
        [
            "step",
            "event",
            "customers",
            "conversion_from_first",
            "conversion_from_previous",
            "drop_off",
            "median_minutes_from_previous",
            "median_minutes_from_first",
            "excluded"
        ]
    );
    // In the funnel: C1 (3), C2 (2), C4 (3), C5 (3), C6 (2).
    assert_eq!(column(&rows, "customers"), ints(&[5, 5, 3]));
    assert_eq!(
        column(&rows, "conversion_from_first"),
        [1.0, 1.0, 0.6].map(Value::from)
    );
    assert_eq!(
        column(&rows, "conversion_from_previous"),
        [Value::Null, Value::from(1.0), Value::from(0.6)]
    );
    assert_eq!(
        column(&rows, "drop_off"),
        [Value::Null, Value::from(0), Value::from(2)]
    );
    // Step 2 from the visit: 60, 1440, 60, 40, 240 → median 60; step 3 from the cart: 60, 60,
    // 10 → 60; from the visit: 120, 120, 50 → 120.
    assert_medians(&rows, [60.0, 60.0], [60.0, 120.0]);
    assert_eq!(column(&rows, "excluded"), ints(&[0, 0, 0]));
}

#[test]
fn modes_exclusion_and_range_by_hand() {
    // strict_order: C4 stops at the search (1), the rest as before: 5, 4, 2.
    let strict = small(&["--mode", "strict_order"]);
    assert_eq!(column(&strict, "customers"), ints(&[5, 4, 2]));
    // --exclude search removes C4: 4, 4, 2; one customer excluded.
    let excluded = small(&["--exclude", "search"]);
    assert_eq!(column(&excluded, "customers"), ints(&[4, 4, 2]));
    assert_eq!(column(&excluded, "excluded"), ints(&[1, 1, 1]));
    // Entry from 01-10: C4, C5, C6.
    let late = small(&["--from", "2024-01-10"]);
    assert_eq!(column(&late, "customers"), ints(&[3, 3, 2]));
    let early = small(&["--to", "2024-01-09"]);
    assert_eq!(column(&early, "customers"), ints(&[2, 2, 1]));
}

#[test]
fn unordered_by_hand() {
    // Steps in any order within a day of the first of them: C1 3; C2 2 (visit and cart, or
    // cart and purchase: never all three within a day); C3 2 (cart and purchase, no visit
    // needed: in the funnel now); C4 3; C5 3; C6 2 (from the second visit: visit, cart).
    let rows = small(&["--mode", "unordered"]);
    assert_eq!(column(&rows, "customers"), ints(&[6, 6, 3]));
    let labels: Vec<&str> = rows.iter().map(|r| r["event"].as_str().unwrap()).collect();
    assert_eq!(labels, ["1 of 3", "2 of 3", "3 of 3"]);
    // First to second distinct step: 60, 1440 (C2's first window reaching 2 starts at the
    // visit), 60, 60, 40, 240 → median 60; second to third: 60, 60, 10 → 60; first to third:
    // 120, 120, 50 → 120.
    assert_medians(&rows, [60.0, 60.0], [60.0, 120.0]);
}

#[test]
fn histogram_over_time_and_breakdowns_by_hand() {
    // Entry to purchase: C1 120 min and C4 120 min (1–6 h), C5 50 min (15–60 min). A 1-day
    // window keeps the bins that start at or before 1 day.
    let h = small(&["--histogram"]);
    let labels: Vec<&str> = h.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "< 1 min",
            "1–5 min",
            "5–15 min",
            "15–60 min",
            "1–6 h",
            "6–24 h",
            "1–2 d"
        ]
    );
    assert_eq!(column(&h, "customers"), ints(&[0, 0, 0, 1, 2, 0, 0]));
    assert_eq!(h[4]["cumulative_share"], Value::from(1.0));

    let weeks = small(&["--over-time", "week"]);
    let periods: Vec<&str> = weeks
        .iter()
        .map(|r| r["period"].as_str().unwrap())
        .collect();
    assert_eq!(
        periods,
        ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]
    );
    assert_eq!(column(&weeks, "step_1"), ints(&[2, 1, 1, 1]));
    assert_eq!(column(&weeks, "step_3"), ints(&[1, 1, 1, 0]));
    let months = small(&["--over-time", "month"]);
    assert_eq!(months.len(), 1);
    assert_eq!(months[0]["conversion"], Value::from(0.6));

    // First touch: C1, C2 google; C4 direct; C6's chain starts at its second visit (direct);
    // C5's visit has no properties.
    let by_source = small(&["--by", "utm_source"]);
    let got: Vec<(String, i64)> = by_source
        .iter()
        .map(|r| {
            (
                r["value"].as_str().unwrap().to_string(),
                r["customers"].as_i64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("direct", 2),
        ("direct", 2),
        ("direct", 1),
        ("google", 2),
        ("google", 2),
        ("google", 1),
        ("(none)", 1),
        ("(none)", 1),
        ("(none)", 1),
    ];
    assert_eq!(got, want.map(|(v, n)| (v.to_string(), n)));
    let top1 = small(&["--by", "event.utm_source", "--top", "1"]);
    assert_eq!(column(&top1, "value")[3], Value::from("(other)"));
    assert_eq!(column(&top1, "customers"), ints(&[2, 2, 1, 3, 3, 2]));
    // Customer property: DE C1, C4, C5; FR C2; none C6.
    let by_country = small(&["--by", "country"]);
    assert_eq!(
        column(&by_country, "value"),
        [
            "DE", "DE", "DE", "(none)", "(none)", "(none)", "FR", "FR", "FR"
        ]
        .map(Value::from)
    );
    assert_eq!(
        column(&by_country, "customers"),
        ints(&[3, 3, 3, 1, 1, 0, 1, 1, 0])
    );
}

#[test]
fn errors() {
    let tmp = tempdir();
    dataset(tmp.path());
    for (args, needle) in [
        (vec!["--steps", "visit,chart"], "did you mean `cart`"),
        (
            vec!["--steps", "visit,cart", "--window", "7x"],
            "unknown unit",
        ),
        (
            vec!["--steps", "visit,cart", "--mode", "strict"],
            "strict_order",
        ),
        (vec!["--steps", "visit,cart", "--exclude", "nope"], "nope"),
        (
            vec!["--steps", "visit,cart", "--by", "customer.colour"],
            "colour",
        ),
        (
            vec![
                "--steps",
                "visit,cart",
                "--from",
                "2024-02-01",
                "--to",
                "2024-01-01",
            ],
            "after",
        ),
    ] {
        let r = run(crmlens(tmp.path())
            .args(["--dataset", ".", "funnel", "events"])
            .args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    let steps = (0..33).map(|_| "visit").collect::<Vec<_>>().join(",");
    let r =
        run(crmlens(tmp.path()).args(["--dataset", ".", "funnel", "events", "--steps", &steps]));
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// On the demo dataset: the default funnel (visit → signup → cart → purchase, 7 days) through
/// the view and the command agree; the breakdown, over-time and histogram tables add up to the
/// step table; step 1 equals the customers with a visit (plain SQL).
#[test]
fn demo_tables_agree() {
    let steps = demo_json(&["funnel", "events"]);
    let view = demo_json(&["sql", "select * from event_funnel order by step"]);
    assert_eq!(steps, view);
    let counts: Vec<i64> = steps
        .iter()
        .map(|r| r["customers"].as_i64().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]) && counts[3] > 0,
        "{counts:?}"
    );
    let visitors = &demo_json(&[
        "sql",
        "select count(distinct customer_id) as n from events where event = 'visit'",
    ])[0]["n"];
    assert_eq!(counts[0], visitors.as_i64().unwrap());
    let by = demo_json(&["funnel", "events", "--by", "device"]);
    for (k, total) in counts.iter().enumerate() {
        let sum: i64 = by
            .iter()
            .filter(|r| r["step"] == k as i64 + 1)
            .map(|r| r["customers"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, *total, "step {}", k + 1);
    }
    let months = demo_json(&["funnel", "events", "--over-time", "month"]);
    let sum: i64 = months.iter().map(|r| r["step_4"].as_i64().unwrap()).sum();
    assert_eq!(sum, counts[3]);
    let hist = demo_json(&["funnel", "events", "--histogram"]);
    let sum: i64 = hist.iter().map(|r| r["customers"].as_i64().unwrap()).sum();
    assert_eq!(sum, counts[3]);
}
