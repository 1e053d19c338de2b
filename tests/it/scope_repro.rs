//! The reproductions of issue 18's scope leaks (defects 1–4) on the demo dataset, each as the
//! issue ran it, with what a scope must show instead. Who owns which customer is read from the
//! Parquet files directly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;

use crate::common::{Run, crmlens, demo, parquet_rows, read_parquet, run, tempdir};

const SCOPE: &str = "manager=M001";

/// A customer as the files have it.
#[derive(Clone)]
struct Customer {
    owner: String,
    name: String,
    email: String,
}

/// Every customer of a dataset by id.
fn customers(dataset: &Path) -> BTreeMap<String, Customer> {
    let mut out = BTreeMap::new();
    for b in read_parquet(&dataset.join("customers.parquet")) {
        let col = |n: &str| cast(b.column_by_name(n).unwrap(), &DataType::Utf8).unwrap();
        let (id, owner, name, email) = (
            col("customer_id"),
            col("owner_manager_id"),
            col("name"),
            col("email"),
        );
        let text = |a: &dyn Array, i: usize| {
            let a = a.as_string::<i32>();
            if a.is_valid(i) {
                a.value(i).to_string()
            } else {
                String::new()
            }
        };
        for i in 0..b.num_rows() {
            out.insert(
                text(&id, i),
                Customer {
                    owner: text(&owner, i),
                    name: text(&name, i),
                    email: text(&email, i),
                },
            );
        }
    }
    out
}

/// The ids of a segment snapshot file.
fn member_ids(file: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for b in read_parquet(file) {
        let ids = cast(b.column(0), &DataType::Utf8).unwrap();
        out.extend(ids.as_string::<i32>().iter().flatten().map(str::to_string));
    }
    out
}

/// `crmlens --dataset demo [--scope S] ARGS` in `dir`.
fn demo_run(dir: &Path, scope: Option<&str>, args: &[&str]) -> Run {
    let mut cmd = crmlens(dir);
    cmd.arg("--dataset").arg(demo());
    if let Some(s) = scope {
        cmd.args(["--scope", s]);
    }
    run(cmd.args(args))
}

fn segments_dir() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("queries/segments")
        .to_string_lossy()
        .into_owned()
}

/// The only snapshot date of a segment folder.
fn only_date(dir: &Path) -> String {
    let dates: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(dates.len(), 1, "{dates:?}");
    dates[0].clone()
}

/// `segment run NAME --segments DIR --out o` on the demo dataset, JSON summary.
fn segment_run(dir: &Path, scope: Option<&str>, segments: &str, name: &str) -> Run {
    let args = [
        "--format",
        "json",
        "segment",
        "run",
        name,
        "--segments",
        segments,
    ];
    demo_run(dir, scope, &[&args[..], &["--out", "o"]].concat())
}

/// Runs the shipped `champions` segment without a scope into `dir/o`; its snapshot's date.
fn company_champions(dir: &Path, segments: &str) -> String {
    let r = segment_run(dir, None, segments, "champions");
    assert_eq!(r.code, 0, "{}", r.stderr);
    only_date(&dir.join("o/champions"))
}

/// The first customer of another manager, to aim queries at.
fn other_managers_customer(all: &BTreeMap<String, Customer>) -> (String, Customer) {
    all.iter()
        .find(|(_, c)| c.owner != "M001" && !c.name.is_empty() && !c.email.is_empty())
        .map(|(id, c)| (id.clone(), c.clone()))
        .unwrap()
}

/// Defect 1: a company-wide snapshot exported under a scope holds only the scope's customers.
#[test]
fn a_scoped_export_of_a_company_wide_snapshot_has_only_the_scope_customers() {
    let tmp = tempdir();
    let all = customers(&demo());
    let seg = segments_dir();
    let date = company_champions(tmp.path(), &seg);
    let company = member_ids(
        &tmp.path()
            .join(format!("o/champions/{date}/members.parquet")),
    );
    let expected: BTreeSet<String> = company
        .iter()
        .filter(|id| all[*id].owner == "M001")
        .cloned()
        .collect();
    assert!(!expected.is_empty() && expected.len() < company.len());

    let r = demo_run(
        tmp.path(),
        Some(SCOPE),
        &[
            "--format",
            "json",
            "segment",
            "export",
            "champions",
            "--out",
            "o",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    let got: BTreeSet<String> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rows.len(), got.len());
    assert_eq!(got, expected);
    let own: BTreeSet<&String> = all
        .values()
        .filter(|c| c.owner == "M001")
        .map(|c| &c.email)
        .collect();
    for (id, c) in &all {
        if c.owner != "M001" && !c.email.is_empty() && !own.contains(&c.email) {
            assert!(
                !r.stdout.contains(&c.email),
                "{id}'s e-mail {} exported",
                c.email
            );
        }
    }
    // Without a scope the export is the whole snapshot.
    let r = demo_run(
        tmp.path(),
        None,
        &[
            "--format",
            "json",
            "segment",
            "export",
            "champions",
            "--out",
            "o",
        ],
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len(), company.len());
}

/// Defect 2: a user's condition is evaluated on the scope's rows only, through every entry
/// point: its errors cannot quote another manager's customer, and a division by zero or
/// EXPLAIN ANALYZE aimed at one behave as for a customer that does not exist.
#[test]
fn conditions_never_see_other_managers_rows() {
    let tmp = tempdir();
    let all = customers(&demo());
    let (id, other) = other_managers_customer(&all);
    let mine = all.values().filter(|c| c.owner == "M001").count();
    let no_leak = |r: &Run, what: &str| {
        for text in [&r.stdout, &r.stderr] {
            assert!(
                !text.contains(&other.name) && !text.contains(&other.email),
                "{what} shows {id}'s name or e-mail:\n{text}"
            );
        }
    };
    let sql = |q: &str| demo_run(tmp.path(), Some(SCOPE), &["--format", "csv", "sql", q]);
    // The reproduction: the error message quoted the name and e-mail.
    let r = sql(&format!(
        "select count(*) as n from customers where case when customer_id = '{id}' then \
         cast(concat(name, ' | ', email) as int) else 0 end > 0"
    ));
    no_leak(&r, "sql");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "n\n0\n");
    // Division by zero on one chosen row was a yes/no oracle.
    let oracle = |target: &str| {
        sql(&format!(
            "select count(*) as n from orders where 1 / (case when customer_id = '{target}' then 0 else 1 end) > 0"
        ))
    };
    let (aimed, absent) = (oracle(&id), oracle("NOBODY"));
    assert_eq!(
        (aimed.code, &aimed.stdout),
        (absent.code, &absent.stdout),
        "{}",
        aimed.stderr
    );
    assert_eq!(aimed.code, 0, "{}", aimed.stderr);
    // So were EXPLAIN ANALYZE's row counts.
    let analyze = |target: &str| {
        let r = sql(&format!(
            "explain analyze select count(*) from orders where customer_id = '{target}' and amount > 0"
        ));
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
            .split("metrics=[")
            .skip(1)
            .map(|m| m.split([',', ']']).next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(analyze(&id), analyze("NOBODY"));

    let condition =
        format!("case when customer_id = '{id}' then cast(name as int) > 0 else true end");
    // features --where
    let r = demo_run(
        tmp.path(),
        Some(SCOPE),
        &["--format", "json", "features", "--where", &condition],
    );
    no_leak(&r, "features --where");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len(), mine);
    // A segment's filter.
    std::fs::create_dir(tmp.path().join("segs")).unwrap();
    std::fs::write(
        tmp.path().join("segs/aimed.toml"),
        format!("filter = \"{condition}\"\ncolumns = [\"customer_id\"]\n"),
    )
    .unwrap();
    let r = segment_run(tmp.path(), Some(SCOPE), "segs", "aimed");
    no_leak(&r, "segment filter");
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A report section.
    std::fs::create_dir(tmp.path().join("reports")).unwrap();
    std::fs::write(
        tmp.path().join("reports/aimed.toml"),
        format!(
            "title = \"t\"\n[[section]]\nheading = \"h\"\nsql = \"select count(*) as n from customers where {condition}\"\nchart = \"none\"\n"
        ),
    )
    .unwrap();
    let r = demo_run(
        tmp.path(),
        Some(SCOPE),
        &[
            "report",
            "run",
            "aimed",
            "--reports",
            "reports",
            "--out",
            "rep",
        ],
    );
    no_leak(&r, "report");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(tmp.path().join("rep/aimed.html")).unwrap();
    assert!(!html.contains(&other.name), "the report shows {id}'s name");
}

/// Defect 3: EXPLAIN VERBOSE under a scope printed the whole table's Parquet statistics.
#[test]
fn explain_verbose_shows_nothing_of_the_whole_table() {
    let tmp = tempdir();
    let all = customers(&demo());
    let total_orders = parquet_rows(&demo().join("orders.parquet")).to_string();
    let emails: BTreeSet<&String> = all
        .values()
        .map(|c| &c.email)
        .filter(|e| !e.is_empty())
        .collect();
    let (first, last) = (emails.first().unwrap(), emails.last().unwrap());
    for q in [
        "explain verbose select * from orders",
        "explain verbose select * from customers",
    ] {
        let r = demo_run(tmp.path(), Some(SCOPE), &["--format", "csv", "sql", q]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        for hidden in [total_orders.as_str(), ".parquet", "DataSourceExec"] {
            assert!(
                !r.stdout.contains(hidden),
                "{q} shows {hidden}:\n{}",
                r.stdout
            );
        }
        for email in [first, last] {
            let owner = &all.values().find(|c| &&c.email == email).unwrap().owner;
            if owner != "M001" {
                assert!(!r.stdout.contains(email.as_str()), "{q} shows {email}");
            }
        }
        assert!(r.stdout.contains("ScopedScan"), "{}", r.stdout);
    }
}

/// Defect 4: list and show under a scope printed company-wide sizes, and a scoped run replaced
/// the company-wide snapshot of the same as_of.
#[test]
fn scoped_snapshots_have_their_own_folder_and_sizes() {
    let tmp = tempdir();
    let seg = segments_dir();
    let date = company_champions(tmp.path(), &seg);
    let company_manifest = tmp.path().join(format!("o/champions/{date}/manifest.json"));
    let before = std::fs::read_to_string(&company_manifest).unwrap();
    let list = |scope: Option<&str>| {
        let r = demo_run(
            tmp.path(),
            scope,
            &[
                "--format",
                "json",
                "segment",
                "list",
                "--segments",
                &seg,
                "--out",
                "o",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
        rows.into_iter()
            .find(|r| r["segment"] == "champions")
            .unwrap()
    };
    let company_count = list(None)["members"].as_i64().unwrap();
    assert!(company_count > 0);
    // Under the scope: no company-wide size.
    let row = list(Some(SCOPE));
    assert!(row["members"].is_null(), "{row}");
    let show = || {
        let r = demo_run(
            tmp.path(),
            Some(SCOPE),
            &[
                "--format",
                "json",
                "segment",
                "show",
                "champions",
                "--segments",
                &seg,
                "--out",
                "o",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let shown: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        shown["snapshots"].as_array().unwrap().clone()
    };
    assert_eq!(show(), Vec::<serde_json::Value>::new());

    // A scoped run of the same as_of goes to the scope's own folder.
    let r = segment_run(tmp.path(), Some(SCOPE), &seg, "champions");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&company_manifest).unwrap(), before);
    let scoped = tmp.path().join(format!(
        "o/scope-manager=M001/champions/{date}/members.parquet"
    ));
    let scoped_count = member_ids(&scoped).len() as i64;
    assert!(scoped_count > 0 && scoped_count < company_count);
    assert_eq!(list(Some(SCOPE))["members"].as_i64(), Some(scoped_count));
    assert_eq!(show()[0]["members"].as_i64(), Some(scoped_count));
    assert_eq!(list(None)["members"].as_i64(), Some(company_count));
}

/// Defect 4, last part: report templates could run COPY … TO and CREATE EXTERNAL TABLE (segment
/// files refuse them); now they only read, with or without a scope.
#[test]
fn report_templates_only_read() {
    let tmp = tempdir();
    std::fs::create_dir(tmp.path().join("reports")).unwrap();
    let target = tmp.path().join("leak.csv");
    for (name, sql) in [
        (
            "copy",
            format!(
                "copy (select customer_id, email from customers) to '{}'",
                target.display()
            ),
        ),
        (
            "external",
            format!(
                "create external table x stored as parquet location '{}'",
                demo().join("customers.parquet").display()
            ),
        ),
    ] {
        std::fs::write(
            tmp.path().join(format!("reports/{name}.toml")),
            format!("title = \"t\"\n[[key]]\nlabel = \"k\"\nsql = \"{sql}\"\n"),
        )
        .unwrap();
        for scope in [None, Some(SCOPE)] {
            let r = demo_run(
                tmp.path(),
                scope,
                &[
                    "report",
                    "run",
                    name,
                    "--reports",
                    "reports",
                    "--out",
                    "rep",
                ],
            );
            assert_eq!(r.code, 2, "{name} {scope:?}: {}", r.stderr);
            assert!(r.stderr.contains(&format!("{name}.toml")), "{}", r.stderr);
            assert!(r.stderr.contains("expected a query"), "{}", r.stderr);
        }
    }
    assert!(!target.exists());
}
