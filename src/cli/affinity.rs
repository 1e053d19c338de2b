//! `crmlens affinity`: arguments for [`crate::metrics::affinity`].

use super::{GlobalArgs, open, write};
use crate::Result;
use crate::metrics::affinity::{Level, OfferQuery, RuleQuery, Unit, next_best, rules};

/// Product affinity: association rules between categories or products, and the next best
/// offer per customer
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens affinity --dataset datasets/demo                  category rules over baskets, highest lift first
  crmlens affinity --by customer --min-lift 1.2 --format csv
  crmlens affinity --level product --min-support 0.001 --top 20
  crmlens affinity --next-best --customer C00042            the categories to offer one customer

A transaction is a purchased order (--by basket) or everything a customer bought up to as_of
(--by customer); its items are the categories of its order lines (--level category) or the
products. support(X) = transactions containing X ÷ transactions with an item; pairs {A, C}
with support ≥ --min-support give the rules A → C and C → A with antecedent_support,
consequent_support, support, confidence = support ÷ support(A), lift = confidence ÷
support(C), leverage and conviction, as mlxtend's apriori and association_rules compute them.
--next-best: per customer, the --top categories never bought (default [affinity] next_best,
3) scored by the highest confidence of a customer-level category rule A → C with lift > 1
whose A they bought (`because`). The same figures are the views affinity_rules and
customer_next_best of `crmlens sql` (at [affinity] min_support, default 0.01).")]
pub struct Args {
    /// What a transaction is: a purchased order, or all a customer bought
    #[arg(long, value_enum, default_value_t = By::Basket, conflicts_with = "next_best")]
    by: By,
    /// What an item is: a product category, or a product
    #[arg(long, value_enum, default_value_t = ItemLevel::Category, conflicts_with = "next_best")]
    level: ItemLevel,
    /// Itemsets below this share of the transactions make no rule [default: [affinity]
    /// min_support, 0.01]
    #[arg(long, value_name = "SHARE")]
    min_support: Option<f64>,
    /// Leave out rules below this confidence
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "P",
        conflicts_with = "next_best"
    )]
    min_confidence: f64,
    /// Leave out rules below this lift
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "LIFT",
        conflicts_with = "next_best"
    )]
    min_lift: f64,
    /// Only the N rules of highest lift; with --next-best, N categories per customer
    #[arg(long, value_name = "N")]
    top: Option<u32>,
    /// Per customer, the categories they have not bought that they are most likely to buy
    #[arg(long)]
    next_best: bool,
    /// With --next-best: only this customer
    #[arg(long, value_name = "ID", requires = "next_best")]
    customer: Option<String>,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum By {
    /// A purchased order
    Basket,
    /// Everything a customer bought
    Customer,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ItemLevel {
    Category,
    Product,
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    // Values are checked before the dataset is opened.
    if args.next_best {
        let query = OfferQuery {
            top: args.top,
            min_support: args.min_support,
            customer: args.customer,
        };
        query.check()?;
        let engine = open(global).await?;
        return write(global, args.max_rows, next_best(&engine, &query).await?).await;
    }
    let query = RuleQuery {
        unit: match args.by {
            By::Basket => Unit::Basket,
            By::Customer => Unit::Customer,
        },
        level: match args.level {
            ItemLevel::Category => Level::Category,
            ItemLevel::Product => Level::Product,
        },
        min_support: args.min_support,
        min_confidence: args.min_confidence,
        min_lift: args.min_lift,
        top: args.top.map(|n| n as usize),
    };
    query.check()?;
    let engine = open(global).await?;
    write(global, args.max_rows, rules(&engine, &query).await?).await
}
