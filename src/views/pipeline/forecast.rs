//! The forecast: stage probabilities learned from recently closed deals, the open deals with
//! their expected close date and weight, and the per-month summary; definitions in the parent
//! module's doc.

use super::{days_between, quantile, stage_list};
use crate::views::ViewEnv;

pub(super) fn probabilities_sql(env: &ViewEnv) -> String {
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
           select deal_id, status, closed_at from pipeline_deal_facts \
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

pub(super) fn forecast_deals_sql(env: &ViewEnv) -> String {
    // Microseconds since the epoch cast straight to a UTC timestamp: to_timestamp_micros()
    // takes its result type from the session's time zone, which a Ballista executor's copy of
    // the function does not have ("returned Timestamp(µs) while Timestamp(µs, UTC) was
    // promised").
    let as_of = env.as_of_sql();
    let expected = env.local_date(
        "arrow_cast(cast((date_part('epoch', t.reached_at) \
           + p.median_days_to_close * 86400.0) * 1000000.0 as bigint), \
           'Timestamp(Microsecond, Some(\"UTC\"))')",
    );
    format!(
        "with e as ( \
           select d.deal_id, d.customer_id, d.manager_id, d.stage_order, d.stage, d.amount, \
             p.probability, t.reached_at, {expected} as expected \
           from pipeline_deal_facts d \
           join pipeline_deal_stages t on t.deal_id = d.deal_id \
             and t.stage_order = d.stage_order \
           left join forecast_stage_probabilities p on p.stage_order = d.stage_order \
           where d.status = 'open' and d.stage_order is not null) \
         select deal_id, customer_id, manager_id, stage_order, stage, amount, probability, \
           reached_at, {close} as expected_close_date, \
           coalesce(expected < {as_of}, false) as overdue, \
           cast(date_trunc('month', {close}) as date) as expected_close_month, \
           cast(amount * probability as decimal(38, {scale})) as weighted_amount \
         from e",
        // greatest() skips NULL: a deal without an expected date must not land on as_of.
        close = format!("case when expected is not null then greatest(expected, {as_of}) end"),
        // Money to the cent per deal, so that the forecast's sums of it are exact (the
        // same on every run) and at currency precision.
        scale = env.config.currency_scale(),
    )
}

pub(super) fn forecast_sql() -> String {
    "select expected_close_month, stage_order, stage, count(*) as open_deals, \
       count(*) filter (where overdue) as overdue_deals, \
       count(*) filter (where amount is null) as deals_without_amount, \
       coalesce(sum(amount), 0) as open_amount, max(probability) as probability, \
       case when max(probability) is not null then coalesce(sum(weighted_amount), 0) end \
         as weighted_amount \
     from pipeline_forecast_deals \
     group by expected_close_month, stage_order, stage \
     order by expected_close_month nulls last, stage_order"
        .to_string()
}
