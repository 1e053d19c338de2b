//! `crmlens run`: the nightly job validates, then writes one result per query.

use crate::common::{crmlens, run, tempdir};

#[test]
fn nightly_run_validates_then_writes_each_query() {
    let tmp = tempdir();
    let r = run(crmlens(tmp.path()).args([
        "generate",
        "--out",
        "data",
        "--customers",
        "200",
        "--seed",
        "3",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/nightly");
    let segments = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/segments");
    let r = run(crmlens(tmp.path())
        .args(["run", "--dataset", "data", "--out", "nightly", "--queries"])
        .arg(&queries)
        .arg("--segments")
        .arg(&segments)
        .arg("--reports")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/reports")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("validation passed"), "{}", r.stdout);
    for report in ["sales", "customers", "campaigns"] {
        let html = tmp.path().join(format!("nightly/reports/{report}.html"));
        assert!(html.is_file(), "{}", html.display());
    }
    // Every shipped segment got a snapshot.
    for entry in std::fs::read_dir(&segments).unwrap() {
        let name = entry.unwrap().path();
        let name = name.file_stem().unwrap().to_str().unwrap();
        let dir = tmp.path().join("nightly/segments").join(name);
        let snapshots: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .collect();
        assert_eq!(snapshots.len(), 1, "{}", dir.display());
    }
    // Independent check: the monthly order counts add up to the paid orders in the file,
    // counted with the parquet reader.
    let csv = std::fs::read_to_string(tmp.path().join("nightly/revenue_by_month.csv")).unwrap();
    let total: u64 = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    let batches = crate::common::read_parquet(&tmp.path().join("data/orders.parquet"));
    let paid: usize = batches
        .iter()
        .map(|b| {
            let status = datafusion::arrow::compute::cast(
                b.column_by_name("status").unwrap(),
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .unwrap();
            use datafusion::arrow::array::AsArray;
            status
                .as_string::<i32>()
                .iter()
                .filter(|s| *s == Some("paid"))
                .count()
        })
        .sum();
    assert_eq!(total as usize, paid);
    assert!(tmp.path().join("nightly/top_customers.csv").exists());

    // A dataset with errors: nothing is written and the exit code is 1.
    std::fs::remove_file(tmp.path().join("data/customers.parquet")).unwrap();
    let r = run(crmlens(tmp.path())
        .args(["run", "--dataset", "data", "--out", "second", "--queries"])
        .arg(&queries));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!tmp.path().join("second").exists());
}
