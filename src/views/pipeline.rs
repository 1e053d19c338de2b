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
//!   current_stage (the stage of the latest history entry, `lost` included), history_rows,
//!   unknown_stage_rows, cycle_days (won deals);
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

use super::{View, ViewEnv, sql_string};
use crate::Result;
use crate::config::PipelineConfig;

/// The names of this module's views.
pub const NAMES: &[&str] = &[
    "pipeline_deals",
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
            name: "pipeline_deals",
            sql: deals_sql(env)?,
        },
        View {
            name: "pipeline_deal_stages",
            sql: deal_stages_sql(env)?,
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
            sql: probabilities_sql(env),
        },
        View {
            name: "pipeline_forecast_deals",
            sql: forecast_deals_sql(env),
        },
        View {
            name: "pipeline_forecast",
            sql: forecast_sql(),
        },
    ])
}

/// `(select stage_order, stage from (values …))` of the ordered stages, 1-based, plus the lost
/// stage as order n + 1 when `with_lost`.
fn stage_list(p: &PipelineConfig, with_lost: bool) -> String {
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
fn quantile(xs: &str, q: f64) -> String {
    let n = format!("cast(cardinality({xs}) as bigint)");
    let pos = format!("cast({n} - 1 as double) * {q:?}");
    let lo = format!("cast(floor({pos}) as bigint)");
    format!(
        "case when {n} > 0 then {xs}[{lo} + 1] + ({pos} - floor({pos})) \
           * ({xs}[least({lo} + 2, {n})] - {xs}[{lo} + 1]) end"
    )
}

/// The sorted array of the non-NULL values of a column, for [`quantile`].
fn sorted(column: &str) -> String {
    format!("array_agg({column} order by {column}) filter (where {column} is not null)")
}

/// Seconds between two timestamps, as days.
fn days_between(from: &str, to: &str) -> String {
    format!("(date_part('epoch', {to}) - date_part('epoch', {from})) / 86400.0")
}

/// The status of a `deals` row (alias `d`) as of as_of.
fn status_sql(env: &ViewEnv) -> Result<String> {
    let closed_by = env.up_to_as_of("d.closed_at")?;
    Ok(format!(
        "case when d.closed_at is not null and not ({closed_by}) then 'open' \
         when d.status = 'won' then 'won' when d.status = 'lost' then 'lost' else 'open' end"
    ))
}

fn deals_sql(env: &ViewEnv) -> Result<String> {
    let p = &env.config.pipeline;
    let n = p.stages.len();
    let stages = stage_list(p, true);
    let created_by = env.up_to_as_of("d.created_at")?;
    let entered_by = env.up_to_as_of("h.entered_at")?;
    let status = status_sql(env)?;
    let manager = env.column_or_null("deals", "d", "manager_id", "varchar");
    let source = env.column_or_null("deals", "d", "source", "varchar");
    let category = env.column_or_null("deals", "d", "product_category", "varchar");
    let amount = if env.has_column("deals", "amount") {
        "cast(d.amount as double) as amount".to_string()
    } else {
        "cast(null as double) as amount".to_string()
    };
    let region = if env.has_column("customers", "region") {
        "c.region"
    } else {
        "cast(null as varchar)"
    };
    let created_date = env.local_date("d.created_at");
    let closed_date = env.local_date("c.closed_at");
    let cycle = days_between("c.created_at", "c.closed_at");
    let no_segment = sql_string(NO_SEGMENT);
    Ok(format!(
        "with hist as ( \
           select h.deal_id, \
             max(s.stage_order) filter (where s.stage_order <= {n}) as max_order, \
             count(*) as history_rows, \
             count(*) filter (where s.stage_order is null) as unknown_stage_rows, \
             first_value(h.stage order by h.entered_at desc, s.stage_order desc nulls last) \
               filter (where s.stage_order is not null) as current_stage \
           from deal_stage_history h left join {stages} s on h.stage = s.stage \
           where h.entered_at is not null and {entered_by} \
           group by h.deal_id), \
         base as ( \
           select d.deal_id, d.customer_id, {manager}, {source}, {category}, \
             {region} as region, coalesce(r.rfm_segment, {no_segment}) as segment, \
             d.created_at, {created_date} as created_date, {amount}, \
             d.status as status_raw, {status} as status, d.closed_at as raw_closed_at, \
             h.max_order, h.current_stage, \
             coalesce(h.history_rows, 0) as history_rows, \
             coalesce(h.unknown_stage_rows, 0) as unknown_stage_rows \
           from deals d \
           left join hist h on h.deal_id = d.deal_id \
           left join customers c on c.customer_id = d.customer_id \
           left join rfm r on r.customer_id = d.customer_id \
           where {created_by}), \
         closed as ( \
           select *, \
             case when status <> 'open' then raw_closed_at end as closed_at, \
             case when max_order is null then null \
               when status = 'won' then cast({n} as bigint) else max_order end as stage_order \
           from base) \
         select c.deal_id, c.customer_id, c.manager_id, c.source, c.product_category, \
           c.region, c.segment, c.created_at, c.created_date, \
           cast(date_trunc('month', c.created_date) as date) as created_month, \
           c.amount, c.status_raw, c.status, c.closed_at, \
           {closed_date} as closed_date, \
           c.stage_order, s.stage, c.current_stage, c.history_rows, c.unknown_stage_rows, \
           case when c.status = 'won' then {cycle} end as cycle_days \
         from closed c left join {stages} s on s.stage_order = c.stage_order"
    ))
}

fn deal_stages_sql(env: &ViewEnv) -> Result<String> {
    let p = &env.config.pipeline;
    let n = p.stages.len();
    let all = stage_list(p, true);
    let ordered = stage_list(p, false);
    let entered_by = env.up_to_as_of("h.entered_at")?;
    let visit = days_between("entered_at", "left_at");
    Ok(format!(
        "with entries as ( \
           select h.deal_id, s.stage_order, h.entered_at \
           from deal_stage_history h join {all} s on h.stage = s.stage \
           where h.entered_at is not null and {entered_by}), \
         visits as ( \
           select deal_id, stage_order, entered_at, \
             lead(entered_at) over (partition by deal_id order by entered_at, stage_order) \
               as left_at \
           from entries), \
         per_stage as ( \
           select deal_id, stage_order, min(entered_at) as entered_at, count(*) as visits, \
             count(left_at) as completed, sum({visit}) as days \
           from visits where stage_order <= {n} group by deal_id, stage_order), \
         reached as ( \
           select deal_id, status, closed_at, \
             unnest(generate_series(1, stage_order)) as stage_order \
           from pipeline_deals where stage_order is not null) \
         select r.deal_id, r.stage_order, s.stage, p.entered_at, \
           min(coalesce(p.entered_at, \
               case when r.stage_order = {n} and r.status = 'won' then r.closed_at end)) \
             over (partition by r.deal_id order by r.stage_order desc \
               rows between unbounded preceding and current row) as reached_at, \
           p.entered_at is null as skipped, \
           coalesce(p.visits, 0) as visits, \
           case when p.visits = p.completed then p.days end as days_in_stage \
         from reached r \
         join {ordered} s on s.stage_order = r.stage_order \
         left join per_stage p on p.deal_id = r.deal_id and p.stage_order = r.stage_order"
    ))
}

/// A breakdown of the funnel or summary: the SQL expression over `pipeline_deals` and the
/// output column name.
#[derive(Debug, Clone, Copy)]
pub struct Breakdown<'a> {
    pub expr: &'a str,
    pub column: &'a str,
}

/// The funnel over `pipeline_deals` rows matching `filter` (a SQL condition, or empty),
/// optionally broken down: then one row per value × stage, every stage present for every
/// value that has a deal in the funnel.
pub fn funnel_sql(p: &PipelineConfig, by: Option<Breakdown>, filter: &str) -> String {
    let n = p.stages.len();
    let stages = stage_list(p, false);
    let none = sql_string(NO_VALUE);
    let grp = match by {
        Some(b) => format!("coalesce(cast({} as varchar), {none})", b.expr),
        None => "''".to_string(),
    };
    let filter = if filter.is_empty() {
        String::new()
    } else {
        format!(" and ({filter})")
    };
    let groups = if by.is_some() {
        "select distinct grp from d"
    } else {
        "select '' as grp"
    };
    let head = match by {
        Some(b) => format!("g.grp as {}, ", b.column),
        None => String::new(),
    };
    let days = sorted("t.days_in_stage");
    let median_days = quantile("xs", 0.5);
    let p90_days = quantile("xs", 0.9);
    format!(
        "with d as ( \
           select {grp} as grp, deal_id, stage_order, status from pipeline_deals \
           where stage_order is not null{filter}), \
         ends as ( \
           select grp, stage_order, count(*) as ending, \
             count(*) filter (where status = 'won') as won, \
             count(*) filter (where status = 'lost') as dropped, \
             count(*) filter (where status = 'open') as in_progress \
           from d group by grp, stage_order), \
         times as ( \
           select grp, stage_order, {median_days} as median_days_in_stage, \
             {p90_days} as p90_days_in_stage \
           from (select d.grp, t.stage_order, {days} as xs \
             from pipeline_deal_stages t join d on d.deal_id = t.deal_id \
             group by d.grp, t.stage_order)), \
         grid as ( \
           select g.grp, s.stage_order, s.stage, \
             coalesce(e.won, 0) as won, coalesce(e.dropped, 0) as dropped, \
             coalesce(e.in_progress, 0) as in_progress, \
             cast(sum(coalesce(e.ending, 0)) over (partition by g.grp order by s.stage_order desc \
               rows between unbounded preceding and current row) as bigint) as reached \
           from ({groups}) g cross join {stages} s \
           left join ends e on e.grp = g.grp and e.stage_order = s.stage_order), \
         funnel as ( \
           select *, \
             case when stage_order < {n} then coalesce(lead(reached) over (partition by grp \
               order by stage_order), 0) end as converted, \
             first_value(reached) over (partition by grp order by stage_order) as first_reached \
           from grid) \
         select {head}g.stage_order, g.stage, g.reached, g.converted, g.won, g.dropped, \
           g.in_progress, g.reached - g.converted as drop_off, \
           cast(g.converted as double) / cast(nullif(g.reached, 0) as double) \
             as conversion_to_next, \
           cast(g.reached as double) / cast(nullif(g.first_reached, 0) as double) \
             as conversion_from_first, \
           cast(g.reached - g.converted as double) \
             / cast(nullif(g.reached, 0) as double) as drop_off_rate, \
           t.median_days_in_stage, t.p90_days_in_stage \
         from funnel g left join times t on t.grp = g.grp and t.stage_order = g.stage_order \
         order by g.grp, g.stage_order"
    )
}

/// Win rate, sales cycle and the deals left out of the funnel, over `pipeline_deals` rows
/// matching `filter`, optionally broken down. Without a breakdown the row also counts the
/// history rows of unknown deals (`orphan_history_rows`).
pub fn summary_sql(by: Option<Breakdown>, filter: &str) -> String {
    let none = sql_string(NO_VALUE);
    let (head, group, order) = match by {
        Some(b) => (
            format!(
                "coalesce(cast({} as varchar), {none}) as {}, ",
                b.expr, b.column
            ),
            " group by 1",
            " order by 1",
        ),
        None => (String::new(), "", ""),
    };
    let orphans = if by.is_none() {
        "(select count(*) from deal_stage_history h \
           where not exists (select 1 from deals x where x.deal_id = h.deal_id)) \
           as orphan_history_rows, "
    } else {
        ""
    };
    let filter = if filter.is_empty() {
        String::new()
    } else {
        format!(" where {filter}")
    };
    format!(
        "with s as (select {head}count(*) as deals_created, count(stage_order) as deals_in_funnel, \
           count(*) - count(stage_order) as deals_without_history, \
           cast(coalesce(sum(unknown_stage_rows), 0) as bigint) as unknown_stage_rows, \
           {orphans}\
           count(*) filter (where status_raw is null or status_raw not in ('open', 'won', 'lost')) \
             as unknown_status_deals, \
           count(*) filter (where status = 'won') as won, \
           count(*) filter (where status = 'lost') as lost, \
           count(*) filter (where status = 'open') as open, \
           cast(count(*) filter (where status = 'won') as double) \
             / cast(nullif(count(*), 0) as double) as win_rate, \
           cast(count(*) filter (where status = 'won') as double) \
             / cast(nullif(count(*) filter (where status in ('won', 'lost')), 0) as double) \
             as win_rate_closed, \
           sum(amount) filter (where status = 'won') as won_amount, \
           {cycle} as cycle_days, avg(cycle_days) as cycle_mean_days \
         from pipeline_deals{filter}{group}) \
         select * exclude (cycle_days, cycle_mean_days), \
           {median} as cycle_median_days, cycle_mean_days, {p90} as cycle_p90_days \
         from s{order}",
        cycle = sorted("cycle_days"),
        median = quantile("cycle_days", 0.5),
        p90 = quantile("cycle_days", 0.9),
    )
}

/// What a cold contact can be broken down by (a contact has no deal source or category).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactBreakdown {
    /// The manager who made the contact.
    Manager,
    /// The customer's region.
    Region,
    /// The customer's RFM segment.
    Segment,
    /// The month of the contact.
    Month,
}

/// Per-hundred conversion over the cold contacts whose date (dataset time zone) matches
/// `date_filter`, a condition on the column `contact_date` (or empty).
pub fn per_hundred_sql(
    env: &ViewEnv,
    by: Option<ContactBreakdown>,
    date_filter: &str,
) -> Result<String> {
    let days = env.config.pipeline.opportunity_days;
    let status = status_sql(env)?;
    let created_by = env.up_to_as_of("d.created_at")?;
    let occurred_by = env.up_to_as_of("a.occurred_at")?;
    let created_date = env.local_date("d.created_at");
    let contact_date = env.local_date("a.occurred_at");
    let (grp, join, head) = match by {
        None => ("''".to_string(), "", String::new()),
        Some(b) => {
            let (grp, join, column) = match b {
                ContactBreakdown::Manager => (
                    format!("coalesce(a.manager_id, {})", sql_string(NO_VALUE)),
                    "",
                    "manager_id",
                ),
                ContactBreakdown::Region => (
                    format!(
                        "coalesce(cast(c.region as varchar), {})",
                        sql_string(NO_VALUE)
                    ),
                    "left join customers c on c.customer_id = a.customer_id",
                    "region",
                ),
                ContactBreakdown::Segment => (
                    format!("coalesce(r.rfm_segment, {})", sql_string(NO_SEGMENT)),
                    "left join rfm r on r.customer_id = a.customer_id",
                    "segment",
                ),
                ContactBreakdown::Month => (
                    format!("cast(cast(date_trunc('month', {contact_date}) as date) as varchar)"),
                    "",
                    "month",
                ),
            };
            (grp, join, format!("g.grp as {column}, "))
        }
    };
    let groups = if by.is_some() {
        "select grp from touched union select grp from opps"
    } else {
        "select '' as grp"
    };
    let date_filter = if date_filter.is_empty() {
        String::new()
    } else {
        format!(" where {date_filter}")
    };
    Ok(format!(
        "with dl as ( \
           select d.deal_id, d.customer_id, d.created_at, {created_date} as created_date, \
             {status} as status \
           from deals d where d.customer_id is not null and {created_by}), \
         first_deal as (select customer_id, min(created_at) as first_deal_at from dl \
           group by customer_id), \
         contacts as ( \
           select a.activity_id, a.customer_id, a.occurred_at, {contact_date} as contact_date, \
             {grp} as grp \
           from activities a \
           left join first_deal f on f.customer_id = a.customer_id {join} \
           where a.customer_id is not null and a.direction = 'outbound' \
             and a.kind in ('call', 'meeting') and a.occurred_at is not null and {occurred_by} \
             and (f.first_deal_at is null or f.first_deal_at > a.occurred_at)), \
         cold as (select * from contacts{date_filter}), \
         candidates as ( \
           select dl.deal_id, dl.status, c.grp, \
             row_number() over (partition by dl.deal_id \
               order by c.occurred_at desc, c.activity_id desc) as rn \
           from cold c join dl on dl.customer_id = c.customer_id \
             and dl.created_at > c.occurred_at \
             and dl.created_date <= c.contact_date + interval '{days} days'), \
         opps as (select grp, count(*) as opportunities, \
             count(*) filter (where status = 'won') as sales \
           from candidates where rn = 1 group by grp), \
         touched as (select grp, count(*) as cold_contacts, \
             count(distinct customer_id) as cold_customers from cold group by grp) \
         select {head}coalesce(t.cold_contacts, 0) as cold_contacts, \
           coalesce(t.cold_customers, 0) as cold_customers, \
           coalesce(o.opportunities, 0) as opportunities, coalesce(o.sales, 0) as sales, \
           100.0 * coalesce(o.opportunities, 0) / cast(nullif(t.cold_contacts, 0) as double) \
             as opportunities_per_100_contacts, \
           100.0 * coalesce(o.sales, 0) / cast(nullif(t.cold_contacts, 0) as double) \
             as sales_per_100_contacts, \
           100.0 * o.sales / cast(nullif(o.opportunities, 0) as double) \
             as sales_per_100_opportunities \
         from ({groups}) g left join touched t on t.grp = g.grp \
         left join opps o on o.grp = g.grp order by g.grp"
    ))
}

fn probabilities_sql(env: &ViewEnv) -> String {
    let p = &env.config.pipeline;
    let months = p.forecast_lookback_months;
    let as_of = env.as_of_sql();
    let stages = stage_list(p, false);
    let to_close = format!(
        "array_agg(({d}) order by {d}) filter (where l.status = 'won')",
        d = days_between("t.reached_at", "l.closed_at")
    );
    let median = quantile("t.xs", 0.5);
    format!(
        "with learn as ( \
           select deal_id, status, closed_at from pipeline_deals \
           where status in ('won', 'lost') and stage_order is not null \
             and closed_date > {as_of} - interval '{months} months'), \
         stats as ( \
           select t.stage_order, count(*) as closed_deals, \
             count(*) filter (where l.status = 'won') as won_deals, \
             {to_close} as xs \
           from pipeline_deal_stages t join learn l on l.deal_id = t.deal_id \
           group by t.stage_order) \
         select s.stage_order, s.stage, coalesce(t.closed_deals, 0) as closed_deals, \
           coalesce(t.won_deals, 0) as won_deals, \
           cast(t.won_deals as double) / cast(nullif(t.closed_deals, 0) as double) \
             as probability, \
           {median} as median_days_to_close, \
           cast({as_of} - interval '{months} months' + interval '1 day' as date) \
             as learned_from, \
           {as_of} as learned_to \
         from {stages} s left join stats t on t.stage_order = s.stage_order \
         order by s.stage_order"
    )
}

fn forecast_deals_sql(env: &ViewEnv) -> String {
    let as_of = env.as_of_sql();
    let expected = env.local_date(
        "arrow_cast(to_timestamp_micros(cast((date_part('epoch', t.reached_at) \
           + p.median_days_to_close * 86400.0) * 1000000.0 as bigint)), \
           'Timestamp(Microsecond, Some(\"UTC\"))')",
    );
    format!(
        "with e as ( \
           select d.deal_id, d.customer_id, d.manager_id, d.stage_order, d.stage, d.amount, \
             p.probability, t.reached_at, {expected} as expected \
           from pipeline_deals d \
           join pipeline_deal_stages t on t.deal_id = d.deal_id \
             and t.stage_order = d.stage_order \
           left join forecast_stage_probabilities p on p.stage_order = d.stage_order \
           where d.status = 'open' and d.stage_order is not null) \
         select deal_id, customer_id, manager_id, stage_order, stage, amount, probability, \
           reached_at, {close} as expected_close_date, \
           coalesce(expected < {as_of}, false) as overdue, \
           cast(date_trunc('month', {close}) as date) as expected_close_month, \
           amount * probability as weighted_amount \
         from e",
        // greatest() skips NULL: a deal without an expected date must not land on as_of.
        close = format!("case when expected is not null then greatest(expected, {as_of}) end"),
    )
}

fn forecast_sql() -> String {
    "select expected_close_month, stage_order, stage, count(*) as open_deals, \
       count(*) filter (where overdue) as overdue_deals, \
       count(*) filter (where amount is null) as deals_without_amount, \
       coalesce(sum(amount), 0.0) as open_amount, max(probability) as probability, \
       case when max(probability) is not null then coalesce(sum(weighted_amount), 0.0) end \
         as weighted_amount \
     from pipeline_forecast_deals \
     group by expected_close_month, stage_order, stage \
     order by expected_close_month nulls last, stage_order"
        .to_string()
}
