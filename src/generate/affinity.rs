//! Planted product affinities: categories bought together on purpose, so that association
//! rules (`crmlens affinity`) have something to find. Without them every category pair of a
//! basket has a lift below 1 (a customer's baskets keep to their two favourite categories).
//!
//! A natural order (not a won deal, which sells one category) whose basket has a line of
//! `from` and none of `to` gets one more line of `to` with probability `chance`, for the
//! customers of that kind: a cross-sell at checkout, worth 30–80% of the largest `from` line.
//! The rules look at the basket as it was drawn, so a line they add never triggers another
//! rule (a furniture basket that gets a computer does not get software for it). Every draw
//! comes from the customer's own cross-sell stream, apart from the main one: planting changes
//! the amounts of the baskets it adds to and nothing else.

use super::world::CATEGORIES;

/// Who a planted affinity applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buyers {
    Everyone,
    Persons,
    Organisations,
}

/// One planted affinity: `from` → `to` with probability `chance` per basket.
#[derive(Debug, Clone, Copy)]
pub struct CrossSell {
    pub from: &'static str,
    pub to: &'static str,
    pub buyers: Buyers,
    pub chance: f64,
}

/// The planted affinities (docs/commands/dataset.md lists them).
pub const CROSS_SELL: [CrossSell; 3] = [
    // The software that runs on a new computer.
    CrossSell {
        from: "Computers",
        to: "Software",
        buyers: Buyers::Everyone,
        chance: 0.35,
    },
    // B2B office fit-outs: desks and chairs come with the computers for them.
    CrossSell {
        from: "Furniture",
        to: "Computers",
        buyers: Buyers::Organisations,
        chance: 0.60,
    },
    // Sports gear and sports nutrition, vitamins, care.
    CrossSell {
        from: "Sports",
        to: "Health & Beauty",
        buyers: Buyers::Persons,
        chance: 0.30,
    },
];

/// The cross-sell stream of customer `index`: apart from its main stream (`index`) and the
/// world's and the plans' (the top values).
pub fn stream(index: u64) -> u64 {
    index ^ (1 << 63)
}

/// A category's index in [`CATEGORIES`].
pub fn category(name: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|c| c.0 == name)
        .unwrap_or_else(|| panic!("{name} is not a category"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planted_categories_exist() {
        for rule in &CROSS_SELL {
            assert_ne!(category(rule.from), category(rule.to));
        }
    }
}
