//! Import of raw CRM exports (issue 7): CSV, workbooks and JSON lines, mapped by a TOML
//! mapping file onto the canonical dataset, normalised, with duplicate customer cards merged
//! and nothing lost: every input row is loaded or quarantined with its reason.
//!
//! An import holds the lock of its output folder from before it reads the dataset until its
//! files are in place, and writes every file into one transaction
//! ([`crate::dataset::commit`]): a second import waits, and a killed one leaves the dataset
//! as it was.
//!
//! - [`mapping`]: the mapping file and its checks against the schema;
//! - [`source`]: reading files (encodings, delimiters, sheets) into rows of text;
//! - [`records`]: splitting CSV text into records, stray quotes reported;
//! - [`normalize`]: phones, e-mails, names, amounts, dates;
//! - [`load`]: one table: rows → canonical values → key and reference checks → Parquet;
//! - [`dedup`]: duplicate customer cards;
//! - [`report`]: the summary, quarantine, notes and merges files;
//! - [`suggest`]: a proposed mapping from a file's headers.

pub mod dedup;
mod load;
pub mod mapping;
pub mod normalize;
pub mod records;
pub mod report;
mod rows;
pub mod source;
pub mod suggest;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use mapping::{Mapping, Plan, TablePlan, glob_match};
use normalize::Normalizer;
use report::{Note, Quarantined, Summary, TableSummary};
use source::ReadOptions;

use crate::dataset::commit::{self, Transaction};
use crate::dataset::discover::check_parquet_file;
use crate::dataset::schema::{table_spec, tables};
use crate::output::lock::lock_dir;
use crate::output::remove_stale_temps;
use crate::{Error, Result};

/// What `crmlens import` was asked to do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub inputs: Vec<PathBuf>,
    pub mapping: PathBuf,
    pub out: PathBuf,
    /// Add to the dataset in `out` instead of writing a new one.
    pub append: bool,
    /// Replace an earlier import's output in `out` (its tables, quarantine, merges.csv).
    pub overwrite: bool,
    /// Merge no duplicate cards, whatever the mapping's `[dedup] enabled` says.
    pub no_merge: bool,
    /// With `overwrite`: let an input without rows replace a table that has rows (else the
    /// import refuses, so that an empty export never silently empties a table).
    pub allow_empty: bool,
    pub read: ReadOptions,
    /// Progress bars on stderr (large files only).
    pub progress: bool,
    /// How long to wait for another import into `out` to finish.
    pub wait: Duration,
}

/// The state of one import across its tables.
pub(crate) struct Run {
    out: PathBuf,
    append: bool,
    progress: bool,
    plan: Plan,
    /// Loaded keys of single-key tables, for reference checks.
    keys: HashMap<&'static str, HashSet<String>>,
    /// Merged customer id → surviving id (earlier imports' merges.csv included).
    remap: HashMap<String, String>,
    quarantine: Vec<(&'static str, Vec<Quarantined>)>,
    notes: Vec<Note>,
    merges: Vec<dedup::Merge>,
    /// Every file the import writes, moved into place together at the end.
    tx: Transaction,
}

impl Run {
    fn normalizer(&self, plan: &TablePlan) -> Result<Normalizer> {
        Ok(Normalizer {
            date_formats: plan.date_formats.clone(),
            decimal_separator: plan.decimal_separator,
            default_country: plan.default_country.as_deref().and_then(|c| c.parse().ok()),
            tz: self
                .plan
                .timezone
                .parse()
                .map_err(|e| Error::Usage(format!("timezone: {e}")))?,
        })
    }

    /// Makes the keys of `table` known when the dataset has it (and keeps it: `--overwrite`
    /// removes the earlier import's tables) and this import did not load it (yet): a
    /// reference to a table the dataset lacks is not checked (validate warns).
    fn ensure_keys(&mut self, table: &'static str) -> Result<()> {
        let path = self.out.join(format!("{table}.parquet"));
        if self.keys.contains_key(table) || !path.exists() || self.tx.removes(&path) {
            return Ok(());
        }
        let Some(spec) = table_spec(table) else {
            return Ok(());
        };
        let [key] = spec.key else { return Ok(()) };
        let i = spec
            .columns
            .iter()
            .position(|c| c.name == *key)
            .expect("key column");
        let mut keys = HashSet::new();
        rows::read_table(&path, |batch| {
            for row in rows::batch_rows(spec, &batch)? {
                keys.insert(row[i].key_part());
            }
            Ok(())
        })?;
        self.keys.insert(spec.name, keys);
        Ok(())
    }
}

/// The files of each table: a table with `file` takes the inputs its glob matches; a table
/// without takes the inputs no table claims. An input no table takes is an error.
fn assign(plan: &Plan, inputs: &[PathBuf]) -> Result<Vec<Vec<PathBuf>>> {
    let name = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let claimed = |p: &PathBuf| {
        plan.tables
            .iter()
            .any(|t| t.file.as_deref().is_some_and(|g| glob_match(g, &name(p))))
    };
    let files: Vec<Vec<PathBuf>> = plan
        .tables
        .iter()
        .map(|t| {
            inputs
                .iter()
                .filter(|p| match &t.file {
                    Some(g) => glob_match(g, &name(p)),
                    None => !claimed(p),
                })
                .cloned()
                .collect()
        })
        .collect();
    for p in inputs {
        if !files.iter().any(|f| f.contains(p)) {
            return Err(Error::Usage(format!(
                "--input {}: no table of the mapping takes this file (set `file = \"…\"` in a table section)",
                p.display()
            )));
        }
        if !p.is_file() {
            return Err(Error::io(
                p,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such input file"),
            ));
        }
    }
    Ok(files)
}

/// The files an import writes into `out` (besides the quarantine folder).
fn outputs(out: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = tables()
        .iter()
        .map(|t| out.join(format!("{}.parquet", t.name)))
        .collect();
    v.push(out.join("merges.csv"));
    v
}

/// The earlier import's files in `out` that this import replaces or removes: none with
/// `--append`; with `--overwrite` its tables, merges and quarantine files; without either, a
/// dataset already there is an error.
fn replaced_outputs(opts: &ImportOptions) -> Result<Vec<PathBuf>> {
    let out = &opts.out;
    let previous: Vec<PathBuf> = outputs(out).into_iter().filter(|p| p.exists()).collect();
    if opts.append || previous.is_empty() {
        return Ok(vec![]);
    }
    if !opts.overwrite {
        return Err(Error::Usage(format!(
            "--out {} already holds a dataset ({}); use --append to add to it or --overwrite to replace it",
            out.display(),
            previous[0].display()
        )));
    }
    let q = out.join("quarantine");
    let quarantine = std::fs::read_dir(&q)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file());
    Ok(previous.into_iter().chain(quarantine).collect())
}

/// With `--overwrite`, a table whose input holds no rows would replace a table that has
/// rows with an empty one: refused unless `--allow-empty` says so.
fn check_not_emptied(opts: &ImportOptions, summaries: &[TableSummary]) -> Result<()> {
    if !opts.overwrite || opts.allow_empty {
        return Ok(());
    }
    for s in summaries.iter().filter(|s| s.input == 0) {
        let table = opts.out.join(format!("{}.parquet", s.table));
        let rows = check_parquet_file(&table).map(|i| i.rows).unwrap_or(0);
        if rows > 0 {
            let files: Vec<String> = s
                .files
                .iter()
                .map(|f| f.path.display().to_string())
                .collect();
            return Err(Error::dataset(
                &s.files[0].path,
                format!(
                    "the input of table {} ({}) holds no rows: --overwrite would replace the \
                     {rows} rows of {} with none. Nothing was written; pass --allow-empty to \
                     empty the table",
                    s.table,
                    files.join(", "),
                    table.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Runs an import; the summary says per table what was loaded and what was quarantined.
pub fn import(opts: &ImportOptions) -> Result<Summary> {
    let mut plan = Mapping::load(&opts.mapping)?.plan(&opts.mapping)?;
    if opts.no_merge {
        plan.dedup.enabled = false;
    }
    let files = assign(&plan, &opts.inputs)?;
    // Checked before anything is written, so that no table of the import is half done.
    for (t, f) in plan.tables.iter().zip(&files) {
        let folder = opts.out.join(t.spec.name);
        if !f.is_empty() && folder.is_dir() {
            return Err(Error::NotSupported(format!(
                "{}: importing into a table kept as a folder of Parquet files (write the import \
                 to another --out and add its {}.parquet to the folder)",
                folder.display(),
                t.spec.name
            )));
        }
    }
    if opts.out.exists() && !opts.out.is_dir() {
        return Err(Error::Usage(format!(
            "--out {}: exists and is not a directory",
            opts.out.display()
        )));
    }
    // One import at a time: an append reads the dataset and writes it back, so two at once
    // would each drop the other's rows.
    let _lock = lock_dir(&opts.out, opts.wait, "import")?;
    commit::recover_locked(&opts.out)?;
    let qdir = opts.out.join("quarantine");
    remove_stale_temps(&opts.out, None);
    remove_stale_temps(&qdir, None);
    let mut tx = Transaction::begin(&opts.out);
    for p in replaced_outputs(opts)? {
        tx.remove(&p)?;
    }
    std::fs::create_dir_all(&qdir).map_err(|e| Error::io(&qdir, e))?;
    let merges_path = opts.out.join("merges.csv");
    let previous_merges = if opts.append {
        report::read_merges(&merges_path)?
    } else {
        vec![]
    };
    let mut run = Run {
        out: opts.out.clone(),
        append: opts.append,
        progress: opts.progress,
        remap: previous_merges
            .iter()
            .filter(|r| r.len() >= 2)
            .map(|r| (r[1].clone(), r[0].clone()))
            .collect(),
        plan,
        keys: HashMap::new(),
        quarantine: vec![],
        notes: vec![],
        merges: vec![],
        tx,
    };
    let mut summaries = Vec::new();
    let table_plans = run.plan.tables.clone();
    for (t, f) in table_plans.iter().zip(&files) {
        if f.is_empty() {
            log::info!("{}: no input file matches {:?}", t.spec.name, t.file);
            continue;
        }
        summaries.push(load::load_table(&mut run, t, f, &opts.read)?);
    }
    check_not_emptied(opts, &summaries)?;
    let tx = &mut run.tx;
    for (table, rows) in &run.quarantine {
        report::write_quarantine(tx, &qdir, table, rows, opts.append)?;
    }
    report::write_notes(tx, &qdir, &run.notes, opts.append)?;
    report::write_merges(tx, &merges_path, previous_merges, &run.merges)?;
    run.tx.commit()?;
    let share = run.plan.max_quarantined_share;
    for s in &mut summaries {
        s.failed = s.input > 0 && s.quarantined as f64 > share * s.input as f64;
    }
    Ok(Summary {
        out: opts.out.clone(),
        append: opts.append,
        passed: !summaries.iter().any(|s| s.failed),
        tables: summaries,
        merges: run.merges.len(),
        max_quarantined_share: share,
        timezone: run.plan.timezone.clone(),
    })
}
