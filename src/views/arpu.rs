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
//! Dimensions (one value per customer, so every figure splits exactly and the groups add up
//! to the whole): `region`, `country`, `kind`, `source` (customers.acquisition_source),
//! `segment` (the RFM segment at as_of, `(no segment)` without purchases in the RFM lookback:
//! today's segment applied to the history), and `channel`, the acquisition channel: the
//! channel of the customer's first purchase (earliest ordered_at, ties to the smaller
//! order_id; `(no purchase)` before any). A missing value is `(none)`. A purchaser missing
//! from `customers` is kept, with every attribute `(none)`.

use super::{View, ViewEnv};
use crate::Result;

/// The names of this module's views.
pub const NAMES: &[&str] = &["customer_base_monthly"];

/// The dimensions of `crmlens arpu --by`.
pub const DIMENSIONS: &[&str] = &["region", "country", "kind", "source", "channel", "segment"];

/// This module's views.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    Ok(vec![View {
        name: "customer_base_monthly",
        sql: base_monthly_sql(env, None)?,
    }])
}

/// SQL of the customer attribute of a dimension (over `customers c`, `purchases`-based
/// `acq` and `rfm r`), or `None` for an unknown dimension name.
fn attribute(env: &ViewEnv, dim: &str) -> Option<String> {
    let column = |name: &str| {
        if env.has_column("customers", name) {
            format!("nullif(trim(cast(c.{name} as varchar)), '')")
        } else {
            "cast(null as varchar)".into()
        }
    };
    Some(match dim {
        "region" | "country" | "kind" => column(dim),
        "source" => column("acquisition_source"),
        "channel" => "case when acq.customer_id is null then '(no purchase)' \
                      else nullif(trim(acq.channel), '') end"
            .into(),
        "segment" => "coalesce(r.rfm_segment, '(no segment)')".into(),
        _ => return None,
    })
}

/// The monthly base, split by `dim` (one of [`DIMENSIONS`]) into a `value` column, or whole.
pub fn base_monthly_sql(env: &ViewEnv, dim: Option<&str>) -> Result<String> {
    let (value, key, joins) = match dim {
        None => ("'(all)'".to_string(), "", String::new()),
        Some(d) => {
            let attr = attribute(env, d).ok_or_else(|| {
                crate::Error::Usage(format!(
                    "--by {d:?}: expected one of {}",
                    DIMENSIONS.join(", ")
                ))
            })?;
            let channel = if env.has_column("orders", "channel") {
                "o.channel"
            } else {
                "cast(null as varchar)"
            };
            let joins = match d {
                "channel" => format!(
                    "left join (select p.customer_id, \
                       first_value({channel} order by p.ordered_at, p.order_id) as channel \
                     from purchases p join orders o on o.order_id = p.order_id \
                     group by p.customer_id) acq on acq.customer_id = k.customer_id"
                ),
                "segment" => "left join rfm r on r.customer_id = k.customer_id".into(),
                _ => String::new(),
            };
            (format!("coalesce({attr}, '(none)')"), "value, ", joins)
        }
    };
    let w = env.config.churn.inactive_days;
    let as_of = env.as_of_sql();
    let created = if env.has_column("customers", "created_at") {
        env.local_date("c.created_at")
    } else {
        "cast(null as date)".into()
    };
    let value_col = if key.is_empty() { "" } else { "value, " };
    Ok(format!(
        "with known as (select customer_id from customers where customer_id is not null \
           union select customer_id from purchases), \
         first as (select customer_id, min(purchase_date) as first_date from purchases \
           group by customer_id), \
         people as ( \
           select k.customer_id, {value} as value, \
             least(min({created}), min(f.first_date)) as since, min(f.first_date) as first_date \
           from known k left join customers c on c.customer_id = k.customer_id \
           left join first f on f.customer_id = k.customer_id {joins} \
           group by k.customer_id, 2), \
         months as ( \
           select month, least(cast(month + interval '1 month' - interval '1 day' as date), \
             {as_of}) as month_end \
           from (select unnest(generate_series( \
             cast(date_trunc('month', (select min(purchase_date) from purchases)) as date), \
             cast(date_trunc('month', {as_of}) as date), interval '1 month')) as month)), \
         base as ( \
           select m.month, {value_col}count(*) as customers from months m \
           join people p on p.since <= m.month_end group by m.month{comma_value}), \
         active as ( \
           select m.month, {value_col}count(distinct d.customer_id) as active_customers \
           from months m join purchase_days d on d.purchase_date <= m.month_end \
             and d.purchase_date > m.month_end - interval '{w} days' \
           join people p on p.customer_id = d.customer_id \
           group by m.month{comma_value}), \
         sales as ( \
           select cast(date_trunc('month', s.purchase_date) as date) as month, {value_col}\
             count(distinct s.customer_id) as buyers, \
             count(distinct s.customer_id) filter (where date_trunc('month', p.first_date) \
               = date_trunc('month', s.purchase_date)) as new_customers, \
             count(*) as orders, sum(s.amount) as revenue \
           from purchases s join people p on p.customer_id = s.customer_id \
           group by 1{comma_value}) \
         select b.month, {b_value}b.customers, coalesce(a.active_customers, 0) as active_customers, \
           coalesce(s.buyers, 0) as buyers, coalesce(s.new_customers, 0) as new_customers, \
           coalesce(s.buyers, 0) - coalesce(s.new_customers, 0) as returning_customers, \
           coalesce(s.orders, 0) as orders, coalesce(s.revenue, 0.0) as revenue, \
           coalesce(s.revenue, 0.0) / nullif(b.customers, 0) as arpu, \
           coalesce(s.revenue, 0.0) / nullif(a.active_customers, 0) as revenue_per_active, \
           s.revenue / nullif(s.buyers, 0) as revenue_per_buyer \
         from base b \
         left join active a on a.month = b.month{a_join} \
         left join sales s on s.month = b.month{s_join}",
        comma_value = if key.is_empty() { "" } else { ", p.value" },
        b_value = if key.is_empty() { "" } else { "b.value, " },
        a_join = if key.is_empty() {
            ""
        } else {
            " and a.value = b.value"
        },
        s_join = if key.is_empty() {
            ""
        } else {
            " and s.value = b.value"
        },
    ))
}
