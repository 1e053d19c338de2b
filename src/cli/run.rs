//! `crmlens run`: the nightly job. Today: validate the dataset, then run every query of
//! `queries/nightly/` and write each result atomically to `OUT/<name>.csv` (or the chosen
//! format). Segments and reports join this job when they are built. Under `--scope` the
//! queries see only the scope's rows; the validation gate still checks the whole dataset.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::GlobalArgs;
use crate::dataset::validate::validate;
use crate::engine::Engine;
use crate::output::{Format, OutputOptions, write_dataframe, write_json_object, write_stdout};
use crate::{Error, Result};

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
}

#[derive(Debug, Serialize)]
struct Summary {
    dataset: PathBuf,
    as_of: Option<chrono::NaiveDate>,
    validation_errors: usize,
    validation_warnings: usize,
    results: Vec<QueryResult>,
}

#[derive(Debug, Serialize)]
struct QueryResult {
    query: String,
    rows: u64,
    output: PathBuf,
}

fn query_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Usage(format!("no .sql files in {}", dir.display())));
    }
    Ok(files)
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let config = global.config()?;
    let files = query_files(&args.queries)?;
    let format = match global.format {
        None | Some(Format::Table) | Some(Format::Json) => Format::Csv,
        Some(f) => f,
    };
    // The gate checks the whole dataset also under a scope (a scope does not make bad data
    // good), but then reports only how many errors there are: findings quote rows.
    let whole = crate::config::Config {
        scope: None,
        ..config.clone()
    };
    let report = validate(&whole).await?;
    if !report.passed() {
        let quoted = if config.scope.is_some() {
            &[][..]
        } else {
            &report.findings[..]
        };
        for f in quoted
            .iter()
            .filter(|f| f.severity == crate::dataset::validate::Severity::Error)
        {
            log::error!(
                "{}.{}: {} ({} rows): {}",
                f.table,
                f.column.as_deref().unwrap_or("*"),
                f.check,
                f.count,
                f.message
            );
        }
        log::error!(
            "validation failed with {} error(s); see `crmlens validate`",
            report.errors
        );
        return Ok(1);
    }
    std::fs::create_dir_all(&args.out).map_err(|e| Error::io(&args.out, e))?;
    let engine = Engine::open(&config).await?;
    let mut results = Vec::new();
    for file in &files {
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        let df = engine
            .sql(&text)
            .await
            .map_err(|e| Error::Query(format!("{}: {e}", file.display())))?;
        let extension = match format {
            Format::Parquet => "parquet",
            _ => "csv",
        };
        let output = args.out.join(format!("{name}.{extension}"));
        let options = OutputOptions {
            format,
            output: Some(output.clone()),
            max_rows: usize::MAX,
        };
        let rows = write_dataframe(df, &options).await?;
        log::info!("{name}: {rows} rows → {}", output.display());
        results.push(QueryResult {
            query: name,
            rows,
            output,
        });
    }
    let summary = Summary {
        dataset: report.dataset.clone(),
        as_of: report.as_of,
        validation_errors: report.errors,
        validation_warnings: report.warnings,
        results,
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
        for r in &summary.results {
            text.push_str(&format!(
                "  {:<24} {:>8} rows  {}\n",
                r.query,
                r.rows,
                r.output.display()
            ));
        }
        write_stdout(text.as_bytes())?;
    }
    Ok(0)
}
