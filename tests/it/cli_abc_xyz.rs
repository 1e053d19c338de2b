//! `crmlens abc-xyz` on the demo dataset: the JSON shape of the per-item tables and of the
//! matrix, counts and revenue checked against independent `crmlens sql` queries over the raw
//! `orders` / `order_items` tables, the ABC boundary property, and the error without
//! `order_items`. The hand-computed classes are in tests/slt/abc_xyz*.slt.

use std::path::Path;

use serde_json::Value;

use crate::common::{crmlens, demo, keys, run, tempdir};

/// The columns both views end with, after their own leading ones.
const CLASS_COLUMNS: &[&str] = &[
    "revenue_share",
    "cumulative_share",
    "abc_class",
    "months_with_revenue",
    "monthly_mean",
    "monthly_cv",
    "xyz_class",
    "abc_xyz",
];

fn columns(leading: &[&'static str]) -> Vec<&'static str> {
    [leading, CLASS_COLUMNS].concat()
}

/// `crmlens abc-xyz ARGS --format json` on `dataset`, parsed.
fn abc_xyz(dir: &Path, dataset: &Path, args: &[&str]) -> Vec<Value> {
    let r = run(crmlens(dir)
        .args([
            "abc-xyz",
            "--dataset",
            dataset.to_str().unwrap(),
            "--format",
            "json",
        ])
        .args(args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    match serde_json::from_str(&r.stdout) {
        Ok(Value::Array(rows)) => rows,
        other => panic!("not a JSON array: {other:?}\n{}", r.stdout),
    }
}

/// The one value of a one-row, one-column `crmlens sql` query on the demo dataset.
fn sql_value(dir: &Path, query: &str) -> Value {
    let r = run(crmlens(dir).args([
        "sql",
        "--dataset",
        demo().to_str().unwrap(),
        "--format",
        "json",
        query,
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<serde_json::Map<String, Value>> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len(), 1, "{}", r.stdout);
    rows[0].values().next().unwrap().clone()
}

fn f64_of(row: &Value, key: &str) -> f64 {
    row[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {row}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

/// Checks what every per-item table must hold: sorted by revenue descending, classes from
/// the allowed sets, abc_xyz their concatenation, XYZ NULL exactly when the window had no
/// revenue, and the ABC boundary: the A items hold at most 80 % of the revenue, and with the
/// first peer group after them (the items that cross 80 %) more than 80 %.
fn check_classes(rows: &[Value]) {
    let mut previous = f64::INFINITY;
    for row in rows {
        let revenue = f64_of(row, "revenue");
        assert!(revenue <= previous, "not sorted by revenue: {row}");
        previous = revenue;
        let abc = row["abc_class"].as_str().unwrap();
        assert!(["A", "B", "C"].contains(&abc), "{row}");
        match row["xyz_class"].as_str() {
            Some(xyz) => {
                assert!(["X", "Y", "Z"].contains(&xyz), "{row}");
                assert_eq!(row["abc_xyz"], format!("{abc}{xyz}"), "{row}");
                assert!(f64_of(row, "monthly_mean") > 0.0, "{row}");
                assert!(f64_of(row, "monthly_cv") >= 0.0, "{row}");
            }
            None => {
                assert!(row["abc_xyz"].is_null(), "{row}");
                assert!(row["monthly_cv"].is_null(), "{row}");
                assert_eq!(row["months_with_revenue"], 0, "{row}");
            }
        }
        let cumulative = f64_of(row, "cumulative_share");
        let limit = match abc {
            "A" => 0.80,
            "B" => 0.95,
            _ => 1.0,
        };
        assert!(cumulative <= limit + 1e-12, "{row}");
    }
    let total: f64 = rows.iter().map(|r| f64_of(r, "revenue")).sum();
    let a_share: f64 = rows
        .iter()
        .filter(|r| r["abc_class"] == "A")
        .map(|r| f64_of(r, "revenue"))
        .sum::<f64>()
        / total;
    let crossing = rows
        .iter()
        .find(|r| r["abc_class"] != "A")
        .expect("some item is not A");
    let crossing_share: f64 = rows
        .iter()
        .filter(|r| f64_of(r, "revenue") == f64_of(crossing, "revenue"))
        .map(|r| f64_of(r, "revenue"))
        .sum::<f64>()
        / total;
    assert!(a_share <= 0.80 + 1e-9, "A share {a_share}");
    assert!(
        a_share + crossing_share > 0.80,
        "A share {a_share} + crossing {crossing_share}"
    );
}

#[test]
fn customers_json_has_the_columns_and_every_purchaser() {
    let tmp = tempdir();
    let rows = abc_xyz(tmp.path(), &demo(), &[]);
    for row in &rows {
        assert_eq!(keys(row), columns(&["customer_id", "revenue"]), "{row}");
    }
    // as_of is the latest order date, so every paid order counts.
    let purchasers = sql_value(
        tmp.path(),
        "select count(distinct customer_id) from orders where status = 'paid'",
    );
    assert_eq!(rows.len() as u64, purchasers.as_u64().unwrap());
    let revenue = sql_value(
        tmp.path(),
        "select cast(sum(amount) as double) from orders where status = 'paid'",
    );
    let total: f64 = rows.iter().map(|r| f64_of(r, "revenue")).sum();
    assert!(
        close(total, revenue.as_f64().unwrap()),
        "{total} vs {revenue}"
    );
    check_classes(&rows);
    // The demo has customers of all three ABC classes.
    for class in ["A", "B", "C"] {
        assert!(rows.iter().any(|r| r["abc_class"] == class), "no {class}");
    }
}

#[test]
fn products_json_from_order_items_of_paid_orders() {
    let tmp = tempdir();
    let rows = abc_xyz(tmp.path(), &demo(), &["--by", "product"]);
    for row in &rows {
        assert_eq!(
            keys(row),
            columns(&["product_id", "name", "category", "revenue", "quantity"]),
            "{row}"
        );
        assert!(
            row["name"].is_string() && row["category"].is_string(),
            "{row}"
        );
    }
    let products = sql_value(
        tmp.path(),
        "select count(distinct i.product_id) from order_items i \
         join orders o on o.order_id = i.order_id where o.status = 'paid'",
    );
    assert_eq!(rows.len() as u64, products.as_u64().unwrap());
    let revenue = sql_value(
        tmp.path(),
        "select sum(cast(i.quantity as double) * cast(i.unit_price as double)) \
         from order_items i join orders o on o.order_id = i.order_id where o.status = 'paid'",
    );
    let total: f64 = rows.iter().map(|r| f64_of(r, "revenue")).sum();
    assert!(
        close(total, revenue.as_f64().unwrap()),
        "{total} vs {revenue}"
    );
    check_classes(&rows);
}

/// The nine cells in order, then the items without an XYZ class; counts and revenue add up
/// to the independent totals.
fn check_summary(rows: &[Value], count: &str, items: u64, in_window: u64, revenue: f64) {
    let cells: Vec<String> = rows
        .iter()
        .take(9)
        .map(|r| r["abc_xyz"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        cells,
        ["AX", "AY", "AZ", "BX", "BY", "BZ", "CX", "CY", "CZ"]
    );
    for row in rows {
        assert_eq!(
            keys(row),
            [
                "abc_class",
                "xyz_class",
                "abc_xyz",
                count,
                &format!("{count}_share"),
                "revenue",
                "revenue_share"
            ]
        );
    }
    for row in &rows[9..] {
        assert!(row["xyz_class"].is_null(), "{row}");
        assert!(row[count].as_u64().unwrap() > 0, "{row}");
    }
    let nine: u64 = rows[..9].iter().map(|r| r[count].as_u64().unwrap()).sum();
    let all: u64 = rows.iter().map(|r| r[count].as_u64().unwrap()).sum();
    assert_eq!(nine, in_window);
    assert_eq!(all, items);
    let total: f64 = rows.iter().map(|r| f64_of(r, "revenue")).sum();
    assert!(close(total, revenue), "{total} vs {revenue}");
    let shares: f64 = rows
        .iter()
        .map(|r| f64_of(r, &format!("{count}_share")))
        .sum();
    assert!(close(shares, 1.0), "{shares}");
}

#[test]
fn summary_is_the_nine_cell_matrix_counting_every_purchaser() {
    let tmp = tempdir();
    // Demo as_of is 2025-12-31 (latest order): the XYZ window is 2025-01-01 … 2025-12-31.
    let as_of = sql_value(
        tmp.path(),
        "select cast(max(ordered_at) as date) from orders",
    );
    assert_eq!(as_of, "2025-12-31");
    let rows = abc_xyz(tmp.path(), &demo(), &["--summary"]);
    let count = |q: &str| sql_value(tmp.path(), q).as_u64().unwrap();
    check_summary(
        &rows,
        "customers",
        count("select count(distinct customer_id) from orders where status = 'paid'"),
        count(
            "select count(distinct customer_id) from orders where status = 'paid' \
             and ordered_at >= timestamp '2025-01-01T00:00:00Z'",
        ),
        sql_value(
            tmp.path(),
            "select cast(sum(amount) as double) from orders where status = 'paid'",
        )
        .as_f64()
        .unwrap(),
    );

    let rows = abc_xyz(tmp.path(), &demo(), &["--summary", "--by", "product"]);
    let paid_items = "from order_items i join orders o on o.order_id = i.order_id \
                      where o.status = 'paid'";
    check_summary(
        &rows,
        "products",
        count(&format!("select count(distinct i.product_id) {paid_items}")),
        count(&format!(
            "select count(distinct i.product_id) {paid_items} \
             and o.ordered_at >= timestamp '2025-01-01T00:00:00Z'"
        )),
        sql_value(
            tmp.path(),
            &format!(
                "select sum(cast(i.quantity as double) * cast(i.unit_price as double)) {paid_items}"
            ),
        )
        .as_f64()
        .unwrap(),
    );
}

#[test]
fn thresholds_come_from_the_configuration() {
    let tmp = tempdir();
    std::fs::write(
        tmp.path().join("crmlens.toml"),
        "[abc_xyz]\na = 0.5\nb = 0.7\n",
    )
    .unwrap();
    let rows = abc_xyz(tmp.path(), &demo(), &[]);
    for row in &rows {
        let cumulative = f64_of(row, "cumulative_share");
        let want = if cumulative <= 0.5 {
            "A"
        } else if cumulative <= 0.7 {
            "B"
        } else {
            "C"
        };
        assert_eq!(row["abc_class"], want, "{row}");
    }
}

#[test]
fn by_product_without_order_items_is_a_clear_error() {
    let tmp = tempdir();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for table in ["customers", "orders"] {
        let file = format!("{table}.parquet");
        std::fs::copy(demo().join(&file), data.join(&file)).unwrap();
    }
    let r = run(crmlens(tmp.path()).args([
        "abc-xyz",
        "--dataset",
        data.to_str().unwrap(),
        "--by",
        "product",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("order_items") && r.stderr.contains("by product"),
        "{}",
        r.stderr
    );
    // Customers need only orders.
    let rows = abc_xyz(tmp.path(), &data, &["--summary"]);
    assert!(rows.len() >= 9);
    // In SQL the left-out view says why, not "unknown table".
    let r = run(crmlens(tmp.path()).args([
        "sql",
        "--dataset",
        data.to_str().unwrap(),
        "select * from product_abc_xyz",
    ]));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("built-in view `product_abc_xyz` is not available on this dataset")
            && r.stderr.contains("order_items"),
        "{}",
        r.stderr
    );
}
