//! One customer's life, start to finish: the card and its contacts, the "buy till you die"
//! purchase process (Gamma purchase rates, Beta dropout, Gamma-Gamma spend, seasonal
//! thinning), baskets of products, and the final order list. Deals and activities are in
//! [`super::pipeline`], campaigns, web events and service in [`super::engagement`].
//!
//! A customer's rows depend only on (seed, customer index) and, for the few duplicate cards,
//! on the previous customer of the same block: never on threads or timing.

use super::affinity;
use super::calendar::{Calendar, DAY, HOUR};
use super::locale::{COUNTRIES, COUNTRY_WEIGHTS, Country, org_email, person_email};
use super::phone::Phone;
use super::rng::Rng;
use super::tables::BlockTables;
use super::world::{CATEGORIES, CURRENCY, World};

/// Orders per customer are numbered with four digits.
const MAX_ORDERS: usize = 9_999;

const PERSON_SOURCES: &[(&str, f64)] = &[
    ("organic", 0.25),
    ("paid_search", 0.20),
    ("social", 0.18),
    ("referral", 0.12),
    ("email", 0.08),
    ("partner", 0.05),
    ("event", 0.04),
    ("cold_call", 0.03),
];
const ORG_SOURCES: &[(&str, f64)] = &[
    ("cold_call", 0.25),
    ("referral", 0.15),
    ("partner", 0.15),
    ("event", 0.12),
    ("paid_search", 0.10),
    ("organic", 0.10),
    ("email", 0.08),
    ("social", 0.05),
];
/// When people shop, by hour of day (UTC; the shape matters, not the zone).
const PERSON_HOURS: [f64; 24] = [
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 5.5, 6.0, 6.0, 5.5, 5.0, 5.0, 5.5, 6.5,
    7.5, 8.0, 7.0, 5.0, 2.5,
];

pub const PAID: u8 = 0;
const STATUSES: [&str; 3] = ["paid", "cancelled", "refunded"];

/// One order line.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    pub product: u32,
    pub qty: i64,
    /// Cents.
    pub price: i64,
}

#[derive(Debug, Clone)]
pub struct Order {
    pub t: i64,
    pub status: u8,
    pub channel: &'static str,
    pub manager: Option<u32>,
    /// Range into [`Scratch::items`].
    pub items: (u32, u32),
    pub amount: i64,
}

/// Per-customer working memory, reused so the hot loop does not allocate.
#[derive(Default)]
pub struct Scratch {
    pub orders: Vec<Order>,
    pub items: Vec<Item>,
    /// Treated campaign members who responded: (campaign, when); they may turn into deals.
    pub responses: Vec<(usize, i64)>,
    /// Activities numbered so far for this customer.
    pub activities: u32,
    pub buf: String,
    /// The customer's cross-sell stream ([`super::affinity`]), apart from the main one so
    /// that planting affinities changes no other draw.
    pub cross_sell: Option<Rng>,
}

/// The customer's profile: what the rest of the simulation keys off.
pub struct Cust {
    pub num: u64,
    /// `C0000001`: the customer number, zero-padded.
    pub id: String,
    pub org: bool,
    pub country: Country,
    pub created: i64,
    pub owner: u32,
    pub source: &'static str,
    pub fav: [usize; 2],
    /// Contacts are numbered 1..=contacts.
    pub contacts: u32,
    /// Mean basket value in dollars (the Gamma-Gamma per-customer mean).
    pub basket: f64,
    pub tracked: bool,
}

/// The person whose card a later duplicate copies.
struct Dup {
    country: Country,
    place: usize,
    name: String,
    email: Option<String>,
    phone: Option<Phone>,
}

/// A worker's simulation state: the block's table buffers plus what outlives one customer.
pub struct BlockSim<'w> {
    pub w: &'w World,
    pub t: BlockTables,
    pub s: Scratch,
    /// Paid sales credited to managers, by (manager, month, category), in cents.
    pub actual: Vec<i64>,
    last_person: Option<Dup>,
}

impl<'w> BlockSim<'w> {
    pub fn new(w: &'w World) -> Self {
        BlockSim {
            w,
            t: BlockTables::default(),
            s: Scratch::default(),
            actual: vec![0; w.actual_len()],
            last_person: None,
        }
    }

    /// Forget cross-customer state so a block does not depend on the block before it.
    pub fn start_block(&mut self) {
        self.last_person = None;
    }

    pub(super) fn profile(&mut self, index: u64, rng: &mut Rng) -> Cust {
        let w = self.w;
        let num = index + 1;
        let id = format!("C{num:0w$}", w = w.width);
        let org = rng.chance(0.3);
        let dup = if !org && rng.chance(0.01) {
            self.last_person.take()
        } else {
            None
        };
        let (country, place) = match &dup {
            Some(d) => (d.country, d.place),
            None => {
                let country = COUNTRIES[rng.weighted(COUNTRY_WEIGHTS)];
                let weights: Vec<f64> = country.places().iter().map(|p| p.3).collect();
                (country, rng.weighted(&weights))
            }
        };
        let (region, city, area, _) = country.places()[place];
        let day = w.created_day(index, rng).floor() as i64;
        let created = if org {
            w.cal.work_after(day * DAY + rng.range(0, DAY - 1), rng)
        } else {
            person_time(day, rng)
        }
        .min(w.cal.end);
        let sources = if org { ORG_SOURCES } else { PERSON_SOURCES };
        let source = sources[rng.weighted(&sources.iter().map(|s| s.1).collect::<Vec<_>>())].0;
        let owner = w.pick_manager(country.region(), org, created, rng);
        let fav = [category(rng, org), category(rng, org)];
        // Gamma-Gamma: per-customer mean spend p/nu with nu ~ Gamma(q, 1/gamma).
        let gamma_rate = if org { 290.0 } else { 37.5 };
        let nu = rng.gamma(3.5, 1.0 / gamma_rate).max(1e-4);
        let digital = matches!(
            source,
            "organic" | "paid_search" | "social" | "email" | "referral"
        );
        let tracked = rng.chance(if org {
            0.15
        } else if digital {
            0.85
        } else {
            0.4
        });

        let t = &mut self.t;
        t.customers.customer_id.push(&id);
        t.customers
            .kind
            .push(if org { "organization" } else { "person" });
        let mut contacts = 0;
        if org {
            let (name, slug) = w.lexicon.org(country, rng);
            t.customers.name.push(&name);
            let who = ["info", "office", "sales", "hello"][rng.index(4)];
            t.customers.email.opt(
                rng.chance(0.9)
                    .then(|| org_email(country, who, &slug))
                    .as_deref(),
            );
            let phone = rng
                .chance(0.9)
                .then(|| Phone::new(rng, country, area).format(rng));
            t.customers.phone.opt(phone.as_deref());
            contacts = 1 + rng.weighted(&[0.35, 0.30, 0.20, 0.15]) as u32;
            for k in 1..=contacts {
                let p = w.lexicon.person(country.lang(), rng);
                let tc = &mut t.contacts;
                tc.contact_id
                    .fmt(format_args!("CT{num:0w$}{k}", w = w.width));
                tc.customer_id.push(&id);
                tc.name.push(&p.full());
                let roles = country.roles();
                tc.role
                    .opt(rng.chance(0.85).then(|| roles[rng.index(roles.len())]));
                let email = format!("{}.{}", p.first.latin, p.last.latin);
                tc.email.opt(
                    rng.chance(0.85)
                        .then(|| org_email(country, &email, &slug))
                        .as_deref(),
                );
                let phone = rng
                    .chance(0.75)
                    .then(|| Phone::new(rng, country, area).format(rng));
                tc.phone.opt(phone.as_deref());
            }
        } else {
            let (name, email, phone) = match dup {
                // The same person entered again: same name, the number typed another way.
                Some(d) => {
                    let email = if rng.chance(0.5) {
                        d.email.clone()
                    } else {
                        None
                    };
                    let shown = d
                        .phone
                        .as_ref()
                        .map(|p| p.format_style(rng.below(7) as usize));
                    (d.name, email, (d.phone, shown))
                }
                None => {
                    let p = w.lexicon.person(country.lang(), rng);
                    let email = rng.chance(0.88).then(|| person_email(rng, country, &p));
                    let phone = rng.chance(0.85).then(|| Phone::new(rng, country, area));
                    let shown = phone.as_ref().map(|p| p.format(rng));
                    (p.full(), email, (phone, shown))
                }
            };
            t.customers.name.push(&name);
            t.customers.email.opt(email.as_deref());
            t.customers.phone.opt(phone.1.as_deref());
            if rng.chance(0.15) {
                contacts = 1;
                let tc = &mut t.contacts;
                tc.contact_id.fmt(format_args!("CT{num:0w$}1", w = w.width));
                tc.customer_id.push(&id);
                tc.name.push(&name);
                tc.role.null();
                tc.email.opt(email.as_deref());
                tc.phone.opt(phone.1.as_deref());
            }
            self.last_person = Some(Dup {
                country,
                place,
                name,
                email,
                phone: phone.0,
            });
        }
        t.customers.country.push(country.code());
        t.customers.region.push(region);
        t.customers.city.push(city);
        t.customers.created_at.push(w.cal.us(created));
        t.customers.acquisition_source.push(source);
        t.customers
            .owner_manager_id
            .push(&w.managers[owner as usize].id);
        Cust {
            num,
            id,
            org,
            country,
            created,
            owner,
            source,
            fav,
            contacts,
            basket: 6.0 / nu,
            tracked,
        }
    }

    /// Sorts the customer's orders by time, numbers them and writes orders and their lines;
    /// credits paid sales to managers for plan-vs-actual.
    pub(super) fn emit_orders(&mut self, c: &Cust) {
        let w = self.w;
        let s = &mut self.s;
        s.orders.sort_by_key(|o| o.t);
        s.orders.truncate(MAX_ORDERS);
        for (seq, o) in s.orders.iter().enumerate() {
            s.buf.clear();
            order_id(&mut s.buf, w, c.num, seq);
            let t = &mut self.t;
            t.orders.order_id.push(&s.buf);
            t.orders.customer_id.push(&c.id);
            t.orders.ordered_at.push(w.cal.us(o.t));
            t.orders.amount.push(o.amount);
            t.orders.currency.push(CURRENCY);
            t.orders.status.push(STATUSES[o.status as usize]);
            t.orders.channel.push(o.channel);
            t.orders
                .manager_id
                .opt(o.manager.map(|m| w.managers[m as usize].id.as_str()));
            let month = w.cal.month_of(o.t);
            for item in &s.items[o.items.0 as usize..(o.items.0 + o.items.1) as usize] {
                t.order_items.order_id.push(&s.buf);
                t.order_items
                    .product_id
                    .push(&w.products[item.product as usize].id);
                t.order_items.quantity.push(item.qty);
                t.order_items.unit_price.push(item.price);
                if let (Some(m), PAID) = (o.manager, o.status) {
                    let cat = w.products[item.product as usize].category;
                    if let Some(a) = self.actual.get_mut(w.actual_index(m, month, cat)) {
                        *a += item.qty * item.price;
                    }
                }
            }
        }
    }
}

/// The identifier of the customer's `seq`-th order (0-based), unique across the dataset.
pub fn order_id(buf: &mut String, w: &World, num: u64, seq: usize) {
    use std::fmt::Write;
    let _ = write!(buf, "O{num:0w$}{:04}", seq + 1, w = w.width);
}

/// A product category, weighted by what this kind of customer buys.
pub fn category(rng: &mut Rng, org: bool) -> usize {
    rng.weighted(&CATEGORIES.map(|c| if org { c.4 } else { c.3 }))
}

/// A time on day `day` at an hour people shop.
pub fn person_time(day: i64, rng: &mut Rng) -> i64 {
    day * DAY + rng.weighted(&PERSON_HOURS) as i64 * HOUR + rng.range(0, HOUR - 1)
}

/// Adds a basket of about `target` dollars to the scratch items; returns (range, amount).
/// `only` forces every line into one category (deals sell one product category).
pub fn basket(
    w: &World,
    c: &Cust,
    rng: &mut Rng,
    s: &mut Scratch,
    target: f64,
    only: Option<usize>,
) -> ((u32, u32), i64) {
    let start = s.items.len();
    let lines = 1 + rng.weighted(&[0.5, 0.28, 0.14, 0.08]);
    let mut amount = 0;
    for _ in 0..lines {
        let cat = only.unwrap_or_else(|| {
            if rng.chance(0.55) {
                c.fav[0]
            } else if rng.chance(0.55) {
                c.fav[1]
            } else {
                category(rng, c.org)
            }
        });
        if w.by_category[cat].is_empty() {
            continue;
        }
        let line_cents = target * 100.0 / lines as f64 * rng.uniform(0.6, 1.4);
        let Some(item) = line(w, c, rng, cat, line_cents) else {
            continue;
        };
        if let Some(same) = s.items[start..]
            .iter_mut()
            .find(|i| i.product == item.product)
        {
            same.qty += item.qty;
            amount += item.qty * same.price;
        } else {
            amount += item.qty * item.price;
            s.items.push(item);
        }
    }
    if only.is_none()
        && let Some(cross) = s.cross_sell.as_mut()
    {
        amount += cross_sell(w, c, cross, &mut s.items, start);
    }
    ((start as u32, (s.items.len() - start) as u32), amount)
}

/// Adds the cross-sell lines the planted affinities ([`affinity::CROSS_SELL`]) call for to the basket `items[start..]`;
/// returns the amount they add, in cents.
fn cross_sell(w: &World, c: &Cust, rng: &mut Rng, items: &mut Vec<Item>, start: usize) -> i64 {
    let drawn = items.len();
    let mut amount = 0;
    for rule in &affinity::CROSS_SELL {
        let applies = match rule.buyers {
            affinity::Buyers::Everyone => true,
            affinity::Buyers::Persons => !c.org,
            affinity::Buyers::Organisations => c.org,
        };
        if !applies {
            continue;
        }
        let (from, to) = (affinity::category(rule.from), affinity::category(rule.to));
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

/// One order line of category `cat` worth about `line_cents`: a popular product (skewed
/// pick) that fits the budget, its quantity and the customer's discount; `None` when the
/// category has no product.
pub fn line(w: &World, c: &Cust, rng: &mut Rng, cat: usize, line_cents: f64) -> Option<Item> {
    let list = &w.by_category[cat];
    if list.is_empty() {
        return None;
    }
    let max_qty = if c.org { 500 } else { 10 };
    let skew = |u: f64| u * u;
    let mut product = list[(skew(rng.f64()) * list.len() as f64) as usize % list.len()];
    for _ in 0..3 {
        if w.products[product as usize].price as f64 <= 1.5 * line_cents {
            break;
        }
        let other = list[(skew(rng.f64()) * list.len() as f64) as usize % list.len()];
        if w.products[other as usize].price < w.products[product as usize].price {
            product = other;
        }
    }
    let list_price = w.products[product as usize].price;
    let qty = ((line_cents / list_price as f64).round() as i64).clamp(1, max_qty);
    let discount = if c.org {
        [0, 0, 0, 3, 5, 8, 10, 12, 15][rng.index(9)]
    } else if rng.chance(0.85) {
        0
    } else {
        [5, 10, 15, 20, 25][rng.index(5)]
    };
    let price = (list_price * (100 - discount) + 50) / 100;
    Some(Item {
        product,
        qty,
        price,
    })
}

/// Adds an order at `t` with a fresh basket; returns its index in the scratch.
pub fn add_order(
    w: &World,
    c: &Cust,
    rng: &mut Rng,
    s: &mut Scratch,
    t: i64,
    status: u8,
    channel: &'static str,
) -> usize {
    let target = rng.gamma(6.0, c.basket / 6.0);
    let (items, amount) = basket(w, c, rng, s, target, None);
    let manager = (c.org || channel == "sales").then(|| w.manager_at(c.owner, c.org, t, rng));
    s.orders.push(Order {
        t,
        status,
        channel,
        manager,
        items,
        amount,
    });
    s.orders.len() - 1
}

/// "Buy till you die": a first purchase soon after the card is created, then repeat
/// purchases at a Poisson rate λ ~ Gamma(r, α) thinned by season, each followed by dropout
/// with probability p ~ Beta(a, b).
pub(super) fn natural_orders(w: &World, c: &Cust, rng: &mut Rng, s: &mut Scratch) {
    let cal: &Calendar = &w.cal;
    let (buys, r, alpha, a, b) = if c.org {
        (0.6, 0.7, 14.0, 0.5, 6.0)
    } else {
        (0.85, 0.5, 9.0, 0.4, 5.0)
    };
    if !rng.chance(buys) {
        return;
    }
    let lambda = rng.gamma(r, 1.0 / alpha).clamp(1e-6, 1.5);
    let dropout = rng.beta(a, b);
    let mut t = if !c.org && rng.chance(0.45) {
        c.created + rng.range(5 * 60, HOUR)
    } else {
        c.created + (rng.exp(if c.org { 20.0 } else { 12.0 }) * DAY as f64) as i64
    };
    let gap_mean = 1.0 / (lambda * Calendar::SEASON_MAX);
    while t <= cal.end && s.orders.len() < MAX_ORDERS {
        let status = match rng.f64() {
            x if x < 0.90 => PAID,
            x if x < 0.95 => 1,
            _ => 2,
        };
        let channel = if c.org {
            ["web", "phone", "sales", "marketplace", "store"]
                [rng.weighted(&[0.3, 0.25, 0.3, 0.05, 0.1])]
        } else {
            ["web", "marketplace", "store", "phone", "sales"]
                [rng.weighted(&[0.5, 0.2, 0.2, 0.08, 0.02])]
        };
        add_order(w, c, rng, s, t, status, channel);
        if rng.chance(dropout) {
            return;
        }
        let prev = t;
        loop {
            let gap = rng.exp(gap_mean) * DAY as f64;
            if gap > (cal.end - t) as f64 {
                return;
            }
            t += gap as i64;
            if rng.chance(cal.season(t) / Calendar::SEASON_MAX) {
                break;
            }
        }
        // Keep the day, move to a plausible hour.
        let day = t.div_euclid(DAY);
        t = if c.org {
            cal.work_after(day * DAY + 9 * HOUR + rng.range(0, 8 * HOUR), rng)
        } else {
            person_time(day, rng)
        };
        if t <= prev {
            t = prev + rng.range(60, HOUR);
        }
    }
}
