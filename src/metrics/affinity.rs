//! Product affinity: association rules between categories or products, over baskets or over
//! customers (view `affinity_rules`), and the next best offer per customer (view
//! `customer_next_best`); definitions in `views::affinity`.

use datafusion::dataframe::DataFrame;

use crate::config::affinity::check_min_support;
use crate::engine::Engine;
use crate::views::affinity::{double, next_best_sql, rules_sql};
use crate::views::sql_string;
use crate::{Error, Result};

pub use crate::views::affinity::{Level, Unit};

/// Which rules to list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleQuery {
    pub unit: Unit,
    pub level: Level,
    /// Itemsets below this support make no rule (default `[affinity] min_support`).
    pub min_support: Option<f64>,
    /// Rules below this confidence are left out.
    pub min_confidence: f64,
    /// Rules below this lift are left out.
    pub min_lift: f64,
    /// Only the first N rules (highest lift first).
    pub top: Option<usize>,
}

impl RuleQuery {
    /// Every rule of `unit` and `level` at the configured minimum support.
    pub fn new(unit: Unit, level: Level) -> Self {
        RuleQuery {
            unit,
            level,
            min_support: None,
            min_confidence: 0.0,
            min_lift: 0.0,
            top: None,
        }
    }

    /// Refuses thresholds outside their range (a usage error).
    pub fn check(&self) -> Result<()> {
        check_support(self.min_support)?;
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return Err(Error::Usage(format!(
                "--min-confidence: expected a probability, 0 ≤ confidence ≤ 1, found {}",
                self.min_confidence
            )));
        }
        if !(self.min_lift >= 0.0 && self.min_lift.is_finite()) {
            return Err(Error::Usage(format!(
                "--min-lift: expected a lift of 0 or more, found {}",
                self.min_lift
            )));
        }
        Ok(())
    }
}

/// The rules of `query`, highest lift first (then confidence, antecedent, consequent).
pub async fn rules(engine: &Engine, query: &RuleQuery) -> Result<DataFrame> {
    query.check()?;
    require(engine, query.level)?;
    let min_support = query
        .min_support
        .unwrap_or(engine.config().affinity.min_support);
    let limit = query.top.map(|n| format!(" limit {n}")).unwrap_or_default();
    engine
        .sql(&format!(
            "select * from ({}) where confidence >= {} and lift >= {} \
             order by lift desc, confidence desc, antecedent, consequent{limit}",
            rules_sql(query.unit, query.level, min_support),
            double(query.min_confidence),
            double(query.min_lift),
        ))
        .await
}

/// Which next best offers to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfferQuery {
    /// Categories per customer (default `[affinity] next_best`).
    pub top: Option<u32>,
    /// The rules' minimum support (default `[affinity] min_support`).
    pub min_support: Option<f64>,
    /// Only this customer.
    pub customer: Option<String>,
}

impl OfferQuery {
    /// Refuses values outside their range (a usage error).
    pub fn check(&self) -> Result<()> {
        check_support(self.min_support)?;
        if self.top == Some(0) {
            return Err(Error::Usage("--top: expected at least 1".into()));
        }
        Ok(())
    }
}

/// Per customer (or one customer), the categories never bought with the highest score
/// (definitions in `views::affinity`), by customer and rank.
pub async fn next_best(engine: &Engine, query: &OfferQuery) -> Result<DataFrame> {
    query.check()?;
    require(engine, Level::Category)?;
    let config = &engine.config().affinity;
    let sql = next_best_sql(
        query.min_support.unwrap_or(config.min_support),
        query.top.unwrap_or(config.next_best),
    );
    let only = query
        .customer
        .as_ref()
        .map(|c| format!(" where customer_id = {}", sql_string(c)))
        .unwrap_or_default();
    engine
        .sql(&format!(
            "select * from ({sql}){only} order by customer_id, rank"
        ))
        .await
}

fn require(engine: &Engine, level: Level) -> Result<()> {
    engine.require(&format!("affinity by {}", level.name()), level.tables())
}

fn check_support(min_support: Option<f64>) -> Result<()> {
    match min_support {
        Some(s) => check_min_support(s).map_err(|e| Error::Usage(format!("--min-support: {e}"))),
        None => Ok(()),
    }
}
