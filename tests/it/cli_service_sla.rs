//! `crmlens service --sla | --breaches | --surveys --trend` on the demo dataset: every ticket
//! and answer accounted for against plain counts of the raw tables, the `[service.sla]`
//! configuration, and its errors. (The figures are checked on hand-computed data in
//! tests/slt/sla.slt.)

use crate::common::{crmlens, demo, demo_json as json, keys, run, tempdir};

const AS_OF: &str = "2025-12-31";

fn total(rows: &[serde_json::Value], k: &str) -> i64 {
    rows.iter().map(|r| r[k].as_i64().unwrap()).sum()
}

/// `crmlens ARGS` on the demo with a crmlens.toml, as JSON rows.
fn with_config(toml: &str, args: &[&str]) -> Vec<serde_json::Value> {
    let tmp = tempdir();
    std::fs::write(tmp.path().join("crmlens.toml"), toml).unwrap();
    let r = run(crmlens(tmp.path())
        .args(["--dataset", demo().to_str().unwrap(), "--format", "json"])
        .args(args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn sla_accounts_for_every_ticket() {
    let rows = json(&["service", "--sla", "--as-of", AS_OF, "--by", "kind"]);
    assert_eq!(keys(&rows[0])[..3], ["kind", "tickets", "response_met"]);
    let raw = &json(&[
        "sql",
        "--as-of",
        AS_OF,
        "select count(*) as n from tickets where cast(opened_at as date) <= date '2025-12-31'",
    ])[0];
    assert_eq!(total(&rows, "tickets"), raw["n"].as_i64().unwrap());
    for r in &rows {
        for clock in ["response", "resolution"] {
            let parts: i64 = ["met", "breached", "pending", "unknown"]
                .iter()
                .map(|s| r[format!("{clock}_{s}")].as_i64().unwrap())
                .sum();
            assert_eq!(parts, r["tickets"].as_i64().unwrap(), "{r}");
        }
        // The demo's tickets have no first_response_at: no first response can be judged.
        assert_eq!(r["response_unknown"], r["tickets"], "{r}");
    }
    let breaches = json(&["service", "--breaches", "--as-of", AS_OF]);
    assert_eq!(breaches.len() as i64, total(&rows, "resolution_breached"));
    assert!(
        breaches
            .iter()
            .all(|b| b["resolution_hours_late"].as_f64().unwrap() > 0.0)
    );
}

#[test]
fn configured_resolution_time_is_what_is_met() {
    let rows = with_config(
        "[service.sla]\nresolution = \"1h\"\n",
        &["service", "--sla", "--as-of", AS_OF, "--by", "kind"],
    );
    let raw = &json(&[
        "sql",
        "--as-of",
        AS_OF,
        "select count(*) as n from tickets where closed_at >= opened_at \
         and closed_at <= opened_at + interval '1 hour' \
         and cast(closed_at as date) <= date '2025-12-31'",
    ])[0];
    assert_eq!(total(&rows, "resolution_met"), raw["n"].as_i64().unwrap());
}

#[test]
fn survey_trend_accounts_for_every_answer() {
    let rows = json(&["service", "--surveys", "--trend", "--as-of", AS_OF]);
    let summary = &json(&["service", "--surveys", "--summary", "--as-of", AS_OF])[0];
    assert_eq!(
        total(&rows, "answers"),
        summary["answers"].as_i64().unwrap()
    );
    assert_eq!(
        total(&rows, "out_of_scale"),
        summary["out_of_scale"].as_i64().unwrap()
    );
    let anonymous: i64 = rows
        .iter()
        .filter(|r| r["ticket_kind"] == "(anonymous)")
        .map(|r| r["answers"].as_i64().unwrap())
        .sum();
    assert_eq!(anonymous, summary["anonymous"].as_i64().unwrap());
}

#[test]
fn bad_sla_configuration_is_a_usage_error() {
    let tmp = tempdir();
    std::fs::write(
        tmp.path().join("crmlens.toml"),
        "[service.sla]\nfirst_response = \"soon\"\n",
    )
    .unwrap();
    run(crmlens(tmp.path()).args(["service", "--sla", "--dataset", demo().to_str().unwrap()]))
        .assert_error(2, "service.sla.first_response");
    run(crmlens(tmp.path()).args(["service", "--sla", "--surveys"]))
        .assert_error(2, "cannot be used with");
}
