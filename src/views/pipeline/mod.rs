//! The sales pipeline (PRODUCT.md, "Pipeline funnel", "Per-hundred conversion", "Forecast"):
//! deals walking the configured stages (`[pipeline] stages`, the last one the won stage, and
//! the terminal `lost_stage`), the funnel with its times in stage, win rate and sales cycle,
//! cold contacts per hundred, and the weighted forecast of the open pipeline.
//!
//! Views, in dependency order:
//! - `pipeline_deals`: one row per deal of `deals` created up to as_of: deal_id, customer_id,
//!   manager_id, source, product_category, region (the customer's), segment (the customer's
//!   RFM segment, `(no segment)` without one), created_at, created_date, created_month,
//!   amount, status_raw (deals.status), status (as of as_of), closed_at, closed_date (both NULL
//!   unless closed by as_of), stage_order / stage (the furthest ordered stage reached),
//!   current_stage (the stage of the latest history entry, `lost` included; ties on
//!   entered_at go to the later stage), history_rows,
//!   unknown_stage_rows, cycle_days (won deals);
//! - `pipeline_stage_times`: one row per deal (created up to as_of) and ordered stage it has
//!   a history entry of: deal_id, stage_order, entered_at (first entry), visits,
//!   days_in_stage (the funnel's times in stage);
//! - `pipeline_deal_stages`: one row per deal and ordered stage it reached (skipped stages
//!   included): deal_id, stage_order, stage, entered_at (its own first entry, NULL when
//!   skipped), reached_at, skipped, visits, days_in_stage;
//! - `pipeline_funnel`: one row per ordered stage, always all of them, in order: stage_order,
//!   stage, reached, converted, won, dropped, in_progress, drop_off, conversion_to_next,
//!   conversion_from_first, drop_off_rate, median_days_in_stage, p90_days_in_stage. At every
//!   stage reached = converted + won + dropped + in_progress (converted is NULL at the won
//!   stage, which has no next stage, and so are drop_off and the rates to the next stage);
//! - `pipeline_summary`: one row: deals_created, deals_in_funnel, deals_without_history,
//!   unknown_stage_rows, orphan_history_rows, unknown_status_deals, won, lost, open, win_rate,
//!   win_rate_closed, won_amount, cycle_median_days, cycle_mean_days, cycle_p90_days;
//! - `per_hundred_conversion`: one row: cold_contacts, cold_customers, opportunities, sales,
//!   opportunities_per_100_contacts, sales_per_100_contacts, sales_per_100_opportunities;
//! - `forecast_stage_probabilities`: one row per ordered stage: stage_order, stage,
//!   closed_deals, won_deals, probability, median_days_to_close, learned_from, learned_to;
//! - `pipeline_forecast_deals`: one row per deal open at as_of with a stage: deal_id,
//!   customer_id, manager_id, stage_order, stage, amount, probability, reached_at,
//!   expected_close_date, overdue, expected_close_month, weighted_amount;
//! - `pipeline_forecast`: one row per expected close month and stage: expected_close_month,
//!   stage_order, stage, open_deals, overdue_deals, deals_without_amount, open_amount,
//!   probability, weighted_amount.
//!
//! Choices the definitions leave open:
//! - Status as of as_of comes from `deals`: a deal is won (lost) when its status is `won`
//!   (`lost`) and it closed on or before as_of (a closed deal without closed_at counts as
//!   closed); a deal closed after as_of was open at as_of and is `open`, in progress at the
//!   stage it had reached by as_of. A status other than open/won/lost is treated as open and
//!   counted in `unknown_status_deals`. History entries after as_of are ignored.
//! - Stages reached come from `deal_stage_history` (PRODUCT.md: a deal reached s if its
//!   history has s or a later ordered stage); `stage` is the furthest one. A won deal counts as
//!   having reached the won stage even when its history lacks that row. A step back (proposal
//!   → qualified) does not un-reach a stage: the deal stays counted at its furthest stage, and
//!   an open deal is in progress there.
//! - Deals created up to as_of with no history entry of an ordered stage up to as_of (no
//!   history at all, or only `lost` or unknown stages) have `stage_order` NULL: they are not in
//!   the funnel but are counted in `deals_without_history` and in the win-rate denominators.
//!   History rows with a stage that is neither ordered nor the lost stage are ignored for the
//!   stages and timing and counted in `unknown_stage_rows`; history rows of deals that are not
//!   in `deals` are counted in `orphan_history_rows`. `crmlens funnel pipeline` logs a warning
//!   for each of these counts when it is not zero.
//! - `dropped` at stage s = deals lost (as of as_of) whose furthest stage is s; `won` = won
//!   deals there (only at the won stage); `in_progress` = deals open at as_of whose furthest
//!   stage is s. `drop_off` = reached − converted = won + dropped + in_progress, i.e. the
//!   difference of PRODUCT.md; `drop_off_rate` = drop_off ÷ reached.
//! - Time in stage: each history entry of an ordered stage is a visit that lasts until the
//!   deal's next history entry (any stage, `lost` included; ties on entered_at ordered by
//!   stage order, lost last). A deal that re-enters a stage has its visits summed:
//!   `days_in_stage` is the total time spent in the stage. It is NULL while a visit is still
//!   running at as_of (the deal has not left the stage yet) and for skipped stages, and
//!   those rows are not in the median and p90 (time is censored, not zero). Durations are
//!   exact elapsed time in days (seconds ÷ 86400), not calendar-date differences: a stage left
//!   after 4 hours took 0.17 days. Medians and p90 interpolate linearly between the closest ranks
//!   (as `percentile_cont`).
//! - `reached_at` of a stage = the first time the deal entered it or a later ordered stage
//!   (the moment it passed a skipped stage); for the won stage of a won deal without that
//!   row, closed_at.
//! - Win rate: `win_rate` = won ÷ deals created (open deals and deals without history in the
//!   denominator), `win_rate_closed` = won ÷ (won + lost), NULL when the denominator is 0.
//!   Sales cycle: closed_at − created_at of won deals, in days (exact elapsed time).
//! - Per-hundred conversion counts activities, not customers: a cold contact is an activity of
//!   kind `call` or `meeting`, direction `outbound`, of a customer with no deal created at or
//!   before the activity's time, up to as_of. An opportunity is a deal of that customer created
//!   after a cold contact and at most `opportunity_days` calendar days after its date (dataset
//!   time zone; the day of the contact + opportunity_days is inside), up to as_of; a deal is
//!   counted once even when several cold contacts precede it (it is attributed to the latest
//!   one). Sales are the opportunities won as of as_of. `cold_customers` also gives the
//!   number of distinct customers contacted. Contacts in the last opportunity_days before as_of
//!   have not had their full window yet.
//! - Forecast: the learning deals are those closed (won or lost, as above) on a date in
//!   (as_of − forecast_lookback_months months, as_of] with a stage; P(won | reached s) = won ÷
//!   closed among them that reached s (the won stage is therefore 1). `median_days_to_close` =
//!   median of closed_at − reached_at(s) over the won learning deals that reached s. An open
//!   deal's expected close date = the date of reached_at of its current (furthest) stage +
//!   that median; when that date is before as_of the deal is `overdue` and expected in as_of's
//!   month (`expected_close_date` = as_of). A stage with no closed learning deal has
//!   probability NULL and its deals a NULL weighted_amount (never a made-up number); a stage
//!   with no won learning deal has no median, and its deals have no expected month (NULL).
//!   Deals without an amount count in `deals_without_amount` and add nothing to the sums.

mod forecast;
mod funnel;
mod per_hundred;

pub use funnel::{Breakdown, funnel_sql, summary_sql};
pub use per_hundred::{ContactBreakdown, per_hundred_sql};

use super::{View, ViewEnv, sql_string};
use crate::Result;
use crate::config::PipelineConfig;

/// The names of this module's views.
pub const NAMES: &[&str] = &[
    "pipeline_deal_facts",
    "pipeline_deals",
    "pipeline_stage_times",
    "pipeline_deal_stages",
    "pipeline_funnel",
    "pipeline_summary",
    "per_hundred_conversion",
    "forecast_stage_probabilities",
    "pipeline_forecast_deals",
    "pipeline_forecast",
];

/// The label of deals whose customer has no RFM segment.
pub const NO_SEGMENT: &str = "(no segment)";
/// The label of a breakdown value that is NULL.
pub const NO_VALUE: &str = "(none)";

/// This module's views, in dependency order.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    let p = &env.config.pipeline;
    Ok(vec![
        View {
            name: "pipeline_deal_facts",
            sql: funnel::deal_facts_sql(env)?,
        },
        View {
            name: "pipeline_deals",
            sql: funnel::deals_sql(env),
        },
        View {
            name: "pipeline_stage_times",
            sql: funnel::stage_times_sql(env)?,
        },
        View {
            name: "pipeline_deal_stages",
            sql: funnel::deal_stages_sql(env),
        },
        View {
            name: "pipeline_funnel",
            sql: funnel_sql(p, None, ""),
        },
        View {
            name: "pipeline_summary",
            sql: summary_sql(None, ""),
        },
        View {
            name: "per_hundred_conversion",
            sql: per_hundred_sql(env, None, "")?,
        },
        View {
            name: "forecast_stage_probabilities",
            sql: forecast::probabilities_sql(env),
        },
        View {
            name: "pipeline_forecast_deals",
            sql: forecast::forecast_deals_sql(env),
        },
        View {
            name: "pipeline_forecast",
            sql: forecast::forecast_sql(),
        },
    ])
}

/// `(select stage_order, stage from (values …))` of the ordered stages, 1-based, plus the lost
/// stage as order n + 1 when `with_lost`.
pub(super) fn stage_list(p: &PipelineConfig, with_lost: bool) -> String {
    let mut rows: Vec<String> = p
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| format!("({}, {})", i + 1, sql_string(s)))
        .collect();
    if with_lost {
        rows.push(format!(
            "({}, {})",
            p.stages.len() + 1,
            sql_string(&p.lost_stage)
        ));
    }
    format!(
        "(select cast(column1 as bigint) as stage_order, cast(column2 as varchar) as stage \
         from (values {}))",
        rows.join(", ")
    )
}

/// The q-quantile, interpolated linearly between the closest ranks (as `percentile_cont`,
/// whose DataFusion 55 implementation is off in the sixth digit), of a sorted array of
/// non-NULL values; NULL for an empty or NULL array.
pub fn quantile(xs: &str, q: f64) -> String {
    let n = format!("cast(cardinality({xs}) as bigint)");
    let pos = format!("cast({n} - 1 as double) * {q:?}");
    let lo = format!("cast(floor({pos}) as bigint)");
    format!(
        "case when {n} > 0 then {xs}[{lo} + 1] + ({pos} - floor({pos})) \
           * ({xs}[least({lo} + 2, {n})] - {xs}[{lo} + 1]) end"
    )
}

/// The sorted array of the non-NULL values of a column, for [`quantile`].
pub fn sorted(column: &str) -> String {
    format!("array_agg({column} order by {column}) filter (where {column} is not null)")
}

/// Seconds between two timestamps, as days.
pub(super) fn days_between(from: &str, to: &str) -> String {
    format!("(date_part('epoch', {to}) - date_part('epoch', {from})) / 86400.0")
}

/// The status of a `deals` row (alias `d`) as of as_of.
pub fn status_sql(env: &ViewEnv) -> Result<String> {
    let closed_by = env.up_to_as_of("d.closed_at")?;
    Ok(format!(
        "case when d.closed_at is not null and not ({closed_by}) then 'open' \
         when d.status = 'won' then 'won' when d.status = 'lost' then 'lost' else 'open' end"
    ))
}
