//! Sales diagnostics (issue 22, item 6): the questions a head of sales asks of data the CRM
//! already holds: why deals are lost, which channels sell, how long calls last, which leads
//! waited too long, and whose customers are left without a manager.
//!
//! Views:
//! - `lost_reasons`: deals lost as of as_of (the pipeline's status: status `lost` and closed on
//!   or before as_of), one row per month lost (the calendar month of closed_at in the dataset
//!   time zone; NULL for a lost deal without closed_at), manager_id, stage reached
//!   (`stage_order`, `stage`: the furthest ordered stage of `pipeline_deals`; `(no history)`
//!   for a deal without an ordered stage entry) and `lost_reason` (NULL or empty shown as
//!   `(none)`, never dropped): `lost_deals`, `lost_amount` (Σ deals.amount; a deal without an
//!   amount counts in lost_deals, not in the amount).
//! - `channel_revenue`: purchases (orders with a configured purchase status, up to as_of) by
//!   calendar month of ordered_at (dataset time zone) and `orders.channel` (NULL or empty:
//!   `(none)`): `revenue`, `orders`, `customers` (distinct buyers of that channel and month; a
//!   customer buying through two channels counts in both), `avg_order_value` =
//!   revenue ÷ orders, `revenue_share` of the month's revenue.
//! - `activity_durations`: per manager (activities.manager_id) and activity kind, over the
//!   default period of `manager_kpis` (the 30 days ending at as_of): `activities`,
//!   `with_duration` (duration_s ≥ 0), `without_duration` (NULL), `bad_durations` (negative:
//!   kept out of the statistics, which a negative time would pull down),
//!   `median_duration_s`, `p90_duration_s` (linear interpolation, `percentile_cont`),
//!   `mean_duration_s`, `total_duration_s`. `crmlens sales calls --from --to` runs the same
//!   SQL over another period.
//! - `lead_sla_misses`: the deals created in the default period whose lead response (the one
//!   definition of `views::managers`, [`first_response_sql`]) missed
//!   `managers.response_sla_minutes`: answered later (`status` = `late`), or not answered by
//!   as_of (`unanswered`). Exactly at the SLA is within it, as in the KPIs, so per manager the
//!   rows number `deals_created − responded_within_sla` of `manager_kpis`. Columns: deal_id,
//!   customer_id, manager_id, manager_name, created_at, first_contact_at,
//!   `response_minutes`, `minutes_late` = response_minutes − SLA (NULL when unanswered),
//!   status. Deals without a manager are listed too (manager_id NULL): nobody answered them.
//! - `departed_managers`: managers who left (`managers.active` false) or who own customers
//!   but are not in `managers` (`status` `unknown`), with customers still assigned to them
//!   (`customers.owner_manager_id`): `customers`, `active_customers` (active at as_of by the
//!   churn definition: a purchase in the last `churn.inactive_days` days), `open_deals`
//!   (deals of the manager open at as_of), `last_activity_at` (their last logged activity up
//!   to as_of).
//! - `departed_manager_customers`: those customers, one row each: customer_id, name,
//!   owner_manager_id, manager_status, last_purchase_date, is_active, open_deals (the
//!   customer's deals open at as_of, whoever manages them).

use super::managers::{Period, between_days, first_response_sql, purchase_statuses};
use super::pipeline::{quantile, sorted, status_sql};
use super::{View, ViewEnv};
use crate::Result;

/// The names of this module's views.
pub const NAMES: &[&str] = &[
    "lost_reasons",
    "channel_revenue",
    "activity_durations",
    "lead_sla_misses",
    "departed_managers",
    "departed_manager_customers",
];

/// How a missing or empty text value is shown in a group.
const NONE: &str = "'(none)'";

/// This module's views, in dependency order.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    let period = Period::default_for(env.as_of)?;
    Ok(vec![
        View {
            name: "lost_reasons",
            sql: lost_reasons_sql(env),
        },
        View {
            name: "channel_revenue",
            sql: channel_revenue_sql(env, "month, channel", "true")?,
        },
        View {
            name: "activity_durations",
            sql: durations_sql(env, period)?,
        },
        View {
            name: "lead_sla_misses",
            sql: sla_misses_sql(env, period)?,
        },
        View {
            name: "departed_managers",
            sql: departed_sql(env, false)?,
        },
        View {
            name: "departed_manager_customers",
            sql: departed_sql(env, true)?,
        },
    ])
}

/// `coalesce(nullif(trim(x), ''), '(none)')`: a text group key that keeps missing values.
fn or_none(expr: &str) -> String {
    format!("coalesce(nullif(trim({expr}), ''), {NONE})")
}

fn lost_reasons_sql(env: &ViewEnv) -> String {
    let reason = if env.has_column("deals", "lost_reason") {
        or_none("d.lost_reason")
    } else {
        NONE.to_string()
    };
    format!(
        "select cast(date_trunc('month', p.closed_date) as date) as month, p.manager_id, \
           p.stage_order, coalesce(p.stage, '(no history)') as stage, {reason} as lost_reason, \
           count(*) as lost_deals, sum(p.amount) as lost_amount \
         from pipeline_deal_facts p left join deals d on d.deal_id = p.deal_id \
         where p.status = 'lost' \
         group by 1, 2, 3, 4, 5"
    )
}

/// Purchases grouped by `keys` (`month` and/or `channel`), over the months matching
/// `filter` (SQL over `month`); `revenue_share` is of the month's revenue when grouped by
/// month, else of the whole.
pub fn channel_revenue_sql(env: &ViewEnv, keys: &str, filter: &str) -> Result<String> {
    let channel = if env.has_column("orders", "channel") {
        or_none("channel")
    } else {
        NONE.to_string()
    };
    let month = format!(
        "cast(date_trunc('month', {}) as date)",
        env.local_date("ordered_at")
    );
    let up_to = env.up_to_as_of("ordered_at")?;
    let statuses = purchase_statuses(env);
    let amount = env.money("amount", "orders.amount");
    let share_over = if keys.contains("month") {
        "partition by month"
    } else {
        ""
    };
    Ok(format!(
        "with sales as ( \
           select {keys}, sum(amount) as revenue, count(*) as orders, \
             count(distinct customer_id) as customers \
           from (select {month} as month, {channel} as channel, customer_id, \
                   {amount} as amount \
                 from orders \
                 where status in ({statuses}) and ordered_at is not null and {up_to}) \
           where {filter} group by {keys}) \
         select {keys}, revenue, orders, customers, \
           cast(revenue as double) / orders as avg_order_value, \
           cast(revenue as double) / nullif(cast(sum(revenue) over ({share_over}) as double), 0.0) \
             as revenue_share \
         from sales"
    ))
}

/// The SQL of `activity_durations` over `period`.
pub fn durations_sql(env: &ViewEnv, period: Period) -> Result<String> {
    let in_period = between_days(env, "a.occurred_at", period.from, period.to)?;
    let duration = if env.has_column("activities", "duration_s") {
        "cast(a.duration_s as double)"
    } else {
        "cast(null as double)"
    };
    let (median, p90) = (quantile("x.ds", 0.5), quantile("x.ds", 0.9));
    let ok = sorted("case when d >= 0 then d end");
    Ok(format!(
        "with a as ( \
           select a.manager_id, a.kind, {duration} as d from activities a where {in_period}), \
         x as ( \
           select manager_id, kind, count(*) as activities, \
             count(*) filter (where d >= 0) as with_duration, \
             count(*) filter (where d is null) as without_duration, \
             count(*) filter (where d < 0) as bad_durations, \
             {ok} as ds, \
             avg(d) filter (where d >= 0) as mean_duration_s, \
             sum(d) filter (where d >= 0) as total_duration_s \
           from a group by manager_id, kind) \
         select x.manager_id, m.name, x.kind, x.activities, x.with_duration, \
           x.without_duration, x.bad_durations, {median} as median_duration_s, \
           {p90} as p90_duration_s, x.mean_duration_s, x.total_duration_s \
         from x left join managers m on m.manager_id = x.manager_id"
    ))
}

/// The SQL of `lead_sla_misses` over deals created in `period`.
pub fn sla_misses_sql(env: &ViewEnv, period: Period) -> Result<String> {
    let sla = env.config.managers.response_sla_minutes;
    let first = first_response_sql(env, "true", period)?;
    Ok(format!(
        "select f.deal_id, f.customer_id, f.manager_id, m.name as manager_name, f.created_at, \
           f.first_contact_at, f.seconds / 60.0 as response_minutes, \
           f.seconds / 60.0 - {sla} as minutes_late, \
           case when f.seconds is null then 'unanswered' else 'late' end as status \
         from ({first}) f left join managers m on m.manager_id = f.manager_id \
         where f.seconds is null or f.seconds > {sla} * 60"
    ))
}

fn departed_sql(env: &ViewEnv, per_customer: bool) -> Result<String> {
    let active_col = env.column_or_null("managers", "m", "active", "boolean");
    let w = env.config.churn.inactive_days;
    let as_of = env.as_of_sql();
    // The owners of customers who left or are unknown.
    let gone = format!(
        "gone as ( \
           select o.owner_manager_id as manager_id, m.name, m.department, \
             case when m.manager_id is null then 'unknown' else 'inactive' end as status \
           from (select distinct owner_manager_id from customers \
                 where owner_manager_id is not null) o \
           left join (select m.manager_id, m.name, m.department, {active_col} from managers m) m \
             on m.manager_id = o.owner_manager_id \
           where m.manager_id is null or m.active = false)"
    );
    let owned = format!(
        "owned as ( \
           select c.customer_id, c.name, c.owner_manager_id, g.status as manager_status, \
             f.last_purchase_date, \
             coalesce(f.last_purchase_date > {as_of} - interval '{w} days', false) as is_active \
           from customers c join gone g on g.manager_id = c.owner_manager_id \
           left join (select customer_id, max(purchase_date) as last_purchase_date \
                      from purchases group by customer_id) f on f.customer_id = c.customer_id)"
    );
    let key = if per_customer {
        "customer_id"
    } else {
        "manager_id"
    };
    // Deals open at as_of (the pipeline's status), counted per customer or per manager; no
    // deals table, no open deal.
    let open_deals = if env.has("deals") {
        let created_by = env.up_to_as_of("d.created_at")?;
        let status = status_sql(env)?;
        format!(
            "select d.{key}, count(*) as open_deals from deals d \
             where {created_by} and {status} = 'open' group by d.{key}"
        )
    } else {
        format!("select cast(null as varchar) as {key}, cast(0 as bigint) as open_deals")
    };
    Ok(if per_customer {
        format!(
            "with {gone}, {owned}, od as ({open_deals}) \
             select o.customer_id, o.name, o.owner_manager_id, o.manager_status, \
               o.last_purchase_date, o.is_active, coalesce(od.open_deals, 0) as open_deals \
             from owned o left join od on od.customer_id = o.customer_id"
        )
    } else {
        let last_activity = if env.has("activities") {
            let up_to = env.up_to_as_of("occurred_at")?;
            format!(
                "select manager_id, max(occurred_at) as last_activity_at from activities \
                 where {up_to} group by manager_id"
            )
        } else {
            "select cast(null as varchar) as manager_id, \
               cast(null as timestamp) as last_activity_at"
                .into()
        };
        format!(
            "with {gone}, {owned}, od as ({open_deals}), la as ({last_activity}), \
             n as (select owner_manager_id as manager_id, count(*) as customers, \
                     count(*) filter (where is_active) as active_customers \
                   from owned group by owner_manager_id) \
             select g.manager_id, g.name, g.department, g.status, n.customers, \
               n.active_customers, coalesce(od.open_deals, 0) as open_deals, \
               la.last_activity_at \
             from gone g join n on n.manager_id = g.manager_id \
             left join od on od.manager_id = g.manager_id \
             left join la on la.manager_id = g.manager_id"
        )
    })
}
