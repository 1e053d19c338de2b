//! `crmlens features` and `crmlens rfm` on the demo dataset: output shapes, totals checked
//! against independent SQL over the raw tables, and the rule-table check of a user's RFM
//! segments.

use crate::common::{crmlens, demo, demo_json as json, run, tempdir};

#[test]
fn rfm_summary_and_grid_add_up_to_the_purchasing_customers() {
    // Independent count: customers with a paid order (as_of is the latest order date, so
    // every paid order is in).
    let buyers = json(&[
        "sql",
        "select count(distinct customer_id) as n, sum(amount) as revenue from orders where status = 'paid'",
    ]);
    let n = buyers[0]["n"].as_u64().unwrap();
    let revenue = buyers[0]["revenue"].as_f64().unwrap();

    let summary = json(&["rfm"]);
    assert_eq!(
        summary.len(),
        10,
        "all ten segments are present on the demo"
    );
    let total: u64 = summary
        .iter()
        .map(|r| r["customers"].as_u64().unwrap())
        .sum();
    assert_eq!(total, n);
    let share: f64 = summary
        .iter()
        .map(|r| r["customer_share"].as_f64().unwrap())
        .sum();
    assert!((share - 1.0).abs() < 1e-9);

    let grid = json(&["rfm", "--grid"]);
    assert_eq!(grid.len(), 25);
    let total: u64 = grid.iter().map(|r| r["customers"].as_u64().unwrap()).sum();
    assert_eq!(total, n);
    let grid_revenue: f64 = grid.iter().map(|r| r["revenue"].as_f64().unwrap()).sum();
    assert!((grid_revenue - revenue).abs() < 1e-6 * revenue);
    for cell in &grid {
        assert!(cell["rfm_segment"].is_string(), "{cell}");
    }
}

#[test]
fn features_filter_and_columns() {
    let all = json(&["features", "--columns", "customer_id,rfm_segment,monetary"]);
    let customers = json(&["sql", "select count(*) as n from customers"]);
    assert_eq!(all.len() as u64, customers[0]["n"].as_u64().unwrap());
    assert_eq!(all[0].as_object().unwrap().len(), 3);
    let champions = json(&[
        "features",
        "--where",
        "rfm_segment = 'champions'",
        "--columns",
        "customer_id,r_score,f_score",
    ]);
    assert!(!champions.is_empty());
    for c in &champions {
        assert_eq!(c["r_score"], 5, "{c}");
        assert!(c["f_score"].as_i64().unwrap() >= 4, "{c}");
    }
    let expected = all
        .iter()
        .filter(|r| r["rfm_segment"] == "champions")
        .count();
    assert_eq!(champions.len(), expected);
}

#[test]
fn contract_columns_are_present() {
    let row = &json(&["features", "--where", "frequency > 1"])[0];
    for column in [
        "customer_id",
        "first_purchase_at",
        "last_purchase_at",
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "tenure_days",
        "r_score",
        "f_score",
        "m_score",
        "rfm_segment",
        "abc_class",
        "xyz_class",
        "is_active",
        "is_churned",
        "p_alive",
        "expected_purchases",
        "expected_avg_value",
        "clv",
    ] {
        assert!(row.get(column).is_some(), "missing {column}: {row}");
    }
}

#[test]
fn unknown_column_in_where_names_it() {
    let tmp = tempdir();
    let r = run(crmlens(tmp.path()).args([
        "features",
        "--dataset",
        demo().to_str().unwrap(),
        "--where",
        "recency > 30",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("recency"), "{}", r.stderr);
    assert!(r.stderr.contains("recency_days"), "{}", r.stderr);
}

#[test]
fn a_rule_table_with_a_gap_and_an_overlap_is_rejected_with_the_cells() {
    let tmp = tempdir();
    std::fs::write(
        tmp.path().join("segments.toml"),
        "[[segment]]\nname = \"low\"\nr = \"1-3\"\nf = \"1-5\"\n\
         [[segment]]\nname = \"high\"\nr = \"3-5\"\nf = \"2-5\"\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("crmlens.toml"),
        format!(
            "dataset = {:?}\n[rfm]\nsegments = \"segments.toml\"\n",
            demo().to_str().unwrap()
        ),
    )
    .unwrap();
    let r = run(crmlens(tmp.path()).args(["rfm"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("segments.toml"), "{}", r.stderr);
    assert!(
        r.stderr.contains("cells with no segment: R4F1, R5F1"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("R3F2 (low, high)"), "{}", r.stderr);
}

#[test]
fn a_filter_on_scores_counts_what_the_scores_say() {
    // A WHERE on a score must select the rows whose printed score passes: the counts of
    // `where` and of `filter (where …)` over the same view agree.
    for (view, condition) in [
        ("rfm", "r_score <= 2"),
        (
            "customer_features",
            "r_score <= 2 and m_score >= 4 and not is_churned",
        ),
        ("customer_features", "f_score = 3"),
    ] {
        let filtered = json(&[
            "sql",
            &format!("select count(*) as n from {view} where {condition}"),
        ]);
        let counted = json(&[
            "sql",
            &format!("select count(*) filter (where {condition}) as n from {view}"),
        ]);
        assert_eq!(filtered[0]["n"], counted[0]["n"], "{view}: {condition}");
        assert!(counted[0]["n"].as_i64().unwrap() > 0, "{view}: {condition}");
    }
}
