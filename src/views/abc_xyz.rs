//! ABC / XYZ classes (PRODUCT.md, "ABC / XYZ") of customers and of products.
//!
//! Views:
//! - `customer_abc_xyz`: one row per customer with a purchase up to as_of (customers who never
//!   purchased are not in it; `customer_features` shows NULL classes for them): customer_id,
//!   revenue, revenue_share, cumulative_share, abc_class, months_with_revenue, monthly_mean,
//!   monthly_cv, xyz_class, abc_xyz;
//! - `product_abc_xyz`: one row per product sold in a purchased order up to as_of: product_id,
//!   name, category (from `products`, NULL without it), revenue, quantity, then the same
//!   columns. It reads `order_items`: on a dataset without it the engine leaves the view
//!   out and says so when a query names it (`crmlens abc-xyz --by product` checks first).
//!
//! Choices the definitions leave open:
//! - Revenue is all history up to as_of: Σ `purchases.amount` for a customer, Σ quantity ×
//!   unit_price of the order items of purchased orders for a product.
//! - ABC: items sorted by revenue, descending; `cumulative_share` = the revenue of the item
//!   and of every item ranked above it, over the total. It includes the item itself, so "up to
//!   80 %" means A when cumulative_share ≤ `a`, B when ≤ `b`, else C. Tied revenues are peers
//!   of one RANGE window frame: they share one cumulative share and so one class, whatever the
//!   row order.
//! - The total is that of the items with positive revenue; items with revenue ≤ 0 are C, rank
//!   last and add nothing (their cumulative_share is 1). So the cumulative share of the
//!   positive items rises to exactly 1 and a credit elsewhere cannot push a large item past
//!   100 %. With no positive revenue at all every item is C and both shares are NULL (no
//!   division by zero, no NaN).
//! - `cumulative_share` and `monthly_cv` are rounded to 12 decimals, and compared as
//!   rounded: sums of cents that are exactly on a boundary in decimal (800 of 1000 → 0.80)
//!   are not pushed across it by binary floating-point error.
//! - The ranking, the running revenue and the total use the revenue summed exactly: the
//!   amounts rounded to 6 decimals, added in `decimal(38, 6)` (`revenue` itself is the float
//!   sum, as before), so that neither the order of the additions nor a plan's partitioning
//!   changes a share: float sums of the same items differ from run to run in their last
//!   digits, and a float running sum of n items errs by up to about
//!   n × 10⁻¹⁶ of it, which moves the 12-decimal rounding of a share lying that close to a
//!   half of 10⁻¹², and the class when that rounded share is the threshold itself. Tied
//!   exact revenues are peers; `revenue_share` divides the float revenue by the exact total.
//! - No window runs over all items ([`super::buckets`]). Each item's exact revenue gets a
//!   bucket that rises with it (−1 for 0 or less, the top one for NULL, which `order by …
//!   desc` puts first); its running revenue is the revenue of the buckets above its own (a
//!   `group by bucket` histogram, summed by a window over its few rows) plus that of its
//!   bucket's items with at least its revenue (a window partitioned by the bucket, ties as
//!   peers of one RANGE frame as before).
//! - XYZ window: the `xyz_months` calendar months ending with the month of as_of, that month
//!   included even when as_of is not its last day (as `abc_xyz.xyz_months` is documented).
//!   Dropping it would leave the latest purchases out of "the last 12 months" whenever as_of
//!   is the default (the latest order date); for whole months only, pass an as_of that is the
//!   last day of a month.
//! - Months of the window without a purchase count as revenue 0, also those before an item's
//!   first purchase: a customer acquired three months ago is not (yet) predictable.
//!   `monthly_mean` = window revenue ÷ `xyz_months`; `monthly_cv` = population standard
//!   deviation ÷ mean over the `xyz_months` values, √(N·Σx² − (Σx)²) ÷ Σx with Σx and Σx²
//!   exact decimal sums of money: no float sum whose last digits depend on the order of the
//!   months, and no cancellation (N·Σx² − (Σx)² is exact and never negative).
//!   `months_with_revenue` counts the window's months with at least one purchase.
//! - No revenue in the window (mean ≤ 0): `monthly_cv`, `xyz_class` and `abc_xyz` are NULL.
//!
//! [`summary_sql`] is the ABC × XYZ matrix of `crmlens abc-xyz --summary`: the nine cells
//! always, then the items without an XYZ class per ABC class, so that no item is left out.

use chrono::{Datelike, Months, NaiveDate};

use super::{View, ViewEnv};
use crate::Result;
use crate::config::AbcXyzConfig;

/// What ABC / XYZ classifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Customer,
    Product,
}

impl Entity {
    /// The view holding the classes.
    pub fn view(self) -> &'static str {
        match self {
            Entity::Customer => "customer_abc_xyz",
            Entity::Product => "product_abc_xyz",
        }
    }

    /// The key column of the view.
    pub fn key(self) -> &'static str {
        match self {
            Entity::Customer => "customer_id",
            Entity::Product => "product_id",
        }
    }

    /// The entity in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Entity::Customer => "customer",
            Entity::Product => "product",
        }
    }

    /// The name of the count column of the summary.
    pub fn plural(self) -> &'static str {
        match self {
            Entity::Customer => "customers",
            Entity::Product => "products",
        }
    }

    /// The tables the view needs beyond `customers` and `orders`.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Entity::Customer => &[],
            Entity::Product => &["order_items"],
        }
    }
}

/// The first day of the XYZ window: `months` calendar months ending with the month of as_of.
pub fn window_start(as_of: NaiveDate, months: u32) -> NaiveDate {
    let first = as_of.with_day(1).expect("day 1 exists in every month");
    first
        .checked_sub_months(Months::new(months.saturating_sub(1)))
        .unwrap_or(NaiveDate::MIN)
}

/// The `customer_abc_xyz` and `product_abc_xyz` views.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    let config = &env.config.abc_xyz;
    let customer = classes(
        config,
        env.as_of,
        "customer_id",
        "select customer_id, purchase_date, amount as revenue, cast(null as bigint) as quantity \
         from purchases",
    );
    let customers = View {
        name: "customer_abc_xyz",
        sql: format!(
            "select customer_id, revenue, revenue_share, cumulative_share, abc_class, \
               months_with_revenue, monthly_mean, monthly_cv, xyz_class, abc_xyz \
             from ({customer})"
        ),
    };
    let product = classes(
        config,
        env.as_of,
        "product_id",
        &format!(
            "select i.product_id, p.purchase_date, i.quantity * {} as revenue, \
               cast(i.quantity as bigint) as quantity \
             from order_items i join purchases p on p.order_id = i.order_id \
             where i.product_id is not null",
            env.money("i.unit_price", "order_items.unit_price")
        ),
    );
    let (names, join) = if env.has("products") {
        (
            format!(
                "{}, {}",
                env.column_or_null("products", "pr", "name", "varchar"),
                env.column_or_null("products", "pr", "category", "varchar")
            ),
            "left join products pr on pr.product_id = c.product_id",
        )
    } else {
        (
            "cast(null as varchar) as name, cast(null as varchar) as category".to_string(),
            "",
        )
    };
    let products = View {
        name: "product_abc_xyz",
        sql: format!(
            "select c.product_id, {names}, c.revenue, c.quantity, c.revenue_share, \
               c.cumulative_share, c.abc_class, c.months_with_revenue, c.monthly_mean, \
               c.monthly_cv, c.xyz_class, c.abc_xyz \
             from ({product}) c {join}"
        ),
    };
    Ok(vec![customers, products])
}

/// The ABC and XYZ classes of the items of `facts` (columns: `key`, purchase_date, revenue,
/// quantity), one row per item.
///
/// `facts` is grouped by item and month, then by item; it is read a second time for the
/// revenue histogram of the ABC share (module doc), grouped by item only. The coefficient of
/// variation over the N months of the window (empty months are 0) is √(N·Σx² − (Σx)²) ÷ Σx,
/// from the window's sums of revenue and of squared revenue: exact decimals for money.
fn classes(c: &AbcXyzConfig, as_of: NaiveDate, key: &str, facts: &str) -> String {
    let (a, b, x, y) = (c.a, c.b, c.x, c.y);
    let n = c.xyz_months;
    let start = format!("DATE '{}'", window_start(as_of, n).format("%Y-%m-%d"));
    // `exact`: the revenue summed in decimal (module doc); the same number in the histogram
    // (summed by item) and in the rows (by month, then by item), so each item falls in the
    // same bucket in both.
    let bucketed = |source: &str| {
        format!(
            "select *, case when exact is null then cast('inf' as double) \
               when positive > 0 then {} else -1.0 end as bucket \
             from (select *, case when exact > 0 then exact else 0 end as positive \
                   from ({source}))",
            super::buckets::magnitude("cast(positive as double)")
        )
    };
    let rows = bucketed("select * from items");
    // The cast in its own column: DataFusion names `sum(cast(revenue as …))` like
    // `sum(revenue)`, two aggregates of one name.
    let exact_facts =
        format!("select *, cast(revenue as decimal(38, 6)) as fact_exact from ({facts})");
    let totals = bucketed(&format!(
        "select {key}, sum(fact_exact) as exact from ({exact_facts}) group by {key}"
    ));
    // A calendar month lies wholly on one side of the window start (a first of month).
    format!(
        "with monthly as ( \
           select {key}, sum(revenue) as month_revenue, sum(quantity) as quantity, \
             sum(fact_exact) as month_exact, \
             min(purchase_date) >= {start} as in_window \
           from ({exact_facts}) \
           group by {key}, date_trunc('month', purchase_date)), \
         items as ( \
           select {key}, sum(month_revenue) as revenue, sum(quantity) as quantity, \
             sum(month_exact) as exact, \
             count(case when in_window then 1 end) as months, \
             coalesce(sum(case when in_window then month_revenue end), 0) as window_sum, \
             coalesce(sum(case when in_window then month_revenue * month_revenue end), 0) \
               as window_sum_sq \
           from monthly group by {key}), \
         bucketed as ({rows}), \
         histogram as (select bucket, sum(positive) as bucket_revenue from ({totals}) \
           group by bucket), \
         levels as ( \
           select bucket, \
             coalesce(sum(bucket_revenue) over (order by bucket desc \
               rows between unbounded preceding and 1 preceding), 0) as above, \
             sum(bucket_revenue) over () as positive_total \
           from histogram), \
         ranked as ( \
           select b.*, l.positive_total, \
             l.above + sum(b.positive) over (partition by b.bucket order by b.exact desc \
               range between unbounded preceding and current row) as cumulative \
           from bucketed b left join levels l on l.bucket = b.bucket), \
         shares as ( \
           select {key}, revenue, quantity, \
             case when positive_total > 0 then revenue / cast(positive_total as double) end \
               as revenue_share, \
             case when positive_total > 0 \
               then round(cast(cumulative as double) / cast(positive_total as double), 12) end \
               as cumulative_share, \
             months as months_with_revenue, \
             cast(window_sum as double) / {n} as monthly_mean, \
             case when window_sum > 0 then round(sqrt(greatest(cast({n} * window_sum_sq \
               - window_sum * window_sum as double), 0.0)) / cast(window_sum as double), 12) \
               end as monthly_cv \
           from ranked), \
         classed as ( \
           select *, \
             case when revenue > 0 and cumulative_share <= {a} then 'A' \
               when revenue > 0 and cumulative_share <= {b} then 'B' else 'C' end as abc_class, \
             case when monthly_cv is null then null when monthly_cv <= {x} then 'X' \
               when monthly_cv <= {y} then 'Y' else 'Z' end as xyz_class \
           from shares) \
         select *, abc_class || xyz_class as abc_xyz from classed"
    )
}

/// The ABC × XYZ matrix over an entity's view: the nine cells, empty ones included, with the
/// items, their share of all items, revenue and revenue share; then one row per ABC class
/// with items that have no XYZ class (no revenue in the XYZ window), so that every item of
/// the view is counted once.
pub fn summary_sql(entity: Entity) -> String {
    let view = entity.view();
    let count = entity.plural();
    format!(
        "with cells as ( \
           select abc_class, xyz_class, count(*) as items, sum(revenue) as revenue \
           from {view} group by abc_class, xyz_class), \
         grid as ( \
           select a.column1 as abc_class, x.column1 as xyz_class \
           from (values ('A'), ('B'), ('C')) a \
           cross join (values ('X'), ('Y'), ('Z'), (cast(null as varchar))) x), \
         filled as ( \
           select g.abc_class, g.xyz_class, coalesce(c.items, 0) as items, \
             coalesce(c.revenue, 0) as revenue \
           from grid g left join cells c on c.abc_class = g.abc_class \
             and coalesce(c.xyz_class, '') = coalesce(g.xyz_class, '') \
           where g.xyz_class is not null or c.items > 0) \
         select abc_class, xyz_class, abc_class || xyz_class as abc_xyz, items as {count}, \
           cast(items as double) / nullif(sum(items) over (), 0) as {count}_share, \
           revenue, \
           cast(revenue as double) / nullif(cast(sum(revenue) over () as double), 0) \
             as revenue_share \
         from filled \
         order by xyz_class is null, abc_class, xyz_class"
    )
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// A session with one view made of `values`, and a query over it: each result row as
    /// one line of text (the query selects one string column).
    async fn lines(view: &str, values: &str, query: &str) -> Vec<String> {
        let ctx = SessionContext::new();
        ctx.sql(&format!("create view {view} as values {values}"))
            .await
            .unwrap();
        let batches = ctx.sql(query).await.unwrap().collect().await.unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
            .lines()
            .skip(3)
            .filter(|l| l.starts_with('|'))
            .map(|l| l.trim_matches(|c| c == '|' || c == ' ').to_string())
            .collect()
    }

    /// The customer classes of `purchases` given as (customer_id, purchase_date, amount)
    /// values: "customer_id revenue_share cumulative_share abc_class monthly_cv xyz_class".
    async fn classify(purchases: &str) -> Vec<String> {
        let sql = classes(
            &AbcXyzConfig::default(),
            d("2024-04-15"),
            "customer_id",
            "select customer_id, purchase_date, amount as revenue, \
             cast(null as bigint) as quantity from purchases",
        );
        let query = format!(
            "select concat_ws(' ', customer_id, \
               coalesce(cast(revenue_share as varchar), 'NULL'), \
               coalesce(cast(cumulative_share as varchar), 'NULL'), abc_class, \
               coalesce(cast(monthly_cv as varchar), 'NULL'), coalesce(xyz_class, 'NULL')) \
             from ({sql}) order by customer_id"
        );
        lines(
            "purchases(customer_id, purchase_date, amount)",
            purchases,
            &query,
        )
        .await
    }

    #[tokio::test]
    async fn no_positive_revenue_makes_everyone_c_without_nan() {
        let rows = "('N1', date '2024-04-01', -10.0), ('N2', date '2024-04-02', 0.0)";
        assert_eq!(
            classify(rows).await,
            ["N1 NULL NULL C NULL NULL", "N2 NULL NULL C NULL NULL"]
        );
    }

    #[tokio::test]
    async fn shares_are_of_the_positive_revenue() {
        // Positive total 90 + 10 = 100; the credit of −30 neither lowers it nor ranks. One
        // month of revenue in twelve: cv = sqrt(11) = 3.316624790355 (12 decimals).
        let rows = "('P1', date '2024-04-01', 90.0), ('P2', date '2024-04-01', 10.0), \
                    ('P3', date '2024-04-01', -30.0)";
        assert_eq!(
            classify(rows).await,
            [
                "P1 0.9 0.9 B 3.316624790355 Z",
                "P2 0.1 1.0 C 3.316624790355 Z",
                "P3 -0.3 1.0 C NULL NULL",
            ]
        );
    }

    #[tokio::test]
    async fn summary_has_nine_cells_then_the_items_without_xyz() {
        let query = format!(
            "select concat_ws(' ', abc_class, coalesce(xyz_class, '-'), coalesce(abc_xyz, '-'), \
               customers, customers_share, revenue, revenue_share) \
             from ({}) order by xyz_class is null, abc_class, xyz_class",
            summary_sql(Entity::Customer)
        );
        let rows = lines(
            "customer_abc_xyz(customer_id, revenue, abc_class, xyz_class)",
            "('C1', 60.0, 'A', 'X'), ('C2', 20.0, 'A', 'X'), ('C3', 10.0, 'B', 'Z'), \
             ('C4', 10.0, 'C', cast(null as varchar))",
            &query,
        )
        .await;
        // 4 customers, revenue 100: AX 2 customers (0.5), 80 (0.8); BZ 1 (0.25), 10 (0.1);
        // the C customer without XYZ after the nine cells; every other cell empty.
        assert_eq!(
            rows,
            [
                "A X AX 2 0.5 80.0 0.8",
                "A Y AY 0 0.0 0.0 0.0",
                "A Z AZ 0 0.0 0.0 0.0",
                "B X BX 0 0.0 0.0 0.0",
                "B Y BY 0 0.0 0.0 0.0",
                "B Z BZ 1 0.25 10.0 0.1",
                "C X CX 0 0.0 0.0 0.0",
                "C Y CY 0 0.0 0.0 0.0",
                "C Z CZ 0 0.0 0.0 0.0",
                "C - - 1 0.25 10.0 0.1",
            ]
        );
    }

    #[test]
    fn window_is_calendar_months_ending_with_the_month_of_as_of() {
        assert_eq!(window_start(d("2025-12-31"), 12), d("2025-01-01"));
        assert_eq!(window_start(d("2024-03-15"), 12), d("2023-04-01"));
        assert_eq!(window_start(d("2024-03-01"), 2), d("2024-02-01"));
        assert_eq!(window_start(d("2024-01-31"), 1), d("2024-01-01"));
    }
}
