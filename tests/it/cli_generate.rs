//! `crmlens generate`: same seed → byte-identical files (whatever the thread count), another
//! seed → other data, a foreign non-empty directory is never overwritten.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{crmlens, parquet_rows, run, table_path, tempdir};

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn generate(dir: &Path, out: &str, extra: &[&str]) -> crate::common::Run {
    run(crmlens(dir)
        .args([
            "generate",
            "--out",
            out,
            "--customers",
            "400",
            "--seed",
            "7",
            "--format",
            "json",
        ])
        .args(extra))
}

#[test]
fn same_seed_gives_identical_files() {
    let tmp = tempdir();
    let a = generate(tmp.path(), "a", &["--threads", "1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    let b = generate(tmp.path(), "b", &["--threads", "2"]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    let (fa, fb) = (files(&tmp.path().join("a")), files(&tmp.path().join("b")));
    assert!(
        fa.keys().filter(|k| k.ends_with(".parquet")).count() >= 15,
        "{:?}",
        fa.keys()
    );
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{name} differs between two runs with the same seed"
        );
    }
    // Regenerating into the same directory replaces the previous output.
    let again = generate(tmp.path(), "a", &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(files(&tmp.path().join("a")), fa);

    let c = run(crmlens(tmp.path()).args([
        "generate",
        "--out",
        "c",
        "--customers",
        "400",
        "--seed",
        "8",
    ]));
    assert_eq!(c.code, 0);
    assert_ne!(
        files(&tmp.path().join("c"))["orders.parquet"],
        fa["orders.parquet"]
    );
}

#[test]
fn summary_matches_the_files() {
    let tmp = tempdir();
    let r = generate(tmp.path(), "d", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let tables = summary["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 15);
    for t in tables {
        let name = t["table"].as_str().unwrap();
        let rows = t["rows"].as_i64().unwrap();
        assert_eq!(
            rows,
            parquet_rows(&table_path(&tmp.path().join("d"), name)),
            "{name}"
        );
        assert!(rows > 0, "{name} is empty");
    }
    assert_eq!(parquet_rows(&tmp.path().join("d/customers.parquet")), 400);
}

#[test]
fn refuses_to_overwrite_a_foreign_directory() {
    let tmp = tempdir();
    std::fs::create_dir(tmp.path().join("mine")).unwrap();
    std::fs::write(tmp.path().join("mine/notes.txt"), "precious").unwrap();
    let r = generate(tmp.path(), "mine", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("mine"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("mine/notes.txt")).unwrap(),
        "precious"
    );
    let r = run(crmlens(tmp.path()).args(["generate", "--out", "x", "--customers", "0"]));
    assert_eq!(r.code, 2);
    let r = run(crmlens(tmp.path()).args(["generate", "--out", "x", "--months", "0"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--months must be between 1 and"),
        "{}",
        r.stderr
    );
}
