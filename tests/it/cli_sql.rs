//! `crmlens sql`: query sources, every output format, atomic output files, SQL errors. Values
//! are checked against the hand-made fixture (tests/it/fixtures.rs).

use std::path::Path;

use datafusion::arrow::array::{AsArray, Float64Array};

use crate::common::{crmlens, read_parquet, run, tempdir};
use crate::fixtures;

const PAID: &str = "select customer_id, count(*) as orders, sum(amount) as revenue from orders \
                    where status = 'paid' group by customer_id order by customer_id";

fn dataset() -> tempfile::TempDir {
    let tmp = tempdir();
    fixtures::variants(&tmp.path().join("data"));
    tmp
}

fn sql(dir: &Path, args: &[&str]) -> crate::common::Run {
    run(crmlens(dir).args(["sql", "--dataset", "data"]).args(args))
}

#[test]
fn csv_and_json_hold_the_hand_computed_values() {
    let tmp = dataset();
    let r = sql(tmp.path(), &["--format", "csv", PAID]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "customer_id,orders,revenue\nC1,2,150.25\nC2,1,1000.48\n"
    );

    let r = sql(tmp.path(), &["--format", "json", PAID]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"customer_id": "C1", "orders": 2, "revenue": 150.25},
            {"customer_id": "C2", "orders": 1, "revenue": 1000.48}
        ])
    );
    // Column order is the query's, dates are YYYY-MM-DD and timestamps RFC 3339.
    let r = sql(
        tmp.path(),
        &[
            "--format",
            "json",
            "select order_id, cast(ordered_at as date) as day, ordered_at from orders where order_id = 'O4'",
        ],
    );
    assert_eq!(
        r.stdout.trim(),
        "[\n{\"order_id\":\"O4\",\"day\":\"2024-03-31\",\"ordered_at\":\"2024-03-31T20:30:00Z\"}\n]"
    );
}

#[test]
fn table_format_counts_rows_and_says_when_it_cuts() {
    let tmp = dataset();
    let r = sql(tmp.path(), &["--format", "table", PAID]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("| C1          | 2      | 150.25  |"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.ends_with("2 rows\n"), "{}", r.stdout);
    let r = sql(
        tmp.path(),
        &[
            "--format",
            "table",
            "--max-rows",
            "2",
            "select * from orders",
        ],
    );
    assert!(r.stdout.contains("5 rows (first 2 shown;"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("| O").count(), 2, "{}", r.stdout);
    let r = sql(
        tmp.path(),
        &["--format", "table", "select * from orders where 1 = 0"],
    );
    assert!(
        r.stdout.contains("order_id") && r.stdout.ends_with("0 rows\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn parquet_output_reads_back() {
    let tmp = dataset();
    let r = sql(tmp.path(), &["--output", "paid.parquet", PAID]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "");
    let batches = read_parquet(&tmp.path().join("paid.parquet"));
    let b = datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(b.num_rows(), 2);
    // Exports hold no utf8 view (DataFusion's in-memory string type), which older readers reject.
    assert!(b.schema().fields().iter().all(|f| !matches!(
        f.data_type(),
        datafusion::arrow::datatypes::DataType::Utf8View
    )));
    let ids = datafusion::arrow::compute::cast(
        b.column(0),
        &datafusion::arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let ids = ids.as_string::<i32>();
    assert_eq!((ids.value(0), ids.value(1)), ("C1", "C2"));
    let revenue = datafusion::arrow::compute::cast(
        b.column(2),
        &datafusion::arrow::datatypes::DataType::Float64,
    )
    .unwrap();
    let revenue = revenue.as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!((revenue.value(0), revenue.value(1)), (150.25, 1000.48));
}

#[test]
fn output_file_is_atomic() {
    let tmp = dataset();
    let target = tmp.path().join("out.csv");
    std::fs::write(&target, "previous export\n").unwrap();
    // Fails while running (not while planning): the previous file must survive untouched.
    let r = sql(
        tmp.path(),
        &[
            "--output",
            "out.csv",
            "select cast(name as int) from customers",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "previous export\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let r = sql(
        tmp.path(),
        &["--output", "out.csv", "select count(*) as n from orders"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "n\n5\n");
    let r = sql(tmp.path(), &["--output", "no/such/dir/out.csv", "select 1"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
}

#[test]
fn query_from_file_stdin_and_several_statements() {
    let tmp = dataset();
    std::fs::write(
        tmp.path().join("q.sql"),
        "select count(*) as n from customers",
    )
    .unwrap();
    let r = sql(tmp.path(), &["--format", "csv", "-f", "q.sql"]);
    assert_eq!(r.stdout, "n\n3\n", "{}", r.stderr);
    let r = run(crmlens(tmp.path())
        .args(["sql", "--dataset", "data", "--format", "csv"])
        .write_stdin("create view big as select * from orders where amount > 100;\nselect count(*) as n from big;"));
    assert_eq!(r.stdout, "n\n3\n", "{}", r.stderr);
    let r = run(crmlens(tmp.path())
        .args(["sql", "--dataset", "data"])
        .write_stdin("  \n"));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("empty"), "{}", r.stderr);
}

#[test]
fn sql_errors_name_what_exists() {
    let tmp = dataset();
    let r = sql(tmp.path(), &["selec * from orders"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("SQL syntax error") && r.stderr.contains("selec"),
        "{}",
        r.stderr
    );
    let r = sql(tmp.path(), &["select amout from orders"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("amout") && r.stderr.contains("Did you mean 'orders.amount'?"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Valid fields are") && r.stderr.contains("orders.status"),
        "{}",
        r.stderr
    );
    let r = sql(tmp.path(), &["select * from order_item"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("unknown table `order_item`, did you mean `order_items`?"),
        "{}",
        r.stderr
    );
    let listed = r
        .stderr
        .split("available tables: ")
        .nth(1)
        .unwrap_or_default();
    for name in [
        "customer_features",
        "customers",
        "events",
        "order_items",
        "rfm",
    ] {
        assert!(
            listed.split(", ").any(|t| t.trim() == name),
            "{name}: {}",
            r.stderr
        );
    }
    assert!(!r.stderr.contains("backtrace"), "{}", r.stderr);
}

#[test]
fn wrong_column_type_and_truncated_file_are_named() {
    let tmp = dataset();
    let data = tmp.path().join("data");
    fixtures::write(
        &data.join("orders.parquet"),
        vec![
            (
                "order_id",
                std::sync::Arc::new(datafusion::arrow::array::StringArray::from(vec!["O1"])),
            ),
            (
                "amount",
                std::sync::Arc::new(datafusion::arrow::array::StringArray::from(vec!["12,50"])),
            ),
        ],
    );
    let r = sql(tmp.path(), &["select 1"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("table `orders`, column `amount`: found utf8"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("expected float32 | float64 | decimal128"),
        "{}",
        r.stderr
    );

    let tmp = dataset();
    let file = tmp.path().join("data/customers.parquet");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let r = sql(tmp.path(), &["select count(*) from orders"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("customers.parquet") && r.stderr.contains("crmlens validate"),
        "{}",
        r.stderr
    );
}
