//! The nightly job (`crmlens run`): validate the dataset, run every query of a folder and
//! write each result atomically to `OUT/<name>.csv` (or Parquet), then refresh every segment
//! of a folder into `OUT/segments/` (snapshots and diffs, as `crmlens segment run --all`),
//! then render every report template of a folder into `OUT/reports/` (as `crmlens report
//! run NAME`). Under a scope the queries, segments and reports see only the scope's rows; the
//! validation gate still checks the whole dataset.
//!
//! One engine serves the queries, the segments and the reports: the dataset is opened, the
//! CLV model fitted (when a segment or report needs it and none is configured) and
//! `customer_features` computed (segments cache it) once for the whole job.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::engine::Engine;
use crate::engine::model::PURCHASE_DAYS;
use crate::output::progress::Progress;
use crate::output::{Format, OutputOptions, write_dataframe};
use crate::report::render::Written;
use crate::segments::plan::FEATURES;
use crate::segments::run::Catalog;
use crate::validate::{Report, Severity, validate};
use crate::{Error, Result};

/// What to run and where to write it.
#[derive(Debug, Clone)]
pub struct Options {
    /// Folder of .sql files, one result each.
    pub queries: PathBuf,
    /// Folder for the results (created).
    pub out: PathBuf,
    /// Folder of segment definitions to refresh into OUT/segments (skipped when absent).
    pub segments: PathBuf,
    /// Folder of report templates to render into OUT/reports (skipped when absent).
    pub reports: PathBuf,
    /// The query results' format: CSV or Parquet.
    pub format: Format,
    /// Where the phases are shown as they run (hidden by default).
    pub progress: Progress,
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The validation gate found errors; nothing was written.
    Invalid(Report),
    /// Every step ran; some segments or report sections may have failed (see
    /// [`Summary::failed`]).
    Done(Summary),
}

/// What a run wrote.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub dataset: PathBuf,
    pub as_of: Option<chrono::NaiveDate>,
    pub validation_errors: usize,
    pub validation_warnings: usize,
    pub results: Vec<QueryResult>,
    pub segments: Option<crate::segments::run::Summary>,
    pub reports: Vec<Written>,
    /// Each phase's wall time and peak memory, in order.
    pub phases: Vec<Phase>,
}

/// One phase of a run: validation, opening the engine (and fitting the CLV model), the
/// queries, the segments, the reports.
#[derive(Debug, Serialize)]
pub struct Phase {
    pub phase: String,
    pub seconds: f64,
    /// The process's peak resident memory during the phase (Linux; None elsewhere).
    pub peak_rss_bytes: Option<u64>,
}

/// Runs one phase: its time and peak memory are recorded, and an error says which phase
/// failed (a memory limit exceeded names the phase and what it asked for).
async fn phase<T>(
    phases: &mut Vec<Phase>,
    progress: &Progress,
    name: &str,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    progress.phase(name);
    reset_peak_rss();
    let started = std::time::Instant::now();
    let out = work.await;
    let this = Phase {
        phase: name.to_string(),
        seconds: started.elapsed().as_secs_f64(),
        peak_rss_bytes: peak_rss(),
    };
    match out {
        Ok(out) => {
            log::info!("{}", this.line());
            phases.push(this);
            Ok(out)
        }
        Err(e) => {
            // A run that fails after an hour still says where the hour went.
            for done in phases.iter() {
                log::error!("done: {}", done.line());
            }
            log::error!("failed: {}", this.line());
            Err(e.context(format!("{name} phase")))
        }
    }
}

impl Phase {
    /// `customer_features: 723.0 s, peak memory 15403 MB`.
    fn line(&self) -> String {
        format!(
            "{}: {:.1} s, peak memory {}",
            self.phase,
            self.seconds,
            self.peak_rss_bytes
                .map_or("unknown".into(), |b| format!("{} MB", b >> 20))
        )
    }
}

/// Starts a new peak-memory measurement (Linux: writing 5 to clear_refs resets VmHWM).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident memory since the last reset (Linux: VmHWM).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

/// One query's result file.
#[derive(Debug, Serialize)]
pub struct QueryResult {
    pub query: String,
    pub rows: u64,
    pub output: PathBuf,
}

impl Summary {
    /// Whether a segment or a report section failed (the rest was written).
    pub fn failed(&self) -> bool {
        self.segments.as_ref().is_some_and(|s| s.failed > 0)
            || self.reports.iter().any(|r| !r.failed_sections.is_empty())
    }
}

/// The .sql files of a folder, in name order; a folder without any is a usage error.
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

/// Runs the nightly job.
pub async fn run(config: &Config, options: &Options) -> Result<Outcome> {
    let files = query_files(&options.queries)?;
    // The gate checks the whole dataset also under a scope (a scope does not make bad data
    // good), but then reports only how many errors there are: findings quote rows.
    let whole = Config {
        scope: None,
        ..config.clone()
    };
    let mut phases = Vec::new();
    let report = phase(
        &mut phases,
        &options.progress,
        "validation",
        validate(&whole),
    )
    .await?;
    if !report.passed() {
        let quoted = if config.scope.is_some() {
            &[][..]
        } else {
            &report.findings[..]
        };
        for f in quoted.iter().filter(|f| f.severity == Severity::Error) {
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
        return Ok(Outcome::Invalid(report));
    }
    let out = &options.out;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let catalog = if options.segments.is_dir() {
        Some(Catalog::load(&options.segments)?)
    } else {
        log::info!(
            "no segment folder {}: segments skipped",
            options.segments.display()
        );
        None
    };
    let templates = if options.reports.is_dir() {
        crate::report::load_dir(&options.reports)?
    } else {
        log::info!(
            "no report folder {}: reports skipped",
            options.reports.display()
        );
        Vec::new()
    };
    let needs_model = catalog
        .as_ref()
        .is_some_and(|c| c.planned.values().any(|p| p.needs_model()))
        || templates.iter().any(crate::report::run::needs_model);
    let (engine, clv_model) = phase(
        &mut phases,
        &options.progress,
        "open",
        Engine::open_with_model(config, needs_model),
    )
    .await?;
    // The per-customer figures once for the whole run: the queries, segments and reports
    // read them from a file instead of computing them again or holding them in memory.
    if engine.context().table_exist(FEATURES)? {
        let materialize = async {
            // Read by the CLV summaries inside customer_features and by the reports' key
            // figures: once, into a file (already done when the CLV model was fitted).
            if engine.context().table_exist(PURCHASE_DAYS)? {
                engine.materialize(PURCHASE_DAYS).await?;
            }
            engine.materialize(FEATURES).await
        };
        phase(
            &mut phases,
            &options.progress,
            "customer_features",
            materialize,
        )
        .await?;
    }
    let results = phase(&mut phases, &options.progress, "queries", async {
        let mut results = Vec::new();
        for file in &files {
            results.push(run_query(&engine, file, options).await?);
        }
        Ok(results)
    })
    .await?;
    let segments = match &catalog {
        Some(c) => {
            let refresh = refresh_segments(&engine, options, c, clv_model);
            phase(&mut phases, &options.progress, "segments", refresh).await?
        }
        None => None,
    };
    let reports = phase(
        &mut phases,
        &options.progress,
        "reports",
        render_reports(&engine, options, &templates),
    )
    .await?;
    options.progress.finish();
    Ok(Outcome::Done(Summary {
        dataset: report.dataset.clone(),
        as_of: report.as_of,
        validation_errors: report.errors,
        validation_warnings: report.warnings,
        results,
        segments,
        reports,
        phases,
    }))
}

/// One query file into OUT/<name>.<csv|parquet>.
async fn run_query(engine: &Engine, file: &Path, options: &Options) -> Result<QueryResult> {
    let name = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
    let started = std::time::Instant::now();
    let df = engine
        .sql(&text)
        .await
        .map_err(|e| e.context(file.display().to_string()))?;
    let output = options
        .out
        .join(format!("{name}.{}", options.format.extension()));
    let write = OutputOptions {
        format: options.format,
        output: Some(output.clone()),
        max_rows: usize::MAX,
    };
    let rows = write_dataframe(df, &write).await?;
    log::info!(
        "{name}: {rows} rows → {} in {:.1} s",
        output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(QueryResult {
        query: name,
        rows,
        output,
    })
}

/// `segment run --all` into OUT/segments.
async fn refresh_segments(
    engine: &Engine,
    options: &Options,
    catalog: &Catalog,
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
            store: crate::segments::snapshot::Store::for_scope(
                options.out.join("segments"),
                engine.config().scope.as_ref(),
            ),
            wait: std::time::Duration::from_secs(60),
            scope: engine.config().scope.as_ref().map(|s| s.to_string()),
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
    options: &Options,
    templates: &[crate::report::template::Template],
) -> Result<Vec<Written>> {
    use crate::report::{render, run};
    if templates.is_empty() {
        return Ok(Vec::new());
    }
    let out = options.out.join("reports");
    std::fs::create_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    let meta = render::Meta::of(engine).await?;
    let mut written = Vec::new();
    for t in templates {
        let data = run::run(engine, t, &options.segments).await?;
        let w = render::write(t, &data, &meta, &out)?;
        for s in &w.failed_sections {
            log::error!("report {}: section {s:?} could not be computed", t.name);
        }
        written.push(w);
    }
    Ok(written)
}
