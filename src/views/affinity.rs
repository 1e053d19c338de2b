//! Product affinity and the next best offer (issue 22, item 1; PRODUCT.md requirement 14,
//! "cross-selling and the next best offer").
//!
//! View `affinity_rules`: association rules between pairs of items, antecedent → consequent,
//! with the measures of mlxtend's `association_rules` (Python; `benches/peers/
//! affinity_mlxtend.py` runs it side by side), one row per rule:
//! - `unit`: what a transaction is. `basket`: one purchased order (`purchases`), its items
//!   being the categories (or products) of its order lines; `customer`: one customer, their
//!   items being every category (or product) they ever bought up to as_of. Only transactions
//!   with at least one item count: N is the number of baskets (customers) with an order line
//!   of a known category (with a product) at that level.
//! - `level`: `category` (products.category; a line whose product is not in `products` or
//!   has no category is left out) or `product` (order_items.product_id).
//! - support(X) = transactions containing every item of X ÷ N. An itemset is frequent when
//!   support ≥ `[affinity] min_support` (default 0.01), the test of mlxtend's `apriori`;
//!   only pairs {A, C} that are frequent (and so are A and C) make rules, both A → C and
//!   C → A. `transactions` is the number containing A and C.
//! - antecedent_support = support(A), consequent_support = support(C), support =
//!   support(A ∪ C), confidence = support / antecedent_support, lift = confidence ÷
//!   consequent_support, leverage = support − antecedent_support × consequent_support,
//!   conviction = (1 − consequent_support) ÷ (1 − confidence); NULL where mlxtend has
//!   infinity (confidence 1). Supports are count ÷ N; confidence and lift are computed from
//!   the counts (confidence = count(A ∪ C) ÷ count(A), lift = count(A ∪ C) × N ÷ (count(A) ×
//!   count(C)), each one division), so 3 of 4 is 0.75, not 0.6 ÷ 0.8 = 0.7499999999999999;
//!   mlxtend's floats differ from them in the last bits (benches/peers: at most 2e-15). The
//!   support threshold is mlxtend's test, count ÷ N ≥ min_support in doubles.
//!
//! View `customer_next_best`: per customer, up to `[affinity] next_best` (default 3)
//! categories they have never bought, most likely first: `customer_id`, `rank` (1 = best),
//! `category`, `score`, `lift`, `because`. The method: take the customer-level category
//! rules A → C with lift > 1 (buying A makes C more likely than it is on average); a
//! customer who bought A and never C is offered C with score = the highest confidence
//! P(bought C | bought A) over those rules, `because` = that A (ties: the higher lift, then
//! the smaller A), `lift` = that rule's lift. Offers are ranked by score, then lift, then
//! category name. Customers without a purchase, or who own every consequent of their
//! categories' rules, have no row.
//!
//! [`rules_sql`] builds the rules of one unit and level for any minimum support, so
//! `crmlens affinity --min-support S` runs the same SQL as the view.

use super::{View, ViewEnv};

/// The names of this module's views.
pub const NAMES: &[&str] = &["affinity_rules", "customer_next_best"];

/// What a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A purchased order.
    Basket,
    /// Everything a customer ever bought.
    Customer,
}

impl Unit {
    pub const ALL: [Unit; 2] = [Unit::Basket, Unit::Customer];

    /// Its name in the `unit` column and in `--by`.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Basket => "basket",
            Unit::Customer => "customer",
        }
    }

    /// The purchases column that identifies a transaction.
    fn key(self) -> &'static str {
        match self {
            Unit::Basket => "p.order_id",
            Unit::Customer => "p.customer_id",
        }
    }
}

/// What an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Category,
    Product,
}

impl Level {
    pub const ALL: [Level; 2] = [Level::Category, Level::Product];

    /// Its name in the `level` column and in `--level`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Category => "category",
            Level::Product => "product",
        }
    }

    /// The tables the items come from besides `orders`.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Level::Category => &["order_items", "products"],
            Level::Product => &["order_items"],
        }
    }

    /// SQL: `(t, item)` rows, one per order line of a purchase, with `key` as t.
    fn lines(self, key: &str) -> String {
        match self {
            Level::Category => format!(
                "select {key} as t, pr.category as item from purchases p \
                 join order_items i on i.order_id = p.order_id \
                 join products pr on pr.product_id = i.product_id \
                 where pr.category is not null"
            ),
            Level::Product => format!(
                "select {key} as t, i.product_id as item from purchases p \
                 join order_items i on i.order_id = p.order_id \
                 where i.product_id is not null"
            ),
        }
    }
}

/// This module's views: the rules of every unit and of the levels the dataset has the
/// tables for, and the next best offers (from the category rules).
pub fn views(env: &ViewEnv) -> Vec<View> {
    let min_support = env.config.affinity.min_support;
    let levels: Vec<Level> = Level::ALL
        .into_iter()
        .filter(|l| l.tables().iter().all(|t| env.has(t)))
        .collect();
    let rules = if levels.is_empty() {
        // No order_items: the view fails to plan and the engine says why.
        rules_sql(Unit::Basket, Level::Product, min_support)
    } else {
        Unit::ALL
            .into_iter()
            .flat_map(|u| levels.iter().map(move |&l| rules_sql(u, l, min_support)))
            .collect::<Vec<_>>()
            .join(" union all ")
    };
    vec![
        View {
            name: "affinity_rules",
            sql: rules,
        },
        View {
            name: "customer_next_best",
            sql: next_best_sql(min_support, env.config.affinity.next_best),
        },
    ]
}

/// SQL: the pair rules of `unit` and `level` whose itemset has support ≥ `min_support`, with
/// the columns of `affinity_rules`.
pub fn rules_sql(unit: Unit, level: Level, min_support: f64) -> String {
    let min = double(min_support);
    // N comes in by a cross join with its one-row CTE, never as a scalar subquery: a filter
    // on `lift` pushed down into an expression holding one returned rules with a lift of
    // 0.8 for `lift > 1` (DataFusion 55).
    format!(
        "select * from (with items as (select distinct t, item from ({lines})), \
           n as (select count(distinct t) as n from items), \
           single as (select item, count(*) as k from items group by item), \
           frequent as (select s.item, s.k, cast(s.k as double) / n.n as support \
             from single s cross join n where cast(s.k as double) / n.n >= {min}), \
           fi as (select i.t, i.item from items i join frequent f on f.item = i.item), \
           pairs as (select a.item as antecedent, c.item as consequent, count(*) as k \
             from fi a join fi c on c.t = a.t and c.item <> a.item \
             group by a.item, c.item), \
           measured as (select p.antecedent, p.consequent, p.k as transactions, \
               fa.support as antecedent_support, fc.support as consequent_support, \
               cast(p.k as double) / n.n as support, \
               cast(p.k as double) / fa.k as confidence, \
               cast(p.k * n.n as double) / (fa.k * fc.k) as lift \
             from pairs p cross join n \
             join frequent fa on fa.item = p.antecedent \
             join frequent fc on fc.item = p.consequent \
             where cast(p.k as double) / n.n >= {min}) \
         select '{unit}' as unit, '{level}' as level, antecedent, consequent, transactions, \
           antecedent_support, consequent_support, support, confidence, lift, \
           support - antecedent_support * consequent_support as leverage, \
           case when confidence < 1 then (1 - consequent_support) / (1 - confidence) end \
             as conviction \
         from measured)",
        lines = level.lines(unit.key()),
        unit = unit.name(),
        level = level.name(),
    )
}

/// SQL: per customer, the `top` categories never bought with the highest score (see the
/// module doc), from the customer-level category rules of `min_support`.
pub fn next_best_sql(min_support: f64, top: u32) -> String {
    format!(
        "select customer_id, rank, category, score, lift, because from ( \
           with rules as (select antecedent, consequent, confidence, lift from ({rules}) \
             where lift > 1), \
           owned as (select distinct t as customer_id, item as category from ({owned})), \
           offers as (select o.customer_id, r.consequent as category, r.confidence as score, \
               r.lift, r.antecedent as because, \
               row_number() over (partition by o.customer_id, r.consequent \
                 order by r.confidence desc, r.lift desc, r.antecedent) as k \
             from owned o join rules r on r.antecedent = o.category \
             left join owned h on h.customer_id = o.customer_id and h.category = r.consequent \
             where h.customer_id is null), \
           ranked as (select customer_id, category, score, lift, because, \
               row_number() over (partition by customer_id \
                 order by score desc, lift desc, category) as rank \
             from offers where k = 1) \
         select * from ranked where rank <= {top})",
        rules = rules_sql(Unit::Customer, Level::Category, min_support),
        owned = Level::Category.lines(Unit::Customer.key()),
    )
}

/// A number as a SQL double. Display of an f64 is the shortest decimal that reads back as
/// the same double (never an exponent), so a threshold compares as mlxtend's does.
pub fn double(value: f64) -> String {
    format!("cast({value} as double)")
}
