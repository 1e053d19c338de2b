//! `customer_features`: one row per customer of the `customers` table (customers without a
//! purchase included), the per-customer figures segments filter on. The column names of
//! issue 3 are a contract; the others may grow.
//!
//! Choices the definitions leave open (also in docs/metrics.md):
//! - `frequency`, `monetary`, `avg_order_value`, first/last purchase and the 30/90/365-day
//!   figures use all purchases up to as_of; the RFM columns use the RFM lookback.
//! - `tenure_days` counts from the first purchase day to as_of (NULL without a purchase).
//! - A customer who never purchased is neither active nor churned: `is_active` and
//!   `is_churned` are both false, `frequency` and `monetary` are 0.
//! - `refunds` counts orders with status `refunded` made up to as_of, `refunded_amount` sums
//!   them; `margin` is Σ quantity × (unit_price − unit_cost) over purchased order items, NULL
//!   when the dataset has no `order_items` or `products`.
//! - The CLV columns are NULL unless a fitted model is configured (`[clv] model_file`).

use super::{View, ViewEnv};
use crate::Result;

pub fn view(env: &ViewEnv) -> Result<View> {
    let as_of = env.as_of_sql();
    let w = env.config.churn.inactive_days;
    let window = |days: u32| {
        format!(
            "count(*) filter (where purchase_date > {as_of} - interval '{days} days') as purchases_{days}d, \
             coalesce(sum(amount) filter (where purchase_date > {as_of} - interval '{days} days'), 0) as revenue_{days}d"
        )
    };
    let windows = [30, 90, 365].map(window).join(", ");
    let refund_up_to = env.up_to_as_of("ordered_at")?;
    // Without item costs the column is a typed NULL and there is nothing to join.
    let (margin, margin_join) = if env.has("order_items") && env.has("products") {
        (
            "mg.margin".to_string(),
            format!(
                "left join (select p.customer_id, \
                   sum(i.quantity * ({} - {})) as margin \
                   from purchases p join order_items i on i.order_id = p.order_id \
                   join products pr on pr.product_id = i.product_id group by p.customer_id) mg \
                   on mg.customer_id = c.customer_id",
                env.money("i.unit_price", "order_items.unit_price"),
                env.money("pr.unit_cost", "products.unit_cost")
            ),
        )
    } else {
        (
            format!(
                "cast(null as decimal(38, {})) as margin",
                env.config.currency_scale()
            ),
            String::new(),
        )
    };
    let refunded = env.money("amount", "orders.amount");
    let clv_horizon = env.config.clv.horizon_days;
    let clv = if env.has_model {
        format!(
            "clv_p_alive(s.frequency, s.recency, s.t) as p_alive, \
             clv_expected_purchases(s.frequency, s.recency, s.t, {clv_horizon}) as expected_purchases, \
             clv_expected_avg_value(s.frequency, s.monetary) as expected_avg_value, \
             clv_value(s.frequency, s.recency, s.t, s.monetary) as clv"
        )
    } else {
        "cast(null as double) as p_alive, cast(null as double) as expected_purchases, \
         cast(null as double) as expected_avg_value, cast(null as double) as clv"
            .to_string()
    };
    let city = env.column_or_null("customers", "c", "city", "varchar");
    let source = env.column_or_null("customers", "c", "acquisition_source", "varchar");
    let owner = env.column_or_null("customers", "c", "owner_manager_id", "varchar");
    let sql = format!(
        "with agg as ( \
           select customer_id, min(ordered_at) as first_purchase_at, max(ordered_at) as last_purchase_at, \
             min(purchase_date) as first_purchase_date, max(purchase_date) as last_purchase_date, \
             count(*) as frequency, sum(amount) as monetary, \
             count(distinct purchase_date) as purchase_days, {windows} \
           from purchases group by customer_id), \
         refunds as ( \
           select customer_id, count(*) as refunds, sum({refunded}) as refunded_amount \
           from orders where status = 'refunded' and customer_id is not null \
             and {refund_up_to} group by customer_id) \
         select c.customer_id, c.kind, c.name, c.country, {city}, c.created_at, \
           {source}, {owner}, \
           a.first_purchase_at, a.last_purchase_at, \
           {as_of} - a.last_purchase_date as recency_days, \
           coalesce(a.frequency, 0) as frequency, \
           coalesce(a.monetary, 0) as monetary, \
           cast(a.monetary as double) / a.frequency as avg_order_value, \
           {as_of} - a.first_purchase_date as tenure_days, \
           coalesce(a.purchase_days, 0) as purchase_days, \
           coalesce(a.purchases_30d, 0) as purchases_30d, coalesce(a.revenue_30d, 0) as revenue_30d, \
           coalesce(a.purchases_90d, 0) as purchases_90d, coalesce(a.revenue_90d, 0) as revenue_90d, \
           coalesce(a.purchases_365d, 0) as purchases_365d, coalesce(a.revenue_365d, 0) as revenue_365d, \
           coalesce(rf.refunds, 0) as refunds, coalesce(rf.refunded_amount, 0) as refunded_amount, \
           {margin}, \
           r.r_score, r.f_score, r.m_score, r.rfm_segment, \
           ax.abc_class, ax.xyz_class, \
           coalesce(a.last_purchase_date > {as_of} - interval '{w} days', false) as is_active, \
           coalesce(a.last_purchase_date <= {as_of} - interval '{w} days', false) as is_churned, \
           {clv} \
         from customers c \
         left join agg a on a.customer_id = c.customer_id \
         left join refunds rf on rf.customer_id = c.customer_id \
         {margin_join} \
         left join rfm r on r.customer_id = c.customer_id \
         left join customer_abc_xyz ax on ax.customer_id = c.customer_id \
         left join clv_summary s on s.customer_id = c.customer_id"
    );
    Ok(View {
        name: "customer_features",
        sql,
    })
}
