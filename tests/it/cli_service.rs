//! `crmlens service` on the demo dataset: every ticket and answer accounted for against plain
//! counts of the raw tables, the flags, and the errors.

use crate::common::{crmlens, demo, demo_json as json, demo_without, keys, run, tempdir};

fn total(rows: &[serde_json::Value], k: &str) -> i64 {
    rows.iter().map(|r| r[k].as_i64().unwrap()).sum()
}

#[test]
fn tickets_by_kind_and_month_account_for_every_ticket() {
    let as_of = "2025-06-30";
    let rows = json(&["service", "--as-of", as_of]);
    assert_eq!(
        keys(&rows[0]),
        [
            "kind",
            "month",
            "opened",
            "closed",
            "open",
            "median_hours_to_close",
            "p90_hours_to_close",
            "mean_hours_to_close",
            "bad_close_times"
        ]
    );
    let raw = &json(&[
        "sql",
        &format!(
            "select count(*) as n, \
               count(*) filter (where cast(closed_at as date) <= date '{as_of}') as closed \
             from tickets where cast(opened_at as date) <= date '{as_of}'"
        ),
    ])[0];
    assert_eq!(total(&rows, "opened"), raw["n"].as_i64().unwrap());
    assert_eq!(total(&rows, "closed"), raw["closed"].as_i64().unwrap());
    for r in &rows {
        let (med, p90) = (
            r["median_hours_to_close"].as_f64(),
            r["p90_hours_to_close"].as_f64(),
        );
        if let (Some(m), Some(p)) = (med, p90) {
            assert!(0.0 <= m && m <= p, "{r}");
        }
    }
    // Questions are answered faster than wishes (the generator's service times).
    let by_kind = json(&["service", "--as-of", as_of, "--by", "kind"]);
    assert_eq!(by_kind.len(), 3);
    let median = |k: &str| {
        by_kind.iter().find(|r| r["kind"] == k).unwrap()["median_hours_to_close"]
            .as_f64()
            .unwrap()
    };
    assert!(median("question") < median("bug") && median("bug") < median("wish"));
    assert_eq!(total(&by_kind, "opened"), raw["n"].as_i64().unwrap());
    let by_manager = json(&["service", "--as-of", as_of, "--by", "manager,kind"]);
    assert_eq!(keys(&by_manager[0])[..2], ["manager_id", "kind"]);
    assert_eq!(total(&by_manager, "opened"), raw["n"].as_i64().unwrap());
    let spring = json(&[
        "service", "--as-of", as_of, "--from", "2025-03", "--to", "2025-05",
    ]);
    assert!(spring.iter().all(|r| {
        let m = r["month"].as_str().unwrap();
        ("2025-03-01"..="2025-05-01").contains(&m)
    }));
}

#[test]
fn surveys_distribution_and_summary() {
    let rows = json(&["service", "--surveys"]);
    let labels: Vec<&str> = rows.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        ["Excellent", "Very good", "Good", "Acceptable", "Weak"]
    );
    let raw = &json(&[
        "sql",
        "select count(*) as n, count(customer_id) as named, avg(cast(score as double)) as mean \
         from surveys",
    ])[0];
    assert_eq!(total(&rows, "answers"), raw["n"].as_i64().unwrap());
    assert_eq!(total(&rows, "named"), raw["named"].as_i64().unwrap());
    let summary = json(&["service", "--surveys", "--summary"]);
    assert_eq!(summary.len(), 1);
    let s = &summary[0];
    assert_eq!(s["answers"], raw["n"]);
    assert!((s["mean_score"].as_f64().unwrap() - raw["mean"].as_f64().unwrap()).abs() < 1e-12);
    assert!(s["anonymous"].as_i64().unwrap() > 0);
}

#[test]
fn service_errors() {
    let tmp = tempdir();
    let dataset = demo();
    let d = dataset.to_str().unwrap();
    for (args, needle) in [
        (vec!["service", "--by", "colour"], "colour"),
        (vec!["service", "--by", "kind,kind"], "twice"),
        (vec!["service", "--summary"], "--surveys"),
        (
            vec!["service", "--from", "2025-05", "--to", "2025-01"],
            "after",
        ),
    ] {
        let r = run(crmlens(tmp.path()).args(["--dataset", d]).args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    let partial = demo_without(&["surveys"]);
    let r = run(crmlens(tmp.path()).args([
        "--dataset",
        partial.path().to_str().unwrap(),
        "service",
        "--surveys",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("surveys"), "{}", r.stderr);
}
