//! Churn and retention (PRODUCT.md, "Churn and retention"): the monthly churn series and
//! the first-purchase cohorts.
//!
//! A customer is *active* at date t when they purchased in (t − W, t], W =
//! `churn.inactive_days`, on calendar dates in the dataset time zone: a purchase on day d
//! keeps the customer active on the days d … d + W − 1 and no longer. Months are calendar
//! months; every view runs from the month of the first purchase in the data through the
//! month of as_of, and nothing after as_of exists (`purchases` stops there).
//!
//! `churn_monthly`, one row per month (months without a purchase included):
//! - `month` (DATE, first day); `period_start` = the last day of the previous month, the date
//!   "at the start" of the month is measured on; `period_end` = the last day of the month, or
//!   as_of in as_of's month (a month still running is measured up to today, not to a future
//!   date no purchase can have reached yet);
//! - `active_at_start` / `active_at_end`: customers active at period_start / period_end;
//! - `new`: customers whose first purchase ever is in the month;
//! - `reactivated`: customers who had purchased before the month, were not active at its
//!   start and purchase in it;
//! - `churned`: active at period_start and not active at period_end;
//! - `lapsed`: new or reactivated in the month but no longer active at period_end (only when
//!   W is shorter than the month: with W ≥ 31 a purchase in the month always reaches
//!   period_end, and `lapsed` is 0);
//! - `churn_rate` = churned ÷ active_at_start, NULL when nobody was active at the start.
//!
//! These balance: active_at_end = active_at_start − churned + new + reactivated − lapsed.
//! Proof: a customer active at period_end but not at period_start has a purchase in
//! (period_end − W, period_end] and none in (period_start − W, period_start]; as
//! period_start < period_end, that purchase is after period_start, in the month; so they are
//! new or reactivated, and not lapsed. Conversely a new or reactivated customer who is not
//! lapsed is active at the end. The slt tests check the identity on data where `lapsed` > 0.
//!
//! `cohort_retention`, the long table: one row per cohort and month from the cohort's month
//! through as_of's month, cells with nobody purchasing included (0, not missing):
//! - `cohort` (DATE, first day of the month of the customers' first purchase), `months_since`
//!   (k = 0, 1, …), `month` (= cohort + k months);
//! - `cohort_size`: customers of the cohort; only months where somebody bought for the first
//!   time are cohorts;
//! - `customers`: cohort members with a purchase in month cohort + k (= cohort_size at k = 0);
//!   `retention` = customers ÷ cohort_size, PRODUCT.md's cell (c, k);
//! - `retained`: cohort members still active (the churn definition above) at the end of month
//!   cohort + k (as_of in as_of's month), i.e. not churned then; unlike `customers` it does
//!   not drop in a month a customer merely skips;
//! - `revenue`: the cohort's revenue in month cohort + k; `revenue_retention` = revenue ÷ the
//!   cohort's revenue in month 0 (NULL when that is 0).
//!
//! `churn_monthly_by` and `cohort_retention_by` split both by every customer dimension of
//! `views::dimensions` (one value per customer): a `dimension` column, then the same
//! columns with `value` after `month` / `cohort`. Within a value the definitions above apply
//! to its customers only, so the values add up to the whole, month by month and cell by
//! cell; a value's churn series starts with the first month one of its customers purchased
//! in, and its cohorts are the months where one of them bought for the first time.
//!
//! The views are linear in the number of (customer, month) pairs with a purchase: the state
//! of a customer between two purchase months follows from the last purchase date of the
//! earlier one, so no customer × month grid is built. For a customer-month row with last
//! purchase L, the customer stays active through every month end before the month of L + W
//! (when L + W ≤ as_of) or before the next purchase month, whichever comes first; that month
//! is where they churn, unless they purchased again before.

use super::dimensions::{CustomerDim, Split, every_dimension};
use super::{View, ViewEnv};

/// The names of this module's views.
pub const NAMES: &[&str] = &[
    "churn_monthly",
    "cohort_retention",
    "churn_monthly_by",
    "cohort_retention_by",
];

/// The `churn_monthly` and `cohort_retention` views, and their splits by every customer
/// dimension.
pub fn views(env: &ViewEnv) -> Vec<View> {
    vec![
        View {
            name: "churn_monthly",
            sql: churn_sql(env, None),
        },
        View {
            name: "cohort_retention",
            sql: cohort_sql(env, None),
        },
        View {
            name: "churn_monthly_by",
            sql: every_dimension(|dim| churn_sql(env, dim)),
        },
        View {
            name: "cohort_retention_by",
            sql: every_dimension(|dim| cohort_sql(env, dim)),
        },
    ]
}

/// CTEs shared by both views, ending in `events`.
///
/// `cm`: one row per customer and month with a purchase: the customer's first purchase month
/// (`cohort`), the month's last purchase date and revenue, the last purchase date of the
/// previous purchase month (`prev_date`) and the next purchase month. `spans` adds
/// `active_start` (active on the last day of the previous month) and `expiry_month`, the
/// month of L + W, the first inactive day after this purchase month, when that day is on or
/// before as_of.
///
/// `events` turns each row into three dated changes (a NULL month: no change), so that
/// every figure is one aggregation per month. `kind` 0, at the purchase month: the customer
/// is active at that month's end (+1 to the running count) unless lapsed; new, reactivated
/// and lapsed are counted here, and churned when active at the start but not at the end of
/// this same month (W shorter than the month). `kind` 1, at the expiry month or the next
/// purchase month, whichever comes first: from there on this row no longer makes the
/// customer active at month end (−1). `kind` 2, at the expiry month when the customer churns
/// there: active at the end of the month before and no purchase in between.
///
/// Split by a dimension, every CTE carries the customer's `value` (one per customer) before
/// its other columns.
///
/// The CTEs are written to be referenced once: DataFusion inlines a CTE at every reference,
/// and each one would scan and sort the purchases again.
fn events(env: &ViewEnv, split: &Split) -> String {
    let as_of = env.as_of_sql();
    let w = env.config.churn.inactive_days;
    let w_plus_1 = u64::from(w) + 1;
    let v_key = split.key("v.");
    let key = split.key("");
    let join = split.join("p");
    format!(
        "cm as ( \
           select p.customer_id, {v_key}month, last_date, revenue, \
             min(month) over (partition by p.customer_id) as cohort, \
             lag(last_date) over (partition by p.customer_id order by month) as prev_date, \
             lead(month) over (partition by p.customer_id order by month) as next_month \
           from ( \
             select customer_id, cast(date_trunc('month', purchase_date) as date) as month, \
               max(purchase_date) as last_date, sum(amount) as revenue \
             from purchases group by 1, 2) p {join}), \
         spans as ( \
           select customer_id, {key}cohort, month, revenue, prev_date, next_month, \
             coalesce(prev_date > month - interval '{w_plus_1} days', false) as active_start, \
             case when last_date + interval '{w} days' <= {as_of} \
               then cast(date_trunc('month', last_date + interval '{w} days') as date) end \
               as expiry_month \
           from cm), \
         events as ( \
           select {key}cohort, revenue, \
             prev_date is null as is_new, \
             prev_date is not null and not active_start as is_reactivated, \
             not active_start and expiry_month = month as is_lapsed, \
             unnest(make_array(0, 1, 2)) as kind, \
             unnest(make_array( \
               month, \
               least(expiry_month, next_month), \
               case when expiry_month > month \
                 and (next_month is null or next_month > expiry_month) \
                 then expiry_month end)) as month, \
             unnest(make_array(active_start and expiry_month = month, false, true)) \
               as is_churned \
           from spans)"
    )
}

/// The month of as_of, as a SQL date.
fn as_of_month(env: &ViewEnv) -> String {
    format!("cast(date_trunc('month', {}) as date)", env.as_of_sql())
}

/// `churn_monthly`, or split by `dim`: `value` after `month`, each value's series from the
/// first month one of its customers purchased in.
fn churn_sql(env: &ViewEnv, dim: Option<CustomerDim>) -> String {
    let as_of = env.as_of_sql();
    let last_month = as_of_month(env);
    let split = Split::new(env, dim);
    let ctes = events(env, &split);
    let key = split.key("");
    let part = split.partition("");
    // Months where something happens, then each one expanded over the quiet months up to
    // the next (with nothing happening in them), so every month is a row.
    format!(
        "with {ctes}, \
         per_month as ( \
           select {key}month as event_month, \
             count(*) filter (where kind = 0 and is_new) as new, \
             count(*) filter (where kind = 0 and is_reactivated) as reactivated, \
             count(*) filter (where kind = 0 and is_lapsed) as lapsed, \
             count(*) filter (where is_churned) as churned, \
             sum(case kind when 0 then 1 when 1 then -1 else 0 end) as delta \
           from events where month is not null group by {key}month), \
         filled as ( \
           select *, unnest(generate_series(event_month, \
             coalesce(cast(lead(event_month) over ({part}order by event_month) \
               - interval '1 month' as date), {last_month}), \
             interval '1 month')) as month \
           from per_month), \
         series as ( \
           select {key}month, \
             case when month = event_month then new else 0 end as new, \
             case when month = event_month then reactivated else 0 end as reactivated, \
             case when month = event_month then churned else 0 end as churned, \
             case when month = event_month then lapsed else 0 end as lapsed, \
             cast(sum(case when month = event_month then delta else 0 end) \
               over ({part}order by month rows between unbounded preceding and current row) \
               as bigint) as active_at_end \
           from filled) \
         select month, {key}\
           cast(month - interval '1 day' as date) as period_start, \
           least(cast(month + interval '1 month' - interval '1 day' as date), {as_of}) \
             as period_end, \
           active_at_start, new, reactivated, churned, lapsed, active_at_end, \
           case when active_at_start > 0 \
             then cast(churned as double) / cast(active_at_start as double) end as churn_rate \
         from ( \
           select *, coalesce(lag(active_at_end) over ({part}order by month), 0) \
             as active_at_start \
           from series)"
    )
}

/// `cohort_retention`, or split by `dim`: `value` after `cohort`, a cohort of a value being
/// its customers whose first purchase is in that month.
fn cohort_sql(env: &ViewEnv, dim: Option<CustomerDim>) -> String {
    let last_month = as_of_month(env);
    let split = Split::new(env, dim);
    let ctes = events(env, &split);
    let key = split.key("");
    let part = split.partition("cohort");
    format!(
        "with {ctes}, \
         per_month as ( \
           select {key}cohort, month as event_month, \
             count(*) filter (where kind = 0) as customers, \
             sum(revenue) filter (where kind = 0) as revenue, \
             sum(case kind when 0 then 1 else -1 end) as delta \
           from events where kind < 2 and month is not null group by {key}cohort, month), \
         filled as ( \
           select *, unnest(generate_series(event_month, \
             coalesce(cast(lead(event_month) over ({part}order by event_month) \
               - interval '1 month' as date), {last_month}), \
             interval '1 month')) as month \
           from per_month), \
         cells as ( \
           select {key}cohort, month, \
             case when month = event_month then customers else 0 end as customers, \
             case when month = event_month then coalesce(revenue, 0) else 0 end as revenue, \
             cast(sum(case when month = event_month then delta else 0 end) \
               over ({part}order by month \
                 rows between unbounded preceding and current row) as bigint) as retained \
           from filled), \
         sized as ( \
           select *, \
             max(case when month = cohort then customers end) over ({part}) \
               as cohort_size, \
             max(case when month = cohort then revenue end) over ({part}) \
               as cohort_revenue \
           from cells) \
         select cohort, {key}\
           cast((date_part('year', month) - date_part('year', cohort)) * 12 \
             + date_part('month', month) - date_part('month', cohort) as bigint) \
             as months_since, \
           month, cohort_size, customers, \
           cast(customers as double) / cast(cohort_size as double) as retention, \
           retained, revenue, \
           cast(revenue as double) / nullif(cast(cohort_revenue as double), 0.0) \
             as revenue_retention \
         from sized"
    )
}
