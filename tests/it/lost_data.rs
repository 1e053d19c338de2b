//! Issue 18, "lost data" and the file handling around it: each test is one reproduction of
//! the issue (its number in the test's comment), kept so it stays fixed. Imports that lose no
//! rows (an unterminated quote, two appends at once, a kill at any moment, an empty file with
//! --overwrite), results that never overwrite the dataset, files that are what their name
//! says, deep expressions, and output files' permissions and leftovers.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::cli_import::table;
use crate::common::{crmlens, parquet_rows, run, tempdir};

const MAPPING: &str = r#"
timezone = "UTC"
date_formats = ["%Y-%m-%d"]

[customers]
file = "customers*.csv"
columns = { id = "customer_id", name = "name", email = "email", city = "city", created = "created_at" }
constants = { kind = "person", country = "RU" }

[orders]
file = "orders*.csv"
columns = { id = "order_id", customer = "customer_id", date = "ordered_at", amount = "amount", status = "status" }
constants = { currency = "RUB" }
"#;

/// Customers `C{from}`..`C{to}` (exclusive), one line each.
fn customers(from: usize, to: usize) -> String {
    let mut s = String::from("id,name,email,city,created\n");
    for i in from..to {
        s.push_str(&format!(
            "C{i},Name {i},n{i}@mail.ru,Moscow,2024-01-{:02}\n",
            i % 28 + 1
        ));
    }
    s
}

/// Orders `{prefix}{i}` for i in 0..n, over customers `C0`..`C{customers}`.
fn orders(prefix: &str, n: usize, customers: usize) -> String {
    let mut s = String::from("id,customer,date,amount,status\n");
    for i in 0..n {
        s.push_str(&format!(
            "{prefix}{i},C{},2024-02-{:02},{}.{:02},paid\n",
            i % customers,
            i % 28 + 1,
            100 + i % 900,
            i % 100
        ));
    }
    s
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("crmlens")
}

/// `--format json import --mapping m.toml --out OUT --input FILES… EXTRA…`.
fn import_args<'a>(out: &'a str, files: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--format",
        "json",
        "import",
        "--mapping",
        "m.toml",
        "--out",
        out,
        "--input",
    ];
    args.extend(files);
    args.extend(extra);
    args
}

/// `crmlens` [`import_args`] in `dir`, with the mapping written there.
fn import(dir: &Path, out: &str, files: &[&str], extra: &[&str]) -> crate::common::Run {
    std::fs::write(dir.join("m.toml"), MAPPING).unwrap();
    run(crmlens(dir).args(import_args(out, files, extra)))
}

fn spawn_import(
    dir: &Path,
    out: &str,
    files: &[&str],
    extra: &[&str],
    env: &[(&str, String)],
) -> Child {
    let mut cmd = std::process::Command::new(bin());
    cmd.current_dir(dir)
        .arg("-q")
        .args(import_args(out, files, extra))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn csv_lines(path: &Path) -> usize {
    if !path.exists() {
        return 0;
    }
    csv::Reader::from_path(path).unwrap().records().count()
}

fn sql_csv(dir: &Path, dataset: &Path, query: &str) -> crate::common::Run {
    run(crmlens(dir)
        .arg("--dataset")
        .arg(dataset)
        .args(["--format", "csv", "sql", query]))
}

fn generate(dir: &Path, out: &str, customers: &str) {
    let r = run(crmlens(dir).args([
        "generate",
        "--out",
        out,
        "--customers",
        customers,
        "--seed",
        "1",
        "--months",
        "6",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// A folder with 50 customers and 100 orders imported into `out`.
fn first_import() -> tempfile::TempDir {
    let tmp = tempdir();
    let dir = tmp.path();
    std::fs::write(dir.join("customers.csv"), customers(0, 50)).unwrap();
    std::fs::write(dir.join("orders.csv"), orders("Z", 100, 50)).unwrap();
    let r = import(dir, "out", &["customers.csv", "orders.csv"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    tmp
}

/// 5: an unterminated quote in row 10 of a 286-row file cost one row, not 277: the record
/// where the quote opened is quarantined, naming its line, and every other record is loaded
/// — also when later records hold quoted fields the stray quote would pair with.
#[test]
fn an_unterminated_quote_costs_only_its_own_record() {
    for later_quotes in [false, true] {
        let tmp = tempdir();
        let dir = tmp.path();
        let mut text = String::from("id,name,email,city,created\n");
        for i in 1..=286 {
            let line = match i {
                10 => format!("C{i},\"Name {i},n{i}@mail.ru,Moscow,2024-01-10\n"),
                20 | 200 if later_quotes => {
                    format!("C{i},\"Smith, John {i}\",n{i}@mail.ru,Moscow,2024-01-11\n")
                }
                _ => format!("C{i},Name {i},n{i}@mail.ru,Moscow,2024-01-12\n"),
            };
            text.push_str(&line);
        }
        std::fs::write(dir.join("customers.csv"), text).unwrap();
        std::fs::write(dir.join("orders.csv"), orders("Z", 0, 1)).unwrap();
        let r = import(
            dir,
            "out",
            &["customers.csv", "orders.csv"],
            &["--no-merge"],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let t = table(&s, "customers");
        assert_eq!(
            (
                t["input"].as_u64(),
                t["loaded"].as_u64(),
                t["quarantined"].as_u64()
            ),
            (Some(286), Some(285), Some(1)),
            "{s}"
        );
        let mut q = csv::Reader::from_path(dir.join("out/quarantine/customers.csv")).unwrap();
        let rows: Vec<csv::StringRecord> = q.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            &rows[0][1], "11",
            "the line where the quote opened: {:?}",
            rows[0]
        );
        assert!(rows[0][2].contains("quote"), "{:?}", rows[0]);
        assert!(
            !rows[0][3].contains("C11"),
            "only its own record: {:?}",
            rows[0]
        );
        let out = dir.join("out");
        assert_eq!(parquet_rows(&out.join("customers.parquet")), 285);
        if later_quotes {
            let r = sql_csv(
                dir,
                &out,
                "select name from customers where customer_id = 'C200'",
            );
            assert_eq!(r.stdout, "name\n\"Smith, John 200\"\n", "{}", r.stderr);
        }
    }
}

/// 6: two `import --append` at once into one folder: the second waits for the first, and
/// every row of both is there.
#[test]
fn concurrent_appends_lose_no_rows() {
    let tmp = first_import();
    let dir = tmp.path();
    std::fs::write(dir.join("orders_a.csv"), orders("A", 20_000, 50)).unwrap();
    std::fs::write(dir.join("orders_b.csv"), orders("B", 20_000, 50)).unwrap();
    let a = spawn_import(dir, "out", &["orders_a.csv"], &["--append"], &[]);
    let b = spawn_import(dir, "out", &["orders_b.csv"], &["--append"], &[]);
    crate::common::wait_all_ok([a, b]);
    assert_eq!(parquet_rows(&dir.join("out/orders.parquet")), 40_100);
}

/// The row counts that tell an import's states apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    customers: i64,
    orders: i64,
    merges: usize,
    quarantined: usize,
}

fn state(out: &Path) -> State {
    State {
        customers: parquet_rows(&out.join("customers.parquet")),
        orders: parquet_rows(&out.join("orders.parquet")),
        merges: csv_lines(&out.join("merges.csv")),
        quarantined: csv_lines(&out.join("quarantine/customers.csv"))
            + csv_lines(&out.join("quarantine/orders.csv")),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).unwrap();
    }
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

/// After a killed append: the dataset validates and is wholly the old one or wholly the new
/// one; the same append run again gives exactly the new one; no temporary file is left.
fn check_after_kill(dir: &Path, work: &Path, old: State, new: State, what: &str) {
    let r = run(crmlens(dir)
        .arg("--dataset")
        .arg(work)
        .args(["validate", "--format", "json"]));
    assert_eq!(r.code, 0, "{what}: {}{}", r.stdout, r.stderr);
    let s = state(work);
    assert!(
        s == old || s == new,
        "{what}: {s:?} is neither {old:?} nor {new:?}"
    );
    let r = import(
        dir,
        work.to_str().unwrap(),
        &["customers_2.csv", "orders_2.csv"],
        &["--append"],
    );
    assert_eq!(r.code, 0, "{what}: {}", r.stderr);
    let again = state(work);
    if s == old {
        assert_eq!(again, new, "{what}: the append run again");
    } else {
        // The append was already in: run again, no row is added.
        assert_eq!(
            (again.customers, again.orders),
            (new.customers, new.orders),
            "{what}"
        );
    }
    let leftovers: Vec<String> = walk(work)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with('.') && name != ".lock"
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(leftovers.is_empty(), "{what}: {leftovers:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// 7: `kill -9` at any moment of an append leaves the old dataset or the new one, never
/// customers new and orders or merges old. Killed from outside at times spread over a run,
/// and (the test hook `CRMLENS_TEST_ABORT_AFTER_FILES`) after each file the import writes.
#[test]
fn a_killed_append_leaves_the_old_dataset_or_the_new_one() {
    let tmp = tempdir();
    let dir = tmp.path();
    std::fs::write(dir.join("customers_1.csv"), customers(0, 300)).unwrap();
    std::fs::write(dir.join("orders_1.csv"), orders("Z", 3_000, 300)).unwrap();
    // The second delivery: 300 new cards, 30 of which are earlier cards under a new id (same
    // e-mail: merged), and orders for old, new and merged cards.
    let mut second = customers(300, 600);
    for i in 0..30 {
        second.push_str(&format!("D{i},Name {i},n{i}@mail.ru,Moscow,2024-03-01\n"));
    }
    std::fs::write(dir.join("customers_2.csv"), second).unwrap();
    let mut more = orders("Y", 3_000, 600);
    for i in 0..30 {
        more.push_str(&format!("X{i},D{i},2024-03-02,10.00,paid\n"));
    }
    std::fs::write(dir.join("orders_2.csv"), more).unwrap();
    let r = import(dir, "base", &["customers_1.csv", "orders_1.csv"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let old = state(&dir.join("base"));

    copy_dir(&dir.join("base"), &dir.join("full"));
    let started = Instant::now();
    let r = import(
        dir,
        "full",
        &["customers_2.csv", "orders_2.csv"],
        &["--append"],
    );
    let took = started.elapsed();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let new = state(&dir.join("full"));
    assert_eq!(
        (new.customers, new.orders, new.merges),
        (600, 6_030, 30),
        "{new:?}"
    );

    let work = dir.join("work");
    let kills = 16;
    for k in 0..kills {
        copy_dir(&dir.join("base"), &work);
        let mut child = spawn_import(
            dir,
            "work",
            &["customers_2.csv", "orders_2.csv"],
            &["--append"],
            &[],
        );
        std::thread::sleep(took.mul_f64(k as f64 / kills as f64));
        let _ = child.kill();
        let _ = child.wait();
        check_after_kill(
            dir,
            &work,
            old,
            new,
            &format!("killed after {k}/{kills} of a run"),
        );
    }
    for n in 1..=12 {
        copy_dir(&dir.join("base"), &work);
        let child = spawn_import(
            dir,
            "work",
            &["customers_2.csv", "orders_2.csv"],
            &["--append"],
            &[("CRMLENS_TEST_ABORT_AFTER_FILES", n.to_string())],
        );
        let out = child.wait_with_output().unwrap();
        let what = format!("aborted after {n} file(s)");
        if out.status.success() {
            // Fewer files than n: the import ran to the end.
            assert_eq!(state(&work), new, "{what}");
            break;
        }
        check_after_kill(dir, &work, old, new, &what);
    }
}

/// 8: results are never written into the dataset: not over a table (`sql --output
/// g/orders.parquet` replaced 50,182 orders with 2,506), not into its folder (`segment run
/// --out g` broke every later command). Usage errors, exit 2, the dataset untouched.
#[test]
fn results_are_never_written_into_the_dataset() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "g", "200");
    let orders = parquet_rows(&dir.join("g/orders.parquet"));
    let listing = |d: &Path| {
        let mut v: Vec<String> = walk(d).iter().map(|p| p.display().to_string()).collect();
        v.sort();
        v
    };
    let before = listing(&dir.join("g"));
    for args in [
        vec![
            "--output",
            "g/orders.parquet",
            "sql",
            "select * from orders where status = 'cancelled'",
        ],
        vec!["--output", "./g/../g/new.parquet", "sql", "select 1 as x"],
        vec!["--output", "g/sub/x.csv", "sql", "select 1 as x"],
        vec!["segment", "run", "--all", "--out", "g"],
        vec!["segment", "run", "--all", "--out", "g/segments"],
        vec!["run", "--out", "g"],
        vec!["report", "run", "sales", "--out", "g/reports"],
    ] {
        let r = run(crmlens(dir).args(["--dataset", "g"]).args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("inside the dataset"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert_eq!(listing(&dir.join("g")), before);
    assert_eq!(parquet_rows(&dir.join("g/orders.parquet")), orders);
    let r = sql_csv(dir, &dir.join("g"), "select count(*) as n from orders");
    assert_eq!(r.stdout, format!("n\n{orders}\n"), "{}", r.stderr);
}

/// 8: an empty import file with `--overwrite` does not silently empty the table: refused,
/// naming the file and the flag that allows it; with the flag the table is emptied.
#[test]
fn an_empty_file_does_not_silently_empty_a_table() {
    let tmp = first_import();
    let dir = tmp.path();
    std::fs::write(
        dir.join("orders_empty.csv"),
        "id,customer,date,amount,status\n",
    )
    .unwrap();
    let r = import(
        dir,
        "out",
        &["customers.csv", "orders_empty.csv"],
        &["--overwrite"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("orders_empty.csv") && r.stderr.contains("--allow-empty"),
        "{}",
        r.stderr
    );
    assert_eq!(parquet_rows(&dir.join("out/orders.parquet")), 100);
    assert_eq!(parquet_rows(&dir.join("out/customers.parquet")), 50);
    let r = import(
        dir,
        "out",
        &["customers.csv", "orders_empty.csv"],
        &["--overwrite", "--allow-empty"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(parquet_rows(&dir.join("out/orders.parquet")), 0);
}

/// 12: a zero-byte or non-Parquet `.parquet` file in a dataset is an error naming the file,
/// not an empty table.
#[test]
fn a_file_that_is_not_parquet_is_an_error_naming_it() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "g", "100");
    for (name, bytes) in [
        ("orders.parquet", &b""[..]),
        ("notes.parquet", &b"id,text\n1,x\n"[..]),
    ] {
        let path = dir.join("g").join(name);
        let keep = std::fs::read(&path).ok();
        std::fs::write(&path, bytes).unwrap();
        let r = sql_csv(dir, &dir.join("g"), "select count(*) as n from customers");
        assert_eq!(r.code, 1, "{name}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(name), "{name}: {}", r.stderr);
        match keep {
            Some(b) => std::fs::write(&path, b).unwrap(),
            None => std::fs::remove_file(&path).unwrap(),
        }
    }
}

/// 12: the output's format and its file name agree: the format follows the extension, a
/// `--format` that contradicts the extension or an extension that names no format is a
/// usage error (never CSV inside a `.parquet` file, never the human table in `x.txt`), and
/// `.tsv` is tab-separated.
#[test]
fn the_output_format_and_the_file_name_agree() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "g", "100");
    let q = "select customer_id, name from customers order by 1 limit 2";
    let sql = |args: &[&str]| {
        run(crmlens(dir)
            .args(["--dataset", "g"])
            .args(args)
            .args(["sql", q]))
    };
    for (args, file) in [
        (
            vec!["--format", "csv", "--output", "x.parquet"],
            "x.parquet",
        ),
        (vec!["--format", "parquet", "--output", "x.csv"], "x.csv"),
        (vec!["--format", "table", "--output", "x.json"], "x.json"),
        (vec!["--output", "x.txt"], "x.txt"),
        (vec!["--output", "noext"], "noext"),
    ] {
        let r = sql(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("--format") && r.stderr.contains(file),
            "{args:?}: {}",
            r.stderr
        );
        assert!(!dir.join(file).exists(), "{args:?}");
    }
    let r = sql(&["--output", "x.tsv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(dir.join("x.tsv")).unwrap();
    assert!(text.starts_with("customer_id\tname\n"), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    let r = sql(&["--format", "table", "--output", "x.txt"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        std::fs::read_to_string(dir.join("x.txt"))
            .unwrap()
            .contains("2 rows")
    );
}

/// `n` terms `t0 op t1 op …`.
fn chain(n: usize, term: impl Fn(usize) -> String, op: &str) -> String {
    (0..n).map(term).collect::<Vec<_>>().join(op)
}

/// 14: a 10,000-term `OR` chain runs (it aborted the process with a stack overflow, exit
/// 134, as `1+1+…` did); a 10,000-term `1+1+…` is refused with a message, exit 1.
#[test]
fn ten_thousand_term_expressions_do_not_overflow() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "g", "100");
    // As a file: 10,000 terms are longer than the system allows one argument to be.
    let sql_file = |query: String| {
        std::fs::write(dir.join("q.sql"), query).unwrap();
        run(crmlens(dir).args(["--dataset", "g", "--format", "csv", "sql", "-f", "q.sql"]))
    };
    let ors = chain(10_000, |i| format!("customer_id = 'C{i:07}'"), " or ");
    let r = sql_file(format!("select count(*) as n from customers where {ors}"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let all = sql_csv(dir, &dir.join("g"), "select count(*) as n from customers");
    assert_eq!(r.stdout, all.stdout);
    let r = sql_file(format!(
        "select {} as n",
        chain(10_000, |_| "1".into(), "+")
    ));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("deeper than 1000 levels"), "{}", r.stderr);
}

/// 14: as a segment filter, a 10,000-term chain runs and does not stop the other segments.
#[test]
fn a_deep_segment_filter_does_not_stop_the_others() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "g", "100");
    std::fs::create_dir_all(dir.join("segs")).unwrap();
    let ors = chain(10_000, |i| format!("frequency = {i}"), " or ");
    std::fs::write(dir.join("segs/deep.toml"), format!("filter = \"{ors}\"\n")).unwrap();
    std::fs::write(
        dir.join("segs/buyers.toml"),
        "filter = \"frequency >= 0\"\n",
    )
    .unwrap();
    let r = run(crmlens(dir).args([
        "--dataset",
        "g",
        "--format",
        "json",
        "segment",
        "run",
        "--all",
        "--segments",
        "segs",
        "--out",
        "snap",
    ]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["ok"], 2, "{s}");
    let count = |name: &str| {
        s["segments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap()["count"]
            .clone()
    };
    assert_eq!(count("deep"), count("buyers"), "{s}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `crmlens ARGS` under `umask`, through the shell.
#[cfg(unix)]
fn with_umask(dir: &Path, umask: &str, args: &[&str]) -> crate::common::Run {
    let mut line = format!("umask {umask}; exec '{}'", bin().display());
    for a in args {
        line.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
    }
    run(assert_cmd::Command::new("sh")
        .current_dir(dir)
        .args(["-c", &line]))
}

/// 17: output files get what the umask gives a newly created file (they were 0600
/// whatever the umask), and a file replaced keeps its permissions.
#[cfg(unix)]
#[test]
fn output_files_get_the_permissions_of_the_umask() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "g", "100");
    let q = ["--dataset", "g", "--output"];
    for (umask, expected) in [("022", 0o644), ("027", 0o640), ("002", 0o664)] {
        let file = format!("out{umask}.csv");
        let r = with_umask(
            dir,
            umask,
            &[&q[..], &[file.as_str(), "sql", "select 1 as x"]].concat(),
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(mode(&dir.join(&file)), expected, "umask {umask}");
    }
    // Replacing a 0644 file under umask 077 keeps it 0644.
    let r = with_umask(
        dir,
        "077",
        &[&q[..], &["out022.csv", "sql", "select 2 as x"]].concat(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("out022.csv")).unwrap(),
        "x\n2\n"
    );
    assert_eq!(mode(&dir.join("out022.csv")), 0o644);
    // A dataset written by generate and import: the same.
    let r = with_umask(
        dir,
        "022",
        &["generate", "--out", "g2", "--customers", "50"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(mode(&dir.join("g2/customers.parquet")), 0o644);
}

/// 17: the temporary file of a killed `--output` run is cleaned by the next run that writes
/// there.
#[test]
fn temporary_files_of_killed_runs_are_cleaned() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "g", "100");
    let mut child = std::process::Command::new(bin())
        .current_dir(dir)
        .args([
            "--dataset",
            "g",
            "--output",
            "big.csv",
            "sql",
            "select * from generate_series(1, 2000000000) as t(v)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let temps = || -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".big.csv"))
            .collect()
    };
    let started = Instant::now();
    while temps().is_empty() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(temps().len(), 1, "the killed run's temporary file");
    let r = run(crmlens(dir).args([
        "--dataset",
        "g",
        "--output",
        "big.csv",
        "sql",
        "select 1 as v",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(temps(), Vec::<String>::new());
    assert_eq!(
        std::fs::read_to_string(dir.join("big.csv")).unwrap(),
        "v\n1\n"
    );
}

/// 17: the spill folder of a killed run (`crmlens-spill-PID-…` under `[engine] spill_dir`) is
/// removed by the next run, which leaves none of its own.
#[test]
fn spill_folders_of_killed_runs_are_removed() {
    let tmp = tempdir();
    let dir = tmp.path();
    generate(dir, "g", "100");
    std::fs::write(
        dir.join("crmlens.toml"),
        "[engine]\nspill_dir = \"spill\"\n",
    )
    .unwrap();
    // No process has this pid (above Linux's pid_max).
    let stale = dir.join("spill/crmlens-spill-999999999-AbCdEf");
    std::fs::create_dir_all(stale.join(".tmpXYZ")).unwrap();
    std::fs::write(stale.join(".tmpXYZ/spill.arrow"), "spilled rows").unwrap();
    let r = sql_csv(dir, &dir.join("g"), "select count(*) as n from orders");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let left: Vec<PathBuf> = walk(&dir.join("spill"));
    assert!(left.is_empty(), "{left:?}");
}
