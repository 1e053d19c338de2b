//! The per-deal and per-(deal, stage) views, the funnel and its summary (win rate, sales
//! cycle, deals left out); definitions in the parent module's doc.

use super::{NO_SEGMENT, NO_VALUE, days_between, quantile, sorted, stage_list, status_sql};
use crate::Result;
use crate::config::PipelineConfig;
use crate::views::{ViewEnv, sql_string};

/// `pipeline_deal_facts`: one row per deal of `deals` created up to as_of, from the deal and
/// its history alone: everything of `pipeline_deals` but the customer's region and segment.
/// The funnel and summary without a region or segment breakdown read it, so that they do
/// not pay for the RFM scores of every customer (a left join is not dropped by the planner
/// even when none of its columns is used).
pub(super) fn deal_facts_sql(env: &ViewEnv) -> Result<String> {
    let p = &env.config.pipeline;
    let n = p.stages.len();
    // The current stage is found as max(entry time × 1000 + stage order): one integer
    // aggregate instead of an ordered first_value per deal.
    if n >= 999 {
        return Err(crate::Error::Usage(format!(
            "pipeline.stages: {n} stages; at most 998 are supported"
        )));
    }
    let stages = stage_list(p, true);
    let created_by = env.up_to_as_of("d.created_at")?;
    let entered_by = env.up_to_as_of("h.entered_at")?;
    let status = status_sql(env)?;
    let manager = env.column_or_null("deals", "d", "manager_id", "varchar");
    let source = env.column_or_null("deals", "d", "source", "varchar");
    let category = env.column_or_null("deals", "d", "product_category", "varchar");
    let amount = if env.has_column("deals", "amount") {
        format!("{} as amount", env.money("d.amount", "deals.amount"))
    } else {
        format!(
            "cast(null as decimal(38, {})) as amount",
            env.config.currency_scale()
        )
    };
    let created_date = env.local_date("d.created_at");
    let closed_date = env.local_date("c.closed_at");
    let cycle = days_between("c.created_at", "c.closed_at");
    Ok(format!(
        "with hist as ( \
           select h.deal_id, \
             max(s.stage_order) filter (where s.stage_order <= {n}) as max_order, \
             count(*) as history_rows, \
             count(*) filter (where s.stage_order is null) as unknown_stage_rows, \
             max(cast(date_part('epoch', h.entered_at) * 1000000 as bigint) * 1000 \
               + s.stage_order) as current_key \
           from deal_stage_history h left join {stages} s on h.stage = s.stage \
           where h.entered_at is not null and {entered_by} \
           group by h.deal_id), \
         base as ( \
           select d.deal_id, d.customer_id, {manager}, {source}, {category}, \
             d.created_at, {created_date} as created_date, {amount}, \
             d.status as status_raw, {status} as status, d.closed_at as raw_closed_at, \
             h.max_order, cs.stage as current_stage, \
             coalesce(h.history_rows, 0) as history_rows, \
             coalesce(h.unknown_stage_rows, 0) as unknown_stage_rows \
           from deals d \
           left join hist h on h.deal_id = d.deal_id \
           left join {stages} cs on cs.stage_order = h.current_key % 1000 \
           where {created_by}), \
         closed as ( \
           select *, \
             case when status <> 'open' then raw_closed_at end as closed_at, \
             case when max_order is null then null \
               when status = 'won' then cast({n} as bigint) else max_order end as stage_order \
           from base) \
         select c.deal_id, c.customer_id, c.manager_id, c.source, c.product_category, \
           c.created_at, c.created_date, \
           cast(date_trunc('month', c.created_date) as date) as created_month, \
           c.amount, c.status_raw, c.status, c.closed_at, \
           {closed_date} as closed_date, \
           c.stage_order, s.stage, c.current_stage, c.history_rows, c.unknown_stage_rows, \
           case when c.status = 'won' then {cycle} end as cycle_days \
         from closed c left join {stages} s on s.stage_order = c.stage_order"
    ))
}

/// `pipeline_deals`: [`deal_facts_sql`]'s rows with the customer's region and RFM segment,
/// in the view's documented column order.
pub(super) fn deals_sql(env: &ViewEnv) -> String {
    let region = if env.has_column("customers", "region") {
        "c.region"
    } else {
        "cast(null as varchar)"
    };
    let no_segment = sql_string(NO_SEGMENT);
    format!(
        "select f.deal_id, f.customer_id, f.manager_id, f.source, f.product_category, \
           {region} as region, coalesce(r.rfm_segment, {no_segment}) as segment, \
           f.created_at, f.created_date, f.created_month, f.amount, f.status_raw, f.status, \
           f.closed_at, f.closed_date, f.stage_order, f.stage, f.current_stage, \
           f.history_rows, f.unknown_stage_rows, f.cycle_days \
         from pipeline_deal_facts f \
         left join customers c on c.customer_id = f.customer_id \
         left join rfm r on r.customer_id = f.customer_id"
    )
}

/// The view a funnel or summary over `by` reads: the deal facts unless the breakdown reads
/// the customer's region or segment.
fn deals_for(by: Option<Breakdown>) -> &'static str {
    match by {
        Some(b) if b.customer => "pipeline_deals",
        _ => "pipeline_deal_facts",
    }
}

/// `pipeline_stage_times`: one row per deal of `deals` and ordered stage it has a history
/// entry of, from the history alone (the funnel's times need no per-deal figures).
pub(super) fn stage_times_sql(env: &ViewEnv) -> Result<String> {
    let p = &env.config.pipeline;
    let n = p.stages.len();
    let all = stage_list(p, true);
    let entered_by = env.up_to_as_of("h.entered_at")?;
    let created_by = env.up_to_as_of("d.created_at")?;
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
           from visits where stage_order <= {n} group by deal_id, stage_order) \
         select p.deal_id, p.stage_order, p.entered_at, p.visits, \
           case when p.visits = p.completed then p.days end as days_in_stage \
         from per_stage p \
         where p.deal_id in (select d.deal_id from deals d where {created_by})"
    ))
}

/// `pipeline_deal_stages`: `pipeline_stage_times` expanded to every stage each deal of
/// `pipeline_deals` reached, skipped ones included.
pub(super) fn deal_stages_sql(env: &ViewEnv) -> String {
    let p = &env.config.pipeline;
    let n = p.stages.len();
    let ordered = stage_list(p, false);
    format!(
        "with reached as ( \
           select deal_id, status, closed_at, \
             unnest(generate_series(1, stage_order)) as stage_order \
           from pipeline_deal_facts where stage_order is not null) \
         select r.deal_id, r.stage_order, s.stage, p.entered_at, \
           min(coalesce(p.entered_at, \
               case when r.stage_order = {n} and r.status = 'won' then r.closed_at end)) \
             over (partition by r.deal_id order by r.stage_order desc \
               rows between unbounded preceding and current row) as reached_at, \
           p.entered_at is null as skipped, \
           coalesce(p.visits, 0) as visits, p.days_in_stage \
         from reached r \
         join {ordered} s on s.stage_order = r.stage_order \
         left join pipeline_stage_times p on p.deal_id = r.deal_id \
           and p.stage_order = r.stage_order"
    )
}

/// A breakdown of the funnel or summary: the SQL expression over `pipeline_deals` and the
/// output column name.
#[derive(Debug, Clone, Copy)]
pub struct Breakdown<'a> {
    pub expr: &'a str,
    pub column: &'a str,
    /// The expression reads the customer's `region` or `segment`, which only
    /// `pipeline_deals` has (the funnel otherwise reads `pipeline_deal_facts`).
    pub customer: bool,
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
    // Without a breakdown grp is one constant: the windows need no partition. Partitioning by
    // the constant fails on a Ballista cluster, whose executors no longer know that the
    // column is constant (hence sorted) after a shuffle ("Expects PARTITION BY expression to
    // be ordered").
    let (over_g, over) = if by.is_some() {
        ("partition by g.grp ", "partition by grp")
    } else {
        ("", "")
    };
    let deals = deals_for(by);
    let days = sorted("t.days_in_stage");
    let median_days = quantile("xs", 0.5);
    let p90_days = quantile("xs", 0.9);
    format!(
        "with d as ( \
           select {grp} as grp, deal_id, stage_order, status from {deals} \
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
             from pipeline_stage_times t join d on d.deal_id = t.deal_id \
             group by d.grp, t.stage_order)), \
         grid as ( \
           select g.grp, s.stage_order, s.stage, \
             coalesce(e.won, 0) as won, coalesce(e.dropped, 0) as dropped, \
             coalesce(e.in_progress, 0) as in_progress, coalesce(e.ending, 0) as ending, \
             cast(sum(coalesce(e.ending, 0)) over ({over_g}order by s.stage_order desc \
               rows between unbounded preceding and current row) as bigint) as reached \
           from ({groups}) g cross join {stages} s \
           left join ends e on e.grp = g.grp and e.stage_order = s.stage_order), \
         funnel as ( \
           select *, \
             case when stage_order < {n} then reached - ending end as converted, \
             sum(ending) over ({over}) as first_reached \
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
         from {deals}{filter}{group}) \
         select * exclude (cycle_days, cycle_mean_days), \
           {median} as cycle_median_days, cycle_mean_days, {p90} as cycle_p90_days \
         from s{order}",
        deals = deals_for(by),
        cycle = sorted("cycle_days"),
        median = quantile("cycle_days", 0.5),
        p90 = quantile("cycle_days", 0.9),
    )
}
