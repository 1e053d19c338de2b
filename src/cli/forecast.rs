//! `crmlens forecast`: arguments for [`crate::metrics::forecast`], the forecast and the stage
//! probabilities printed one after the other on a terminal.

use super::{GlobalArgs, open, write_to};
use crate::Result;
use crate::metrics::forecast::{ForecastBy, forecast, stage_probabilities};
use crate::output::{Format, write_stdout};

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

impl From<By> for ForecastBy {
    fn from(by: By) -> ForecastBy {
        match by {
            By::Stage => ForecastBy::Stage,
            By::Manager => ForecastBy::Manager,
            By::Month => ForecastBy::Month,
        }
    }
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let output = global.output(args.max_rows)?;
    let engine = open(global).await?;
    if args.probabilities {
        return write_to(stage_probabilities(&engine).await?, &output).await;
    }
    let by = args.by.map_or(ForecastBy::Month, ForecastBy::from);
    let forecast = forecast(&engine, by).await?;
    if output.format != Format::Table || output.output.is_some() {
        return write_to(forecast, &output).await;
    }
    write_stdout(b"Weighted open pipeline by expected close month\n")?;
    write_to(forecast, &output).await?;
    write_stdout(b"\nStage probabilities P(won | reached stage)\n")?;
    write_to(stage_probabilities(&engine).await?, &output).await
}
