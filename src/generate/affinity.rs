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

use super::customer::{Cust, Item, line};
use super::rng::Rng;
use super::world::{CATEGORIES, World};

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
fn category(name: &str) -> usize {
    CATEGORIES
        .iter()
        .position(|c| c.0 == name)
        .unwrap_or_else(|| panic!("{name} is not a category"))
}

/// Adds the cross-sell lines the planted affinities call for to the basket `items[start..]`;
/// returns the amount they add, in cents.
pub fn cross_sell(w: &World, c: &Cust, rng: &mut Rng, items: &mut Vec<Item>, start: usize) -> i64 {
    let drawn = items.len();
    let mut amount = 0;
    for rule in &CROSS_SELL {
        let applies = match rule.buyers {
            Buyers::Everyone => true,
            Buyers::Persons => !c.org,
            Buyers::Organisations => c.org,
        };
        if !applies {
            continue;
        }
        let (from, to) = (category(rule.from), category(rule.to));
        let in_basket = |cat: usize, i: &Item| w.products[i.product as usize].category == cat;
        let largest = items[start..drawn]
            .iter()
            .filter(|i| in_basket(from, i))
            .map(|i| i.qty * i.price)
            .max();
        let Some(largest) = largest else { continue };
        if items[start..].iter().any(|i| in_basket(to, i)) || !rng.chance(rule.chance) {
            continue;
        }
        let cents = largest as f64 * rng.uniform(0.3, 0.8);
        if let Some(item) = line(w, c, rng, to, cents) {
            amount += item.qty * item.price;
            items.push(item);
        }
    }
    amount
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
