//! ARPU and the make-up of the customer base by month (issue 22, item 2; PRODUCT.md
//! requirement 4, "ARPU; number and types of customers").
//!
//! View `customer_base_monthly` (the whole base; `crmlens arpu --by DIM` splits it by a
//! dimension): one row per calendar month (dataset time zone) from the month of the first
//! purchase in the data to the month of as_of. A month is measured at its end `e`, the last
//! day of the month or as_of for the month of as_of:
//! - `customers`: the base at e: customers whose card was created (customers.created_at) or
//!   who purchased on or before e (a customer without created_at enters with their first
//!   purchase; one with neither is in no month's base);
//! - `active_customers`: active at e by the churn definition, a purchase in
//!   (e − `churn.inactive_days`, e];
//! - `buyers`: customers with a purchase in the month; `new_customers`: buyers whose first
//!   purchase ever is in the month; `returning_customers` = buyers − new_customers;
//! - `orders`, `revenue`: the month's purchases;
//! - `arpu` = revenue ÷ customers, `revenue_per_active` = revenue ÷ active_customers,
//!   `revenue_per_buyer` = revenue ÷ buyers (NULL on a zero denominator).
//!
//! Split by a customer dimension (`views::dimensions`: region, country, kind, source,
//! channel, segment; one value per customer, so every figure splits exactly and the groups
//! add up to the whole), a `value` column follows `month`; the view
//! `customer_base_monthly_by` holds every split, each row led by its `dimension`. A value has
//! a row for each month its base is not empty.

use super::dimensions::{CustomerDim, Split, every_dimension};
use super::{View, ViewEnv};

/// The names of this module's views.
pub const NAMES: &[&str] = &["customer_base_monthly", "customer_base_monthly_by"];

/// This module's views.
pub fn views(env: &ViewEnv) -> Vec<View> {
    vec![
        View {
            name: "customer_base_monthly",
            sql: base_monthly_sql(env, None),
        },
        View {
            name: "customer_base_monthly_by",
            sql: every_dimension(|dim| base_monthly_sql(env, dim)),
        },
    ]
}

/// The monthly base, split by `dim` into a `value` column after `month`, or whole.
pub fn base_monthly_sql(env: &ViewEnv, dim: Option<CustomerDim>) -> String {
    let split = Split::new(env, dim);
    let w = env.config.churn.inactive_days;
    let as_of = env.as_of_sql();
    let created = if env.has_column("customers", "created_at") {
        env.local_date("c.created_at")
    } else {
        "cast(null as date)".into()
    };
    format!(
        "with known as (select customer_id from customers where customer_id is not null \
           union select customer_id from purchases), \
         first as (select customer_id, min(purchase_date) as first_date from purchases \
           group by customer_id), \
         people as ( \
           select k.customer_id, {v_key}least(min({created}), min(f.first_date)) as since, \
             min(f.first_date) as first_date \
           from known k left join customers c on c.customer_id = k.customer_id \
           left join first f on f.customer_id = k.customer_id {join} \
           group by {v_key}k.customer_id), \
         months as ( \
           select month, least(cast(month + interval '1 month' - interval '1 day' as date), \
             {as_of}) as month_end \
           from (select unnest(generate_series( \
             cast(date_trunc('month', (select min(purchase_date) from purchases)) as date), \
             cast(date_trunc('month', {as_of}) as date), interval '1 month')) as month)), \
         base as ( \
           select m.month, {p_key}count(*) as customers from months m \
           join people p on p.since <= m.month_end group by {p_key}m.month), \
         active as ( \
           select m.month, {p_key}count(distinct d.customer_id) as active_customers \
           from months m join purchase_days d on d.purchase_date <= m.month_end \
             and d.purchase_date > m.month_end - interval '{w} days' \
           join people p on p.customer_id = d.customer_id \
           group by {p_key}m.month), \
         sales as ( \
           select cast(date_trunc('month', s.purchase_date) as date) as month, {p_key}\
             count(distinct s.customer_id) as buyers, \
             count(distinct s.customer_id) filter (where date_trunc('month', p.first_date) \
               = date_trunc('month', s.purchase_date)) as new_customers, \
             count(*) as orders, sum(s.amount) as revenue \
           from purchases s join people p on p.customer_id = s.customer_id \
           group by {p_key}1) \
         select b.month, {b_key}b.customers, coalesce(a.active_customers, 0) as active_customers, \
           coalesce(s.buyers, 0) as buyers, coalesce(s.new_customers, 0) as new_customers, \
           coalesce(s.buyers, 0) - coalesce(s.new_customers, 0) as returning_customers, \
           coalesce(s.orders, 0) as orders, coalesce(s.revenue, 0) as revenue, \
           cast(coalesce(s.revenue, 0) as double) / nullif(b.customers, 0) as arpu, \
           cast(coalesce(s.revenue, 0) as double) / nullif(a.active_customers, 0) \
             as revenue_per_active, \
           cast(s.revenue as double) / nullif(s.buyers, 0) as revenue_per_buyer \
         from base b \
         left join active a on a.month = b.month{a_same} \
         left join sales s on s.month = b.month{s_same}",
        v_key = split.key("v."),
        p_key = split.key("p."),
        b_key = split.key("b."),
        join = split.join("k"),
        a_same = split.same("a", "b"),
        s_same = split.same("s", "b"),
    )
}
