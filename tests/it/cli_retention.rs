//! `crmlens churn` and `crmlens cohorts` on the demo dataset: output shapes (JSON, CSV, the
//! matrix), usage errors, and the figures checked against independent computations: a
//! brute-force customer × checkpoint join done with `crmlens sql` over the raw `orders`
//! table, and set arithmetic in Rust.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use crate::common::{crmlens, demo, demo_json as json, keys, run, tempdir};

/// A mid-month as_of, so that the last month is a partial one.
const AS_OF: &str = "2025-06-15";

fn csv(args: &[&str]) -> Vec<Vec<String>> {
    let tmp = tempdir();
    let dataset = demo();
    let r = run(crmlens(tmp.path())
        .args(["--dataset", dataset.to_str().unwrap(), "--format", "csv"])
        .args(args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn date(v: &Value) -> NaiveDate {
    NaiveDate::parse_from_str(v.as_str().unwrap(), "%Y-%m-%d").unwrap()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap()
}

fn next_month(m: NaiveDate) -> NaiveDate {
    m.checked_add_months(chrono::Months::new(1)).unwrap()
}

fn months_between(a: NaiveDate, b: NaiveDate) -> i64 {
    i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month())
}

/// Paid purchases up to AS_OF per customer, as (customer, purchase month) pairs, straight
/// from `orders` (the demo's time zone is UTC, so the UTC date is the purchase date).
fn purchase_months() -> BTreeSet<(String, NaiveDate)> {
    json(&[
        "sql",
        &format!(
            "select distinct customer_id, cast(date_trunc('month', cast(ordered_at as date)) as date) as m \
             from orders where status = 'paid' and cast(ordered_at as date) <= date '{AS_OF}'"
        ),
    ])
    .iter()
    .map(|r| (r["customer_id"].as_str().unwrap().to_string(), date(&r["m"])))
    .collect()
}

#[test]
fn churn_matches_a_brute_force_count() {
    let series = json(&["--as-of", AS_OF, "churn"]);
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();

    // Independent: for every month of the series, the customers with a paid order in
    // (checkpoint − 180 days, checkpoint], by a plain join of checkpoints and orders.
    let first = date(&series[0]["month"]);
    let active_rows = json(&[
        "sql",
        &format!(
            "with p as (select customer_id, cast(ordered_at as date) as d from orders \
               where status = 'paid' and cast(ordered_at as date) <= date '{AS_OF}'), \
             cp as (select m, case when m = date '{m_as_of}' then date '{AS_OF}' \
               else cast(m + interval '1 month' - interval '1 day' as date) end as e \
               from (select unnest(generate_series(date '{first}', date '{m_as_of}', \
                 interval '1 month')) as m)) \
             select distinct cp.m, p.customer_id from cp join p \
               on p.d <= cp.e and p.d > cp.e - interval '180 days'",
            m_as_of = month_of(as_of),
        ),
    ]);
    let mut active: BTreeMap<NaiveDate, HashSet<String>> = BTreeMap::new();
    for r in &active_rows {
        active
            .entry(date(&r["m"]))
            .or_default()
            .insert(r["customer_id"].as_str().unwrap().to_string());
    }
    let bought = purchase_months();
    let mut first_month: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for (c, m) in &bought {
        let e = first_month.entry(c.as_str()).or_insert(*m);
        *e = (*e).min(*m);
    }
    assert_eq!(
        first,
        *first_month.values().min().unwrap(),
        "the series starts with the first purchase month"
    );

    let empty = HashSet::new();
    let mut month = first;
    for row in &series {
        assert_eq!(
            date(&row["month"]),
            month,
            "one row per month, in order: {row}"
        );
        let start = if month == first {
            &empty
        } else {
            active
                .get(&month.pred_opt().unwrap().with_day(1).unwrap())
                .unwrap_or(&empty)
        };
        let end = active.get(&month).unwrap_or(&empty);
        let buyers: HashSet<&str> = bought
            .iter()
            .filter(|(_, m)| *m == month)
            .map(|(c, _)| c.as_str())
            .collect();
        let new = buyers.iter().filter(|c| first_month[*c] == month).count();
        let reactivated = buyers
            .iter()
            .filter(|c| first_month[*c] < month && !start.contains(**c))
            .count();
        let churned = start.iter().filter(|c| !end.contains(*c)).count();
        assert_eq!(int(&row["active_at_start"]), start.len() as i64, "{row}");
        assert_eq!(int(&row["active_at_end"]), end.len() as i64, "{row}");
        assert_eq!(int(&row["new"]), new as i64, "{row}");
        assert_eq!(int(&row["reactivated"]), reactivated as i64, "{row}");
        assert_eq!(int(&row["churned"]), churned as i64, "{row}");
        // W = 180 ≥ 31: a purchase in the month always reaches its end.
        assert_eq!(int(&row["lapsed"]), 0, "{row}");
        match start.len() {
            0 => assert!(row["churn_rate"].is_null(), "{row}"),
            n => {
                let rate = row["churn_rate"].as_f64().unwrap();
                assert!((rate - churned as f64 / n as f64).abs() < 1e-12, "{row}");
            }
        }
        let period_end = date(&row["period_end"]);
        if month == month_of(as_of) {
            assert_eq!(period_end, as_of);
        } else {
            assert_eq!(period_end, next_month(month).pred_opt().unwrap());
        }
        assert_eq!(date(&row["period_start"]), month.pred_opt().unwrap());
        month = next_month(month);
    }
    assert_eq!(
        month,
        next_month(month_of(as_of)),
        "the series ends with as_of's month"
    );

    // The last checkpoint is as_of: the same customers customer_features calls active.
    let features = json(&[
        "--as-of",
        AS_OF,
        "sql",
        "select count(*) as n from customer_features where is_active",
    ]);
    assert_eq!(
        int(&features[0]["n"]),
        int(&series.last().unwrap()["active_at_end"])
    );
}

#[test]
fn churn_columns_and_month_filter() {
    let rows = json(&["churn", "--from", "2024-03", "--to", "2024-05-20"]);
    let months: Vec<String> = rows
        .iter()
        .map(|r| r["month"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(months, ["2024-03-01", "2024-04-01", "2024-05-01"]);
    let keys: Vec<&str> = keys(&rows[0]);
    let mut expected = [
        "month",
        "period_start",
        "period_end",
        "active_at_start",
        "new",
        "reactivated",
        "churned",
        "lapsed",
        "active_at_end",
        "churn_rate",
    ];
    let mut keys = keys;
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    let table = csv(&["churn", "--from", "2024-03", "--to", "2024-05"]);
    assert_eq!(table[0][0], "month");
    assert_eq!(table.len(), 4, "header and three months");
}

#[test]
fn cohorts_long_table_adds_up() {
    let cells = json(&["--as-of", AS_OF, "cohorts"]);
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    let bought = purchase_months();
    let mut first_month: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for (c, m) in &bought {
        let e = first_month.entry(c.as_str()).or_insert(*m);
        *e = (*e).min(*m);
    }

    // Every cohort has every month from its own through as_of's, and nothing else.
    let mut per_cohort: BTreeMap<NaiveDate, Vec<&Value>> = BTreeMap::new();
    for c in &cells {
        per_cohort.entry(date(&c["cohort"])).or_default().push(c);
    }
    let cohorts: BTreeSet<NaiveDate> = first_month.values().copied().collect();
    assert_eq!(per_cohort.keys().copied().collect::<BTreeSet<_>>(), cohorts);
    let mut size_total = 0;
    for (cohort, rows) in &per_cohort {
        let mut ks: Vec<i64> = rows.iter().map(|r| int(&r["months_since"])).collect();
        ks.sort_unstable();
        let n = months_between(*cohort, month_of(as_of));
        assert_eq!(ks, (0..=n).collect::<Vec<_>>(), "cohort {cohort}");
        let size = first_month.values().filter(|m| *m == cohort).count() as i64;
        size_total += size;
        for r in rows {
            let k = int(&r["months_since"]);
            assert_eq!(int(&r["cohort_size"]), size, "{r}");
            let month = date(&r["month"]);
            assert_eq!(months_between(*cohort, month), k, "{r}");
            // customers: cohort members with a purchase in that month, counted from the raw
            // orders.
            let expected = bought
                .iter()
                .filter(|(c, m)| *m == month && first_month[c.as_str()] == *cohort)
                .count() as i64;
            assert_eq!(int(&r["customers"]), expected, "{r}");
            let retention = r["retention"].as_f64().unwrap();
            assert!(
                (retention - expected as f64 / size as f64).abs() < 1e-12,
                "{r}"
            );
            let retained = int(&r["retained"]);
            assert!((0..=size).contains(&retained), "{r}");
            if k == 0 {
                assert_eq!(expected, size, "{r}");
                assert_eq!(
                    retained, size,
                    "W ≥ 31: every first purchase is active at month end"
                );
                assert_eq!(r["revenue_retention"].as_f64(), Some(1.0), "{r}");
            }
        }
    }
    // The cohorts partition the customers with a purchase.
    let buyers = json(&[
        "sql",
        &format!(
            "select count(distinct customer_id) as n, sum(cast(amount as double)) as revenue \
             from orders where status = 'paid' and cast(ordered_at as date) <= date '{AS_OF}'"
        ),
    ]);
    assert_eq!(size_total, int(&buyers[0]["n"]));
    let revenue: f64 = cells.iter().map(|c| c["revenue"].as_f64().unwrap()).sum();
    let expected = buyers[0]["revenue"].as_f64().unwrap();
    assert!(
        (revenue - expected).abs() < 1e-6 * expected,
        "{revenue} vs {expected}"
    );

    // Retained at as_of's month = customers active at as_of (the churn view's last row).
    let churn = json(&["--as-of", AS_OF, "churn"]);
    let retained_now: i64 = cells
        .iter()
        .filter(|c| date(&c["month"]) == month_of(as_of))
        .map(|c| int(&c["retained"]))
        .sum();
    assert_eq!(retained_now, int(&churn.last().unwrap()["active_at_end"]));
}

#[test]
fn cohorts_metric_selects_the_long_table_columns() {
    let rows = json(&["cohorts", "--metric", "revenue", "--from", "2025-11"]);
    let mut keys: Vec<&str> = keys(&rows[0]);
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "cohort",
            "month",
            "months_since",
            "revenue",
            "revenue_retention"
        ]
    );
    // Cohorts Nov (k 0, 1) and Dec (k 0) of 2025, as_of being the last order date.
    assert_eq!(rows.len(), 3, "{rows:?}");
    let rows = json(&["cohorts", "--metric", "customers", "--to", "2023-01"]);
    assert!(rows[0].get("retained").is_some() && rows[0].get("revenue").is_none());
}

#[test]
fn cohorts_matrix_pivots_the_long_table() {
    let long = json(&["--as-of", AS_OF, "cohorts"]);
    let matrix = csv(&["--as-of", AS_OF, "cohorts", "--matrix"]);
    let header = &matrix[0];
    let cohorts: BTreeSet<&str> = long.iter().map(|c| c["cohort"].as_str().unwrap()).collect();
    let max_k = long.iter().map(|c| int(&c["months_since"])).max().unwrap();
    let mut expected: Vec<String> = vec!["cohort".into(), "cohort_size".into()];
    expected.extend((0..=max_k).map(|k| format!("m{k}")));
    assert_eq!(header, &expected);
    assert_eq!(matrix.len() - 1, cohorts.len());
    for (i, row) in matrix[1..].iter().enumerate() {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[2], "1.0", "month 0 is the whole cohort: {row:?}");
        // A triangle: the later the cohort, the fewer months up to as_of; the rest is empty.
        let filled = row[2..].iter().filter(|v| !v.is_empty()).count();
        assert_eq!(filled as i64, max_k + 1 - i as i64, "{row:?}");
    }
    // A cell of the matrix is the long table's value.
    let cell = long.iter().find(|c| int(&c["months_since"]) == 3).unwrap();
    let row = matrix
        .iter()
        .find(|r| r[0] == cell["cohort"].as_str().unwrap())
        .unwrap();
    let value: f64 = row[2 + 3].parse().unwrap();
    assert!((value - cell["retention"].as_f64().unwrap()).abs() < 1e-12);

    let revenue = json(&[
        "--as-of", AS_OF, "cohorts", "--matrix", "--metric", "revenue",
    ]);
    let counts = json(&["--as-of", AS_OF, "cohorts", "--matrix", "--absolute"]);
    assert_eq!(revenue.len(), cohorts.len());
    for (r, c) in revenue.iter().zip(&counts) {
        assert_eq!(r["m0"].as_f64(), Some(1.0), "{r}");
        assert!(r["cohort_revenue"].as_f64().unwrap() > 0.0, "{r}");
        assert_eq!(c["m0"], c["cohort_size"], "{c}");
    }
    let amounts = json(&[
        "--as-of",
        AS_OF,
        "cohorts",
        "--matrix",
        "--metric",
        "revenue",
        "--absolute",
    ]);
    for a in &amounts {
        assert_eq!(a["m0"], a["cohort_revenue"], "{a}");
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    let tmp = tempdir();
    let dataset = demo();
    let cases: &[&[&str]] = &[
        &["cohorts", "--metric", "margin"],
        &["cohorts", "--absolute"],
        &["cohorts", "--from", "2025-13"],
        &["churn", "--from", "2025-06", "--to", "2025-01"],
    ];
    for args in cases {
        let r = run(crmlens(tmp.path())
            .args(["--dataset", dataset.to_str().unwrap()])
            .args(*args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    let r = run(crmlens(tmp.path())
        .args(["--dataset", dataset.to_str().unwrap()])
        .args(["cohorts", "--metric", "margin"]));
    assert!(
        r.stderr.contains("customers") && r.stderr.contains("revenue"),
        "the message lists the metrics: {}",
        r.stderr
    );
}
