//! `crmlens campaigns` and `crmlens sources` on the demo dataset: shapes, flags, errors, and
//! the figures checked against independent computations: one campaign recomputed in Rust
//! from the raw `campaign_members`, `campaigns` and `orders` rows, the uplift interval against
//! statsmodels, and the source totals against plain counts of the raw tables.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::common::{crmlens, demo, demo_json as json, demo_without, keys, run, tempdir};

const AS_OF: &str = "2025-12-31";

fn ts(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn campaign(rows: &[Value], id: &str) -> Value {
    rows.iter()
        .find(|r| r["campaign_id"] == id)
        .unwrap_or_else(|| panic!("no campaign {id}"))
        .clone()
}

#[test]
fn campaigns_shape_and_member_accounting() {
    let rows = json(&["campaigns", "--as-of", AS_OF]);
    assert_eq!(
        keys(&rows[0]),
        [
            "campaign_id",
            "name",
            "channel",
            "started_at",
            "start_date",
            "ended_at",
            "cost",
            "members",
            "control_members",
            "members_pending",
            "responded",
            "response_rate",
            "conversions",
            "conversion_rate",
            "control_conversions",
            "control_conversion_rate",
            "uplift",
            "uplift_ci_low",
            "uplift_ci_high",
            "revenue",
            "revenue_per_member",
            "control_revenue_per_member",
            "incremental_revenue",
            "roi",
            "has_control",
            "deals",
            "won_deals",
            "won_amount",
            "window_complete"
        ]
    );
    // Every campaign of the table, every member row accounted for.
    let raw = json(&[
        "sql",
        "select campaign_id, count(*) as n from campaign_members group by campaign_id",
    ]);
    let campaigns = json(&["sql", "select count(*) as n from campaigns"]);
    assert_eq!(rows.len() as i64, campaigns[0]["n"].as_i64().unwrap());
    for r in &raw {
        let c = campaign(&rows, r["campaign_id"].as_str().unwrap());
        let counted = c["members"].as_i64().unwrap()
            + c["control_members"].as_i64().unwrap()
            + c["members_pending"].as_i64().unwrap();
        assert_eq!(counted, r["n"].as_i64().unwrap(), "{c}");
    }
    for c in &rows {
        for k in [
            "response_rate",
            "conversion_rate",
            "control_conversion_rate",
        ] {
            if let Some(p) = c[k].as_f64() {
                assert!((0.0..=1.0).contains(&p), "{k} {c}");
            }
        }
        if let Some(u) = c["uplift"].as_f64() {
            let (lo, hi) = (num(&c["uplift_ci_low"]), num(&c["uplift_ci_high"]));
            assert!(-1.0 <= lo && lo <= u && u <= hi && hi <= 1.0, "{c}");
        } else {
            assert!(
                c["roi"].is_null() && c["incremental_revenue"].is_null(),
                "{c}"
            );
        }
    }
    // The generator gives campaigns a real effect: pooled over all campaigns, the treatment
    // group converts more than the holdout.
    let (mut ct, mut nt, mut cc, mut nc) = (0, 0, 0, 0);
    for c in &rows {
        ct += c["conversions"].as_i64().unwrap();
        nt += c["members"].as_i64().unwrap();
        cc += c["control_conversions"].as_i64().unwrap();
        nc += c["control_members"].as_i64().unwrap();
    }
    assert!(ct as f64 / nt as f64 > cc as f64 / nc as f64 + 0.02);
}

/// Campaign K030 recomputed from the raw rows: members, conversions (converted_at or a paid
/// order in [reference, reference + 30 days]), revenue in the window, response.
#[test]
fn one_campaign_recomputed_from_raw_rows() {
    let id = "K030";
    let start = ts(&json(&[
        "sql",
        &format!("select started_at from campaigns where campaign_id = '{id}'"),
    ])[0]["started_at"])
    .unwrap();
    let members = json(&[
        "sql",
        &format!("select * from campaign_members where campaign_id = '{id}'"),
    ]);
    let orders = json(&[
        "sql",
        "select customer_id, ordered_at, cast(amount as double) as amount from orders \
         where status = 'paid'",
    ]);
    let mut by_customer: HashMap<&str, Vec<(DateTime<Utc>, f64)>> = HashMap::new();
    for o in &orders {
        by_customer
            .entry(o["customer_id"].as_str().unwrap())
            .or_default()
            .push((ts(&o["ordered_at"]).unwrap(), num(&o["amount"])));
    }
    let (mut n, mut conv, mut resp, mut rev) = ([0; 2], [0; 2], 0, [0.0; 2]);
    for m in &members {
        let control = m["is_control"].as_bool().unwrap();
        let g = usize::from(control);
        let reference = ts(&m["sent_at"]).unwrap_or(start);
        let end = reference + Duration::days(30);
        n[g] += 1;
        let in_window = |t: DateTime<Utc>| t >= reference && t <= end;
        let bought: Vec<f64> = by_customer
            .get(m["customer_id"].as_str().unwrap())
            .map(|v| {
                v.iter()
                    .filter(|(t, _)| in_window(*t))
                    .map(|(_, a)| *a)
                    .collect()
            })
            .unwrap_or_default();
        if ts(&m["converted_at"]).is_some_and(in_window) || !bought.is_empty() {
            conv[g] += 1;
        }
        rev[g] += bought.iter().sum::<f64>();
        if !control && m["responded_at"].is_string() {
            resp += 1;
        }
    }
    let c = campaign(&json(&["campaigns", "--as-of", AS_OF]), id);
    assert_eq!(c["members"], n[0]);
    assert_eq!(c["control_members"], n[1]);
    assert_eq!(c["conversions"], conv[0]);
    assert_eq!(c["control_conversions"], conv[1]);
    assert_eq!(c["responded"], resp);
    assert!((num(&c["revenue"]) - rev[0]).abs() < 1e-6, "{c}");
    let incremental = (rev[0] / n[0] as f64 - rev[1] / n[1] as f64) * n[0] as f64;
    assert!((num(&c["incremental_revenue"]) - incremental).abs() < 1e-6);
    let cost = num(&c["cost"]);
    assert!((num(&c["roi"]) - (incremental - cost) / cost).abs() < 1e-9);
    // statsmodels 0.14: confint_proportions_2indep(21, 191, 4, 51, method="newcomb",
    // compare="diff") = (-0.0812603015473526, 0.10216064791511942).
    assert_eq!((conv[0], n[0], conv[1], n[1]), (21, 191, 4, 51));
    assert!((num(&c["uplift_ci_low"]) - -0.0812603015473526).abs() < 1e-12);
    assert!((num(&c["uplift_ci_high"]) - 0.10216064791511942).abs() < 1e-12);
}

#[test]
fn campaign_flags() {
    let all = json(&["campaigns", "--as-of", AS_OF]);
    let email = json(&["campaigns", "--as-of", AS_OF, "--channel", "email"]);
    assert!(!email.is_empty() && email.len() < all.len());
    assert!(email.iter().all(|c| c["channel"] == "email"));
    let one = json(&["campaigns", "--as-of", AS_OF, "--campaign", "K030"]);
    assert_eq!(one.len(), 1);
    let late = json(&["campaigns", "--as-of", AS_OF, "--from", "2025-06-01"]);
    assert!(
        late.iter()
            .all(|c| c["start_date"].as_str().unwrap() >= "2025-06-01")
    );
    // A shorter window can only lose conversions and revenue; the margin scales ROI.
    let short = json(&["campaigns", "--as-of", AS_OF, "--attribution-days", "7"]);
    let half = json(&["campaigns", "--as-of", AS_OF, "--margin", "0.5"]);
    let mut fewer = 0;
    for c in &all {
        let id = c["campaign_id"].as_str().unwrap();
        let s = campaign(&short, id);
        assert!(s["conversions"].as_i64() <= c["conversions"].as_i64());
        assert!(num(&s["revenue"]) <= num(&c["revenue"]) + 1e-9);
        fewer += i64::from(s["conversions"].as_i64() < c["conversions"].as_i64());
        if let (Some(roi), Some(inc)) = (c["roi"].as_f64(), c["incremental_revenue"].as_f64()) {
            let cost = num(&c["cost"]);
            let h = num(&campaign(&half, id)["roi"]);
            assert!((h - (inc * 0.5 - cost) / cost).abs() < 1e-9, "{roi} {h}");
        }
    }
    assert!(fewer > 0);
}

#[test]
fn campaign_errors() {
    let tmp = tempdir();
    let dataset = demo();
    let d = dataset.to_str().unwrap();
    for (args, code, needle) in [
        (vec!["campaigns", "--margin", "2"], 2, "--margin"),
        (vec!["campaigns", "--campaign", "K999"], 2, "K999"),
        (
            vec!["campaigns", "--from", "2025-02-01", "--to", "2025-01-01"],
            2,
            "after",
        ),
        (vec!["campaigns", "--attribution-days", "0"], 2, "0"),
    ] {
        let r = run(crmlens(tmp.path()).args(["--dataset", d]).args(&args));
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    let partial = demo_without(&["campaign_members"]);
    let r =
        run(crmlens(tmp.path()).args(["--dataset", partial.path().to_str().unwrap(), "campaigns"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("campaign_members"), "{}", r.stderr);
}

#[test]
fn sources_add_up_to_the_raw_tables() {
    let rows = json(&["sources", "--as-of", AS_OF]);
    assert_eq!(
        keys(&rows[0]),
        [
            "source",
            "leads",
            "leads_with_deal",
            "buyers",
            "customer_revenue",
            "deals",
            "won",
            "lost",
            "open",
            "won_amount",
            "lead_to_deal",
            "lead_to_buyer",
            "win_rate",
            "win_rate_closed"
        ]
    );
    let sum = |k: &str| rows.iter().map(|r| r[k].as_i64().unwrap()).sum::<i64>();
    let raw = &json(&[
        "sql",
        &format!(
            "select (select count(*) from customers where cast(created_at as date) <= date '{AS_OF}') as leads, \
               (select count(*) from deals where cast(created_at as date) <= date '{AS_OF}') as deals, \
               (select count(*) from deals where cast(created_at as date) <= date '{AS_OF}' \
                  and status = 'won' and cast(closed_at as date) <= date '{AS_OF}') as won"
        ),
    ])[0];
    assert_eq!(sum("leads"), raw["leads"].as_i64().unwrap());
    assert_eq!(sum("deals"), raw["deals"].as_i64().unwrap());
    assert_eq!(sum("won"), raw["won"].as_i64().unwrap());
    for r in &rows {
        assert_eq!(
            r["deals"].as_i64().unwrap(),
            r["won"].as_i64().unwrap() + r["lost"].as_i64().unwrap() + r["open"].as_i64().unwrap()
        );
        assert!(r["leads_with_deal"].as_i64() <= r["leads"].as_i64());
        assert!(r["buyers"].as_i64() <= r["leads"].as_i64());
    }
}
