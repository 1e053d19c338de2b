"""The DuckDB side of crmlens' customer value views, shared by the peer scripts:
`purchases`, `rfm`, `customer_abc_xyz` and `customer_features` written the way src/views/ defines
them (checked equal to crmlens by duckdb_customer_value.py). No CLV model: its columns are NULL.
"""


def views(table, A, W, S):
    """[(name, select)] in dependency order. `table(name)` gives the SQL to read a dataset table,
    A is the as_of DATE literal, W the churn window in days, S the first day of the XYZ window."""
    return [
        ("purchases", f"""
select customer_id, order_id, ordered_at, ordered_at::date as purchase_date, amount::double as amount
from {table('orders')} where status in ('paid') and customer_id is not null
  and ordered_at is not null and ordered_at::date <= {A}"""),
        ("rfm", f"""
with measures as (
  select customer_id, {A} - max(purchase_date) as recency_days, count(*) as frequency,
    sum(amount) as monetary from purchases group by customer_id),
scored as (
  select *,
    least(5, 1 + (5 * (rank() over (order by recency_days desc) - 1))
      // greatest(count(*) over () - 1, 1))::int as r_score,
    least(5, 1 + (5 * (rank() over (order by frequency asc) - 1))
      // greatest(count(*) over () - 1, 1))::int as f_score,
    least(5, 1 + (5 * (rank() over (order by monetary asc) - 1))
      // greatest(count(*) over () - 1, 1))::int as m_score
  from measures)
select *, concat(r_score, f_score, m_score) as rfm_cell,
  case when r_score between 1 and 2 and f_score between 1 and 2 then 'hibernating'
       when r_score between 1 and 2 and f_score between 3 and 4 then 'at risk'
       when r_score between 1 and 2 and f_score between 5 and 5 then 'cannot lose them'
       when r_score between 3 and 3 and f_score between 1 and 2 then 'about to sleep'
       when r_score between 3 and 3 and f_score between 3 and 3 then 'need attention'
       when r_score between 3 and 4 and f_score between 4 and 5 then 'loyal customers'
       when r_score between 4 and 4 and f_score between 1 and 1 then 'promising'
       when r_score between 5 and 5 and f_score between 1 and 1 then 'new customers'
       when r_score between 4 and 5 and f_score between 2 and 3 then 'potential loyalists'
       when r_score between 5 and 5 and f_score between 4 and 5 then 'champions' end as rfm_segment
from scored"""),
        ("customer_abc_xyz", f"""
with monthly as (
  select customer_id, sum(amount) as month_revenue, min(purchase_date) >= {S} as in_window
  from purchases group by customer_id, date_trunc('month', purchase_date)),
items as (
  select customer_id, sum(month_revenue) as revenue,
    count(case when in_window then 1 end) as months,
    coalesce(sum(case when in_window then month_revenue end), 0.0) / 12 as mean,
    avg(case when in_window then month_revenue end) as month_mean,
    var_pop(case when in_window then month_revenue end) as month_variance
  from monthly group by customer_id),
ranked as (
  select *, sum(case when revenue > 0 then revenue else 0 end) over () as positive_total,
    sum(case when revenue > 0 then revenue else 0 end) over (order by revenue desc
      range between unbounded preceding and current row) as cumulative
  from items),
shares as (
  select customer_id, revenue,
    case when positive_total > 0 then round(cumulative / positive_total, 12) end as cumulative_share,
    case when mean > 0 then round(sqrt((months * month_variance
      + months * (month_mean - mean) * (month_mean - mean) + (12 - months) * mean * mean) / 12) / mean, 12)
      end as monthly_cv
  from ranked)
select customer_id,
  case when revenue > 0 and cumulative_share <= 0.8 then 'A'
       when revenue > 0 and cumulative_share <= 0.95 then 'B' else 'C' end as abc_class,
  case when monthly_cv is null then null when monthly_cv <= 0.1 then 'X'
       when monthly_cv <= 0.25 then 'Y' else 'Z' end as xyz_class
from shares"""),
        ("customer_features", f"""
with agg as (
  select customer_id, min(ordered_at) as first_purchase_at, max(ordered_at) as last_purchase_at,
    min(purchase_date) as first_purchase_date, max(purchase_date) as last_purchase_date,
    count(*) as frequency, sum(amount) as monetary, count(distinct purchase_date) as purchase_days,
    count(*) filter (where purchase_date > {A} - interval 30 day) as purchases_30d,
    coalesce(sum(amount) filter (where purchase_date > {A} - interval 30 day), 0) as revenue_30d,
    count(*) filter (where purchase_date > {A} - interval 90 day) as purchases_90d,
    coalesce(sum(amount) filter (where purchase_date > {A} - interval 90 day), 0) as revenue_90d,
    count(*) filter (where purchase_date > {A} - interval 365 day) as purchases_365d,
    coalesce(sum(amount) filter (where purchase_date > {A} - interval 365 day), 0) as revenue_365d
  from purchases group by customer_id),
refunds as (
  select customer_id, count(*) as refunds, sum(amount::double) as refunded_amount
  from {table('orders')} where status = 'refunded' and customer_id is not null
    and ordered_at::date <= {A} group by customer_id),
mg as (
  select p.customer_id, sum(i.quantity::double * (i.unit_price::double - pr.unit_cost::double)) as margin
  from purchases p join {table('order_items')} i on i.order_id = p.order_id
  join {table('products')} pr on pr.product_id = i.product_id group by p.customer_id)
select c.customer_id, c.kind, c.name, c.country, c.city, c.created_at, c.acquisition_source,
  c.owner_manager_id, a.first_purchase_at, a.last_purchase_at,
  {A} - a.last_purchase_date as recency_days, coalesce(a.frequency, 0) as frequency,
  coalesce(a.monetary, 0) as monetary, a.monetary / a.frequency as avg_order_value,
  {A} - a.first_purchase_date as tenure_days, coalesce(a.purchase_days, 0) as purchase_days,
  coalesce(a.purchases_30d, 0) as purchases_30d, coalesce(a.revenue_30d, 0) as revenue_30d,
  coalesce(a.purchases_90d, 0) as purchases_90d, coalesce(a.revenue_90d, 0) as revenue_90d,
  coalesce(a.purchases_365d, 0) as purchases_365d, coalesce(a.revenue_365d, 0) as revenue_365d,
  coalesce(rf.refunds, 0) as refunds, coalesce(rf.refunded_amount, 0) as refunded_amount, mg.margin,
  r.r_score, r.f_score, r.m_score, r.rfm_segment, ax.abc_class, ax.xyz_class,
  coalesce(a.last_purchase_date > {A} - interval {W} day, false) as is_active,
  coalesce(a.last_purchase_date <= {A} - interval {W} day, false) as is_churned,
  null::double as p_alive, null::double as expected_purchases, null::double as expected_avg_value,
  null::double as clv
from {table('customers')} c
left join agg a on a.customer_id = c.customer_id
left join refunds rf on rf.customer_id = c.customer_id
left join mg on mg.customer_id = c.customer_id
left join rfm r on r.customer_id = c.customer_id
left join customer_abc_xyz ax on ax.customer_id = c.customer_id"""),
    ]


def create_views(con, table, A, W, S):
    """Creates the views in a DuckDB connection."""
    for name, q in views(table, A, W, S):
        con.execute(f"create or replace view {name} as\n{q}")


def ctes(table, A, W, S):
    """The views as one WITH list (without the WITH), for self-contained queries."""
    return ",\n".join(f"{name} as (\n{q})" for name, q in views(table, A, W, S))
