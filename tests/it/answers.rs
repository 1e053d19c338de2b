//! Issue 18, silent wrong answers and robustness: each reproduction of the issue, which used to
//! pass unnoticed or end in an internal error, gives a finding, a clear error or the right
//! answer.

use std::path::Path;

use crate::cli_validate::{generate, rewrite};
use crate::common::{Run, crmlens, run, tempdir};

fn validate_json(dir: &Path) -> (Run, serde_json::Value) {
    let r = run(crmlens(dir).args(["validate", "--dataset", "data", "--format", "json"]));
    let report = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    (r, report)
}

fn finding<'a>(report: &'a serde_json::Value, check: &str, table: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check && f["table"] == table)
        .unwrap_or_else(|| panic!("no {check} finding for {table}: {report}"))
}

/// The default as_of, as `as_of()` reports it.
fn default_as_of(dir: &Path) -> Run {
    run(crmlens(dir).args([
        "sql",
        "--dataset",
        "data",
        "--format",
        "csv",
        "select as_of() as d",
    ]))
}

/// Item 9: 50 orders dated after today fail validation (naming table, column, count and
/// examples) and do not move the default as_of, which says how many it ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_after_today_fail_validation_and_do_not_move_as_of() {
    let tmp = tempdir();
    generate(tmp.path());
    let before = default_as_of(tmp.path());
    assert_eq!(before.code, 0, "{}", before.stderr);
    rewrite(
        &tmp.path().join("data"),
        "orders",
        "select * from t union all select * replace (concat(order_id, '-future') as order_id, \
         ordered_at + interval '27000 days' as ordered_at) \
         from (select * from t order by order_id limit 50)",
    )
    .await;
    let (r, report) = validate_json(tmp.path());
    assert_eq!(r.code, 1, "{}", r.stdout);
    let f = finding(&report, "future_timestamp", "orders");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["column"], "ordered_at");
    assert_eq!(f["count"], 50);
    let examples = f["examples"].as_array().unwrap();
    assert!(
        !examples.is_empty()
            && examples
                .iter()
                .all(|e| e.as_str().unwrap().ends_with("-future")),
        "{f}"
    );
    let after = default_as_of(tmp.path());
    assert_eq!(after.code, 0, "{}", after.stderr);
    assert_eq!(after.stdout, before.stdout);
    assert!(
        after
            .stderr
            .contains("50 row(s) dated after today are ignored"),
        "{}",
        after.stderr
    );
    // `today` in the configuration moves the line: with today in 2200 nothing is ignored
    // (2200 is past the last date crmlens computes with: refused).
    std::fs::write(tmp.path().join("crmlens.toml"), "today = 2200-01-01\n").unwrap();
    run(crmlens(tmp.path()).args(["rfm", "--dataset", "data"])).assert_error(
        2,
        "today: 2200-01-01 is outside the dates crmlens computes with",
    );
}

/// Item 16: years 1 and 9999 are refused by `validate` (naming the column) and by
/// `--as-of`, instead of ending in internal errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn years_1_and_9999_are_refused() {
    let tmp = tempdir();
    generate(tmp.path());
    for as_of in ["0001-01-01", "9999-12-31"] {
        run(crmlens(tmp.path()).args(["rfm", "--dataset", "data", "--as-of", as_of])).assert_error(
            2,
            "outside the dates crmlens computes with (1900-01-01 to 2199-12-31)",
        );
    }
    rewrite(
        &tmp.path().join("data"),
        "orders",
        "select * replace (case order_id \
           when (select min(order_id) from t) then arrow_cast(-62135596800000000, 'Timestamp(Microsecond, Some(\"UTC\"))') \
           when (select max(order_id) from t) then arrow_cast(253402214400000000, 'Timestamp(Microsecond, Some(\"UTC\"))') \
           else ordered_at end as ordered_at) from t",
    )
    .await;
    let (r, report) = validate_json(tmp.path());
    assert_eq!(r.code, 1, "{}", r.stdout);
    let f = finding(&report, "timestamp_out_of_range", "orders");
    assert_eq!(
        (f["column"].as_str(), f["count"].as_u64()),
        (Some("ordered_at"), Some(2))
    );
    // The default as_of ignores the year 9999 (after today); an analysis meeting the year 1
    // says where to find it (it was a bare "Cannot cast Date32 value -719162 to Timestamp(ns)").
    let r = run(crmlens(tmp.path()).args(["churn", "--dataset", "data", "--format", "csv"]));
    assert!(
        r.stderr.contains("1 row(s) dated after today are ignored"),
        "{}",
        r.stderr
    );
    r.assert_error(
        1,
        "a date in the data is outside the dates crmlens computes with (1900-01-01 to 2199-12-31): `crmlens validate` names the table and column",
    );
}

/// Item 10: NaN and infinite amounts are validation errors, and analyses refuse them naming
/// the column instead of making every customer class C and emptying `vip`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nan_and_infinite_amounts_are_errors_not_garbage() {
    let tmp = tempdir();
    generate(tmp.path());
    rewrite(
        &tmp.path().join("data"),
        "orders",
        "select * exclude (rn, n) replace (case \
           when rn <= 3 then cast('NaN' as double) \
           when rn = n then cast('inf' as double) \
           when rn > n - 3 then cast('-inf' as double) \
           else cast(amount as double) end as amount) \
         from (select *, row_number() over (order by order_id) as rn, count(*) over () as n from t)",
    )
    .await;
    let (r, report) = validate_json(tmp.path());
    assert_eq!(r.code, 1, "{}", r.stdout);
    let f = finding(&report, "not_a_number", "orders");
    assert_eq!(
        (f["column"].as_str(), f["count"].as_u64()),
        (Some("amount"), Some(6))
    );
    assert_eq!(f["examples"].as_array().unwrap().len(), 5);
    // −inf is not reported as a negative amount as well.
    assert!(
        !report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "negative_amount"),
        "{report}"
    );
    for command in [["abc-xyz"], ["rfm"]] {
        run(crmlens(tmp.path())
            .args(command)
            .args(["--dataset", "data"]))
        .assert_error(1, "is not an amount (NaN and infinities are not money)");
    }
}

/// Item 12: a purchase status no order has is named, with the statuses there are and the
/// closest one.
#[test]
fn a_typo_in_purchase_statuses_is_named() {
    let tmp = tempdir();
    generate(tmp.path());
    std::fs::write(
        tmp.path().join("crmlens.toml"),
        "purchase_statuses = [\"payed\"]\n",
    )
    .unwrap();
    let r = run(crmlens(tmp.path()).args(["rfm", "--dataset", "data", "--format", "csv"]));
    assert!(
        r.stderr.contains(
            "purchase_statuses: no order has status \"payed\" (did you mean \"paid\"?); the orders' statuses are \"cancelled\", \"paid\", \"refunded\""
        ),
        "{}",
        r.stderr
    );
}

/// Item 15: a CLV fit that fails (as_of before every purchase) fails the segments that need
/// the model, naming the fit's error, and not the others nor the rest of the nightly run; the
/// exit code says something failed.
#[test]
fn a_failed_clv_fit_stops_only_what_needs_the_model() {
    let tmp = tempdir();
    generate(tmp.path());
    let segments = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/segments");
    let r = run(crmlens(tmp.path())
        .args([
            "segment",
            "run",
            "--all",
            "--dataset",
            "data",
            "--as-of",
            "2022-06-30",
        ])
        .args(["--format", "json", "--segments"])
        .arg(&segments));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let failures = summary["failures"].as_array().unwrap();
    assert!(!failures.is_empty(), "{summary}");
    for f in failures {
        assert!(
            f["error"]
                .as_str()
                .unwrap()
                .contains("the CLV model could not be fitted"),
            "{f}"
        );
    }
    assert!(summary["ok"].as_u64().unwrap() > 0, "{summary}");

    let r = run(crmlens(tmp.path())
        .args([
            "run",
            "--dataset",
            "data",
            "--as-of",
            "2022-06-30",
            "--out",
            "nightly",
        ])
        .arg("--queries")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/nightly"))
        .arg("--segments")
        .arg(&segments)
        .arg("--reports")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/reports")));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("the CLV model could not be fitted"),
        "{}",
        r.stderr
    );
    for report in ["sales", "customers", "campaigns"] {
        let html = tmp.path().join(format!("nightly/reports/{report}.html"));
        assert!(html.is_file(), "{}", html.display());
    }
}

/// Item 13: money is summed exactly. The same query gives the same bytes with 1, 3 or 8
/// partitions, and amounts are written at currency precision (float sums printed
/// `5921.949999999999` on one run and `5921.95` on the next).
#[test]
fn money_is_the_same_bytes_with_any_partitioning() {
    let tmp = tempdir();
    generate(tmp.path());
    let sql = "select customer_id, monetary, revenue_365d, refunded_amount, margin \
               from customer_features order by customer_id";
    let mut outputs = Vec::new();
    for partitions in [1, 3, 8] {
        std::fs::write(
            tmp.path().join("crmlens.toml"),
            format!("[engine]\ntarget_partitions = {partitions}\n"),
        )
        .unwrap();
        let mut out = String::new();
        for args in [
            vec!["rfm"],
            vec!["abc-xyz"],
            vec!["managers"],
            vec!["sql", sql],
        ] {
            let r = run(crmlens(tmp.path())
                .args(["--dataset", "data", "--format", "csv"])
                .args(&args));
            assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
            out.push_str(&r.stdout);
        }
        outputs.push(out);
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    // Every amount of the customer features has at most two decimals.
    let features = outputs[0].rsplit("customer_id,monetary").next().unwrap();
    for line in features.lines().skip(1) {
        for amount in line.split(',').skip(1).filter(|v| !v.is_empty()) {
            let decimals = amount.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(decimals <= 2, "{line}");
        }
    }
}

/// Item 13: the nightly job over the demo dataset writes byte-identical result files on three
/// runs.
#[test]
fn nightly_results_are_identical_on_every_run() {
    let tmp = tempdir();
    let demo = crate::common::demo();
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/nightly");
    let mut runs = Vec::new();
    for n in 0..3 {
        let out = format!("nightly{n}");
        let r = run(crmlens(tmp.path())
            .arg("run")
            .arg("--dataset")
            .arg(&demo)
            .args([
                "--out",
                &out,
                "--segments",
                "none",
                "--reports",
                "none",
                "--queries",
            ])
            .arg(&queries));
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(tmp.path().join(&out))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        files.sort();
        assert_eq!(files.len(), 7, "{files:?}");
        runs.push(files);
    }
    assert!(runs[0] == runs[1] && runs[0] == runs[2]);
}

/// Item 16: a NULL customer id fails `segment run` naming the table, the column and the
/// segments (it was a raw Arrow message about a non-nullable column), and a memory limit too
/// small for the run says which setting to raise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_keys_and_small_memory_limits_are_named() {
    let tmp = tempdir();
    generate(tmp.path());
    let segments = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/segments");
    let segment_run = |dir: &Path| {
        run(crmlens(dir)
            .args(["segment", "run", "--all", "--dataset", "data", "--segments"])
            .arg(&segments))
    };
    std::fs::write(
        tmp.path().join("crmlens.toml"),
        "[engine]\nmemory_limit = \"1MB\"\n",
    )
    .unwrap();
    segment_run(tmp.path()).assert_error(3, "raise `[engine] memory_limit` in crmlens.toml");
    std::fs::remove_file(tmp.path().join("crmlens.toml")).unwrap();
    rewrite(
        &tmp.path().join("data"),
        "customers",
        "select * replace (case when customer_id = (select min(customer_id) from t) \
           then null else customer_id end as customer_id) from t",
    )
    .await;
    let r = segment_run(tmp.path());
    r.assert_error(1, "customers.customer_id has 1 NULL value(s)");
    assert!(r.stderr.contains("champions"), "{}", r.stderr);
}
