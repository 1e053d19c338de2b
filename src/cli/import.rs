//! `crmlens import`: raw CRM exports (CSV, workbooks, JSON lines) → the canonical dataset,
//! or with `--suggest` a proposed mapping for the user to edit. The work is in
//! [`crate::import`]; this module turns flags into options and prints the summary.

use std::path::PathBuf;

use super::{GlobalArgs, interactive};
use crate::import::source::{EncodingChoice, ReadOptions};
use crate::import::{ImportOptions, import, suggest::suggest};
use crate::output::{Format, write_file_atomic, write_json_object, write_stdout};
use crate::{Error, Result};

/// Import raw CRM exports into the canonical dataset.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Every input row is loaded or written to DIR/quarantine/<table>.csv with its \
source file, line and reason; duplicate customer cards merged are listed in DIR/merges.csv. \
Exit code 1 when more than max_quarantined_share (mapping, default 0.5) of a table's rows were \
quarantined.

Examples:
  crmlens import --suggest --input clients.csv --input orders.xlsx > mapping.toml
  crmlens import --input clients.csv --input orders.xlsx --mapping mapping.toml --out data
  crmlens import --input march.csv --mapping mapping.toml --out data --append
  crmlens import --input clients.csv --mapping mapping.toml --out data --overwrite --no-merge"
)]
pub struct Args {
    /// Input files: .csv/.txt/.tsv, .xlsx/.xls/.ods, .jsonl
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    input: Vec<PathBuf>,
    /// The mapping file (TOML); see docs/commands/import.md
    #[arg(long, value_name = "FILE", required_unless_present = "suggest")]
    mapping: Option<PathBuf>,
    /// Output dataset directory
    #[arg(long, value_name = "DIR", required_unless_present = "suggest")]
    out: Option<PathBuf>,
    /// Print a proposed mapping for the inputs instead of importing
    #[arg(long, conflicts_with_all = ["mapping", "out", "append"])]
    suggest: bool,
    /// Add to the dataset in DIR: rows with a key already there are not duplicated
    #[arg(long, conflicts_with = "overwrite")]
    append: bool,
    /// Replace an earlier import in DIR (its tables, quarantine/ and merges.csv)
    #[arg(long)]
    overwrite: bool,
    /// With --overwrite: let an input without rows empty a table that has rows
    #[arg(long, requires = "overwrite")]
    allow_empty: bool,
    /// Merge no duplicate customer cards (as `[dedup] enabled = false` in the mapping)
    #[arg(long)]
    no_merge: bool,
    /// Seconds to wait when another import into DIR holds its lock
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    wait: u64,
    /// Text encoding of CSV files
    #[arg(long, value_enum, default_value = "auto")]
    encoding: EncodingChoice,
    /// CSV delimiter: auto, ',', ';', '\t' (or tab), '|'
    #[arg(long, default_value = "auto")]
    delimiter: String,
    /// Worksheet of workbook inputs (overrides the mapping's sheet)
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,
}

fn delimiter(text: &str) -> Result<Option<u8>> {
    match text {
        "auto" => Ok(None),
        "\\t" | "tab" | "\t" => Ok(Some(b'\t')),
        "," | ";" | "|" => Ok(Some(text.as_bytes()[0])),
        other => Err(Error::Usage(format!(
            "--delimiter {other:?}: expected auto, ',', ';', '\\t' or '|'"
        ))),
    }
}

pub fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let read = ReadOptions {
        encoding: args.encoding,
        delimiter: delimiter(&args.delimiter)?,
        sheet: args.sheet,
    };
    if args.suggest {
        let text = suggest(&args.input, &read)?;
        return match &global.output {
            Some(path) => write_file_atomic(path, text.as_bytes()).map(|_| 0),
            None => write_stdout(text.as_bytes()).map(|_| 0),
        };
    }
    let (Some(mapping), Some(out)) = (args.mapping, args.out) else {
        return Err(Error::Usage("--mapping and --out are required".into()));
    };
    let options = ImportOptions {
        inputs: args.input,
        mapping,
        out,
        append: args.append,
        overwrite: args.overwrite,
        no_merge: args.no_merge,
        allow_empty: args.allow_empty,
        read,
        progress: interactive(global),
        wait: std::time::Duration::from_secs(args.wait),
    };
    let summary = import(&options)?;
    // Timestamps are stored in UTC; analyses cut days in the configuration's zone. When that
    // is not the zone the files were written in, a day's orders land partly on the next day.
    if let Ok(config) = global.config()
        && config.timezone != summary.timezone
    {
        log::warn!(
            "the files' local times were read in {} (the mapping's timezone) but the \
             configuration cuts days in {}: add `timezone = \"{}\"` to crmlens.toml to \
             report in the files' zone",
            summary.timezone,
            config.timezone,
            summary.timezone
        );
    }
    if global.format == Some(Format::Json) {
        write_json_object(&summary, global.output.as_deref())?;
    } else {
        match &global.output {
            Some(path) => write_file_atomic(path, summary.text().as_bytes())?,
            None => write_stdout(summary.text().as_bytes())?,
        }
    }
    Ok(if summary.passed { 0 } else { 1 })
}
