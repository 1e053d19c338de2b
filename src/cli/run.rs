//! `crmlens run`: the nightly job of [`crate::nightly`], with its summary printed as text or
//! JSON.

use std::path::PathBuf;

use super::GlobalArgs;
use crate::Result;
use crate::nightly::{Options, Outcome};
use crate::output::progress::Progress;
use crate::output::text::{Align, TextTable};
use crate::output::{Format, write_json_object, write_stdout};

/// Run the nightly job: validate, then the queries of a folder, one result file each.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens run --dataset datasets/demo
  crmlens run --dataset /data/crm --queries queries/nightly --out /var/crm/nightly --format parquet")]
pub struct Args {
    /// Folder of .sql files to run, one result each
    #[arg(long, default_value = "queries/nightly", value_name = "DIR")]
    queries: PathBuf,
    /// Folder for the results (created)
    #[arg(long, default_value = "out", value_name = "DIR")]
    out: PathBuf,
    /// Folder of segment definitions to refresh into OUT/segments (skipped when absent)
    #[arg(long, default_value = crate::segments::definition::DEFAULT_DIR, value_name = "DIR")]
    segments: PathBuf,
    /// Folder of report templates to render into OUT/reports (skipped when absent)
    #[arg(long, default_value = crate::report::template::DEFAULT_DIR, value_name = "DIR")]
    reports: PathBuf,
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    global.refuse_inside_dataset(&args.out, "--out")?;
    let config = global.config()?;
    let format = match global.format {
        None | Some(Format::Table) | Some(Format::Json) | Some(Format::Jsonl) => Format::Csv,
        Some(f) => f,
    };
    let options = Options {
        queries: args.queries,
        out: args.out,
        segments: args.segments,
        reports: args.reports,
        format,
        progress: Progress::spinner(super::interactive(global), "crmlens run"),
    };
    let summary = match crate::nightly::run(&config, &options).await? {
        Outcome::Invalid(_) => return Ok(1),
        Outcome::Done(summary) => summary,
    };
    if global.format == Some(Format::Json) {
        write_json_object(&summary, None)?;
    } else {
        let as_of = summary
            .as_of
            .map(|d| d.to_string())
            .unwrap_or_else(|| "unknown".into());
        let mut text = format!(
            "dataset {} (as_of {as_of}): validation passed ({} warning(s))\n",
            summary.dataset.display(),
            summary.validation_warnings
        );
        let mut table = TextTable::new(&[Align::Left, Align::Left, Align::Right, Align::Left]);
        for r in &summary.results {
            table.row(vec![
                "query".into(),
                r.query.clone(),
                format!("{} rows", r.rows),
                r.output.display().to_string(),
            ]);
        }
        if let Some(seg) = &summary.segments {
            for o in &seg.segments {
                table.row(vec![
                    "segment".into(),
                    o.name.clone(),
                    format!("{} members (+{} -{})", o.count, o.entered, o.exited),
                    o.path.display().to_string(),
                ]);
            }
            for f in &seg.failures {
                table.row(vec![
                    "segment".into(),
                    f.name.clone(),
                    "FAILED".into(),
                    f.error.clone(),
                ]);
            }
        }
        for r in &summary.reports {
            let failed = if r.failed_sections.is_empty() {
                String::new()
            } else {
                format!("  (failed: {})", r.failed_sections.join(", "))
            };
            table.row(vec![
                "report".into(),
                r.report.clone(),
                String::new(),
                format!("{}{failed}", r.html.display()),
            ]);
        }
        text.push_str(&table.render());
        let phases: Vec<String> = summary
            .phases
            .iter()
            .map(|p| match p.peak_rss_bytes {
                Some(b) => format!("{} {:.1} s ({} MB)", p.phase, p.seconds, b >> 20),
                None => format!("{} {:.1} s", p.phase, p.seconds),
            })
            .collect();
        text.push_str(&format!("  phases: {}\n", phases.join(", ")));
        write_stdout(text.as_bytes())?;
    }
    Ok(if summary.failed() { 1 } else { 0 })
}
