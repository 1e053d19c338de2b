//! `crmlens arpu`: the split by region on the hand-made dataset of tests/slt/arpu.slt
//! (expectations worked out by hand), and on the demo every split adds up to the whole and
//! the active base equals churn's.

use crate::common::{crmlens, demo_json as json, hand_made, run, tempdir};

#[test]
fn by_region_on_hand_computed_data() {
    let (tmp, dataset) = hand_made("arpu", true, "[churn]\ninactive_days = 30\n");
    let r = run(crmlens(tmp.path()).args([
        "arpu",
        "--by",
        "region",
        "--as-of",
        "2024-03-15",
        "--format",
        "csv",
        "--dataset",
        dataset.to_str().unwrap(),
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // North: A, C (card Feb 10), E (first purchase Mar 1); South: B, D (card Mar 1, no
    // purchase). Active within 30 days of each month end; see tests/slt/arpu.slt.
    //   North Jan: A; buys 100 → arpu 100. Feb: A, C; A active; A returns 50 → 25, 50, 50.
    //     Mar: A, C, E all active and buying 70 + 30 + 40 = 140, C and E new.
    //   South Jan: B, nobody active or buying. Feb: B active, new, 200. Mar: B, D; B active
    //     (Feb 20), nobody buys.
    // Revenue is money, written at currency precision (100.00; it was the float 100.0).
    assert_eq!(
        r.stdout,
        "month,value,customers,active_customers,buyers,new_customers,returning_customers,\
         orders,revenue,arpu,revenue_per_active,revenue_per_buyer\n\
         2024-01-01,North,1,1,1,1,0,1,100.00,100.0,100.0,100.0\n\
         2024-01-01,South,1,0,0,0,0,0,0.00,0.0,,\n\
         2024-02-01,North,2,1,1,0,1,1,50.00,25.0,50.0,50.0\n\
         2024-02-01,South,1,1,1,1,0,1,200.00,200.0,200.0,200.0\n\
         2024-03-01,North,3,3,3,2,1,3,140.00,46.666666666666664,46.666666666666664,\
         46.666666666666664\n\
         2024-03-01,South,2,1,0,0,0,0,0.00,0.0,0.0,\n"
    );
}

#[test]
fn every_split_adds_up_to_the_whole() {
    let whole = json(&["arpu", "--from", "2025-01"]);
    let churn = json(&["churn", "--from", "2025-01"]);
    for (w, c) in whole.iter().zip(&churn) {
        assert_eq!(w["month"], c["month"]);
        assert_eq!(w["active_customers"], c["active_at_end"], "{w} {c}");
    }
    for dim in ["region", "country", "kind", "source", "channel", "segment"] {
        let split = json(&["arpu", "--by", dim, "--from", "2025-01"]);
        for w in &whole {
            let rows: Vec<_> = split.iter().filter(|r| r["month"] == w["month"]).collect();
            for k in [
                "customers",
                "active_customers",
                "buyers",
                "new_customers",
                "orders",
            ] {
                let sum: i64 = rows.iter().map(|r| r[k].as_i64().unwrap()).sum();
                assert_eq!(sum, w[k].as_i64().unwrap(), "{dim} {k} {}", w["month"]);
            }
            let revenue: f64 = rows.iter().map(|r| r["revenue"].as_f64().unwrap()).sum();
            let total = w["revenue"].as_f64().unwrap();
            assert!((revenue - total).abs() <= 1e-6 * total.max(1.0), "{dim}");
        }
    }
}

#[test]
fn unknown_dimension_is_a_usage_error() {
    let tmp = tempdir();
    run(crmlens(tmp.path()).args(["arpu", "--by", "colour"])).assert_error(
        2,
        "possible values: region, country, kind, source, channel, segment",
    );
}
