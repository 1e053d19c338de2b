//! `crmlens churn` and `crmlens cohorts` on the demo dataset: output shapes (JSON, CSV, the
//! matrix), usage errors, and the figures checked against independent computations: a
//! brute-force customer × checkpoint join done with `crmlens sql` over the raw `orders`
//! table, and set arithmetic in Rust.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use crate::common::{crmlens, demo, demo_json as json, hand_made, keys, run, tempdir};

/// A mid-month as_of, so that the last month is a partial one.
const AS_OF: &str = "2025-06-15";

/// The counts of a churn row, in the view's order.
const COUNTS: [&str; 6] = [
    "active_at_start",
    "new",
    "reactivated",
    "churned",
    "lapsed",
    "active_at_end",
];

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

/// Churn figures computed without the views: the customers active at every checkpoint from
/// `first` through AS_OF's month (a paid order in (checkpoint − 180 days, checkpoint], by a
/// plain join of checkpoints and orders), and the months each customer purchased in.
struct BruteForce {
    active: BTreeMap<NaiveDate, HashSet<String>>,
    bought: BTreeSet<(String, NaiveDate)>,
    first_month: BTreeMap<String, NaiveDate>,
}

impl BruteForce {
    fn new(first: NaiveDate) -> BruteForce {
        let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
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
        let mut first_month: BTreeMap<String, NaiveDate> = BTreeMap::new();
        for (c, m) in &bought {
            let e = first_month.entry(c.clone()).or_insert(*m);
            *e = (*e).min(*m);
        }
        BruteForce {
            active,
            bought,
            first_month,
        }
    }

    /// active_at_start, active_at_end, new, reactivated and churned in `month`, counting the
    /// customers `include` admits.
    fn counts(&self, month: NaiveDate, include: impl Fn(&str) -> bool) -> [i64; 5] {
        let empty = HashSet::new();
        let at = |m: NaiveDate| -> HashSet<&str> {
            self.active
                .get(&m)
                .unwrap_or(&empty)
                .iter()
                .map(String::as_str)
                .filter(|c| include(c))
                .collect()
        };
        let start = at(month.pred_opt().unwrap().with_day(1).unwrap());
        let end = at(month);
        let buyers: HashSet<&str> = self
            .bought
            .iter()
            .filter(|(c, m)| *m == month && include(c))
            .map(|(c, _)| c.as_str())
            .collect();
        let new = buyers
            .iter()
            .filter(|c| self.first_month[**c] == month)
            .count();
        let reactivated = buyers
            .iter()
            .filter(|c| self.first_month[**c] < month && !start.contains(**c))
            .count();
        let churned = start.iter().filter(|c| !end.contains(*c)).count();
        [start.len(), end.len(), new, reactivated, churned].map(|n| n as i64)
    }
}

/// A churn row's active_at_start, active_at_end, new, reactivated and churned.
fn churn_counts(row: &Value) -> [i64; 5] {
    [
        "active_at_start",
        "active_at_end",
        "new",
        "reactivated",
        "churned",
    ]
    .map(|k| int(&row[k]))
}

#[test]
fn churn_matches_a_brute_force_count() {
    let series = json(&["--as-of", AS_OF, "churn"]);
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    let first = date(&series[0]["month"]);
    let brute = BruteForce::new(first);
    assert_eq!(
        first,
        *brute.first_month.values().min().unwrap(),
        "the series starts with the first purchase month"
    );

    let mut month = first;
    for row in &series {
        assert_eq!(
            date(&row["month"]),
            month,
            "one row per month, in order: {row}"
        );
        let counts = brute.counts(month, |_| true);
        assert_eq!(churn_counts(row), counts, "{row}");
        // W = 180 ≥ 31: a purchase in the month always reaches its end.
        assert_eq!(int(&row["lapsed"]), 0, "{row}");
        let [start, _, _, _, churned] = counts;
        match start {
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
    let mut expected: Vec<&str> = ["month", "period_start", "period_end"]
        .into_iter()
        .chain(COUNTS)
        .chain(["churn_rate"])
        .collect();
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

/// `crmlens ARGS --format csv` on the hand-made dataset of tests/slt/retention.slt, as_of
/// 2024-04-15, churn window 30 days.
fn hand_made_csv(args: &[&str]) -> String {
    let (tmp, dataset) = hand_made("retention", false, "[churn]\ninactive_days = 30\n");
    let r = run(crmlens(tmp.path())
        .args(args)
        .args(["--as-of", "2024-04-15", "--format", "csv", "--dataset"])
        .arg(&dataset));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

#[test]
fn churn_by_country_on_hand_computed_data() {
    // JP: C4 (bought Dec 31, inactive from Jan 30), C6 (Apr 15); DE: the other purchasers.
    // The active sets per checkpoint are listed in tests/slt/retention.slt; split by hand in
    // tests/slt/retention_by.slt.
    assert_eq!(
        hand_made_csv(&["churn", "--by", "country"]),
        "month,value,period_start,period_end,active_at_start,new,reactivated,churned,lapsed,\
         active_at_end,churn_rate\n\
         2023-12-01,DE,2023-11-30,2023-12-31,0,3,0,0,0,3,\n\
         2023-12-01,JP,2023-11-30,2023-12-31,0,1,0,0,0,1,\n\
         2024-01-01,DE,2023-12-31,2024-01-31,3,2,0,1,1,3,0.3333333333333333\n\
         2024-01-01,JP,2023-12-31,2024-01-31,1,0,0,1,0,0,1.0\n\
         2024-02-01,DE,2024-01-31,2024-02-29,3,2,0,2,0,3,0.6666666666666666\n\
         2024-02-01,JP,2024-01-31,2024-02-29,0,0,0,0,0,0,\n\
         2024-03-01,DE,2024-02-29,2024-03-31,3,0,2,1,1,3,0.3333333333333333\n\
         2024-03-01,JP,2024-02-29,2024-03-31,0,0,0,0,0,0,\n\
         2024-04-01,DE,2024-03-31,2024-04-15,3,0,0,1,0,2,0.3333333333333333\n\
         2024-04-01,JP,2024-03-31,2024-04-15,0,1,0,0,0,1,\n"
    );
}

#[test]
fn cohort_matrix_by_channel_on_hand_computed_data() {
    // First-purchase channel: store for C2 and C9, web for the others. Customers buying in
    // each month since the first purchase (tests/slt/retention_by.slt): Dec/store C2 buys
    // Dec, Jan; Dec/web C1 (every month), C4 (Dec), C11 (Dec, Mar); Jan/web C3 (Jan, Mar),
    // C12 (Jan); Feb/store C9 (Feb); Feb/web C10 (Feb, Mar); Apr/web C6.
    assert_eq!(
        hand_made_csv(&["cohorts", "--by", "channel", "--matrix", "--absolute"]),
        "cohort,value,cohort_size,m0,m1,m2,m3,m4\n\
         2023-12-01,store,1,1,1,0,0,0\n\
         2023-12-01,web,3,3,1,1,2,1\n\
         2024-01-01,web,2,2,0,1,0,\n\
         2024-02-01,store,1,1,0,0,,\n\
         2024-02-01,web,1,1,1,0,,\n\
         2024-04-01,web,1,1,,,,\n"
    );
}

/// Each purchaser's value of `dim` (region or channel), from the raw tables: the customers
/// column, or the channel of the first paid order (earliest ordered_at, then smallest
/// order_id); `(none)` when missing or blank.
fn raw_values(dim: &str) -> BTreeMap<String, String> {
    let sql = match dim {
        "region" => "select customer_id, region as v from customers".to_string(),
        _ => format!(
            "select customer_id, channel as v from orders where status = 'paid' \
             and cast(ordered_at as date) <= date '{AS_OF}' \
             order by customer_id, ordered_at, order_id"
        ),
    };
    let mut values = BTreeMap::new();
    for r in json(&["sql", &sql]) {
        let v = r["v"].as_str().map(str::trim).filter(|v| !v.is_empty());
        values
            .entry(r["customer_id"].as_str().unwrap().to_string())
            .or_insert_with(|| v.unwrap_or("(none)").to_string());
    }
    values
}

#[test]
fn churn_by_region_and_channel_match_a_brute_force_count() {
    let as_of = NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap();
    let whole = json(&["--as-of", AS_OF, "churn"]);
    let brute = BruteForce::new(date(&whole[0]["month"]));
    for dim in ["region", "channel"] {
        let values = raw_values(dim);
        let value_of = |c: &str| values.get(c).map_or("(none)", String::as_str);
        let rows = json(&["--as-of", AS_OF, "churn", "--by", dim]);
        let mut series: BTreeMap<&str, Vec<NaiveDate>> = BTreeMap::new();
        for row in &rows {
            let value = row["value"].as_str().unwrap();
            let month = date(&row["month"]);
            series.entry(value).or_default().push(month);
            let counts = brute.counts(month, |c| value_of(c) == value);
            assert_eq!(churn_counts(row), counts, "{dim} {row}");
        }
        // One series per value of a purchaser, each month from the value's first purchase
        // month through as_of's.
        let mut expected: BTreeMap<&str, NaiveDate> = BTreeMap::new();
        for (c, m) in &brute.first_month {
            let first = expected.entry(value_of(c)).or_insert(*m);
            *first = (*first).min(*m);
        }
        assert_eq!(
            series.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{dim}"
        );
        for (value, months) in &series {
            let n = months_between(expected[value], month_of(as_of)) + 1;
            assert_eq!(months.len() as i64, n, "{dim} {value}");
            assert_eq!(months[0], expected[value], "{dim} {value}");
        }
    }
}

#[test]
fn every_split_adds_up_to_the_whole() {
    let churn = json(&["--as-of", AS_OF, "churn"]);
    let cohorts = json(&["--as-of", AS_OF, "cohorts"]);
    let cell = |r: &Value| (date(&r["cohort"]), int(&r["months_since"]));
    for dim in ["segment", "source", "region", "channel", "kind", "country"] {
        let split = json(&["--as-of", AS_OF, "churn", "--by", dim]);
        for w in &churn {
            let rows: Vec<&Value> = split.iter().filter(|r| r["month"] == w["month"]).collect();
            for k in COUNTS {
                let sum: i64 = rows.iter().map(|r| int(&r[k])).sum();
                assert_eq!(sum, int(&w[k]), "{dim} {k} {}", w["month"]);
            }
        }
        let split = json(&["--as-of", AS_OF, "cohorts", "--by", dim]);
        for w in &cohorts {
            let rows: Vec<&Value> = split.iter().filter(|r| cell(r) == cell(w)).collect();
            for k in ["cohort_size", "customers", "retained"] {
                let sum: i64 = rows.iter().map(|r| int(&r[k])).sum();
                assert_eq!(sum, int(&w[k]), "{dim} {k} {w}");
            }
            let revenue: f64 = rows.iter().map(|r| r["revenue"].as_f64().unwrap()).sum();
            let total = w["revenue"].as_f64().unwrap();
            assert!(
                (revenue - total).abs() <= 1e-9 * total.max(1.0),
                "{dim} {w}"
            );
        }
    }
}

#[test]
fn unknown_dimension_is_a_usage_error() {
    let tmp = tempdir();
    for command in ["churn", "cohorts"] {
        run(crmlens(tmp.path()).args([command, "--by", "colour"])).assert_error(
            2,
            "possible values: region, country, kind, source, channel, segment",
        );
    }
}
