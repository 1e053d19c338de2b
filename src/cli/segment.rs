//! `crmlens segment list | show | validate | run | diff | export`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Serialize;

use super::GlobalArgs;
use crate::engine::Engine;
use crate::output::progress::Progress;
use crate::output::text::{Align, TextTable};
use crate::output::{Format, OutputOptions, write_batches, write_json_object, write_stdout};
use crate::segments::definition::{Body, DEFAULT_DIR, Problem};
use crate::segments::export::{self, ExportSpec, Group, MaskMode};
use crate::segments::run::{self as seg_run, Catalog, RunOptions, keep};
use crate::segments::scoped::Reader;
use crate::segments::snapshot::{MEMBERS, Store};
use crate::{Error, Result};

/// Where snapshots go by default.
pub const DEFAULT_OUT: &str = "out/segments";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The segments with the size of their latest snapshot
    #[command(after_help = "Example:\n  crmlens segment list --out out/segments")]
    List(ListArgs),
    /// A segment's definition, its SQL and its size over the snapshots
    #[command(after_help = "Example:\n  crmlens segment show champions")]
    Show(ShowArgs),
    /// Check every definition: it parses and plans, dependencies exist without cycles,
    /// export columns exist; exit code 1 when one is wrong
    #[command(after_help = "Example:\n  crmlens segment validate --dataset datasets/demo")]
    Validate(ValidateArgs),
    /// Evaluate segments and write dated snapshots with the diff against the previous one
    #[command(after_help = "Examples:
  crmlens segment run --all --dataset datasets/demo
  crmlens segment run champions at_risk_high_value --out /var/crm/segments --as-of 2025-06-30

Writes OUT/<name>/<as_of>/members.parquet, entered.parquet, exited.parquet and
manifest.json per segment, replacing an earlier snapshot of the same as_of atomically.
Prints a JSON summary (a table on a terminal); exit code 1 when a segment failed (the others
are still written).")]
    Run(RunArgs),
    /// Customers who entered or left a segment between two snapshots
    #[command(after_help = "Examples:
  crmlens segment diff champions
  crmlens segment diff champions --from 2025-05-31 --to 2025-06-30 --format csv")]
    Diff(DiffArgs),
    /// Write a snapshot's members for a campaign tool (CSV, Parquet or JSON lines)
    #[command(after_help = "Examples:
  crmlens segment export champions --output champions.csv
  crmlens segment export champions --group treatment --mask email,phone --output list.jsonl
  crmlens segment export lapsed_b2b --snapshot 2025-05-31 --columns customer_id,email --format parquet --output l.parquet")]
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
pub struct Folders {
    /// Folder of segment definitions (*.toml, sub-folders included)
    #[arg(long, default_value = DEFAULT_DIR, value_name = "DIR")]
    segments: PathBuf,
    /// Folder of snapshots
    #[arg(long, default_value = DEFAULT_OUT, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    folders: Folders,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The segment
    name: String,
    #[command(flatten)]
    folders: Folders,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Folder of segment definitions (*.toml, sub-folders included)
    #[arg(long, default_value = DEFAULT_DIR, value_name = "DIR")]
    segments: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Segments to run (their dependencies are evaluated too)
    #[arg(
        value_name = "NAME",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    names: Vec<String>,
    /// Run every segment of the folder
    #[arg(long)]
    all: bool,
    #[command(flatten)]
    folders: Folders,
    /// Seconds to wait when another run holds the output folder's lock
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    wait: u64,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The segment
    name: String,
    /// The earlier snapshot [default: the one before --to]
    #[arg(long, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// The later snapshot [default: the latest]
    #[arg(long, value_name = "DATE")]
    to: Option<NaiveDate>,
    /// Snapshot folder
    #[arg(long, default_value = DEFAULT_OUT, value_name = "DIR")]
    out: PathBuf,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The segment
    name: String,
    /// The snapshot's as_of [default: the latest]
    #[arg(long, value_name = "DATE")]
    snapshot: Option<NaiveDate>,
    /// Snapshot folder
    #[arg(long, default_value = DEFAULT_OUT, value_name = "DIR")]
    out: PathBuf,
    /// Which members: all (with is_control), treatment (to contact) or control (held out)
    #[arg(long, value_enum, default_value = "all")]
    group: Group,
    /// Columns to write, comma-separated [default: the segment's export columns]
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    columns: Vec<String>,
    /// Personal-data columns to mask, comma-separated (e.g. email,phone)
    #[arg(long, value_delimiter = ',', value_name = "COLS")]
    mask: Vec<String>,
    /// hash: SHA-256 of the normalised value (what ad platforms match on); redact: NULL
    #[arg(long, value_enum, default_value = "hash")]
    mask_mode: MaskMode,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn run(global: &GlobalArgs, command: Command) -> Result<u8> {
    match command {
        Command::List(args) => list(global, args),
        Command::Show(args) => show(global, args),
        Command::Validate(args) => validate(global, args).await,
        Command::Run(args) => run_segments(global, args).await,
        Command::Diff(args) => diff(global, args).await,
        Command::Export(args) => export_members(global, args).await,
    }
}

async fn validate(global: &GlobalArgs, args: ValidateArgs) -> Result<u8> {
    let catalog = Catalog::load(&args.segments)?;
    let config = global.config()?;
    let engine = Engine::open(&config).await?;
    let problems = seg_run::validate(&engine, &catalog).await?;
    #[derive(Serialize)]
    struct Report<'a> {
        folder: &'a Path,
        segments: usize,
        valid: bool,
        problems: &'a [Problem],
    }
    let report = Report {
        folder: &args.segments,
        segments: catalog.planned.len() + count_unparsed(&catalog),
        valid: problems.is_empty(),
        problems: &problems,
    };
    let options = global.output(usize::MAX)?;
    if options.format == Format::Table {
        let mut text = String::new();
        for p in &problems {
            text.push_str(&format!("{p}\n"));
        }
        text.push_str(&format!(
            "{} segment(s) in {}: {}\n",
            report.segments,
            args.segments.display(),
            if problems.is_empty() {
                "all valid".to_string()
            } else {
                format!("{} problem(s)", problems.len())
            }
        ));
        write_stdout(text.as_bytes())?;
    } else {
        write_json_object(&report, options.output.as_deref())?;
    }
    Ok(if problems.is_empty() { 0 } else { 1 })
}

fn count_unparsed(catalog: &Catalog) -> usize {
    let mut files: Vec<&Path> = catalog
        .problems
        .iter()
        .filter(|p| {
            p.segment
                .as_ref()
                .is_none_or(|s| !catalog.planned.contains_key(s))
        })
        .map(|p| p.file.as_path())
        .collect();
    files.sort();
    files.dedup();
    files.len()
}

async fn run_segments(global: &GlobalArgs, args: RunArgs) -> Result<u8> {
    global.refuse_inside_dataset(&args.folders.out, "--out")?;
    let catalog = Catalog::load(&args.folders.segments)?;
    let names: Vec<String> = if args.all {
        catalog.all_names()
    } else {
        args.names.iter().map(|n| n.to_lowercase()).collect()
    };
    if names.is_empty() {
        return Err(Error::Usage(format!(
            "no segment definitions in {}",
            args.folders.segments.display()
        )));
    }
    let config = global.config()?;
    let progress = Progress::spinner(super::interactive(global), "crmlens segment run");
    progress.phase("opening the dataset (and fitting the CLV model when a segment needs it)");
    let summary = async {
        let (engine, clv_model) = seg_run::open_engine(&config, &catalog, &names).await?;
        progress.phase(&format!("evaluating {} segment(s)", names.len()));
        seg_run::run(
            &engine,
            &catalog,
            RunOptions {
                names,
                store: Store::for_scope(&args.folders.out, config.scope.as_ref()),
                wait: Duration::from_secs(args.wait),
                scope: config.scope.as_ref().map(|s| s.to_string()),
                clv_model,
            },
        )
        .await
    }
    .await;
    progress.finish();
    let summary = summary?;
    let options = global.output(usize::MAX)?;
    if options.format == Format::Table && options.output.is_none() {
        let mut text = format!(
            "segments as of {} → {} (shared work {} ms, total {} ms)\n",
            summary.as_of,
            summary.out.display(),
            summary.shared_ms,
            summary.duration_ms
        );
        for o in &summary.segments {
            text.push_str(&format!(
                "  {:<32} {:>9} members  +{:<7} -{:<7} control {:<7} {} ms\n",
                o.name, o.count, o.entered, o.exited, o.control, o.duration_ms
            ));
        }
        for f in &summary.failures {
            text.push_str(&format!("  {:<32} FAILED: {}\n", f.name, f.error));
        }
        text.push_str(&format!(
            "{} written, {} failed\n",
            summary.ok, summary.failed
        ));
        write_stdout(text.as_bytes())?;
    } else {
        write_json_object(&summary, options.output.as_deref())?;
    }
    Ok(if summary.failures.is_empty() { 0 } else { 1 })
}

/// The snapshots whose sizes `list` and `show` print: under a scope only those made under it
/// (a company-wide size would tell a manager about other managers' customers).
fn sizes_store(global: &GlobalArgs, out: &Path) -> Result<Store> {
    let scope = global.config()?.scope;
    let store = Store::for_scope(out, scope.as_ref());
    if let Some(scope) = scope {
        log::warn!(
            "--scope {scope}: sizes of the snapshots made under this scope, in {} (company-wide \
             snapshots are not shown under a scope)",
            store.dir.display()
        );
    }
    Ok(store)
}

fn list(global: &GlobalArgs, args: ListArgs) -> Result<u8> {
    let catalog = Catalog::load(&args.folders.segments)?;
    let store = sizes_store(global, &args.folders.out)?;
    let mut rows: Vec<ListRow> = Vec::new();
    for p in catalog.planned.values() {
        let d = &p.def;
        let mut row = ListRow {
            name: d.name.clone(),
            kind: match d.body {
                Body::Filter(_) => "filter".into(),
                Body::Sql(_) => "sql".into(),
            },
            description: d.description.clone(),
            owner: d.owner.clone(),
            tags: d.tags.join(","),
            depends_on: p.deps.join(","),
            holdout: d.holdout,
            snapshots: 0,
            latest_as_of: None,
            members: None,
            entered: None,
            exited: None,
            problem: None,
        };
        let snaps = store.snapshots(&d.name)?;
        row.snapshots = snaps.len() as i64;
        if let Some(last) = snaps.last() {
            let m = store.manifest(&d.name, *last)?;
            row.latest_as_of = Some(last.to_string());
            row.members = Some(m.count as i64);
            row.entered = Some(m.entered as i64);
            row.exited = Some(m.exited as i64);
        }
        rows.push(row);
    }
    for p in &catalog.problems {
        rows.push(ListRow {
            name: p
                .segment
                .clone()
                .unwrap_or_else(|| p.file.display().to_string()),
            problem: Some(p.message.clone()),
            ..ListRow::default()
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let options = global.output(usize::MAX)?;
    if options.format == Format::Table && options.output.is_none() {
        // Readable on a terminal; the machine formats keep every character.
        for r in &mut rows {
            if r.description.chars().count() > 60 {
                r.description = r.description.chars().take(59).collect::<String>() + "…";
            }
        }
    }
    let batch = list_batch(&rows)?;
    write_batches(batch.schema(), &[batch], &options)?;
    Ok(0)
}

#[derive(Default)]
struct ListRow {
    name: String,
    kind: String,
    description: String,
    owner: Option<String>,
    tags: String,
    depends_on: String,
    holdout: f64,
    snapshots: i64,
    latest_as_of: Option<String>,
    members: Option<i64>,
    entered: Option<i64>,
    exited: Option<i64>,
    problem: Option<String>,
}

fn list_batch(rows: &[ListRow]) -> Result<RecordBatch> {
    let text = |f: &dyn Fn(&ListRow) -> Option<String>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let int = |f: &dyn Fn(&ListRow) -> Option<i64>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Int64Array>())
    };
    let schema = Schema::new(vec![
        Field::new("segment", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, true),
        Field::new("owner", DataType::Utf8, true),
        Field::new("tags", DataType::Utf8, true),
        Field::new("depends_on", DataType::Utf8, true),
        Field::new("holdout", DataType::Float64, true),
        Field::new("snapshots", DataType::Int64, true),
        Field::new("latest_as_of", DataType::Utf8, true),
        Field::new("members", DataType::Int64, true),
        Field::new("entered", DataType::Int64, true),
        Field::new("exited", DataType::Int64, true),
        Field::new("problem", DataType::Utf8, true),
    ]);
    let some = |s: &String| (!s.is_empty()).then(|| s.clone());
    Ok(RecordBatch::try_new(
        Arc::new(schema),
        vec![
            text(&|r| Some(r.name.clone())),
            text(&|r| some(&r.kind)),
            text(&|r| some(&r.description)),
            text(&|r| r.owner.clone()),
            text(&|r| some(&r.tags)),
            text(&|r| some(&r.depends_on)),
            Arc::new(
                rows.iter()
                    .map(|r| r.problem.is_none().then_some(r.holdout))
                    .collect::<Float64Array>(),
            ),
            int(&|r| r.problem.is_none().then_some(r.snapshots)),
            text(&|r| r.latest_as_of.clone()),
            int(&|r| r.members),
            int(&|r| r.entered),
            int(&|r| r.exited),
            text(&|r| r.problem.clone()),
        ],
    )?)
}

fn show(global: &GlobalArgs, args: ShowArgs) -> Result<u8> {
    let catalog = Catalog::load(&args.folders.segments)?;
    let p = catalog.get(&args.name.to_lowercase())?;
    let store = sizes_store(global, &args.folders.out)?;
    #[derive(Serialize)]
    struct Snapshot {
        as_of: NaiveDate,
        members: u64,
        entered: u64,
        exited: u64,
        control: u64,
        definition_hash: String,
    }
    #[derive(Serialize)]
    struct Show<'a> {
        segment: &'a str,
        file: &'a Path,
        description: &'a str,
        owner: Option<&'a str>,
        tags: &'a [String],
        kind: &'a str,
        definition: &'a str,
        depends_on: &'a [String],
        columns: &'a [String],
        holdout: f64,
        sql: String,
        definition_hash: String,
        snapshots: Vec<Snapshot>,
    }
    let d = &p.def;
    let mut snapshots = Vec::new();
    for as_of in store.snapshots(&d.name)? {
        let m = store.manifest(&d.name, as_of)?;
        snapshots.push(Snapshot {
            as_of,
            members: m.count,
            entered: m.entered,
            exited: m.exited,
            control: m.control,
            definition_hash: m.definition_hash,
        });
    }
    let shown = Show {
        segment: &d.name,
        file: &d.path,
        description: &d.description,
        owner: d.owner.as_deref(),
        tags: &d.tags,
        kind: match d.body {
            Body::Filter(_) => "filter",
            Body::Sql(_) => "sql",
        },
        definition: d.body.text(),
        depends_on: &p.deps,
        columns: &d.columns,
        holdout: d.holdout,
        sql: p.sql(),
        definition_hash: catalog.definition_hash(&d.name),
        snapshots,
    };
    let options = global.output(usize::MAX)?;
    if options.format != Format::Table || options.output.is_some() {
        write_json_object(&shown, options.output.as_deref())?;
        return Ok(0);
    }
    let mut t = format!("segment {} ({})\n", shown.segment, shown.file.display());
    if !shown.description.is_empty() {
        t.push_str(&format!("  {}\n", shown.description));
    }
    if let Some(o) = shown.owner {
        t.push_str(&format!("owner:      {o}\n"));
    }
    if !shown.tags.is_empty() {
        t.push_str(&format!("tags:       {}\n", shown.tags.join(", ")));
    }
    t.push_str(&format!(
        "{}:{}{}\n",
        shown.kind,
        " ".repeat(11 - shown.kind.len()),
        shown.definition
    ));
    if !shown.depends_on.is_empty() {
        t.push_str(&format!("depends on: {}\n", shown.depends_on.join(", ")));
    }
    t.push_str(&format!("columns:    {}\n", shown.columns.join(", ")));
    t.push_str(&format!("holdout:    {}%\n", shown.holdout * 100.0));
    t.push_str(&format!("SQL:        {}\n", shown.sql));
    if shown.snapshots.is_empty() {
        t.push_str(&format!("no snapshots in {}\n", store.dir.display()));
    } else {
        t.push_str(&format!("snapshots in {}:\n", store.dir.display()));
        let mut table = TextTable::new(&[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Left,
        ])
        .header(&[
            "as_of",
            "members",
            "entered",
            "exited",
            "control",
            "definition",
        ]);
        let current = &shown.definition_hash;
        for s in &shown.snapshots {
            table.row(vec![
                s.as_of.to_string(),
                s.members.to_string(),
                s.entered.to_string(),
                s.exited.to_string(),
                s.control.to_string(),
                if &s.definition_hash == current {
                    "current"
                } else {
                    "changed since"
                }
                .into(),
            ]);
        }
        t.push_str(&table.render());
    }
    write_stdout(t.as_bytes())?;
    Ok(0)
}

async fn diff(global: &GlobalArgs, args: DiffArgs) -> Result<u8> {
    let name = args.name.to_lowercase();
    let reader = Reader::open(&args.out, &name, &global.config()?).await?;
    let store = &reader.store;
    let all = store.snapshots(&name)?;
    let to = store.pick(&name, args.to)?;
    let from = match args.from {
        Some(d) => store.pick(&name, Some(d))?,
        None => all.iter().copied().rfind(|d| *d < to).ok_or_else(|| {
            Error::Query(format!(
                "segment `{name}` has no snapshot before {to} to compare with; snapshots: {}",
                all.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
    };
    let (old_schema, old) = reader.read(&name, from, MEMBERS)?;
    let (new_schema, new) = reader.read(&name, to, MEMBERS)?;
    let old_ids: std::collections::HashSet<String> = old.iter().flat_map(seg_run::ids_of).collect();
    let new_ids: std::collections::HashSet<String> = new.iter().flat_map(seg_run::ids_of).collect();
    let common: Vec<String> = new_schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| old_schema.field_with_name(n).is_ok())
        .collect();
    let mut fields = vec![Field::new("change", DataType::Utf8, false)];
    fields.extend(
        common
            .iter()
            .map(|c| new_schema.field_with_name(c).cloned())
            .collect::<std::result::Result<Vec<_>, _>>()?,
    );
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let mut out = Vec::new();
    for (batches, change, other) in [(&new, "entered", &old_ids), (&old, "exited", &new_ids)] {
        for b in batches.iter() {
            let kept = keep(b, |id| !other.contains(id))?;
            let mut cols: Vec<ArrayRef> =
                vec![Arc::new(StringArray::from(vec![change; kept.num_rows()]))];
            for c in &common {
                let i = kept.schema().index_of(c)?;
                cols.push(datafusion::arrow::compute::cast(
                    kept.column(i),
                    schema.field_with_name(c)?.data_type(),
                )?);
            }
            out.push(RecordBatch::try_new(schema.clone(), cols)?);
        }
    }
    let batch = concat_batches(&schema, &out)?;
    log::info!("segment {name}: {from} → {to}");
    write_batches(schema, &[batch], &global.output(args.max_rows)?)?;
    Ok(0)
}

async fn export_members(global: &GlobalArgs, args: ExportArgs) -> Result<u8> {
    let name = args.name.to_lowercase();
    let reader = Reader::open(&args.out, &name, &global.config()?).await?;
    let as_of = reader.store.pick(&name, args.snapshot)?;
    let (schema, batches) = reader.read(&name, as_of, MEMBERS)?;
    let spec = ExportSpec {
        group: args.group,
        columns: args.columns,
        mask: args.mask,
        mode: args.mask_mode,
    };
    let (out_schema, out) = export::apply(&batches, &schema, &spec)?;
    let options: OutputOptions = global.output(args.max_rows)?;
    let rows = write_batches(out_schema, &out, &options)?;
    log::info!("segment {name} ({as_of}): {rows} members exported");
    Ok(0)
}
