//! `crmlens validate`: a clean generated dataset passes; a damaged copy with known injected
//! faults yields exactly those findings, with the right counts and examples.

use std::collections::BTreeSet;
use std::path::Path;

use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use crate::common::{crmlens, run, tempdir};

/// `crmlens generate` of 300 customers (seed 11) into `dir/data`.
pub fn generate(dir: &Path) {
    let r = run(crmlens(dir).args([
        "generate",
        "--out",
        "data",
        "--customers",
        "300",
        "--seed",
        "11",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Replaces `<table>.parquet` with the result of `select` over it (registered as `t`).
pub async fn rewrite(data: &Path, table: &str, select: &str) {
    let file = data.join(format!("{table}.parquet"));
    let ctx = SessionContext::new();
    ctx.register_parquet("t", file.to_str().unwrap(), ParquetReadOptions::default())
        .await
        .unwrap();
    let tmp = data.join(format!("{table}.rewrite.parquet"));
    let df = ctx
        .sql(select)
        .await
        .unwrap_or_else(|e| panic!("{select}: {e}"));
    df.write_parquet(
        tmp.to_str().unwrap(),
        DataFrameWriteOptions::new().with_single_file_output(true),
        None,
    )
    .await
    .unwrap();
    std::fs::rename(&tmp, &file).unwrap();
}

fn findings(report: &serde_json::Value) -> BTreeSet<(String, String, String, String, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            (
                f["severity"].as_str().unwrap().to_string(),
                f["table"].as_str().unwrap().to_string(),
                f["column"].as_str().unwrap_or("").to_string(),
                f["check"].as_str().unwrap().to_string(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn generated_dataset_passes() {
    let tmp = tempdir();
    generate(tmp.path());
    let r = run(crmlens(tmp.path()).args(["validate", "--dataset", "data", "--format", "json"]));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(findings(&report), BTreeSet::new(), "{}", r.stdout);
    assert_eq!(report["tables"].as_array().unwrap().len(), 15);
    let r = run(crmlens(tmp.path()).args(["validate", "--dataset", "data", "--format", "table"]));
    assert!(
        r.stdout
            .contains("validation passed: 0 error(s), 0 warning(s)"),
        "{}",
        r.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_copy_yields_exactly_the_injected_faults() {
    let tmp = tempdir();
    generate(tmp.path());
    let data = tmp.path().join("data");
    rewrite(
        &data,
        "orders",
        "select * replace (case when order_id = (select min(order_id) from t) then -amount else amount end as amount) from t \
         union all select * replace (concat(order_id, '-x') as order_id, concat('GHOST-', customer_id) as customer_id) \
         from (select * from t order by order_id limit 2)",
    )
    .await;
    rewrite(
        &data,
        "customers",
        "select * from t union all (select * from t order by customer_id limit 3)",
    )
    .await;
    rewrite(
        &data,
        "deals",
        "select * from t union all select * replace (null as deal_id) from (select * from t order by deal_id limit 1)",
    )
    .await;
    rewrite(
        &data,
        "deal_stage_history",
        "select * from t \
         union all select * replace ('demo' as stage) from (select * from t order by deal_id, entered_at limit 4) \
         union all select * replace ('D-GHOST' as deal_id) from (select * from t order by deal_id, entered_at limit 1)",
    )
    .await;
    rewrite(
        &data,
        "activities",
        "select * from t union all select * replace (concat(activity_id, '-f') as activity_id, \
         occurred_at + interval '36500 days' as occurred_at) from (select * from t order by activity_id limit 1)",
    )
    .await;
    rewrite(
        &data,
        "surveys",
        "select * replace (cast(score as varchar) as score) from t",
    )
    .await;
    rewrite(&data, "products", "select * exclude (category) from t").await;
    let tickets = data.join("tickets.parquet");
    let bytes = std::fs::read(&tickets).unwrap();
    std::fs::write(&tickets, &bytes[..bytes.len() * 2 / 3]).unwrap();

    let r = run(crmlens(tmp.path()).args(["validate", "--dataset", "data", "--format", "json"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let expected: BTreeSet<(String, String, String, String, u64)> = [
        ("error", "orders", "customer_id", "orphan_reference", 2),
        ("error", "customers", "customer_id", "duplicate_key", 6),
        ("error", "deals", "deal_id", "null_value", 1),
        ("error", "deal_stage_history", "stage", "unknown_stage", 4),
        (
            "error",
            "deal_stage_history",
            "deal_id",
            "orphan_reference",
            1,
        ),
        ("error", "tickets", "", "unreadable_file", 1),
        ("error", "surveys", "score", "wrong_type", 0),
        ("error", "products", "category", "missing_column", 0),
        ("warning", "orders", "amount", "negative_amount", 1),
        // 100 years ahead: after today, an error (issue 18, item 9; it was an after_as_of
        // warning before).
        ("error", "activities", "occurred_at", "future_timestamp", 1),
    ]
    .into_iter()
    .map(|(s, t, c, k, n)| (s.into(), t.into(), c.into(), k.into(), n))
    .collect();
    assert_eq!(findings(&report), expected, "{}", r.stdout);
    assert_eq!(report["errors"], 9);

    let find = |check: &str, table: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == check && f["table"] == table)
            .cloned()
            .unwrap()
    };
    let orphans = find("orphan_reference", "orders");
    let examples: Vec<&str> = orphans["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    // Example keys are the distinct orphan values (both ghost orders may share a customer).
    assert!(!examples.is_empty() && examples.len() <= 2, "{examples:?}");
    assert!(
        examples.iter().all(|e| e.starts_with("GHOST-C")),
        "{examples:?}"
    );
    assert_eq!(
        find("unknown_stage", "deal_stage_history")["examples"],
        serde_json::json!(["demo"])
    );
    assert_eq!(
        find("orphan_reference", "deal_stage_history")["examples"],
        serde_json::json!(["D-GHOST"])
    );
    assert_eq!(
        find("duplicate_key", "customers")["examples"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let unreadable = find("unreadable_file", "tickets");
    assert!(
        unreadable["message"]
            .as_str()
            .unwrap()
            .contains("tickets.parquet"),
        "{unreadable}"
    );

    // The table output says the same for people, and CSV lists the findings.
    let r = run(crmlens(tmp.path()).args(["validate", "--dataset", "data", "--format", "table"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("validation FAILED: 9 error(s), 1 warning(s)"),
        "{}",
        r.stdout
    );
    let r = run(crmlens(tmp.path()).args(["validate", "--dataset", "data", "--format", "csv"]));
    assert_eq!(
        r.stdout.lines().next(),
        Some("severity,table,column,check,count,examples,message")
    );
    assert_eq!(r.stdout.lines().count(), 11, "{}", r.stdout);
}
