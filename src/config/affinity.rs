//! `[affinity]`: the minimum support of the built-in association-rule views and how many
//! categories the next best offer lists per customer, read by [`crate::views::affinity`].

use serde::{Deserialize, Serialize};

/// `[affinity]` of crmlens.toml.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AffinityConfig {
    /// Itemsets (single items and pairs) with a support below this are not frequent and
    /// make no rule (mlxtend's `apriori(min_support=…)`).
    pub min_support: f64,
    /// Categories offered per customer by the view `customer_next_best`.
    pub next_best: u32,
}

impl Default for AffinityConfig {
    fn default() -> Self {
        AffinityConfig {
            min_support: 0.01,
            next_best: 3,
        }
    }
}

impl AffinityConfig {
    pub fn check(&self) -> std::result::Result<(), String> {
        check_min_support(self.min_support).map_err(|e| format!("affinity.min_support: {e}"))?;
        if self.next_best == 0 {
            return Err("affinity.next_best: expected at least 1 category per customer".into());
        }
        Ok(())
    }
}

/// A minimum support is a share of the transactions in (0, 1].
pub fn check_min_support(value: f64) -> std::result::Result<(), String> {
    if value > 0.0 && value <= 1.0 {
        Ok(())
    } else {
        Err(format!(
            "expected a share of the transactions, 0 < min_support ≤ 1, found {value}"
        ))
    }
}
