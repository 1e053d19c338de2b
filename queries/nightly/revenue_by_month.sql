-- Monthly revenue, paying customers and average order value of paid orders, with the change
-- against the previous month.
select
    month,
    orders,
    customers,
    revenue,
    round(revenue / orders, 2) as avg_order_value,
    round(100.0 * (revenue - lag(revenue) over (order by month)) / lag(revenue) over (order by month), 1)
        as revenue_change_pct
from (
    select
        cast(date_trunc('month', ordered_at) as date) as month,
        count(*) as orders,
        count(distinct customer_id) as customers,
        sum(amount) as revenue
    from orders
    where status = 'paid'
    group by 1
)
order by month
