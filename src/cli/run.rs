//! `crmlens run`: the nightly job. Validate the dataset, run every query of
//! `queries/nightly/` and write each result atomically to `OUT/<name>.csv` (or the chosen
//! format), then refresh every segment of `queries/segments/` into `OUT/segments/` (snapshots
//! and diffs, as `crmlens segment run --all`), then render every report of `queries/reports/`
//! into `OUT/reports/` (as `crmlens report run NAME`). Under `--scope` the queries, segments
//! and reports see only the scope's rows; the validation gate still checks the whole dataset.

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
    /// Folder of segment definitions to refresh into OUT/segments (skipped when absent)
    #[arg(long, default_value = crate::segments::definition::DEFAULT_DIR, value_name = "DIR")]
    segments: PathBuf,
    /// Folder of report templates to render into OUT/reports (skipped when absent)
    #[arg(long, default_value = crate::report::template::DEFAULT_DIR, value_name = "DIR")]
    reports: PathBuf,
}

#[derive(Debug, Serialize)]
struct Summary {
    dataset: PathBuf,
    as_of: Option<chrono::NaiveDate>,
    validation_errors: usize,
    validation_warnings: usize,
    results: Vec<QueryResult>,
    segments: Option<crate::segments::run::Summary>,
    reports: Vec<crate::report::render::Written>,
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
        None | Some(Format::Table) | Some(Format::Json) | Some(Format::Jsonl) => Format::Csv,
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
    // One session for the queries, the segments and the reports: the dataset is opened, the
    // CLV model fitted (when a segment or report needs it and none is configured) and
    // customer_features computed (segments cache it) once for the whole job.
    let catalog = if args.segments.is_dir() {
        Some(crate::segments::run::Catalog::load(&args.segments)?)
    } else {
        log::info!(
            "no segment folder {}: segments skipped",
            args.segments.display()
        );
        None
    };
    let templates = if args.reports.is_dir() {
        crate::report::template::load_dir(&args.reports)?
    } else {
        log::info!(
            "no report folder {}: reports skipped",
            args.reports.display()
        );
        Vec::new()
    };
    let needs_model = catalog
        .as_ref()
        .is_some_and(|c| c.planned.values().any(|p| p.needs_model()))
        || templates.iter().any(crate::report::run::needs_model);
    let (engine, clv_model) = crate::views::clv::open_with_model(&config, needs_model).await?;
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
        segments: match &catalog {
            Some(c) => refresh_segments(&engine, &config, &args, c, clv_model).await?,
            None => None,
        },
        reports: render_reports(&engine, &config, &args, &templates).await?,
    };
    let failed = summary.segments.as_ref().is_some_and(|s| s.failed > 0)
        || summary
            .reports
            .iter()
            .any(|r| !r.failed_sections.is_empty());
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
        if let Some(seg) = &summary.segments {
            for o in &seg.segments {
                text.push_str(&format!(
                    "  segment {:<24} {:>8} members (+{} -{})  {}\n",
                    o.name,
                    o.count,
                    o.entered,
                    o.exited,
                    o.path.display()
                ));
            }
            for f in &seg.failures {
                text.push_str(&format!("  segment {:<24} FAILED: {}\n", f.name, f.error));
            }
        }
        for r in &summary.reports {
            text.push_str(&format!(
                "  report  {:<24} {}{}\n",
                r.report,
                r.html.display(),
                if r.failed_sections.is_empty() {
                    String::new()
                } else {
                    format!("  (failed: {})", r.failed_sections.join(", "))
                }
            ));
        }
        write_stdout(text.as_bytes())?;
    }
    Ok(if failed { 1 } else { 0 })
}

/// `segment run --all` into OUT/segments.
async fn refresh_segments(
    engine: &Engine,
    config: &crate::config::Config,
    args: &Args,
    catalog: &crate::segments::run::Catalog,
    clv_model: Option<String>,
) -> Result<Option<crate::segments::run::Summary>> {
    use crate::segments::run::{RunOptions, run};
    let names = catalog.all_names();
    if names.is_empty() {
        return Ok(None);
    }
    let summary = run(
        engine,
        catalog,
        RunOptions {
            names,
            store: crate::segments::snapshot::Store::new(args.out.join("segments")),
            wait: std::time::Duration::from_secs(60),
            scope: config.scope.as_ref().map(|s| s.to_string()),
            clv_model,
        },
    )
    .await?;
    for f in &summary.failures {
        log::error!("segment {}: {}", f.name, f.error);
    }
    Ok(Some(summary))
}

/// Every report template into OUT/reports.
async fn render_reports(
    engine: &Engine,
    config: &crate::config::Config,
    args: &Args,
    templates: &[crate::report::template::Template],
) -> Result<Vec<crate::report::render::Written>> {
    use crate::report::{render, run};
    if templates.is_empty() {
        return Ok(Vec::new());
    }
    let out = args.out.join("reports");
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let meta = render::Meta {
        as_of: engine.as_of().await?,
        dataset: engine.dataset().root.clone(),
        currency: config.currency.clone(),
        scope: config.scope.as_ref().map(|s| s.to_string()),
    };
    let mut written = Vec::new();
    for t in templates {
        let data = run::run(engine, t, &args.segments).await?;
        let w = render::write(t, &data, &meta, &out)?;
        for s in &w.failed_sections {
            log::error!("report {}: section {s:?} could not be computed", t.name);
        }
        written.push(w);
    }
    Ok(written)
}
