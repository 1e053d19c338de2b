//! Loading one canonical table: every row of its input files is normalised and then either
//! loaded or quarantined with the reason. Rules, in order: required values present; customer
//! ids of merged cards replaced by the surviving id; references resolve (when the referenced
//! table is in the dataset); keys unique. The first row with a key wins: a later row with the
//! same key and the same values is counted `unchanged`, with other values it is quarantined,
//! so that nothing already loaded (in this run or, with `--append`, before) is silently
//! overwritten. Tables without a key compare whole rows with the rows already in the dataset.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use super::Run;
use super::dedup::{Card, find_merges, is_role_address};
use super::mapping::TablePlan;
use super::normalize::{Normalizer, Outcome, Value, collapse_ws};
use super::report::{FileSummary, Note, Quarantined, TableSummary};
use super::rows::{batch_rows, read_table, to_batch};
use super::source::{self, RawRow, ReadOptions};
use crate::dataset::schema::TableSpec;
use crate::dataset::write::FileSink;
use crate::{Error, Result};

const BATCH_ROWS: usize = 65_536;

/// Where a loaded row came from.
#[derive(Debug, Clone, Copy)]
struct Origin {
    /// Index into the table's files; `None` = the dataset before this import.
    file: Option<usize>,
    line: u64,
}

/// A canonical row and the values cleared in it (column, raw value, note), or why the row
/// cannot be loaded.
type NormalizedRow = std::result::Result<(Vec<Value>, Vec<(usize, String, String)>), String>;

/// A table plan with its lookups prepared once.
struct Prepared<'a> {
    plan: &'a TablePlan,
    norm: Normalizer,
    /// Per canonical column: lower-cased source value → canonical value.
    values: Vec<Option<HashMap<String, String>>>,
    country: Option<usize>,
    /// Columns that hold customer ids (rewritten to the surviving card's id).
    customer_refs: Vec<usize>,
    key: Vec<usize>,
}

impl<'a> Prepared<'a> {
    fn new(plan: &'a TablePlan, norm: Normalizer) -> Self {
        let spec = plan.spec;
        let index = |name: &str| spec.columns.iter().position(|c| c.name == name);
        let values = (0..spec.columns.len())
            .map(|i| {
                plan.values.get(&i).map(|m| {
                    m.iter()
                        .map(|(k, v)| (collapse_ws(k).to_lowercase(), v.clone()))
                        .collect()
                })
            })
            .collect();
        Prepared {
            plan,
            norm,
            values,
            country: index("country"),
            customer_refs: spec
                .references
                .iter()
                .filter(|r| r.table == "customers")
                .filter_map(|r| index(r.column))
                .collect(),
            key: spec.key.iter().filter_map(|k| index(k)).collect(),
        }
    }

    /// The canonical row of a raw row, the values cleared in it, or why it cannot be loaded.
    fn row(&self, positions: &[Option<usize>], fields: &[String]) -> NormalizedRow {
        let spec = self.plan.spec;
        let raw_of = |i: usize| -> Option<&str> {
            let raw = match positions[i] {
                Some(p) => fields.get(p).map(String::as_str),
                None => self
                    .plan
                    .constants
                    .iter()
                    .find(|(c, _)| *c == i)
                    .map(|(_, v)| v.as_str()),
            }?;
            Some(match &self.values[i] {
                Some(map) => map
                    .get(&collapse_ws(raw).to_lowercase())
                    .map_or(raw, String::as_str),
                None => raw,
            })
        };
        let country = self
            .country
            .and_then(raw_of)
            .map(|c| collapse_ws(c).to_ascii_uppercase());
        let mut row = Vec::with_capacity(spec.columns.len());
        let mut cleared = Vec::new();
        let mut problems = Vec::new();
        for (i, c) in spec.columns.iter().enumerate() {
            let Some(raw) = raw_of(i) else {
                row.push(Value::Null);
                continue;
            };
            match self.norm.value(c, raw, country.as_deref()) {
                Outcome::Ok(v) => row.push(v),
                Outcome::Cleared(note) => {
                    row.push(Value::Null);
                    cleared.push((i, raw.to_string(), note));
                }
                Outcome::Rejected(reason) => {
                    row.push(Value::Null);
                    problems.push(reason);
                }
            }
            if !c.nullable
                && row[i] == Value::Null
                && !problems.iter().any(|p| p.starts_with(c.name))
            {
                problems.push(format!("{}: empty", c.name));
            }
        }
        if problems.is_empty() {
            Ok((row, cleared))
        } else {
            Err(problems.join("; "))
        }
    }

    fn key(&self, row: &[Value]) -> String {
        if self.key.is_empty() {
            return format!("{:x}", row_hash(row));
        }
        let mut k = String::new();
        for (n, i) in self.key.iter().enumerate() {
            if n > 0 {
                k.push('\u{1f}');
            }
            k.push_str(&row[*i].key_part());
        }
        k
    }
}

fn row_hash(row: &[Value]) -> u64 {
    let mut h = DefaultHasher::new();
    row.hash(&mut h);
    h.finish()
}

fn raw_json(headers: &[String], row: &RawRow) -> String {
    if row.fields.len() == 1 && headers.len() != 1 && row.problem.is_some() {
        return serde_json::Value::String(row.fields[0].clone()).to_string();
    }
    let mut obj = serde_json::Map::new();
    for (i, v) in row.fields.iter().enumerate() {
        let key = headers
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("_extra_{}", i + 1));
        obj.insert(key, serde_json::Value::String(v.clone()));
    }
    serde_json::Value::Object(obj).to_string()
}

/// Field positions of the canonical columns in a source, or the mapped header it lacks.
fn positions(
    plan: &TablePlan,
    headers: &[String],
    path: &Path,
) -> Result<(Vec<Option<usize>>, Vec<String>)> {
    let mut pos = vec![None; plan.spec.columns.len()];
    let find = |name: &str| {
        headers.iter().position(|h| h == name).or_else(|| {
            let want = collapse_ws(name).to_lowercase();
            headers
                .iter()
                .position(|h| collapse_ws(h).to_lowercase() == want)
        })
    };
    for (source, i) in &plan.columns {
        match find(source) {
            Some(p) => pos[*i] = Some(p),
            None => {
                let hint = crate::hint::closest(source, headers.iter().map(String::as_str))
                    .map(|b| format!(" (closest: {b:?})"))
                    .unwrap_or_default();
                return Err(Error::dataset(
                    path,
                    format!(
                        "the mapping of {} names column {source:?}, which the file lacks{hint}; its columns are {}",
                        plan.spec.name,
                        headers
                            .iter()
                            .map(|h| format!("{h:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    let used: HashSet<usize> = pos.iter().flatten().copied().collect();
    let ignored = headers
        .iter()
        .enumerate()
        .filter(|(i, h)| !used.contains(i) && !h.is_empty())
        .map(|(_, h)| h.clone())
        .collect();
    Ok((pos, ignored))
}

/// Where the rows of a table go: straight to the Parquet file, or (customers, to be
/// deduplicated) kept until every card is known.
enum Target {
    Stream(Box<FileSink>, Vec<Vec<Value>>),
    Hold(Vec<(Vec<Value>, bool)>),
}

impl Target {
    fn push(&mut self, spec: &TableSpec, row: Vec<Value>, existing: bool) -> Result<()> {
        match self {
            Target::Stream(sink, buffer) => {
                buffer.push(row);
                if buffer.len() >= BATCH_ROWS {
                    sink.write(&to_batch(spec, buffer)?)?;
                    buffer.clear();
                }
            }
            Target::Hold(rows) => rows.push((row, existing)),
        }
        Ok(())
    }
}

/// Loads one table into `<out>/<table>.parquet` (staged in the import's transaction).
pub(super) fn load_table(
    run: &mut Run,
    plan: &TablePlan,
    files: &[PathBuf],
    read: &ReadOptions,
) -> Result<TableSummary> {
    let spec = plan.spec;
    let norm = run.normalizer(plan)?;
    let p = Prepared::new(plan, norm);
    let table_path = run.out.join(format!("{}.parquet", spec.name));
    for r in &spec.references {
        run.ensure_keys(r.table)?;
    }
    let dedup = spec.name == "customers" && run.plan.dedup.enabled;
    let mut target = if dedup {
        Target::Hold(Vec::new())
    } else {
        Target::Stream(
            Box::new(FileSink::create(table_path.clone(), spec.name)?),
            Vec::new(),
        )
    };
    let mut summary = TableSummary {
        table: spec.name,
        ..TableSummary::default()
    };
    let mut seen: HashMap<String, (u64, Origin)> = HashMap::new();
    let mut keys: HashSet<String> = HashSet::new();
    let mut quarantine: Vec<Quarantined> = Vec::new();
    let mut notes: Vec<Note> = Vec::new();

    if run.append && table_path.exists() {
        let mut existing = 0u64;
        read_table(&table_path, |batch| {
            for row in batch_rows(spec, &batch)? {
                let key = p.key(&row);
                seen.insert(
                    key.clone(),
                    (
                        row_hash(&row),
                        Origin {
                            file: None,
                            line: 0,
                        },
                    ),
                );
                keys.insert(key);
                existing += 1;
                target.push(spec, row, true)?;
            }
            Ok(())
        })?;
        summary.rows_in_table = existing;
    }

    for (file_index, path) in files.iter().enumerate() {
        let mut src = source::open(path, read, plan.sheet.as_deref())?;
        let (pos, ignored) = if src.headers.is_empty() {
            (vec![None; spec.columns.len()], vec![])
        } else {
            positions(plan, &src.headers, path)?
        };
        let shown = path.display().to_string();
        let bar = run.progress_bar(src.bytes, &shown);
        let mut file_rows = 0u64;
        while let Some((raw, offset)) = src.next_row() {
            file_rows += 1;
            summary.input += 1;
            if file_rows.is_multiple_of(8192) {
                bar.set_position(offset);
            }
            let mut quarantine_row = |reason: String| {
                quarantine.push(Quarantined {
                    source_file: shown.clone(),
                    line: raw.line,
                    reason,
                    raw: raw_json(&src.headers, &raw),
                });
            };
            if let Some(problem) = &raw.problem {
                quarantine_row(problem.clone());
                continue;
            }
            let (mut row, cleared) = match p.row(&pos, &raw.fields) {
                Ok(r) => r,
                Err(reason) => {
                    quarantine_row(reason);
                    continue;
                }
            };
            for &c in &p.customer_refs {
                if let Value::Text(id) = &row[c]
                    && let Some(survivor) = run.remap.get(id)
                {
                    row[c] = Value::Text(survivor.clone());
                }
            }
            if let Some(reason) = run.orphan(spec, &row) {
                quarantine_row(reason);
                continue;
            }
            let key = p.key(&row);
            let hash = row_hash(&row);
            match seen.get(&key) {
                Some((h, _)) if *h == hash => summary.unchanged += 1,
                Some((_, origin)) => {
                    let place = match origin.file {
                        None => "a row already in the dataset".to_string(),
                        Some(f) => format!("line {} of {}", origin.line, files[f].display()),
                    };
                    quarantine_row(format!(
                        "same {} as {place}, with other values (the first one is kept)",
                        spec.key.join(", ")
                    ));
                }
                None => {
                    if !p.key.is_empty() {
                        seen.insert(
                            key.clone(),
                            (
                                hash,
                                Origin {
                                    file: Some(file_index),
                                    line: raw.line,
                                },
                            ),
                        );
                    }
                    keys.insert(key);
                    for (c, value, note) in cleared {
                        notes.push(Note {
                            table: spec.name,
                            source_file: shown.clone(),
                            line: raw.line,
                            column: spec.columns[c].name,
                            value,
                            note,
                        });
                    }
                    summary.new += 1;
                    target.push(spec, row, false)?;
                }
            }
        }
        bar.finish_and_clear();
        summary.files.push(FileSummary {
            path: path.clone(),
            read_as: src.detected.clone(),
            rows: file_rows,
            ignored_columns: ignored,
        });
    }

    summary.rows_in_table += summary.new;
    match target {
        Target::Stream(mut sink, buffer) => {
            if !buffer.is_empty() {
                sink.write(&to_batch(spec, &buffer)?)?;
            }
            sink.stage(&mut run.tx)?;
        }
        Target::Hold(rows) => {
            let (rows, merged) = merge_customers(run, spec, rows, &mut keys);
            summary.merged = merged;
            summary.new -= merged;
            summary.rows_in_table -= merged;
            let mut sink = FileSink::create(table_path, spec.name)?;
            for chunk in rows.chunks(BATCH_ROWS) {
                sink.write(&to_batch(spec, chunk)?)?;
            }
            sink.stage(&mut run.tx)?;
        }
    }
    summary.quarantined = quarantine.len() as u64;
    summary.cleared_values = notes.len() as u64;
    summary.loaded = summary.new + summary.merged + summary.unchanged;
    if !p.key.is_empty() && p.key.len() == 1 {
        run.keys.insert(spec.name, keys);
    }
    run.quarantine.push((spec.name, quarantine));
    run.notes.extend(notes);
    Ok(summary)
}

/// Finds duplicate cards among the customers, folds each merged card into its survivor
/// (filling the survivor's empty fields) and records the merges; returns the rows to write
/// and the number of merged cards.
fn merge_customers(
    run: &mut Run,
    spec: &TableSpec,
    rows: Vec<(Vec<Value>, bool)>,
    keys: &mut HashSet<String>,
) -> (Vec<Vec<Value>>, u64) {
    let col = |name: &str| {
        spec.columns
            .iter()
            .position(|c| c.name == name)
            .expect(name)
    };
    let (id, email, phone, name, city, created) = (
        col("customer_id"),
        col("email"),
        col("phone"),
        col("name"),
        col("city"),
        col("created_at"),
    );
    let text = |r: &[Value], i: usize| r[i].as_text().map(str::to_string);
    let cards: Vec<Card> = rows
        .iter()
        .map(|(r, existing)| Card {
            id: r[id].key_part(),
            existing: *existing,
            email: text(r, email),
            role_email: r[email]
                .as_text()
                .is_some_and(|e| is_role_address(e, &run.plan.dedup.role_addresses)),
            phone: text(r, phone),
            name: text(r, name),
            city: text(r, city),
            created: match r[created] {
                Value::Ts(t) => Some(t),
                _ => None,
            },
        })
        .collect();
    let merges = find_merges(&cards, run.plan.dedup.name_threshold, &run.plan.dedup.never);
    let position: HashMap<&str, usize> = cards
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut rows: Vec<Option<Vec<Value>>> = rows.into_iter().map(|(r, _)| Some(r)).collect();
    for m in &merges {
        let (s, d) = (
            position[m.surviving_id.as_str()],
            position[m.merged_id.as_str()],
        );
        let merged = rows[d].take().expect("merged once");
        let survivor = rows[s].as_mut().expect("survivors stay");
        for (v, from) in survivor.iter_mut().zip(merged) {
            if *v == Value::Null {
                *v = from;
            }
        }
        keys.remove(&m.merged_id);
        run.remap
            .insert(m.merged_id.clone(), m.surviving_id.clone());
    }
    let n = merges.len() as u64;
    run.merges.extend(merges);
    (rows.into_iter().flatten().collect(), n)
}

impl Run {
    fn progress_bar(&self, bytes: u64, name: &str) -> ProgressBar {
        if !self.progress || bytes < 8 << 20 {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(bytes);
        if let Ok(style) =
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(name.to_string());
        bar
    }

    /// Why a row refers to something the dataset does not have, if it does.
    fn orphan(&self, spec: &TableSpec, row: &[Value]) -> Option<String> {
        for r in &spec.references {
            let i = spec.columns.iter().position(|c| c.name == r.column)?;
            let Value::Text(v) = &row[i] else { continue };
            if let Some(keys) = self.keys.get(r.table)
                && !keys.contains(v)
            {
                return Some(format!(
                    "{}: {v:?} is not a {}.{}",
                    r.column, r.table, r.target
                ));
            }
        }
        None
    }
}
