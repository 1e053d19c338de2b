//! Import of raw CRM exports (issue 7): CSV, workbooks and JSON lines, mapped by a TOML
//! mapping file onto the canonical dataset, normalised, with duplicate customer cards merged
//! and nothing lost: every input row is loaded or quarantined with its reason.
//!
//! - [`mapping`]: the mapping file and its checks against the schema;
//! - [`source`]: reading files (encodings, delimiters, sheets) into rows of text;
//! - [`normalize`]: phones, e-mails, names, amounts, dates;
//! - [`load`]: one table: rows → canonical values → key and reference checks → Parquet;
//! - [`dedup`]: duplicate customer cards;
//! - [`report`]: the summary, quarantine, notes and merges files;
//! - [`suggest`]: a proposed mapping from a file's headers.

pub mod dedup;
mod load;
pub mod mapping;
pub mod normalize;
pub mod report;
mod rows;
pub mod source;
pub mod suggest;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use mapping::{Mapping, Plan, TablePlan, glob_match};
use normalize::Normalizer;
use report::{Note, Quarantined, Summary};
use source::ReadOptions;

use crate::dataset::schema::{table_spec, tables};
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
    pub read: ReadOptions,
    /// Progress bars on stderr (large files only).
    pub progress: bool,
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

    /// Makes the keys of `table` known when the dataset has it and this import did not load
    /// it (yet): a reference to a table the dataset lacks is not checked (validate warns).
    fn ensure_keys(&mut self, table: &'static str) -> Result<()> {
        let path = self.out.join(format!("{table}.parquet"));
        if self.keys.contains_key(table) || !path.exists() {
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

fn prepare_out(opts: &ImportOptions) -> Result<()> {
    let out = &opts.out;
    if out.exists() && !out.is_dir() {
        return Err(Error::Usage(format!(
            "--out {}: exists and is not a directory",
            out.display()
        )));
    }
    let previous: Vec<PathBuf> = outputs(out).into_iter().filter(|p| p.exists()).collect();
    if !opts.append && !previous.is_empty() {
        if !opts.overwrite {
            return Err(Error::Usage(format!(
                "--out {} already holds a dataset ({}); use --append to add to it or --overwrite to replace it",
                out.display(),
                previous[0].display()
            )));
        }
        for p in previous {
            std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
        let q = out.join("quarantine");
        if q.is_dir() {
            std::fs::remove_dir_all(&q).map_err(|e| Error::io(&q, e))?;
        }
    }
    let q = out.join("quarantine");
    std::fs::create_dir_all(&q).map_err(|e| Error::io(&q, e))
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
    prepare_out(opts)?;
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
    let qdir = opts.out.join("quarantine");
    for (table, rows) in &run.quarantine {
        report::write_quarantine(&qdir, table, rows, opts.append)?;
    }
    report::write_notes(&qdir, &run.notes, opts.append)?;
    report::write_merges(&merges_path, previous_merges, &run.merges)?;
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
