//! What an import tells its user: the summary per table (input = loaded + quarantined, loaded
//! split into new, merged and unchanged rows), and the files beside the dataset:
//! `quarantine/<table>.csv` (rows not loaded: source file, line, reason, raw values as a JSON
//! object keyed by the source's headers), `quarantine/notes.csv` (values cleared from loaded
//! rows: an invalid phone or e-mail) and `merges.csv` (duplicate customer cards merged).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::dedup::Merge;
use crate::dataset::commit::Transaction;
use crate::output::AtomicFile;
use crate::output::text::{Align, TextTable};
use crate::{Error, Result};

/// One row that was not loaded.
#[derive(Debug, Clone)]
pub struct Quarantined {
    pub source_file: String,
    pub line: u64,
    pub reason: String,
    pub raw: String,
}

/// One value cleared from a loaded row.
#[derive(Debug, Clone)]
pub struct Note {
    pub table: &'static str,
    pub source_file: String,
    pub line: u64,
    pub column: &'static str,
    pub value: String,
    pub note: String,
}

/// One input file of a table.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub path: PathBuf,
    /// Encoding and delimiter, or sheet.
    pub read_as: String,
    pub rows: u64,
    /// Source columns the mapping does not use.
    pub ignored_columns: Vec<String>,
}

/// One table's accounting: `input = loaded + quarantined`, `loaded = new + merged + unchanged`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableSummary {
    pub table: &'static str,
    pub files: Vec<FileSummary>,
    pub input: u64,
    pub loaded: u64,
    /// Rows added to the table.
    pub new: u64,
    /// Duplicate customer cards folded into a surviving card.
    pub merged: u64,
    /// Rows identical to one already loaded or already in the dataset.
    pub unchanged: u64,
    pub quarantined: u64,
    /// Values cleared (set NULL) in loaded rows, see quarantine/notes.csv.
    pub cleared_values: u64,
    /// Rows in the written table (existing rows included in append mode).
    pub rows_in_table: u64,
    /// Quarantined share above the mapping's max_quarantined_share.
    pub failed: bool,
}

/// The whole import.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub out: PathBuf,
    pub append: bool,
    pub tables: Vec<TableSummary>,
    pub merges: usize,
    pub max_quarantined_share: f64,
    pub passed: bool,
    /// The zone the files' local dates and times were read in (the mapping's `timezone`).
    pub timezone: String,
}

/// Writes a CSV file into the import's transaction.
fn csv_file(
    tx: &mut Transaction,
    path: &Path,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file.file()));
        let err = |e: csv::Error| Error::io(path, std::io::Error::other(e));
        w.write_record(header).map_err(err)?;
        for r in rows {
            w.write_record(&r).map_err(err)?;
        }
        w.flush().map_err(|e| Error::io(path, e))?;
    }
    file.file().flush().map_err(|e| Error::io(path, e))?;
    tx.add(file)
}

/// Rows of a CSV file written earlier (append mode keeps them), without the header.
fn previous_rows(path: &Path, append: bool) -> Result<Vec<Vec<String>>> {
    if !append || !path.exists() {
        return Ok(vec![]);
    }
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    reader
        .records()
        .map(|r| {
            r.map(|r| r.iter().map(str::to_string).collect())
                .map_err(|e| Error::io(path, std::io::Error::other(e)))
        })
        .collect()
}

pub fn write_quarantine(
    tx: &mut Transaction,
    dir: &Path,
    table: &str,
    rows: &[Quarantined],
    append: bool,
) -> Result<()> {
    let path = dir.join(format!("{table}.csv"));
    let previous = previous_rows(&path, append)?;
    if rows.is_empty() && previous.is_empty() {
        return Ok(());
    }
    let new = rows.iter().map(|q| {
        vec![
            q.source_file.clone(),
            q.line.to_string(),
            q.reason.clone(),
            q.raw.clone(),
        ]
    });
    csv_file(
        tx,
        &path,
        &["source_file", "line", "reason", "raw"],
        previous.into_iter().chain(new),
    )
}

pub fn write_notes(tx: &mut Transaction, dir: &Path, notes: &[Note], append: bool) -> Result<()> {
    let path = dir.join("notes.csv");
    let previous = previous_rows(&path, append)?;
    if notes.is_empty() && previous.is_empty() {
        return Ok(());
    }
    let new = notes.iter().map(|n| {
        vec![
            n.table.to_string(),
            n.source_file.clone(),
            n.line.to_string(),
            n.column.to_string(),
            n.value.clone(),
            n.note.clone(),
        ]
    });
    csv_file(
        tx,
        &path,
        &["table", "source_file", "line", "column", "value", "note"],
        previous.into_iter().chain(new),
    )
}

pub const MERGES_HEADER: &[&str] = &["surviving_id", "merged_id", "rule", "score", "evidence"];

/// The merged → surviving ids of an earlier import's merges.csv (append mode).
pub fn read_merges(path: &Path) -> Result<Vec<Vec<String>>> {
    previous_rows(path, true)
}

pub fn write_merges(
    tx: &mut Transaction,
    path: &Path,
    previous: Vec<Vec<String>>,
    merges: &[Merge],
) -> Result<()> {
    let new = merges.iter().map(|m| {
        vec![
            m.surviving_id.clone(),
            m.merged_id.clone(),
            m.rule.to_string(),
            format!("{}", m.score),
            m.evidence.clone(),
        ]
    });
    csv_file(tx, path, MERGES_HEADER, previous.into_iter().chain(new))
}

impl Summary {
    /// The summary for people.
    pub fn text(&self) -> String {
        let mut s = format!(
            "imported into {}{}\n",
            self.out.display(),
            if self.append { " (append)" } else { "" }
        );
        let mut table = TextTable::new(&[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Left,
        ])
        .header(&[
            "table",
            "input",
            "loaded",
            "merged",
            "same",
            "quarant.",
            "rows in table",
            "cleared",
        ]);
        for t in &self.tables {
            table.row(vec![
                t.table.to_string(),
                t.input.to_string(),
                t.loaded.to_string(),
                t.merged.to_string(),
                t.unchanged.to_string(),
                t.quarantined.to_string(),
                t.rows_in_table.to_string(),
                t.cleared_values.to_string(),
                if t.failed { "FAILED" } else { "" }.into(),
            ]);
        }
        let lines = table.lines();
        s.push_str(&lines[0]);
        s.push('\n');
        for (t, line) in self.tables.iter().zip(&lines[1..]) {
            s.push_str(line);
            s.push('\n');
            for f in &t.files {
                s.push_str(&format!(
                    "      {} ({}): {} rows",
                    f.path.display(),
                    f.read_as,
                    f.rows
                ));
                if !f.ignored_columns.is_empty() {
                    s.push_str(&format!(
                        "; unused columns: {}",
                        f.ignored_columns.join(", ")
                    ));
                }
                s.push('\n');
            }
        }
        s.push_str(&format!(
            "  duplicate customer cards merged: {} (merges.csv)\n",
            self.merges
        ));
        if self.tables.iter().any(|t| t.quarantined > 0) {
            s.push_str("  rows not loaded: see quarantine/<table>.csv\n");
        }
        if self.tables.iter().any(|t| t.cleared_values > 0) {
            s.push_str("  values cleared from loaded rows: see quarantine/notes.csv\n");
        }
        if !self.passed {
            s.push_str(&format!(
                "import FAILED: more than {:.0}% of the rows of a table were quarantined; check the mapping\n",
                self.max_quarantined_share * 100.0
            ));
        }
        s
    }
}
