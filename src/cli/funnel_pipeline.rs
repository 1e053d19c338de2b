//! `crmlens funnel pipeline`: arguments for [`crate::metrics::funnel_pipeline`], the funnel,
//! its summary and the per-hundred conversion printed one after the other on a terminal.

use super::range::DayArgs;
use super::{GlobalArgs, open, write_to};
use crate::Result;
use crate::metrics::funnel_pipeline::{DealFunnel, PipelineBy, per_hundred, per_hundred_breakdown};
use crate::output::{Format, write_stdout};

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
    period: DayArgs,
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

impl From<By> for PipelineBy {
    fn from(by: By) -> PipelineBy {
        match by {
            By::Manager => PipelineBy::Manager,
            By::Source => PipelineBy::Source,
            By::Region => PipelineBy::Region,
            By::ProductCategory => PipelineBy::ProductCategory,
            By::Segment => PipelineBy::Segment,
            By::Month => PipelineBy::Month,
        }
    }
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let period = args.period.period()?;
    let by = args.by.map(PipelineBy::from);
    if args.per_hundred {
        per_hundred_breakdown(by)?;
    }
    let output = global.output(args.max_rows)?;
    let engine = open(global).await?;
    if args.per_hundred {
        return write_to(per_hundred(&engine, by, period).await?, &output).await;
    }
    let deals = DealFunnel::new(&engine, by, period).await?;
    if args.summary {
        return write_to(deals.summary().await?, &output).await;
    }
    if output.format != Format::Table || output.output.is_some() {
        return write_to(deals.funnel().await?, &output).await;
    }
    write_stdout(b"Pipeline funnel\n")?;
    write_to(deals.funnel().await?, &output).await?;
    write_stdout(b"\nWin rate and sales cycle\n")?;
    write_to(deals.summary().await?, &output).await?;
    if engine.dataset().table("activities").is_none() {
        write_stdout(b"\nPer-hundred conversion: not available (no activities table)\n")?;
        return Ok(0);
    }
    // Cold contacts have no deal source or product category: those are not broken down.
    let contact_by = by.filter(|b| b.contact().is_some());
    match by {
        Some(b) if contact_by.is_none() => write_stdout(
            format!(
                "\nPer-hundred conversion (cold contacts have no {}: not broken down)\n",
                b.name()
            )
            .as_bytes(),
        )?,
        _ => write_stdout(b"\nPer-hundred conversion (cold contacts by contact date)\n")?,
    }
    write_to(per_hundred(&engine, contact_by, period).await?, &output).await
}
