//! `crmlens validate`: the report as tables for people, findings as CSV, or one JSON object.

use super::GlobalArgs;
use crate::Result;
use crate::output::progress::Progress;
use crate::output::{Format, OutputOptions, write_batches, write_json_object, write_stdout};
use crate::validate::validate;

/// Check a dataset against the contract.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit code 1 when there is at least one error finding.

Examples:
  crmlens validate --dataset datasets/demo
  crmlens validate --dataset /data/crm --format json --output validation.json")]
pub struct Args {}

pub async fn run(global: &GlobalArgs, _args: Args) -> Result<u8> {
    let config = global.config()?;
    let progress = Progress::spinner(super::interactive(global), "crmlens validate");
    progress.phase("checking every table");
    let report = validate(&config).await;
    progress.finish();
    let report = report?;
    let options = global.output(usize::MAX)?;
    match options.format {
        Format::Json => write_json_object(&report, options.output.as_deref())?,
        Format::Table if options.output.is_none() => {
            let as_of = report
                .as_of
                .map(|d| d.to_string())
                .unwrap_or_else(|| "unknown".into());
            write_stdout(
                format!("dataset {} (as_of {as_of})\n", report.dataset.display()).as_bytes(),
            )?;
            let tables = report.tables_batch()?;
            write_batches(
                tables.schema(),
                &[tables],
                &OutputOptions::stdout(Format::Table),
            )?;
            if !report.findings.is_empty() {
                let findings = report.findings_batch()?;
                write_batches(
                    findings.schema(),
                    &[findings],
                    &OutputOptions::stdout(Format::Table),
                )?;
            }
            let verdict = if report.passed() { "passed" } else { "FAILED" };
            write_stdout(
                format!(
                    "validation {verdict}: {} error(s), {} warning(s)\n",
                    report.errors, report.warnings
                )
                .as_bytes(),
            )?;
        }
        _ => {
            let findings = report.findings_batch()?;
            write_batches(findings.schema(), &[findings], &options)?;
        }
    }
    if !report.passed() {
        log::warn!("validation failed: {} error(s)", report.errors);
    }
    Ok(if report.passed() { 0 } else { 1 })
}
