//! End-to-end checks on small generated datasets: byte-identical output whatever the thread
//! count, the contract (schema, nulls, enumerations, keys, references, time bounds), the
//! output-directory rules, and the statistical shape the analyses rely on.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{Decimal128Type, Int64Type, TimestampMicrosecondType};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;
use crate::dataset::schema::{table_spec, tables};

pub(super) fn opts(out: &Path, customers: u64, threads: usize) -> GenerateOptions {
    GenerateOptions {
        out: out.to_path_buf(),
        customers,
        threads,
        ..GenerateOptions::default()
    }
}

/// The Parquet files of a table, single file or folder of parts, in name order.
fn table_files(dir: &Path, table: &str) -> Vec<PathBuf> {
    let single = dir.join(format!("{table}.parquet"));
    if single.is_file() {
        return vec![single];
    }
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dir.join(table))
        .expect(table)
        .map(|e| e.expect("entry").path())
        .collect();
    parts.sort();
    parts
}

/// A whole table as one batch.
pub(super) struct T(pub RecordBatch);

pub(super) fn read(dir: &Path, table: &str) -> T {
    let schema = std::sync::Arc::new(table_spec(table).expect(table).arrow_schema());
    let mut batches = Vec::new();
    for f in table_files(dir, table) {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).expect("open"))
            .expect("parquet");
        let file_schema = reader.schema().clone();
        assert_eq!(file_schema.fields(), schema.fields(), "{}", f.display());
        for b in reader.build().expect("reader") {
            batches.push(b.expect("batch"));
        }
    }
    T(concat_batches(&schema, &batches).expect("concat"))
}

impl T {
    pub(super) fn rows(&self) -> usize {
        self.0.num_rows()
    }
    pub(super) fn col(&self, name: &str) -> &dyn Array {
        self.0
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .as_ref()
    }
    pub(super) fn str(&self, name: &str) -> Vec<Option<String>> {
        self.col(name)
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }
    pub(super) fn s(&self, name: &str) -> Vec<String> {
        self.str(name)
            .into_iter()
            .map(|v| v.unwrap_or_default())
            .collect()
    }
    pub(super) fn ts(&self, name: &str) -> Vec<Option<i64>> {
        self.col(name)
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect()
    }
    pub(super) fn money(&self, name: &str) -> Vec<i128> {
        self.col(name)
            .as_primitive::<Decimal128Type>()
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect()
    }
    pub(super) fn int(&self, name: &str) -> Vec<i64> {
        self.col(name)
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect()
    }
    pub(super) fn bools(&self, name: &str) -> Vec<bool> {
        self.col(name)
            .as_boolean()
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect()
    }
}

/// Every file under `dir` (relative path → bytes).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).expect("prefix").to_path_buf(),
                    std::fs::read(&p).expect("read"),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (layout, single_max) in [("single", u64::MAX), ("split", 0)] {
        let a = tmp.path().join(format!("{layout}-1"));
        let b = tmp.path().join(format!("{layout}-3"));
        run(&opts(&a, 700, 1), 128, single_max).expect("generate");
        let summary = run(&opts(&b, 700, 3), 128, single_max).expect("generate");
        let (sa, sb) = (snapshot(&a), snapshot(&b));
        assert!(sa.len() >= 16, "{layout}: {} files", sa.len());
        assert_eq!(sa.len(), sb.len());
        for (x, y) in sa.iter().zip(&sb) {
            assert_eq!(x.0, y.0);
            assert!(
                x.1 == y.1,
                "{layout}: {} differs between 1 and 3 threads",
                x.0.display()
            );
        }
        if layout == "split" {
            assert!(b.join("orders").join("part-00005.parquet").is_file());
            assert!(b.join("managers.parquet").is_file() && b.join("plans.parquet").is_file());
        }
        assert_eq!(summary.tables.len(), tables().len());
    }
    let c = tmp.path().join("other-seed");
    run(
        &GenerateOptions {
            seed: 7,
            ..opts(&c, 700, 2)
        },
        128,
        u64::MAX,
    )
    .expect("generate");
    let orders = |d: &Path| std::fs::read(d.join("orders.parquet")).expect("orders");
    assert_ne!(orders(&c), orders(&tmp.path().join("single-1")));
}

/// Schema, nulls, enumerations, ranges, keys, references and time bounds of every table.
fn check_contract(dir: &Path, summary: &GenerateSummary) {
    let data: HashMap<&str, T> = tables()
        .iter()
        .map(|t| (t.name, read(dir, t.name)))
        .collect();
    let start_us = GenerateOptions::default()
        .start
        .and_hms_opt(0, 0, 0)
        .expect("time")
        .and_utc()
        .timestamp_micros();
    let end_us = summary
        .as_of
        .and_hms_opt(23, 59, 59)
        .expect("time")
        .and_utc()
        .timestamp_micros()
        + 999_999;
    for spec in tables() {
        let t = &data[spec.name];
        let row = summary
            .tables
            .iter()
            .find(|x| x.table == spec.name)
            .expect("summary row");
        let (rows, bytes) = (row.rows, row.bytes);
        assert_eq!(rows as usize, t.rows(), "{}", spec.name);
        let on_disk: u64 = table_files(dir, spec.name)
            .iter()
            .map(|f| f.metadata().expect("meta").len())
            .sum();
        assert_eq!(bytes, on_disk, "{}", spec.name);
        assert!(t.rows() > 0, "{} is empty", spec.name);
        for c in &spec.columns {
            let a = t.col(c.name);
            if !c.nullable {
                assert_eq!(a.null_count(), 0, "{}.{} has nulls", spec.name, c.name);
            }
            if !c.values.is_empty() {
                for v in t.str(c.name).into_iter().flatten() {
                    assert!(
                        c.values.contains(&v.as_str()),
                        "{}.{} = {v}",
                        spec.name,
                        c.name
                    );
                }
            }
            if let Some((lo, hi)) = c.range {
                assert!(
                    t.int(c.name).iter().all(|v| (lo..=hi).contains(v)),
                    "{}.{}",
                    spec.name,
                    c.name
                );
            }
            if c.kind == crate::dataset::schema::ColumnKind::Timestamp {
                for v in t.ts(c.name).into_iter().flatten() {
                    assert!(
                        v >= start_us && v <= end_us,
                        "{}.{} = {v} outside the period",
                        spec.name,
                        c.name
                    );
                }
            }
        }
        if !spec.key.is_empty() {
            let parts: Vec<Vec<String>> = spec
                .key
                .iter()
                .map(|k| match t.col(k).data_type() {
                    datafusion::arrow::datatypes::DataType::Utf8 => t.s(k),
                    _ => t.ts(k).into_iter().map(|v| format!("{v:?}")).collect(),
                })
                .collect();
            let keys: HashSet<String> = (0..t.rows())
                .map(|i| {
                    parts
                        .iter()
                        .map(|p| p[i].as_str())
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect();
            assert_eq!(keys.len(), t.rows(), "{}: duplicate keys", spec.name);
        }
        for r in spec.references.iter() {
            let targets: HashSet<String> = data[r.table].s(r.target).into_iter().collect();
            for v in t.str(r.column).into_iter().flatten() {
                assert!(
                    targets.contains(&v),
                    "{}.{} = {v} not in {}",
                    spec.name,
                    r.column,
                    r.table
                );
            }
        }
    }
}

#[test]
fn every_table_keeps_the_contract_in_both_layouts() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let single = tmp.path().join("single");
    let summary = run(&opts(&single, 1500, 2), 512, u64::MAX).expect("generate");
    check_contract(&single, &summary);
    let split = tmp.path().join("split");
    let summary = run(&opts(&split, 600, 2), 128, 0).expect("generate");
    check_contract(&split, &summary);
}

#[test]
fn refuses_to_overwrite_what_it_did_not_write() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("data");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    assert!(matches!(generate(&opts(&out, 50, 1)), Err(Error::Usage(_))));
    std::fs::remove_file(out.join("notes.txt")).expect("rm");
    generate(&opts(&out, 50, 1)).expect("empty directory");
    generate(&opts(&out, 60, 1)).expect("replaces its own output");
    assert_eq!(read(&out, "customers").rows(), 60);
    // Temporary files an interrupted run left behind are its own output too.
    std::fs::write(out.join(".orders.parquet.Ab12Cd.tmp"), "partial").expect("write");
    generate(&opts(&out, 60, 1)).expect("replaces an interrupted run's leftovers");
    assert!(!out.join(".orders.parquet.Ab12Cd.tmp").exists());
    std::fs::write(out.join("notes.txt"), "mine").expect("write");
    assert!(matches!(generate(&opts(&out, 50, 1)), Err(Error::Usage(_))));
    assert!(out.join("notes.txt").is_file());
    assert!(matches!(
        generate(&opts(&out.join("notes.txt"), 50, 1)),
        Err(Error::Usage(_))
    ));
    let fresh = tmp.path().join("fresh");
    assert!(matches!(
        generate(&opts(&fresh, 0, 1)),
        Err(Error::Usage(_))
    ));
    assert!(matches!(
        generate(&GenerateOptions {
            months: 0,
            ..opts(&fresh, 10, 1)
        }),
        Err(Error::Usage(_))
    ));
    let leftovers = std::fs::read_dir(&out)
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(leftovers, 0);
}
