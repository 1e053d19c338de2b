//! `crmlens generate`: a deterministic synthetic CRM dataset.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{GlobalArgs, interactive};
use crate::Result;
use crate::generate::{GenerateOptions, generate};
use crate::output::{Format, write_json_object, write_stdout};

/// Write a deterministic synthetic CRM dataset: every table of the schema.
#[derive(Debug, clap::Args)]
#[command(after_help = "The same options give byte-identical files.

Examples:
  crmlens generate --out /tmp/crm
  crmlens generate --out /tmp/big --customers 1000000 --seed 7
  crmlens generate --out /tmp/crm --start 2022-01-01 --months 24")]
pub struct Args {
    /// Output directory (created; a previous generate output there is replaced)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Number of customers
    #[arg(long, default_value_t = 5000)]
    customers: u64,
    /// Random seed
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// First day of the simulated history
    #[arg(long, default_value = "2023-01-01", value_name = "DATE")]
    start: NaiveDate,
    /// Months of history
    #[arg(long, default_value_t = 36)]
    months: u32,
    /// Worker threads [default: number of CPU cores]
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    // The generator checks the ranges of --customers and --months itself (one place).
    let mut options = GenerateOptions {
        out: args.out,
        customers: args.customers,
        seed: args.seed,
        start: args.start,
        months: args.months,
        progress: interactive(global),
        ..GenerateOptions::default()
    };
    if let Some(t) = args.threads {
        options.threads = t.max(1);
    }
    let summary = generate(&options)?;
    if global.format == Some(Format::Json) {
        write_json_object(&summary, global.output.as_deref())?;
    } else {
        let mut text = format!(
            "wrote {} (as_of {})\n",
            summary.out.display(),
            summary.as_of
        );
        for t in &summary.tables {
            let (table, rows, mb) = (&t.table, t.rows, t.bytes as f64 / 1e6);
            text.push_str(&format!("  {table:<20} {rows:>12} rows {mb:>10.1} MB\n"));
        }
        write_stdout(text.as_bytes())?;
    }
    Ok(0)
}
