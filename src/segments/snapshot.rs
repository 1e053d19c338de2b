//! The snapshot store: `OUT/<segment>/<as_of>/` holding `members.parquet`, `entered.parquet`,
//! `exited.parquet` and `manifest.json`.
//!
//! A snapshot is written into a hidden staging folder beside its final place and renamed
//! into place when complete, so a reader never sees a half-written snapshot. Re-running an
//! as_of moves the old folder aside (`.<as_of>.old-…`), renames the new one in and deletes the
//! old one; a crash between the two renames is repaired by the next run ([`Store::recover`]).
//! Runs on one store take an exclusive lock on `OUT/.lock` (see [`Store::lock`]).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use crate::config::Scope;
use crate::output::{Format, OutputOptions, write_batches, write_file_atomic};
use crate::{Error, Result};

pub const MEMBERS: &str = "members.parquet";
pub const ENTERED: &str = "entered.parquet";
pub const EXITED: &str = "exited.parquet";
pub const MANIFEST: &str = "manifest.json";

/// What `manifest.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub segment: String,
    pub as_of: NaiveDate,
    /// Members (treatment + control).
    pub count: u64,
    /// Members held out (`is_control`).
    pub control: u64,
    pub holdout: f64,
    /// The snapshot the diff is against (the latest earlier as_of), if any.
    pub previous_as_of: Option<NaiveDate>,
    pub entered: u64,
    pub exited: u64,
    /// SHA-256 of the definition file and, recursively, of the definitions it depends on.
    pub definition_hash: String,
    /// SHA-256 of the dataset's files (relative path, size, modification time).
    pub dataset_fingerprint: String,
    pub dataset: PathBuf,
    /// The row-level scope of the run, if any.
    pub scope: Option<String>,
    /// Where p_alive, clv, … came from: a model file, or fitted in the run; None when the
    /// segment needs no model.
    pub clv_model: Option<String>,
    pub columns: Vec<String>,
    /// Rows of the segment's query whose customer_id is NULL (not members).
    pub null_ids: u64,
    /// customer_id values the query returned that are not customers (not members).
    pub unknown_ids: u64,
    /// Repeated customer_id values in the query's result (each member once).
    pub duplicate_ids: u64,
    pub duration_ms: u64,
    pub crmlens_version: String,
    /// When the snapshot was written (UTC, RFC 3339).
    pub created_at: String,
}

/// A folder of segment snapshots.
pub struct Store {
    pub dir: PathBuf,
}

/// The held lock of a store; released when dropped.
pub type Lock = crate::output::lock::DirLock;

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// The store of runs under `scope`: `dir` itself without one, else its folder
    /// `scope-<scope>` (bytes other than letters, digits and `=,._-` written `%XX`, so two
    /// scopes never share a folder; no segment name has a `=`, so no segment's either).
    pub fn for_scope(dir: impl Into<PathBuf>, scope: Option<&Scope>) -> Store {
        let dir = dir.into();
        match scope {
            None => Store { dir },
            Some(scope) => {
                let mut name = String::from("scope-");
                for b in scope.to_string().bytes() {
                    if b.is_ascii_alphanumeric() || b"=,._-".contains(&b) {
                        name.push(b as char);
                    } else {
                        name.push_str(&format!("%{b:02X}"));
                    }
                }
                Store {
                    dir: dir.join(name),
                }
            }
        }
    }

    pub fn segment_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn snapshot_dir(&self, name: &str, as_of: NaiveDate) -> PathBuf {
        self.segment_dir(name).join(as_of.to_string())
    }

    /// Takes the store's exclusive lock, waiting up to `wait` for another run to finish.
    pub fn lock(&self, wait: Duration) -> Result<Lock> {
        crate::output::lock::lock_dir(&self.dir, wait, "segment run")
    }

    /// Repairs what a crashed run left (call with the lock held): staging folders are
    /// deleted; a moved-aside old snapshot whose replacement never arrived is put back.
    pub fn recover(&self) -> Result<()> {
        let Ok(segments) = std::fs::read_dir(&self.dir) else {
            return Ok(());
        };
        for seg in segments.flatten() {
            let seg_dir = seg.path();
            if !seg_dir.is_dir() {
                continue;
            }
            let entries: Vec<PathBuf> = std::fs::read_dir(&seg_dir)
                .map_err(|e| Error::io(&seg_dir, e))?
                .flatten()
                .map(|e| e.path())
                .collect();
            for path in entries {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if !name.starts_with('.') {
                    continue;
                }
                if let Some((date, _)) = name[1..].split_once(".old-") {
                    let target = seg_dir.join(date);
                    if !target.exists() {
                        log::warn!(
                            "{}: restoring the snapshot a crashed run had moved aside",
                            target.display()
                        );
                        std::fs::rename(&path, &target).map_err(|e| Error::io(&path, e))?;
                        continue;
                    }
                }
                if name.contains(".tmp-") || name.contains(".old-") {
                    std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
                }
            }
        }
        Ok(())
    }

    /// The as_of dates with a complete snapshot of a segment, oldest first.
    pub fn snapshots(&self, name: &str) -> Result<Vec<NaiveDate>> {
        let dir = self.segment_dir(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(Vec::new());
        };
        let mut dates: Vec<NaiveDate> = entries
            .flatten()
            .filter(|e| e.path().join(MANIFEST).is_file())
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect();
        dates.sort();
        Ok(dates)
    }

    /// The names of the segments with at least one snapshot.
    pub fn segments(&self) -> Result<Vec<String>> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Ok(Vec::new());
        };
        let mut names = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() && !name.starts_with('.') && !self.snapshots(&name)?.is_empty() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    pub fn manifest(&self, name: &str, as_of: NaiveDate) -> Result<Manifest> {
        let path = self.snapshot_dir(name, as_of).join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::dataset(&path, format!("not a segment manifest: {e}")))
    }

    /// A snapshot's members (or `entered` / `exited` with those file names), with the schema
    /// (also when there are no rows).
    pub fn read(
        &self,
        name: &str,
        as_of: NaiveDate,
        file: &str,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let path = self.snapshot_dir(name, as_of).join(file);
        read_parquet(&path)
    }

    /// Resolves `as_of` (None: the latest) to an existing snapshot, or says which exist.
    pub fn pick(&self, name: &str, as_of: Option<NaiveDate>) -> Result<NaiveDate> {
        let all = self.snapshots(name)?;
        let listed = || {
            if all.is_empty() {
                format!(
                    "segment `{name}` has no snapshot in {}; run `crmlens segment run {name} \
                     --out {}` first",
                    self.dir.display(),
                    self.dir.display()
                )
            } else {
                format!(
                    "segment `{name}` has snapshots for {}",
                    all.iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        };
        match as_of {
            None => all.last().copied().ok_or_else(|| Error::Query(listed())),
            Some(d) if all.contains(&d) => Ok(d),
            Some(d) => Err(Error::Query(format!("no snapshot for {d}: {}", listed()))),
        }
    }

    /// Writes a complete snapshot and puts it in place of any earlier one for that as_of.
    pub fn write(
        &self,
        manifest: &Manifest,
        schema: SchemaRef,
        members: &[RecordBatch],
        entered: &[RecordBatch],
        exited: (SchemaRef, &[RecordBatch]),
    ) -> Result<PathBuf> {
        // A scoped run never replaces a company-wide snapshot, nor the other way round.
        if let Ok(old) = self.manifest(&manifest.segment, manifest.as_of)
            && old.scope != manifest.scope
        {
            return Err(Error::Query(format!(
                "{} holds the snapshot of {} made {}; this run is {}, so it does not \
                 replace it: write each scope's snapshots to its own folder",
                self.snapshot_dir(&manifest.segment, manifest.as_of)
                    .display(),
                manifest.as_of,
                scope_text(old.scope.as_deref()),
                scope_text(manifest.scope.as_deref())
            )));
        }
        let seg_dir = self.segment_dir(&manifest.segment);
        std::fs::create_dir_all(&seg_dir).map_err(|e| Error::io(&seg_dir, e))?;
        let as_of = manifest.as_of.to_string();
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{as_of}.tmp-"))
            .tempdir_in(&seg_dir)
            .map_err(|e| Error::io(&seg_dir, e))?;
        let parquet = |file: &str, schema: SchemaRef, batches: &[RecordBatch]| {
            let options = OutputOptions {
                format: Format::Parquet,
                output: Some(staging.path().join(file)),
                max_rows: usize::MAX,
            };
            write_batches(schema, batches, &options)
        };
        parquet(MEMBERS, schema.clone(), members)?;
        parquet(ENTERED, schema, entered)?;
        parquet(EXITED, exited.0, exited.1)?;
        let mut text = serde_json::to_string_pretty(manifest)
            .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
        text.push('\n');
        write_file_atomic(&staging.path().join(MANIFEST), text.as_bytes())?;
        let staged = staging.keep();
        let target = seg_dir.join(&as_of);
        if target.exists() {
            let aside = seg_dir.join(format!(".{as_of}.old-{}", std::process::id()));
            std::fs::rename(&target, &aside).map_err(|e| Error::io(&target, e))?;
            std::fs::rename(&staged, &target).map_err(|e| Error::io(&target, e))?;
            std::fs::remove_dir_all(&aside).map_err(|e| Error::io(&aside, e))?;
        } else {
            std::fs::rename(&staged, &target).map_err(|e| Error::io(&target, e))?;
        }
        if let Ok(dir) = File::open(&seg_dir) {
            let _ = dir.sync_all();
        }
        Ok(target)
    }
}

/// "under scope X" or "company-wide", for messages.
fn scope_text(scope: Option<&str>) -> String {
    match scope {
        Some(s) => format!("under scope {s}"),
        None => "company-wide (no scope)".to_string(),
    }
}

/// The schema and every batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let cannot = |e: &dyn std::fmt::Display| Error::dataset(path, format!("cannot read: {e}"));
    let builder =
        datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| cannot(&e))?;
    let schema = builder.schema().clone();
    let batches = builder
        .build()
        .map_err(|e| cannot(&e))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| cannot(&e))?;
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recover_restores_a_moved_aside_snapshot_and_drops_staging() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let seg = store.segment_dir("vip");
        std::fs::create_dir_all(seg.join(".2025-01-31.old-77")).unwrap();
        std::fs::write(seg.join(".2025-01-31.old-77").join(MANIFEST), "{}").unwrap();
        std::fs::create_dir_all(seg.join(".2025-01-31.tmp-abc")).unwrap();
        std::fs::create_dir_all(seg.join("2025-02-28")).unwrap();
        std::fs::write(seg.join("2025-02-28").join(MANIFEST), "{}").unwrap();
        std::fs::create_dir_all(seg.join(".2025-02-28.old-78")).unwrap();
        store.recover().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&seg)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["2025-01-31", "2025-02-28"]);
        assert_eq!(
            store.snapshots("vip").unwrap(),
            [
                NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
                NaiveDate::from_ymd_opt(2025, 2, 28).unwrap()
            ]
        );
    }

    #[test]
    fn a_second_lock_waits_then_fails_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let held = store.lock(Duration::ZERO).unwrap();
        let err = store
            .lock(Duration::from_millis(200))
            .unwrap_err()
            .to_string();
        assert!(err.contains("another segment run holds the lock"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(held);
        store.lock(Duration::ZERO).unwrap();
    }

    #[test]
    fn each_scope_has_its_own_folder() {
        let scope = |s: &str| s.parse::<Scope>().unwrap();
        let dir = Path::new("out");
        assert_eq!(Store::for_scope(dir, None).dir, dir);
        assert_eq!(
            Store::for_scope(dir, Some(&scope("manager=M001,M002"))).dir,
            dir.join("scope-manager=M001,M002")
        );
        assert_eq!(
            Store::for_scope(dir, Some(&scope("department=Inside Sales/2"))).dir,
            dir.join("scope-department=Inside%20Sales%2F2")
        );
    }

    #[test]
    fn a_snapshot_of_another_scope_is_not_replaced() {
        use datafusion::arrow::array::StringArray;
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let schema = std::sync::Arc::new(Schema::new(vec![Field::new(
            "customer_id",
            DataType::Utf8,
            false,
        )]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![std::sync::Arc::new(StringArray::from(vec!["C1"]))],
        )
        .unwrap();
        let manifest = |scope: Option<&str>| Manifest {
            segment: "vip".into(),
            as_of: NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
            count: 1,
            control: 0,
            holdout: 0.0,
            previous_as_of: None,
            entered: 1,
            exited: 0,
            definition_hash: String::new(),
            dataset_fingerprint: String::new(),
            dataset: PathBuf::from("d"),
            scope: scope.map(str::to_string),
            clv_model: None,
            columns: vec!["customer_id".into()],
            null_ids: 0,
            unknown_ids: 0,
            duplicate_ids: 0,
            duration_ms: 0,
            crmlens_version: String::new(),
            created_at: String::new(),
        };
        let write = |m: &Manifest| {
            store.write(
                m,
                schema.clone(),
                std::slice::from_ref(&batch),
                std::slice::from_ref(&batch),
                (schema.clone(), &[]),
            )
        };
        write(&manifest(None)).unwrap();
        write(&manifest(None)).unwrap();
        let err = write(&manifest(Some("manager=M001")))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("made company-wide (no scope)")
                && err.contains("this run is under scope manager=M001"),
            "{err}"
        );
        let kept = store
            .manifest("vip", NaiveDate::from_ymd_opt(2025, 1, 31).unwrap())
            .unwrap();
        assert_eq!(kept.scope, None);
    }
}
