//! Manager KPIs and plan vs actual (PRODUCT.md, "Manager KPIs"; requirement 6, "Control of
//! the sales department").
//!
//! Views:
//! - `manager_kpis`: one row per manager of `managers` (managers with no activity included,
//!   with zeros), plus one row per manager id that appears in the period's activities, deals
//!   or orders, or owns customers, but is not in `managers` (name and department NULL, so
//!   that none of their figures vanish), over the default period:
//!   manager_id, name, department, active, period_from, period_to, working_days, calls,
//!   meetings, emails, tasks, activities, calls_per_day, meetings_per_day, emails_per_day,
//!   tasks_per_day, activities_per_day, days_without_activity, owned_customers,
//!   active_customers_30d, active_customers_90d, deals_created, deals_won, deals_lost,
//!   win_rate, win_rate_closed, revenue, orders, avg_deal_size, avg_cycle_days,
//!   response_median_minutes, responded_within_sla, response_sla_share, deals_unanswered.
//!   `crmlens managers --from --to` runs the same SQL ([`kpis_sql`]) over another period.
//! - `plan_actual`: one row per row of `plans` (planned = true): month, manager_id,
//!   department, product_category, target, actual, attainment; then one row per (month,
//!   manager, product category) with sales that no plan row covers (planned = false, target
//!   NULL), so that no revenue vanishes from the aggregates of `crmlens plan`.
//!
//! Choices the definitions leave open:
//! - Period: by default the 30 calendar days ending at as_of (as_of − 29 … as_of, both
//!   included, in the dataset time zone): always a whole window, comparable from day to day
//!   and the same span as "active in the last 30 days". `crmlens managers --from --to` sets
//!   another one; it may not end after as_of (nothing after as_of exists).
//! - Working day: a calendar date in the dataset time zone whose weekday is in
//!   `managers.working_days` and which is not in `managers.holidays`. `working_days` counts
//!   them in the period. Activities are counted on every day of the period, weekends
//!   included (work done on a Saturday is still work), and divided by the working days:
//!   `<kind>_per_day` = activities of that kind ÷ working_days (NULL when the period has no
//!   working day). `days_without_activity` = working days on which the manager logged no
//!   activity at all. `activities` counts every activity of the manager, also one of a kind
//!   outside call/meeting/email/task, so it can exceed the sum of the four kind columns.
//! - Activities belong to `activities.manager_id` (who logged them); deals to
//!   `deals.manager_id`; revenue to `orders.manager_id`. Deals and orders without a manager
//!   are nobody's KPI; `crmlens managers` warns with their number.
//! - Active customers: customers whose `owner_manager_id` is the manager with an activity
//!   (by anyone) or a purchase (an order with a configured purchase status) in the last 30 /
//!   90 days up to the period end (as_of by default), i.e. on the dates end − 29 … end (end
//!   − 89 … end). `owned_customers` counts all customers the manager owns. NULL when
//!   `customers` has no owner_manager_id.
//! - `deals_created`: deals created in the period. `deals_won` / `deals_lost`: deals whose
//!   status is won / lost and whose closed_at falls in the period (whenever created).
//!   `win_rate` = deals created in the period that are won by as_of ÷ deals created in the
//!   period (open and lost deals count in the denominator; the pipeline funnel's
//!   definition); `win_rate_closed` = deals_won ÷ (deals_won + deals_lost). NULL on a zero
//!   denominator.
//! - `revenue`: Σ amount of the orders with a configured purchase status, credited to the
//!   manager (orders.manager_id) and placed in the period; `orders` counts them.
//! - `avg_deal_size`: mean amount of the deals won in the period; `avg_cycle_days`: mean
//!   whole calendar days (dataset time zone) from created_at to closed_at of those deals.
//! - Lead response: for each deal created in the period, the first call, meeting or e-mail
//!   logged on that deal (`activities.deal_id`, by anyone, either direction) at or after the
//!   deal's creation and up to as_of. Tasks are internal to-dos, not a contact with the lead,
//!   and an activity with the customer that is not logged on the deal is not taken as the
//!   answer (it may concern another matter). `response_median_minutes`: median minutes of
//!   the answered deals; `responded_within_sla`: deals answered within
//!   `managers.response_sla_minutes` (exactly at the SLA counts as within);
//!   `response_sla_share` = responded_within_sla ÷ deals_created, so a deal never answered
//!   counts as missed; `deals_unanswered`: deals with no such activity.
//! - Plan actual: the revenue of the order items (quantity × unit_price) of the orders with
//!   a configured purchase status credited to a manager (orders.manager_id), by the calendar
//!   month of ordered_at in the dataset time zone and by the item's `products.category`:
//!   what the synthetic plans are set from and what a sales target normally means. An order
//!   without items counts with its amount under category NULL; an item whose product has no
//!   category counts under category NULL. Orders without a manager are not sales-department
//!   revenue and are not in plan vs actual.
//! - A plan row covers the sales of its month (its period truncated to the month) and of its
//!   manager (or, with manager_id NULL, of every manager whose `managers.department` is the
//!   row's department) in its product category (NULL: all categories). Sales that no plan row
//!   covers are the unplanned rows. Overlapping plan rows (a department target beside its
//!   managers' own) each get the full actual, and an aggregate then counts the overlap twice.
//! - attainment = actual ÷ target, NULL when the target is 0. Plan rows of months after the
//!   month of as_of have actual NULL (not measured yet); the month of as_of is measured up to
//!   as_of.
//! - Without `order_items` or `products` the category of a sale is unknown: plan rows with a
//!   product category get actual NULL, rows without one are measured from orders.amount, and
//!   a sale is unplanned only when no plan row of its month and manager (or department)
//!   exists. `crmlens plan` warns.

use chrono::{Datelike, NaiveDate, Weekday};

use super::{View, ViewEnv, sql_string};
use crate::{Error, Result};

/// The names of this module's views.
pub const NAMES: &[&str] = &["manager_kpis", "plan_actual"];

/// This module's views, in dependency order.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    Ok(vec![
        View {
            name: "manager_kpis",
            sql: kpis_sql(env, Period::default_for(env.as_of)?)?,
        },
        View {
            name: "plan_actual",
            sql: plan_actual_sql(env)?,
        },
    ])
}

/// The calendar dates (dataset time zone) the KPIs cover, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Length of the default period in days.
pub const DEFAULT_PERIOD_DAYS: u64 = 30;

impl Period {
    /// The default period: the 30 days ending at as_of.
    pub fn default_for(as_of: NaiveDate) -> Result<Period> {
        let from = as_of
            .checked_sub_days(chrono::Days::new(DEFAULT_PERIOD_DAYS - 1))
            .ok_or_else(|| Error::Usage(format!("as_of {as_of} is out of range")))?;
        Ok(Period { from, to: as_of })
    }

    /// A period from optional bounds: a missing `to` is as_of, a missing `from` is 29 days
    /// before `to`. Fails when `from` is after `to` or `to` after as_of.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>, as_of: NaiveDate) -> Result<Self> {
        let to = to.unwrap_or(as_of);
        if to > as_of {
            return Err(Error::Usage(format!(
                "--to {to} is after as_of {as_of}: nothing after as_of is counted \
                 (pass --as-of to move it)"
            )));
        }
        let from = match from {
            Some(f) => f,
            None => Period::default_for(to)?.from,
        };
        if from > to {
            return Err(Error::Usage(format!("--from {from} is after --to {to}")));
        }
        Ok(Period { from, to })
    }
}

/// The number of working days in the period: configured weekdays that are not holidays.
pub fn working_days(env: &ViewEnv, period: Period) -> Result<i64> {
    let days = weekdays(env)?;
    Ok(period
        .from
        .iter_days()
        .take_while(|d| *d <= period.to)
        .filter(|d| days.contains(&d.weekday()) && !env.config.managers.holidays.contains(d))
        .count() as i64)
}

/// The configured working weekdays.
fn weekdays(env: &ViewEnv) -> Result<Vec<Weekday>> {
    env.config
        .managers
        .working_days
        .iter()
        .map(|d| {
            d.parse::<Weekday>().map_err(|_| {
                Error::Usage(format!(
                    "managers.working_days: {d:?} is not a day (expected mon … sun)"
                ))
            })
        })
        .collect()
}

/// SQL condition: the date expression is a working day.
fn is_working_day(env: &ViewEnv, day: &str) -> Result<String> {
    // date_part('dow') counts from Sunday = 0.
    let dows = weekdays(env)?
        .iter()
        .map(|d| d.num_days_from_sunday().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!("cast(date_part('dow', {day}) as int) in ({dows})");
    let holidays = &env.config.managers.holidays;
    if !holidays.is_empty() {
        let list = holidays
            .iter()
            .map(|d| date_sql(*d))
            .collect::<Vec<_>>()
            .join(", ");
        sql.push_str(&format!(" and {day} not in ({list})"));
    }
    Ok(sql)
}

fn date_sql(d: NaiveDate) -> String {
    format!("DATE '{}'", d.format("%Y-%m-%d"))
}

/// SQL condition: the timestamp column is before the local midnight that begins `day` (a
/// comparison of instants, which Parquet statistics can prune, instead of converting every
/// timestamp to a local date).
fn before_day(env: &ViewEnv, column: &str, day: NaiveDate) -> Result<String> {
    let previous = day
        .pred_opt()
        .ok_or_else(|| Error::Usage(format!("date {day} is out of range")))?;
    ViewEnv {
        config: env.config,
        dataset: env.dataset,
        as_of: previous,
        has_model: env.has_model,
        columns: Default::default(),
    }
    .up_to_as_of(column)
}

/// SQL condition: the timestamp column falls on a date from `from` to `to` (both included).
pub fn between_days(env: &ViewEnv, column: &str, from: NaiveDate, to: NaiveDate) -> Result<String> {
    let next = to
        .succ_opt()
        .ok_or_else(|| Error::Usage(format!("date {to} is out of range")))?;
    Ok(format!(
        "not ({}) and {}",
        before_day(env, column, from)?,
        before_day(env, column, next)?
    ))
}

/// The configured purchase statuses as a SQL list.
pub fn purchase_statuses(env: &ViewEnv) -> String {
    env.config
        .purchase_statuses
        .iter()
        .map(|s| sql_string(s))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SQL of the KPI table over `period` (the view `manager_kpis` uses the default period).
pub fn kpis_sql(env: &ViewEnv, period: Period) -> Result<String> {
    let (from, to) = (period.from, period.to);
    let working = working_days(env, period)?;
    let in_period = |c: &str| between_days(env, c, from, to);
    let up_to = |c: &str| env.up_to_as_of(c);
    let days_back = |n: u64| {
        to.checked_sub_days(chrono::Days::new(n - 1))
            .ok_or_else(|| Error::Usage(format!("date {to} is out of range")))
    };
    let (d30, d90) = (days_back(30)?, days_back(90)?);
    let statuses = purchase_statuses(env);
    let deal_amount = env.money("amount", "deals.amount");
    let order_amount = env.money("amount", "orders.amount");
    let act_day = env.local_date("occurred_at");
    let working_day = is_working_day(env, "day")?;
    let created_in = in_period("created_at")?;
    let closed_in = in_period("closed_at")?;
    let won_by_as_of = up_to("closed_at")?;
    let sla_seconds = u64::from(env.config.managers.response_sla_minutes) * 60;
    let active = env.column_or_null("managers", "m", "active", "boolean");
    // Owned customers need customers.owner_manager_id; without it the columns are NULL.
    let (owned_cte, owned_cols, owned_join, owned_ids) = if env
        .has_column("customers", "owner_manager_id")
    {
        let recent_act = between_days(env, "occurred_at", d90, to)?;
        let recent_buy = between_days(env, "ordered_at", d90, to)?;
        let since_30 = before_day(env, "last_at", d30)?;
        (
            format!(
                ", touched as ( \
                   select customer_id, max(at) as last_at from ( \
                     select customer_id, occurred_at as at from activities \
                     where customer_id is not null and {recent_act} \
                     union all \
                     select customer_id, ordered_at as at from orders \
                     where status in ({statuses}) and {recent_buy}) \
                   group by customer_id), \
                 owned as ( \
                   select c.owner_manager_id as manager_id, count(*) as owned_customers, \
                     count(t.customer_id) filter (where not ({since_30})) \
                       as active_customers_30d, \
                     count(t.customer_id) as active_customers_90d \
                   from customers c left join touched t on t.customer_id = c.customer_id \
                   where c.owner_manager_id is not null group by c.owner_manager_id)"
            ),
            "coalesce(o.owned_customers, 0) as owned_customers, \
             coalesce(o.active_customers_30d, 0) as active_customers_30d, \
             coalesce(o.active_customers_90d, 0) as active_customers_90d"
                .to_string(),
            "left join owned o on o.manager_id = ids.manager_id".to_string(),
            " union select manager_id from owned",
        )
    } else {
        (
            String::new(),
            "cast(null as bigint) as owned_customers, cast(null as bigint) as active_customers_30d, \
             cast(null as bigint) as active_customers_90d"
                .to_string(),
            String::new(),
            "",
        )
    };
    let per_day = |c: &str| {
        if working > 0 {
            format!("cast({c} as double) / {working}.0")
        } else {
            "cast(null as double)".into()
        }
    };
    let kinds = ["call", "meeting", "email", "task"];
    let kind_counts = kinds
        .iter()
        .map(|k| format!("count(*) filter (where kind = '{k}') as {k}s"))
        .collect::<Vec<_>>()
        .join(", ");
    let kind_sums = kinds
        .iter()
        .map(|k| format!("sum({k}s) as {k}s"))
        .collect::<Vec<_>>()
        .join(", ");
    let kind_cols = kinds
        .iter()
        .map(|k| format!("coalesce(a.{k}s, 0) as {k}s"))
        .collect::<Vec<_>>()
        .join(", ");
    let kind_rates = kinds
        .iter()
        .map(|k| {
            format!(
                "{} as {k}s_per_day",
                per_day(&format!("coalesce(a.{k}s, 0)"))
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let all_rate = per_day("coalesce(a.activities, 0)");
    let act_in = in_period("occurred_at")?;
    let first_touch = first_response_sql(env, "manager_id is not null", period)?;
    let ord_in = in_period("ordered_at")?;
    let created_local = env.local_date("created_at");
    let closed_local = env.local_date("closed_at");
    Ok(format!(
        "with act_days as ( \
           select manager_id, day, {kind_counts}, count(*) as activities from ( \
             select manager_id, kind, {act_day} as day from activities where {act_in}) \
           group by manager_id, day), \
         act as ( \
           select manager_id, {kind_sums}, sum(activities) as activities, \
             count(*) filter (where {working_day}) as days_with_activity \
           from act_days group by manager_id), \
         dl as ( \
           select manager_id, \
             count(*) filter (where {created_in}) as deals_created, \
             count(*) filter (where {created_in} and status = 'won' and {won_by_as_of}) \
               as created_won, \
             count(*) filter (where status = 'won' and {closed_in}) as deals_won, \
             count(*) filter (where status = 'lost' and {closed_in}) as deals_lost, \
             cast(avg({deal_amount}) filter (where status = 'won' and {closed_in}) as double) \
               as avg_deal_size, \
             avg(cast(cast({closed_local} as int) - cast({created_local} as int) as double)) \
               filter (where status = 'won' and {closed_in}) as avg_cycle_days \
           from deals where manager_id is not null and (({created_in}) or ({closed_in})) \
           group by manager_id), \
         first_touch as ({first_touch}), \
         resp as ( \
           select manager_id, median(seconds / 60.0) as response_median_minutes, \
             count(*) filter (where seconds <= {sla_seconds}) as responded_within_sla, \
             count(*) filter (where seconds is null) as deals_unanswered \
           from first_touch group by manager_id), \
         rev as ( \
           select manager_id, sum({order_amount}) as revenue, count(*) as orders \
           from orders where status in ({statuses}) and manager_id is not null and {ord_in} \
           group by manager_id){owned_cte}, \
         ids as ( \
           select manager_id from managers where manager_id is not null \
           union select manager_id from act \
           union select manager_id from dl \
           union select manager_id from rev{owned_ids}) \
         select ids.manager_id, m.name, m.department, {active}, \
           {from_sql} as period_from, {to_sql} as period_to, \
           cast({working} as bigint) as working_days, \
           {kind_cols}, coalesce(a.activities, 0) as activities, \
           {kind_rates}, {all_rate} as activities_per_day, \
           {working} - coalesce(a.days_with_activity, 0) as days_without_activity, \
           {owned_cols}, \
           coalesce(dl.deals_created, 0) as deals_created, \
           coalesce(dl.deals_won, 0) as deals_won, \
           coalesce(dl.deals_lost, 0) as deals_lost, \
           cast(dl.created_won as double) / cast(nullif(dl.deals_created, 0) as double) \
             as win_rate, \
           cast(dl.deals_won as double) \
             / cast(nullif(dl.deals_won + dl.deals_lost, 0) as double) as win_rate_closed, \
           coalesce(rev.revenue, 0) as revenue, coalesce(rev.orders, 0) as orders, \
           dl.avg_deal_size, dl.avg_cycle_days, \
           r.response_median_minutes, \
           coalesce(r.responded_within_sla, 0) as responded_within_sla, \
           cast(r.responded_within_sla as double) \
             / cast(nullif(dl.deals_created, 0) as double) as response_sla_share, \
           coalesce(r.deals_unanswered, 0) as deals_unanswered \
         from ids \
         left join managers m on m.manager_id = ids.manager_id \
         left join act a on a.manager_id = ids.manager_id \
         left join dl on dl.manager_id = ids.manager_id \
         left join resp r on r.manager_id = ids.manager_id \
         left join rev on rev.manager_id = ids.manager_id \
         {owned_join}",
        from_sql = date_sql(from),
        to_sql = date_sql(to),
    ))
}

/// SQL of the lead response of each deal created in the period and matching `filter` (SQL
/// over `deals`): deal_id, customer_id, manager_id, created_at, `first_contact_at` (the first
/// call, meeting or e-mail logged on the deal at or after its creation, up to as_of; NULL
/// when unanswered) and `seconds` from creation to it. The one definition of lead response:
/// the KPIs count from it and `lead_sla_misses` lists from it.
pub fn first_response_sql(env: &ViewEnv, filter: &str, period: Period) -> Result<String> {
    let created_in = between_days(env, "created_at", period.from, period.to)?;
    let up_to = env.up_to_as_of("a.occurred_at")?;
    Ok(format!(
        "select d.manager_id, d.deal_id, d.customer_id, d.created_at, \
           min(a.occurred_at) as first_contact_at, \
           min(date_part('epoch', a.occurred_at) - date_part('epoch', d.created_at)) \
             as seconds \
         from (select deal_id, customer_id, manager_id, created_at from deals \
               where ({filter}) and {created_in}) d \
         left join activities a on a.deal_id = d.deal_id \
           and a.occurred_at >= d.created_at and a.kind <> 'task' and {up_to} \
         group by d.manager_id, d.deal_id, d.customer_id, d.created_at"
    ))
}

/// SQL of one row: deals created or closed in the period without a manager, and purchased
/// orders of the period without one (both in no row of the KPI table).
pub fn unassigned_sql(env: &ViewEnv, period: Period) -> Result<String> {
    let created = between_days(env, "created_at", period.from, period.to)?;
    let closed = between_days(env, "closed_at", period.from, period.to)?;
    let ordered = between_days(env, "ordered_at", period.from, period.to)?;
    let statuses = purchase_statuses(env);
    Ok(format!(
        "select \
           (select count(*) from deals where manager_id is null \
             and (({created}) or ({closed}))) as deals, \
           (select count(*) from orders where manager_id is null \
             and status in ({statuses}) and {ordered}) as orders"
    ))
}

/// Whether the category of a sale can be known (order lines and their products exist).
/// Plan attainment, the one definition (PRODUCT.md, "Plan vs actual"): actual ÷ target as a
/// ratio, NULL when the target is 0. Over a group, pass the sums.
pub fn attainment(actual: &str, target: &str) -> String {
    format!("cast({actual} as double) / nullif(cast({target} as double), 0.0)")
}

/// `crmlens plan`: plan vs actual of `plan_actual` rolled up by `dims` (columns of the view)
/// over the months `from` (when given) to `to`: plan rows, target, actual and attainment of
/// the planned rows (attainment in percent), actual outside any plan, and the total actual.
pub fn plan_rollup_sql(dims: &[&str], from: Option<NaiveDate>, to: NaiveDate) -> String {
    let mut conditions = vec![format!("month <= {}", date_sql(to))];
    if let Some(f) = from {
        conditions.push(format!("month >= {}", date_sql(f)));
    }
    let columns = dims.join(", ");
    let attainment = attainment(
        "sum(actual) filter (where planned)",
        "sum(target) filter (where planned)",
    );
    format!(
        "select {columns}, \
           count(*) filter (where planned) as plan_rows, \
           coalesce(sum(target) filter (where planned), 0) as target, \
           case when count(*) filter (where planned) = 0 then 0 \
             else sum(actual) filter (where planned) end as actual, \
           100.0 * {attainment} as attainment_pct, \
           coalesce(sum(actual) filter (where not planned), 0) as unplanned_actual, \
           coalesce(sum(actual), 0) as total_actual \
         from plan_actual where {} \
         group by {columns} order by {}",
        conditions.join(" and "),
        dims.iter()
            .map(|d| format!("{d} nulls last"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub fn items_known(env: &ViewEnv) -> bool {
    env.has("order_items") && env.has("products")
}

/// The SQL of `plan_actual`.
fn plan_actual_sql(env: &ViewEnv) -> Result<String> {
    let attainment = attainment("actual", "target");
    let statuses = purchase_statuses(env);
    let order_amount = env.money("o.amount", "orders.amount");
    let item_price = env.money("i.unit_price", "order_items.unit_price");
    let target = env.money("target_amount", "plans.target_amount");
    let no_money = format!("cast(null as decimal(38, {}))", env.config.currency_scale());
    let up_to = env.up_to_as_of("o.ordered_at")?;
    let month = format!(
        "cast(date_trunc('month', {}) as date)",
        env.local_date("o.ordered_at")
    );
    let as_of_month = date_sql(env.as_of.with_day(1).unwrap_or(env.as_of));
    let known = items_known(env);
    // One row per sale line: manager, month, category and amount.
    let lines = if known {
        format!(
            "select o.manager_id, {month} as month, \
               case when i.order_id is null then cast(null as varchar) else p.category end \
                 as product_category, \
               case when i.order_id is null then {order_amount} \
                 else i.quantity * {item_price} end as amount \
             from orders o \
             left join order_items i on i.order_id = o.order_id \
             left join products p on p.product_id = i.product_id \
             where o.status in ({statuses}) and o.manager_id is not null and {up_to}"
        )
    } else {
        format!(
            "select o.manager_id, {month} as month, cast(null as varchar) as product_category, \
               {order_amount} as amount \
             from orders o \
             where o.status in ({statuses}) and o.manager_id is not null and {up_to}"
        )
    };
    // A plan row covers a cell of sales (see the module doc); without items a cell's
    // category is unknown and only the month and manager (or department) are compared.
    let category_match = if known {
        "(p.product_category is null or c.product_category = p.product_category)"
    } else {
        "true"
    };
    let covers = format!(
        "c.month = p.month \
         and (c.manager_id = p.manager_id \
           or (p.manager_id is null and c.department = p.department)) \
         and {category_match}"
    );
    // With items unknown a plan row of one category cannot be measured.
    let measurable = if known {
        "true".to_string()
    } else {
        "p.product_category is null".to_string()
    };
    Ok(format!(
        "with cells as ( \
           select l.manager_id, l.month, l.product_category, m.department, \
             sum(l.amount) as actual \
           from ({lines}) l left join managers m on m.manager_id = l.manager_id \
           group by l.manager_id, l.month, l.product_category, m.department), \
         pl as ( \
           select row_number() over (order by period, manager_id, department, \
               product_category, target_amount) as plan_row, \
             cast(date_trunc('month', period) as date) as month, manager_id, department, \
             product_category, {target} as target \
           from plans), \
         planned as ( \
           select p.plan_row, p.month, p.manager_id, p.department, p.product_category, \
             p.target, \
             case when p.month > {as_of_month} or not ({measurable}) then {no_money} \
               else coalesce(sum(c.actual), 0) end as actual \
           from pl p left join cells c on {covers} \
           group by p.plan_row, p.month, p.manager_id, p.department, p.product_category, \
             p.target), \
         unplanned as ( \
           select c.month, c.manager_id, c.department, c.product_category, c.actual \
           from cells c left join pl p on {covers} \
           group by c.month, c.manager_id, c.department, c.product_category, c.actual \
           having count(p.plan_row) = 0) \
         select month, manager_id, department, product_category, target, actual, \
           {attainment} as attainment, true as planned \
         from planned \
         union all \
         select month, manager_id, department, product_category, {no_money}, \
           actual, cast(null as double), false \
         from unplanned"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn default_period_is_30_days_ending_at_as_of() {
        let p = Period::default_for(d("2025-03-31")).unwrap();
        assert_eq!((p.from, p.to), (d("2025-03-02"), d("2025-03-31")));
        let p = Period::new(None, Some(d("2025-03-10")), d("2025-03-31")).unwrap();
        assert_eq!((p.from, p.to), (d("2025-02-09"), d("2025-03-10")));
    }

    #[test]
    fn bad_periods_are_usage_errors() {
        let as_of = d("2025-03-31");
        assert!(matches!(
            Period::new(Some(d("2025-03-10")), Some(d("2025-03-01")), as_of),
            Err(Error::Usage(_))
        ));
        assert!(matches!(
            Period::new(None, Some(d("2025-04-01")), as_of),
            Err(Error::Usage(_))
        ));
    }
}
