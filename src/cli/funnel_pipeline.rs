//! `crmlens funnel pipeline`: the deal funnel (view `pipeline_funnel`), its win rate and
//! sales cycle (`pipeline_summary`) and the per-hundred conversion
//! (`per_hundred_conversion`), optionally broken down and limited to a range of deal creation
//! dates. Definitions in `views::pipeline`.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;

use super::GlobalArgs;
use super::range::Days;
use crate::engine::Engine;
use crate::output::{Format, OutputOptions, write_dataframe, write_stdout};
use crate::views::pipeline::{
    Breakdown, ContactBreakdown, funnel_sql, per_hundred_sql, summary_sql,
};
use crate::{Error, Result};

/// The deal funnel from stage history, with win rate, sales cycle and per-hundred conversion
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens funnel pipeline --dataset datasets/demo      funnel, win rate and cycle, per hundred
  crmlens funnel pipeline --by manager --format csv    one row per manager × stage
  crmlens funnel pipeline --by month --from 2025-01-01 --to 2025-06-30
  crmlens funnel pipeline --summary --by source --format json
  crmlens funnel pipeline --per-hundred --by region --format json

Stages come from crmlens.toml ([pipeline] stages, the last one is the won stage; lost_stage).
A deal reached a stage if its history (up to as_of) has it or a later stage: skipped stages
count as passed. Per stage: reached, converted (reached the next stage), won, dropped (lost
there), in_progress (open at as_of there), so reached = converted + won + dropped +
in_progress; conversion to the next stage and from the first, drop-off, median and p90 days in
stage. Deals closed after as_of were open at as_of. --from/--to select deals by creation date
(inclusive; for per-hundred conversion, cold contacts by contact date).

With the table format on a terminal and none of --summary/--per-hundred, the three tables are
printed one after the other; any other format prints one table (the funnel unless
--summary or --per-hundred), so CSV, JSON and Parquet stay one table each.
The same figures are the views pipeline_funnel, pipeline_summary and per_hundred_conversion of
`crmlens sql` (also pipeline_deals and pipeline_deal_stages, one row per deal / deal × stage).")]
#[command(mut_arg("from", |a| a.help("First deal creation date included, YYYY-MM-DD")), mut_arg("to", |a| a.help("Last deal creation date included, YYYY-MM-DD")))]
pub struct Args {
    /// Break every figure down by this attribute of the deal (region and segment are the
    /// customer's; month is the deal's creation month)
    #[arg(long, value_enum, value_name = "DIM")]
    by: Option<By>,
    #[command(flatten)]
    period: Days,
    /// Print win rate, sales cycle and the deals left out of the funnel instead of the funnel
    #[arg(long, conflicts_with = "per_hundred")]
    summary: bool,
    /// Print the per-hundred conversion (cold contacts → opportunities → sales) instead of
    /// the funnel; --by works with manager, region, segment and month
    #[arg(long)]
    per_hundred: bool,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 200, value_name = "N")]
    max_rows: usize,
}

/// What the funnel can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum By {
    /// The deal's manager
    Manager,
    /// The deal's lead source
    Source,
    /// The customer's region
    Region,
    /// The deal's product category
    #[value(name = "product_category", alias = "product-category")]
    ProductCategory,
    /// The customer's RFM segment
    Segment,
    /// The deal's creation month
    Month,
}

impl By {
    fn breakdown(self) -> Breakdown<'static> {
        let (expr, column) = match self {
            By::Manager => ("manager_id", "manager_id"),
            By::Source => ("source", "source"),
            By::Region => ("region", "region"),
            By::ProductCategory => ("product_category", "product_category"),
            By::Segment => ("segment", "segment"),
            By::Month => ("created_month", "month"),
        };
        Breakdown { expr, column }
    }

    /// The breakdown of cold contacts, which have no deal source or product category.
    fn contact(self) -> Option<ContactBreakdown> {
        match self {
            By::Manager => Some(ContactBreakdown::Manager),
            By::Region => Some(ContactBreakdown::Region),
            By::Segment => Some(ContactBreakdown::Segment),
            By::Month => Some(ContactBreakdown::Month),
            By::Source | By::ProductCategory => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            By::Manager => "manager",
            By::Source => "source",
            By::Region => "region",
            By::ProductCategory => "product_category",
            By::Segment => "segment",
            By::Month => "month",
        }
    }
}

/// ` COLUMN between …` conditions for the optional first and last date, or "".
pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let deal_filter = args.period.conditions("created_date")?.join(" and ");
    let contact_filter = args.period.conditions("contact_date")?.join(" and ");
    let contact_by = match args.by {
        Some(b) if args.per_hundred && b.contact().is_none() => {
            return Err(Error::Usage(format!(
                "--per-hundred cannot be broken down by {}: a cold contact has no deal yet; \
                 use --by manager, region, segment or month",
                b.name()
            )));
        }
        Some(b) => b.contact(),
        None => None,
    };
    let config = global.config()?;
    let output = global.output(args.max_rows);
    let engine = Engine::open(&config).await?;
    let env = engine.view_env(engine.as_of().await?).await?;
    let per_hundred = per_hundred_sql(&env, contact_by, &contact_filter)?;
    if args.per_hundred {
        engine.require("per-hundred conversion", &["deals", "activities"])?;
        return print(&engine, &per_hundred, &output).await;
    }
    engine.require("the pipeline funnel", &["deals", "deal_stage_history"])?;
    warn_left_out(&engine, &deal_filter).await?;
    let by = args.by.map(By::breakdown);
    let funnel = funnel_sql(&engine.config().pipeline, by, &deal_filter);
    let summary = summary_sql(by, &deal_filter);
    if args.summary {
        return print(&engine, &summary, &output).await;
    }
    if output.format != Format::Table || output.output.is_some() {
        return print(&engine, &funnel, &output).await;
    }
    write_stdout(b"Pipeline funnel\n")?;
    print(&engine, &funnel, &output).await?;
    write_stdout(b"\nWin rate and sales cycle\n")?;
    print(&engine, &summary, &output).await?;
    if engine.dataset().table("activities").is_none() {
        write_stdout(b"\nPer-hundred conversion: not available (no activities table)\n")?;
        return Ok(0);
    }
    match (args.by, contact_by) {
        (Some(b), None) => write_stdout(
            format!(
                "\nPer-hundred conversion (cold contacts have no {}: not broken down)\n",
                b.name()
            )
            .as_bytes(),
        )?,
        _ => write_stdout(b"\nPer-hundred conversion (cold contacts by contact date)\n")?,
    }
    print(&engine, &per_hundred, &output).await
}

async fn print(engine: &Engine, sql: &str, output: &OutputOptions) -> Result<u8> {
    let rows = write_dataframe(engine.sql(sql).await?, output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}

/// Logs a warning for every deal or history row the funnel leaves out, so none vanishes
/// silently.
async fn warn_left_out(engine: &Engine, deal_filter: &str) -> Result<()> {
    let sql = format!(
        "select deals_without_history, unknown_stage_rows, orphan_history_rows, \
           unknown_status_deals from ({})",
        summary_sql(None, deal_filter)
    );
    let batches = engine.query(&sql).await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(());
    };
    let value = |i: usize| {
        let c = b.column(i).as_primitive::<Int64Type>();
        if c.is_null(0) { 0 } else { c.value(0) }
    };
    let stages = engine.config().pipeline.stages.join(", ");
    let lost = &engine.config().pipeline.lost_stage;
    let messages = [
        (
            value(0),
            "deal(s) have no history entry of an ordered stage up to as_of: they are not in \
             the funnel (see deals_without_history; they count in the win rate)"
                .to_string(),
        ),
        (
            value(1),
            format!(
                "deal_stage_history row(s) have a stage that is neither one of [{stages}] nor \
                 the lost stage {lost:?}: ignored (see unknown_stage_rows)"
            ),
        ),
        (
            value(2),
            "deal_stage_history row(s) belong to no deal of `deals`: ignored \
             (see orphan_history_rows)"
                .to_string(),
        ),
        (
            value(3),
            "deal(s) have a status other than open/won/lost: counted as open \
             (see unknown_status_deals)"
                .to_string(),
        ),
    ];
    for (n, what) in messages {
        if n > 0 {
            log::warn!("{n} {what}");
        }
    }
    Ok(())
}
