//! Bad input and the small commands: missing or empty datasets, config typos, unknown formats
//! and commands, `schema`. Each must end in a clear message and the exit code of CLI.md.

use crate::common::{crmlens, run, tempdir};
use crate::fixtures;

#[test]
fn missing_dataset_directory_is_a_usage_error() {
    let tmp = tempdir();
    let r = run(crmlens(tmp.path()).args(["sql", "--dataset", "no/such/dir", "select 1"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no/such/dir") && r.stderr.contains("does not exist"),
        "{}",
        r.stderr
    );
    let r = run(crmlens(tmp.path()).args(["validate", "--dataset", "no/such/dir"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn empty_directory_names_the_required_tables() {
    let tmp = tempdir();
    let r = run(crmlens(tmp.path()).args(["sql", "--dataset", ".", "select 1"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("`customers`, `orders` missing"),
        "{}",
        r.stderr
    );
    let r = run(crmlens(tmp.path()).args(["validate", "--dataset", ".", "--format", "json"]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let missing: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "missing_table")
        .map(|f| f["table"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["customers", "orders"]);
    assert_eq!(report["errors"], 2);
}

#[test]
fn a_missing_required_table_is_named() {
    let tmp = tempdir();
    fixtures::variants(tmp.path());
    std::fs::remove_file(tmp.path().join("orders.parquet")).unwrap();
    let r =
        run(crmlens(tmp.path()).args(["sql", "--dataset", ".", "select count(*) from customers"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("required table `orders` missing (expected orders.parquet or orders/)"),
        "{}",
        r.stderr
    );
}

#[test]
fn config_typo_suggests_the_key() {
    let tmp = tempdir();
    fixtures::variants(&tmp.path().join("data"));
    std::fs::write(
        tmp.path().join("crmlens.toml"),
        "dataset = \"data\"\n[churn]\ninactive_dys = 90\n",
    )
    .unwrap();
    let r = run(crmlens(tmp.path()).args(["sql", "select 1"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("crmlens.toml"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("unknown key `inactive_dys`, did you mean `inactive_days`?"),
        "{}",
        r.stderr
    );

    std::fs::write(
        tmp.path().join("crmlens.toml"),
        "dataset = \"data\"\n[datafusion]\n\"execution.batch_sise\" = 1024\n",
    )
    .unwrap();
    let r = run(crmlens(tmp.path()).args(["sql", "select 1"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean `execution.batch_size`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn dataset_path_is_relative_to_the_config_file() {
    let tmp = tempdir();
    fixtures::variants(&tmp.path().join("project/data"));
    std::fs::write(
        tmp.path().join("project/crmlens.toml"),
        "dataset = \"data\"\n",
    )
    .unwrap();
    let r = run(crmlens(tmp.path()).args([
        "sql",
        "--config",
        "project/crmlens.toml",
        "--format",
        "csv",
        "select count(*) as n from customers",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "n\n3\n");
    let r = run(crmlens(tmp.path()).args(["sql", "--config", "missing.toml", "select 1"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("missing.toml") && r.stderr.contains("cannot read"),
        "{}",
        r.stderr
    );
}

#[test]
fn config_is_discovered_in_the_working_directory() {
    let tmp = tempdir();
    fixtures::variants(&tmp.path().join("data"));
    std::fs::write(
        tmp.path().join("crmlens.toml"),
        "dataset = \"data\"\n[datafusion]\n\"execution.batch_size\" = 1024\n",
    )
    .unwrap();
    let r = run(crmlens(tmp.path()).args([
        "sql",
        "--format",
        "csv",
        "select count(*) as n from orders; ",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "n\n5\n");
    let r = run(crmlens(tmp.path()).args([
        "sql",
        "--format",
        "csv",
        "select value from information_schema.df_settings where name = 'datafusion.execution.batch_size'",
    ]));
    assert_eq!(r.stdout, "value\n1024\n", "{}", r.stderr);
}

#[test]
fn unknown_format_is_a_usage_error() {
    let tmp = tempdir();
    let r = run(crmlens(tmp.path()).args(["schema", "--format", "xml"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("xml") && r.stderr.contains("table, csv, json, parquet"),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_commands_suggest_the_closest() {
    let tmp = tempdir();
    let r = run(crmlens(tmp.path()).args(["valdate"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `validate`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn scope_needs_customer_owners() {
    let tmp = tempdir();
    fixtures::variants(tmp.path());
    let r = run(crmlens(tmp.path()).args([
        "sql",
        "--dataset",
        ".",
        "--scope",
        "manager=M001",
        "select 1",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("no column `owner_manager_id`"),
        "{}",
        r.stderr
    );
}

#[test]
#[cfg(not(feature = "distributed"))]
fn a_cluster_engine_needs_the_distributed_feature() {
    let tmp = tempdir();
    let demo = crate::common::demo();
    let r = run(crmlens(tmp.path()).args([
        "--engine",
        "df://localhost:50050",
        "--dataset",
        demo.to_str().unwrap(),
        "sql",
        "select 1",
    ]));
    r.assert_error(2, "built without the `distributed` feature");
    r.assert_error(2, "cargo build --release --features distributed");
    run(crmlens(tmp.path()).args(["scheduler"]))
        .assert_error(2, "`crmlens scheduler`: this crmlens was built without");
    run(crmlens(tmp.path()).args(["--engine", "http://x:1", "sql", "select 1"]))
        .assert_error(2, "expected df://HOST:PORT");
}
