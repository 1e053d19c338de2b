//! `clv_summary`: the per-customer purchase summary of the "buy till you die" models
//! (PRODUCT.md, "CLV, predicted"), in days, from daily-aggregated purchases up to as_of:
//! `frequency` x = distinct purchase days − 1, `recency` t_x = days from the first to the
//! last purchase day, `t` T = days from the first purchase day to as_of, `monetary` m = mean
//! per-day total over the repeat purchase days (the first day excluded), 0 when x = 0.

use super::{View, ViewEnv};

pub fn views(env: &ViewEnv) -> Vec<View> {
    let as_of = env.as_of_sql();
    let sql = format!(
        "with d as ( \
           select customer_id, min(purchase_date) as first_day, max(purchase_date) as last_day, \
             count(*) as days, sum(amount) as total, \
             first_value(amount order by purchase_date) as first_amount \
           from purchase_days group by customer_id) \
         select customer_id, \
           cast(days - 1 as double) as frequency, \
           cast(last_day - first_day as double) as recency, \
           cast({as_of} - first_day as double) as t, \
           case when days > 1 then (total - first_amount) / cast(days - 1 as double) else 0.0 end as monetary \
         from d"
    );
    vec![View {
        name: "clv_summary",
        sql,
    }]
}
