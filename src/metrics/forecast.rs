//! The weighted open pipeline per expected close month (views `pipeline_forecast_deals`,
//! `pipeline_forecast`) and the stage probabilities it uses (`forecast_stage_probabilities`).
//! Definitions in `views::pipeline`.

use datafusion::dataframe::DataFrame;

use crate::Result;
use crate::engine::Engine;

/// What the forecast months are broken down by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForecastBy {
    /// Only the expected close month.
    #[default]
    Month,
    /// The deal's furthest stage.
    Stage,
    /// The deal's manager.
    Manager,
}

/// The tables the forecast reads.
const TABLES: &[&str] = &["deals", "deal_stage_history"];

/// The weighted open pipeline per expected close month (and stage or manager); open deals
/// the forecast cannot weigh or place are logged as warnings.
pub async fn forecast(engine: &Engine, by: ForecastBy) -> Result<DataFrame> {
    engine.require("the forecast", TABLES)?;
    warn_left_out(engine).await?;
    engine.sql(&forecast_sql(by)).await
}

/// The learned stage probabilities P(won | reached stage), by stage order.
pub async fn stage_probabilities(engine: &Engine) -> Result<DataFrame> {
    engine.require("the forecast", TABLES)?;
    engine
        .sql("select * from forecast_stage_probabilities order by stage_order")
        .await
}

fn forecast_sql(by: ForecastBy) -> String {
    let (head, group) = match by {
        ForecastBy::Month => ("", ""),
        ForecastBy::Stage => ("stage_order, stage, ", ", stage_order, stage"),
        ForecastBy::Manager => ("manager_id, ", ", manager_id"),
    };
    format!(
        "select expected_close_month, {head}count(*) as open_deals, \
           count(*) filter (where overdue) as overdue_deals, \
           count(*) filter (where probability is null) as deals_without_probability, \
           count(*) filter (where amount is null) as deals_without_amount, \
           coalesce(sum(amount), 0) as open_amount, \
           coalesce(sum(weighted_amount), 0) as weighted_amount, \
           coalesce(sum(amount) filter (where probability is null), 0) \
             as amount_without_probability \
         from pipeline_forecast_deals \
         group by expected_close_month{group} \
         order by expected_close_month nulls last{group}"
    )
}

/// Warns about open deals the forecast cannot weigh or place.
async fn warn_left_out(engine: &Engine) -> Result<()> {
    let sql = "select \
         (select count(*) from pipeline_deal_facts where status = 'open' and stage_order is null) as no_history, \
         (select count(*) from pipeline_forecast_deals where probability is null) as no_probability, \
         (select count(*) from pipeline_forecast_deals where expected_close_month is null) as no_month";
    let counts = super::counts(engine, sql).await?;
    let messages = [
        "open deal(s) have no stage history up to as_of: not in the forecast",
        "open deal(s) are at a stage with no closed deal in the learning window: no \
         probability, weighted_amount excludes them (see deals_without_probability)",
        "open deal(s) are at a stage with no won deal in the learning window: no expected \
         close month (NULL)",
    ];
    for (n, what) in counts.into_iter().zip(messages) {
        if n > 0 {
            log::warn!("{n} {what}");
        }
    }
    Ok(())
}
