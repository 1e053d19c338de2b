//! `crmlens sales …` on the demo dataset: every lost deal, paid order, activity and customer
//! accounted for against plain counts of the raw tables, the lead-SLA list against the KPI
//! table, scope, and the usage errors. (The figures themselves are checked on hand-computed
//! data in tests/slt/diagnostics.slt.)

use crate::common::{crmlens, demo, demo_json as json, keys, run, tempdir};

const AS_OF: &str = "2025-12-31";

fn total(rows: &[serde_json::Value], k: &str) -> i64 {
    rows.iter().map(|r| r[k].as_i64().unwrap()).sum()
}

fn total_f(rows: &[serde_json::Value], k: &str) -> f64 {
    rows.iter().map(|r| r[k].as_f64().unwrap_or(0.0)).sum()
}

/// One row of a raw-table count.
fn raw(sql: &str) -> serde_json::Value {
    json(&["sql", "--as-of", AS_OF, sql])[0].clone()
}

#[test]
fn lost_reasons_account_for_every_lost_deal() {
    let rows = json(&["sales", "lost-reasons", "--as-of", AS_OF]);
    assert_eq!(
        keys(&rows[0]),
        [
            "stage_order",
            "stage",
            "lost_reason",
            "lost_deals",
            "lost_amount",
            "share"
        ]
    );
    // The demo's deals all closed by its last day (UTC dataset).
    let lost = raw(&format!(
        "select count(*) as n, sum(amount) as amount from deals \
         where status = 'lost' and cast(closed_at as date) <= date '{AS_OF}'"
    ));
    assert_eq!(total(&rows, "lost_deals"), lost["n"].as_i64().unwrap());
    let amount = lost["amount"].as_f64().unwrap();
    assert!((total_f(&rows, "lost_amount") - amount).abs() < 1e-6 * amount);
    // Shares add up to 1 within each stage.
    let mut stages: Vec<i64> = rows
        .iter()
        .map(|r| r["stage_order"].as_i64().unwrap())
        .collect();
    stages.dedup();
    for s in stages {
        let share: f64 = rows
            .iter()
            .filter(|r| r["stage_order"].as_i64() == Some(s))
            .map(|r| r["share"].as_f64().unwrap())
            .sum();
        assert!((share - 1.0).abs() < 1e-9, "stage {s}: {share}");
    }
    let by_reason = json(&["sales", "lost-reasons", "--as-of", AS_OF, "--by", "reason"]);
    let reasons = raw(&format!(
        "select count(distinct coalesce(lost_reason, '(none)')) as n from deals \
         where status = 'lost' and cast(closed_at as date) <= date '{AS_OF}'"
    ));
    assert_eq!(by_reason.len() as i64, reasons["n"].as_i64().unwrap());
    let counts: Vec<i64> = by_reason
        .iter()
        .map(|r| r["lost_deals"].as_i64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
}

#[test]
fn channels_account_for_every_paid_order() {
    let rows = json(&["sales", "channels", "--as-of", AS_OF, "--by", "channel"]);
    let paid =
        raw("select count(*) as n, sum(amount) as revenue from orders where status = 'paid'");
    assert_eq!(total(&rows, "orders"), paid["n"].as_i64().unwrap());
    let revenue = paid["revenue"].as_f64().unwrap();
    assert!((total_f(&rows, "revenue") - revenue).abs() < 1e-6 * revenue);
    assert!((total_f(&rows, "revenue_share") - 1.0).abs() < 1e-9);
    let by_month = json(&[
        "sales", "channels", "--as-of", AS_OF, "--from", "2025-01", "--to", "2025-03",
    ]);
    assert_eq!(keys(&by_month[0])[..2], ["month", "channel"]);
    let q1 = raw("select count(*) as n from orders where status = 'paid' \
         and ordered_at >= timestamp '2025-01-01' and ordered_at < timestamp '2025-04-01'");
    assert_eq!(total(&by_month, "orders"), q1["n"].as_i64().unwrap());
}

#[test]
fn durations_count_every_activity_of_the_period() {
    let rows = json(&[
        "sales",
        "durations",
        "--as-of",
        AS_OF,
        "--kind",
        "all",
        "--from",
        "2025-10-01",
        "--to",
        "2025-12-31",
    ]);
    let acts = raw(
        "select count(*) as n, count(*) filter (where kind = 'call') as calls, \
           sum(duration_s) filter (where kind = 'call') as call_seconds from activities \
         where occurred_at >= timestamp '2025-10-01' and occurred_at < timestamp '2026-01-01'",
    );
    assert_eq!(total(&rows, "activities"), acts["n"].as_i64().unwrap());
    let calls: Vec<&serde_json::Value> = rows.iter().filter(|r| r["kind"] == "call").collect();
    let seconds: f64 = calls
        .iter()
        .map(|r| r["total_duration_s"].as_f64().unwrap())
        .sum();
    assert_eq!(seconds, acts["call_seconds"].as_f64().unwrap());
    for r in &calls {
        let (m, p) = (
            r["median_duration_s"].as_f64(),
            r["p90_duration_s"].as_f64(),
        );
        assert!(m.unwrap() <= p.unwrap(), "{r}");
    }
    // The default is calls only.
    let default = json(&["sales", "durations", "--as-of", AS_OF]);
    assert!(default.iter().all(|r| r["kind"] == "call"));
}

#[test]
fn lead_sla_misses_are_the_kpi_misses() {
    let period = ["--from", "2025-10-01", "--to", "2025-12-31"];
    let misses = json(&[&["sales", "lead-sla", "--as-of", AS_OF][..], &period].concat());
    let kpis = json(&[&["managers", "--as-of", AS_OF][..], &period].concat());
    for k in &kpis {
        let id = k["manager_id"].as_str().unwrap();
        let expected =
            k["deals_created"].as_i64().unwrap() - k["responded_within_sla"].as_i64().unwrap();
        let listed = misses.iter().filter(|m| m["manager_id"] == id).count() as i64;
        assert_eq!(listed, expected, "{id}");
    }
    for m in &misses {
        match m["status"].as_str().unwrap() {
            "late" => assert!(m["minutes_late"].as_f64().unwrap() > 0.0, "{m}"),
            "unanswered" => assert!(m["first_contact_at"].is_null(), "{m}"),
            other => panic!("status {other}"),
        }
    }
    let one = json(
        &[
            &["sales", "lead-sla", "--as-of", AS_OF, "--manager", "M001"][..],
            &period,
        ]
        .concat(),
    );
    assert!(!one.is_empty() && one.iter().all(|m| m["manager_id"] == "M001"));
}

#[test]
fn departed_managers_and_their_customers() {
    let rows = json(&["sales", "departed"]);
    let owned = raw(
        "select count(*) as n, count(distinct m.manager_id) as managers from customers c \
         join managers m on m.manager_id = c.owner_manager_id where not m.active",
    );
    assert_eq!(rows.len() as i64, owned["managers"].as_i64().unwrap());
    assert_eq!(total(&rows, "customers"), owned["n"].as_i64().unwrap());
    assert!(rows.iter().all(|r| r["status"] == "inactive"));
    let customers = json(&["sales", "departed", "--customers"]);
    assert_eq!(customers.len() as i64, owned["n"].as_i64().unwrap());
    let active = customers.iter().filter(|c| c["is_active"] == true).count() as i64;
    assert_eq!(active, total(&rows, "active_customers"));
}

#[test]
fn scoped_departed_sees_only_its_own_customers() {
    let tmp = tempdir();
    let dataset = demo();
    let scoped = |scope: &str| {
        let r = run(crmlens(tmp.path()).args([
            "sales",
            "departed",
            "--customers",
            "--format",
            "json",
            "--dataset",
            dataset.to_str().unwrap(),
            "--scope",
            scope,
        ]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str::<Vec<serde_json::Value>>(&r.stdout).unwrap()
    };
    // M006 left: its scope sees its own customers; M001's scope sees none of anyone's.
    let own = scoped("manager=M006");
    let n = raw("select count(*) as n from customers where owner_manager_id = 'M006'");
    assert_eq!(own.len() as i64, n["n"].as_i64().unwrap());
    assert!(own.iter().all(|c| c["owner_manager_id"] == "M006"));
    assert!(scoped("manager=M001").is_empty());
}

#[test]
fn usage_errors_name_the_flag() {
    let tmp = tempdir();
    let dataset = demo();
    let d = dataset.to_str().unwrap();
    let err = |args: &[&str], message: &str| {
        run(crmlens(tmp.path()).args(["--dataset", d]).args(args)).assert_error(2, message)
    };
    err(
        &["sales", "lost-reasons", "--by", "reason,colour"],
        "--by \"colour\": expected a comma-separated list of reason, stage, manager, month",
    );
    err(
        &["sales", "channels", "--by", "channel,channel"],
        "--by: channel is given twice",
    );
    err(
        &[
            "sales",
            "durations",
            "--from",
            "2025-03-01",
            "--to",
            "2025-02-01",
        ],
        "--from 2025-03-01 is after --to 2025-02-01",
    );
    err(
        &["sales", "lead-sla", "--to", "2026-02-01"],
        "--to 2026-02-01 is after as_of 2025-12-31",
    );
    err(
        &["sales", "channels", "--from", "2025-13"],
        "is not a month",
    );
}
