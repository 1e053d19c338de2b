-- The 20 customers with the most paid revenue, with their order count and last purchase.
select
    c.customer_id,
    c.name,
    c.country,
    count(*) as orders,
    sum(o.amount) as revenue,
    max(o.ordered_at) as last_order_at
from orders o
join customers c on c.customer_id = o.customer_id
where o.status = 'paid'
group by c.customer_id, c.name, c.country
order by revenue desc, c.customer_id
limit 20
