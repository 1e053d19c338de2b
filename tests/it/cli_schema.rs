//! `crmlens schema`: the contract as a table, CSV or JSON.

use crate::common::{crmlens, run, tempdir};

#[test]
fn schema_lists_the_fifteen_tables_of_the_product_brief() {
    let tmp = tempdir();
    let r = run(crmlens(tmp.path()).args(["schema", "--format", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let mut names: Vec<&str> = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    let mut expected = [
        "customers",
        "contacts",
        "managers",
        "products",
        "orders",
        "order_items",
        "deals",
        "deal_stage_history",
        "activities",
        "campaigns",
        "campaign_members",
        "events",
        "tickets",
        "surveys",
        "plans",
    ];
    expected.sort();
    assert_eq!(names, expected);
    let required: Vec<&str> = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["required"] == true)
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(required, ["customers", "orders"]);

    let r = run(crmlens(tmp.path()).args(["schema", "--table", "orders", "--format", "csv"]));
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("orders,status,text,utf8,true,false,true,,")),
        "{}",
        r.stdout
    );
    let r = run(crmlens(tmp.path()).args(["schema", "--table", "order"]));
    assert_eq!(r.code, 2);
}
