//! `crmlens forecast`: the weighted open pipeline per expected close month (views
//! `pipeline_forecast_deals`, `pipeline_forecast`) and the stage probabilities it uses
//! (`forecast_stage_probabilities`). Definitions in `views::pipeline`.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;

use super::GlobalArgs;
use crate::Result;
use crate::engine::Engine;
use crate::output::{Format, OutputOptions, write_dataframe, write_stdout};

/// Weighted open pipeline per expected close month, with the learned stage probabilities
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens forecast --dataset datasets/demo             per month, then the probabilities
  crmlens forecast --by stage --format csv             per month × stage
  crmlens forecast --by manager --format json          per month × manager
  crmlens forecast --probabilities --format json       the learned stage probabilities only

P(won | reached stage s) is learned from the deals closed (won or lost) in the
forecast_lookback_months months up to as_of ([pipeline] in crmlens.toml, default 12): won ÷
closed among those that reached s. Weighted amount = Σ open amount × P(won | the deal's
furthest stage). Expected close date = the day the deal reached its stage + the median days
from reaching that stage to closing among the won learning deals; a date already past is
`overdue` and counted in as_of's month. A stage without closed history has no probability
(weighted_amount NULL, counted in deals_without_probability), one without won history no
expected month (NULL). The same figures are the views pipeline_forecast,
pipeline_forecast_deals (one row per open deal) and forecast_stage_probabilities of
`crmlens sql`.")]
pub struct Args {
    /// Break the months down further by stage or by manager (default: per month)
    #[arg(long, value_enum, value_name = "DIM")]
    by: Option<By>,
    /// Print the learned stage probabilities instead of the forecast
    #[arg(long)]
    probabilities: bool,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 200, value_name = "N")]
    max_rows: usize,
}

/// What the forecast months are broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum By {
    /// The deal's furthest stage
    Stage,
    /// The deal's manager
    Manager,
    /// Only the expected close month (the default)
    Month,
}

fn forecast_sql(by: By) -> String {
    let (head, group) = match by {
        By::Month => ("", ""),
        By::Stage => ("stage_order, stage, ", ", stage_order, stage"),
        By::Manager => ("manager_id, ", ", manager_id"),
    };
    format!(
        "select expected_close_month, {head}count(*) as open_deals, \
           count(*) filter (where overdue) as overdue_deals, \
           count(*) filter (where probability is null) as deals_without_probability, \
           count(*) filter (where amount is null) as deals_without_amount, \
           coalesce(sum(amount), 0.0) as open_amount, \
           coalesce(sum(weighted_amount), 0.0) as weighted_amount, \
           coalesce(sum(amount) filter (where probability is null), 0.0) \
             as amount_without_probability \
         from pipeline_forecast_deals \
         group by expected_close_month{group} \
         order by expected_close_month nulls last{group}"
    )
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let config = global.config()?;
    let output = global.output(args.max_rows);
    let engine = Engine::open(&config).await?;
    engine.require("the forecast", &["deals", "deal_stage_history"])?;
    let probabilities = "select * from forecast_stage_probabilities order by stage_order";
    if args.probabilities {
        return print(&engine, probabilities, &output).await;
    }
    warn_left_out(&engine).await?;
    let forecast = forecast_sql(args.by.unwrap_or(By::Month));
    if output.format != Format::Table || output.output.is_some() {
        return print(&engine, &forecast, &output).await;
    }
    write_stdout(b"Weighted open pipeline by expected close month\n")?;
    print(&engine, &forecast, &output).await?;
    write_stdout(b"\nStage probabilities P(won | reached stage)\n")?;
    print(&engine, probabilities, &output).await
}

async fn print(engine: &Engine, sql: &str, output: &OutputOptions) -> Result<u8> {
    let rows = write_dataframe(engine.sql(sql).await?, output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}

/// Warns about open deals the forecast cannot weigh or place.
async fn warn_left_out(engine: &Engine) -> Result<()> {
    let sql = "select \
         (select count(*) from pipeline_deals where status = 'open' and stage_order is null) as no_history, \
         (select count(*) from pipeline_forecast_deals where probability is null) as no_probability, \
         (select count(*) from pipeline_forecast_deals where expected_close_month is null) as no_month";
    let batches = engine.query(sql).await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(());
    };
    let value = |i: usize| {
        let c = b.column(i).as_primitive::<Int64Type>();
        if c.is_null(0) { 0 } else { c.value(0) }
    };
    let messages = [
        "open deal(s) have no stage history up to as_of: not in the forecast",
        "open deal(s) are at a stage with no closed deal in the learning window: no \
         probability, weighted_amount excludes them (see deals_without_probability)",
        "open deal(s) are at a stage with no won deal in the learning window: no expected \
         close month (NULL)",
    ];
    for (i, what) in messages.iter().enumerate() {
        let n = value(i);
        if n > 0 {
            log::warn!("{n} {what}");
        }
    }
    Ok(())
}
