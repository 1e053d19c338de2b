//! `crmlens report list | run NAME`.

use std::path::PathBuf;

use super::GlobalArgs;
use crate::output::{Format, write_json_object, write_stdout};
use crate::report::render::{Meta, write};
use crate::report::run::{needs_model, run as run_report};
use crate::report::template::DEFAULT_DIR;
use crate::report::{load, load_dir};
use crate::{Error, Result};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The report templates of the folder
    #[command(after_help = "Example:\n  crmlens report list")]
    List(ListArgs),
    /// Render a report: DIR/NAME.html (self-contained), DIR/NAME.md and DIR/charts/*.svg|png
    #[command(after_help = "Examples:
  crmlens report run sales --dataset datasets/demo
  crmlens report run customers --out /srv/reports --as-of 2025-06-30

Prints the path of the HTML file (a JSON summary with --format json). Exit code 1 when a
section could not be computed (the report is still written, the section says why).")]
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Folder of report templates (*.toml)
    #[arg(long, default_value = DEFAULT_DIR, value_name = "DIR")]
    reports: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The report (a template name, or a path to a .toml file)
    name: String,
    /// Folder for the report files (created)
    #[arg(long, default_value = "out/reports", value_name = "DIR")]
    out: PathBuf,
    /// Folder of report templates
    #[arg(long, default_value = DEFAULT_DIR, value_name = "DIR")]
    reports: PathBuf,
    /// Folder of segment definitions (for the segment_sizes analysis)
    #[arg(long, default_value = crate::segments::definition::DEFAULT_DIR, value_name = "DIR")]
    segments: PathBuf,
}

pub async fn run(global: &GlobalArgs, command: Command) -> Result<u8> {
    match command {
        Command::List(args) => list(global, args),
        Command::Run(args) => render(global, args).await,
    }
}

fn list(global: &GlobalArgs, args: ListArgs) -> Result<u8> {
    let templates = load_dir(&args.reports)?;
    #[derive(serde::Serialize)]
    struct Row {
        report: String,
        title: String,
        key_figures: usize,
        sections: usize,
        file: PathBuf,
    }
    let rows: Vec<Row> = templates
        .into_iter()
        .map(|t| Row {
            report: t.name,
            title: t.title,
            key_figures: t.keys.len(),
            sections: t.sections.len(),
            file: t.path,
        })
        .collect();
    let options = global.output(usize::MAX)?;
    if options.format == Format::Table && options.output.is_none() {
        let mut text = String::new();
        for r in &rows {
            text.push_str(&format!(
                "{:<12} {}  ({} key figures, {} sections)\n",
                r.report, r.title, r.key_figures, r.sections
            ));
        }
        write_stdout(text.as_bytes())?;
    } else {
        write_json_object(&rows, options.output.as_deref())?;
    }
    Ok(0)
}

async fn render(global: &GlobalArgs, args: RunArgs) -> Result<u8> {
    global.refuse_inside_dataset(&args.out, "--out")?;
    let path = if args.name.ends_with(".toml") {
        PathBuf::from(&args.name)
    } else {
        args.reports.join(format!("{}.toml", args.name))
    };
    if !path.is_file() {
        let mut names: Vec<String> = std::fs::read_dir(&args.reports)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                    .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        let hint = crate::hint::closest(&args.name, names.iter().map(String::as_str))
            .map(|c| format!(", did you mean `{c}`?"))
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "unknown report `{}`{hint} (reports in {}: {})",
            args.name,
            args.reports.display(),
            names.join(", ")
        )));
    }
    let template = load(&path)?;
    let config = global.config()?;
    let (engine, _) =
        crate::engine::Engine::open_with_model(&config, needs_model(&template)).await?;
    let data = run_report(&engine, &template, &args.segments).await?;
    std::fs::create_dir_all(&args.out).map_err(|e| Error::io(&args.out, e))?;
    let meta = Meta::of(&engine).await?;
    let written = write(&template, &data, &meta, &args.out)?;
    for (s, k) in data
        .sections
        .iter()
        .filter_map(|s| s.error.as_ref().map(|e| (&s.heading, e)))
        .chain(
            data.keys
                .iter()
                .filter_map(|k| k.error.as_ref().map(|e| (&k.label, e))),
        )
    {
        log::error!("report {}: {s}: {k}", template.name);
    }
    let failed = !written.failed_sections.is_empty() || data.keys.iter().any(|k| k.error.is_some());
    log::info!(
        "report {}: queries {} ms, rendering {} ms",
        template.name,
        written.query_ms,
        written.render_ms
    );
    if matches!(global.format, Some(Format::Json)) {
        write_json_object(&written, global.output.as_deref())?;
    } else {
        write_stdout(format!("{}\n", written.html.display()).as_bytes())?;
    }
    Ok(if failed { 1 } else { 0 })
}
