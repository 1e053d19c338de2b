//! The world the customers live in, fixed before any customer is simulated (besides the
//! [`Calendar`]): managers and their regions, the product catalogue, the campaign schedule; and
//! the monthly plans, set afterwards from what each manager actually sold.

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::record_batch::RecordBatch;

use super::calendar::{Calendar, DAY, HOUR};
use super::locale::{COUNTRIES, COUNTRY_WEIGHTS, Lexicon, REGIONS};
use super::rng::Rng;
use super::tables::{Campaigns, Managers, Products, TableBuf};
use crate::Result;

pub const CURRENCY: &str = "USD";
/// Acquisition grows by e^GROWTH (about 3×) from the first to the last day of the period.
const GROWTH: f64 = 1.1;

pub const DEPARTMENTS: &[&str] = &["Enterprise", "SMB", "Retail", "Inside Sales"];

pub struct Manager {
    pub id: String,
    pub name: String,
    pub dept: usize,
    pub region: usize,
    pub active: bool,
    /// Last second the manager works (the end of time for active ones).
    pub left: i64,
    /// Share of their work they log: idle managers log almost nothing.
    pub logs: f64,
    /// Shift of stage conversion on the log-odds scale: win rates differ by manager.
    pub skill: f64,
}

/// Managers of one region, weighted by how well their department fits a customer kind.
struct Pool {
    members: Vec<u32>,
    cum_org: Vec<f64>,
    cum_person: Vec<f64>,
    anchor: u32,
}

/// (name, lowest and highest list price in dollars, weight for persons, weight for organisations).
pub const CATEGORIES: [(&str, f64, f64, f64, f64); 10] = [
    ("Electronics", 20.0, 1500.0, 0.20, 0.06),
    ("Computers", 300.0, 3000.0, 0.10, 0.16),
    ("Office Supplies", 2.0, 80.0, 0.04, 0.20),
    ("Furniture", 60.0, 1200.0, 0.06, 0.10),
    ("Software", 30.0, 2000.0, 0.05, 0.16),
    ("Services", 100.0, 5000.0, 0.02, 0.14),
    ("Home & Garden", 10.0, 400.0, 0.16, 0.03),
    ("Books", 5.0, 60.0, 0.12, 0.03),
    ("Sports", 10.0, 500.0, 0.12, 0.02),
    ("Health & Beauty", 5.0, 120.0, 0.13, 0.10),
];
const BRANDS: &[[&str; 2]] = &[
    ["Voltix", "Sonora"],
    ["Nexa", "Corvus"],
    ["Paperline", "Officio"],
    ["Ergo", "Nordhaus"],
    ["Cloudix", "Datara"],
    ["ProCare", "Servio"],
    ["Verde", "Hausa"],
    ["Inkwell", "Pagebound"],
    ["Stride", "Peakform"],
    ["Purea", "Vitalis"],
];
const NOUNS: &[&[&str]] = &[
    &[
        "Headphones",
        "Speaker",
        "Smartwatch",
        "Camera",
        "TV",
        "Soundbar",
        "E-Reader",
        "Power Bank",
    ],
    &[
        "Laptop",
        "Desktop",
        "Monitor",
        "Tablet",
        "Workstation",
        "Docking Station",
    ],
    &[
        "Paper A4 Pack",
        "Stapler",
        "Binder Set",
        "Pen Box",
        "Toner Cartridge",
        "Notebook Pack",
    ],
    &[
        "Office Chair",
        "Standing Desk",
        "Bookshelf",
        "Filing Cabinet",
        "Meeting Table",
        "Sofa",
    ],
    &[
        "CRM License",
        "Antivirus Suite",
        "Office Suite",
        "Backup Service",
        "Design Studio",
        "Accounting Pro",
    ],
    &[
        "Installation",
        "Training Day",
        "Support Plan",
        "Consulting Pack",
        "Maintenance Contract",
        "Audit",
    ],
    &[
        "Garden Hose",
        "Coffee Maker",
        "Blender",
        "Vacuum Cleaner",
        "Lamp",
        "Cookware Set",
        "Grill",
    ],
    &[
        "Novel",
        "Cookbook",
        "Business Guide",
        "Children's Book",
        "Atlas",
        "Biography",
    ],
    &[
        "Running Shoes",
        "Yoga Mat",
        "Dumbbell Set",
        "Bicycle Helmet",
        "Tennis Racket",
        "Backpack",
    ],
    &[
        "Shampoo",
        "Face Cream",
        "Vitamins",
        "Electric Toothbrush",
        "Perfume",
        "Hair Dryer",
    ],
];

pub struct Product {
    pub id: String,
    pub category: usize,
    /// List price in cents.
    pub price: i64,
}

/// Campaign channels and what a contact costs in cents.
const CHANNELS: &[(&str, f64, i64)] = &[
    ("email", 0.45, 3),
    ("sms", 0.15, 7),
    ("ads", 0.20, 90),
    ("social", 0.20, 50),
];
const THEMES: [&str; 12] = [
    "New Year Sale",
    "Winter Clearance",
    "Spring Collection",
    "Easter Deals",
    "May Promo",
    "Summer Kickoff",
    "Mid-Summer Sale",
    "Back to School",
    "Autumn Launch",
    "Loyalty Week",
    "Black Friday",
    "Holiday Gifts",
];

pub struct Campaign {
    pub id: String,
    pub channel: &'static str,
    pub start: i64,
    /// Share of the existing customers targeted, and of those held out as control.
    pub share: f64,
    pub control: f64,
    /// Chance that a treated member buys because of the campaign (the true uplift).
    pub effect: f64,
    pub response: f64,
}

pub struct World {
    pub seed: u64,
    pub customers: u64,
    /// Digits of the zero-padded customer number.
    pub width: usize,
    pub cal: Calendar,
    pub lexicon: Lexicon,
    pub managers: Vec<Manager>,
    pools: Vec<Pool>,
    pub products: Vec<Product>,
    /// Product indices per category, most popular first.
    pub by_category: Vec<Vec<u32>>,
    pub campaigns: Vec<Campaign>,
    managers_table: Managers,
    products_table: Products,
    campaigns_table: Campaigns,
}

/// The world's own random stream, apart from every customer's.
const WORLD_STREAM: u64 = u64::MAX;

impl World {
    pub fn new(customers: u64, seed: u64, start: NaiveDate, months: u32) -> Result<Self> {
        let cal = Calendar::new(start, months)?;
        let mut rng = Rng::new(seed, WORLD_STREAM);
        let lexicon = Lexicon::new();
        let width = customers.to_string().len().max(7);
        let mut w = World {
            seed,
            customers,
            width,
            cal,
            lexicon,
            managers: Vec::new(),
            pools: Vec::new(),
            products: Vec::new(),
            by_category: vec![Vec::new(); CATEGORIES.len()],
            campaigns: Vec::new(),
            managers_table: Managers::default(),
            products_table: Products::default(),
            campaigns_table: Campaigns::default(),
        };
        w.make_managers(&mut rng);
        w.make_products(&mut rng);
        w.make_campaigns(&mut rng);
        Ok(w)
    }

    fn make_managers(&mut self, rng: &mut Rng) {
        let n = self.customers.div_ceil(100).clamp(8, 400) as usize;
        let region_weights = [0.26, 0.20, 0.28, 0.26];
        for i in 0..n {
            // The first manager of each region is the fallback owner there: always active.
            let region = if i < REGIONS.len() {
                i
            } else {
                rng.weighted(&region_weights)
            };
            let dept = if i < REGIONS.len() {
                i % 2 + 1
            } else {
                rng.weighted(&[0.2, 0.3, 0.3, 0.2])
            };
            let countries: Vec<usize> = (0..COUNTRIES.len())
                .filter(|&c| COUNTRIES[c].region() == region)
                .collect();
            let weights: Vec<f64> = countries.iter().map(|&c| COUNTRY_WEIGHTS[c]).collect();
            let country = COUNTRIES[countries[rng.weighted(&weights)]];
            let name = self.lexicon.person(country.lang(), rng).full();
            self.managers.push(Manager {
                id: format!("M{:03}", i + 1),
                name,
                dept,
                region,
                active: true,
                left: i64::MAX,
                logs: rng.uniform(0.7, 1.3),
                skill: 0.3 * rng.normal(),
            });
        }
        let others: Vec<usize> = (REGIONS.len()..n).collect();
        let idle = ((n as f64 * 0.1).round() as usize).max(1);
        let gone = ((n as f64 * 0.06).round() as usize).max(1);
        let mut order = others.clone();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.index(i + 1));
        }
        for (k, &m) in order.iter().enumerate() {
            let mgr = &mut self.managers[m];
            if k < idle {
                mgr.logs = 0.04;
                mgr.skill -= 0.3;
            } else if k < idle + gone {
                mgr.active = false;
                mgr.left = (self.cal.end as f64 * rng.uniform(0.3, 0.9)) as i64;
            }
        }
        let fit_org = [3.0, 3.0, 0.5, 1.0];
        let fit_person = [0.2, 0.5, 3.0, 2.0];
        for r in 0..REGIONS.len() {
            let members: Vec<u32> = (0..n as u32)
                .filter(|&m| self.managers[m as usize].region == r)
                .collect();
            let cum = |fit: &[f64; 4]| {
                let mut acc = 0.0;
                members
                    .iter()
                    .map(|&m| {
                        acc += fit[self.managers[m as usize].dept];
                        acc
                    })
                    .collect::<Vec<_>>()
            };
            let (cum_org, cum_person) = (cum(&fit_org), cum(&fit_person));
            self.pools.push(Pool {
                anchor: r as u32,
                members,
                cum_org,
                cum_person,
            });
        }
        let t = &mut self.managers_table;
        for m in &self.managers {
            t.manager_id.push(&m.id);
            t.name.push(&m.name);
            t.department.push(DEPARTMENTS[m.dept]);
            t.region.push(REGIONS[m.region]);
            t.active.push(m.active);
        }
    }

    /// A manager of `region` who fits the customer kind and still works at `t`.
    pub fn pick_manager(&self, region: usize, org: bool, t: i64, rng: &mut Rng) -> u32 {
        let Some(pool) = self.pools.get(region) else {
            return 0;
        };
        let cum = if org { &pool.cum_org } else { &pool.cum_person };
        let total = cum.last().copied().unwrap_or(0.0);
        for _ in 0..8 {
            let x = rng.f64() * total;
            let i = cum
                .partition_point(|c| *c <= x)
                .min(pool.members.len().saturating_sub(1));
            if let Some(&m) = pool.members.get(i)
                && self.managers[m as usize].left >= t
            {
                return m;
            }
        }
        pool.anchor
    }

    /// `owner` if they still work at `t`, else a colleague from the same region.
    pub fn manager_at(&self, owner: u32, org: bool, t: i64, rng: &mut Rng) -> u32 {
        let m = &self.managers[owner as usize];
        if m.left >= t {
            owner
        } else {
            self.pick_manager(m.region, org, t, rng)
        }
    }

    fn make_products(&mut self, rng: &mut Rng) {
        let n = (100 + self.customers / 10_000).min(300) as usize;
        let id_width = n.to_string().len().max(4);
        for i in 0..n {
            let cat = i % CATEGORIES.len();
            let (name, lo, hi, _, _) = CATEGORIES[cat];
            let price_dollars =
                libm::exp(libm::log(lo) + rng.f64() * (libm::log(hi) - libm::log(lo)));
            // List prices end in .99; cost is the price over a markup of 1.25–2.4.
            let price = ((price_dollars.ceil() as i64) * 100 - 1).max(99);
            let cost = ((price as f64 / rng.uniform(1.25, 2.4)).round() as i64).max(1);
            let brand = BRANDS[cat][rng.index(2)];
            let noun = NOUNS[cat][rng.index(NOUNS[cat].len())];
            let model = format!(
                "{}{}",
                ["X", "S", "Pro ", "M", "Air "][rng.index(5)],
                100 + (i * 37) % 900
            );
            let id = format!("P{:0id_width$}", i + 1);
            let t = &mut self.products_table;
            t.product_id.push(&id);
            t.name.fmt(format_args!("{brand} {noun} {model}"));
            t.category.push(name);
            t.unit_cost.push(cost);
            self.by_category[cat].push(i as u32);
            self.products.push(Product {
                id,
                category: cat,
                price,
            });
        }
        for list in &mut self.by_category {
            for i in (1..list.len()).rev() {
                list.swap(i, rng.index(i + 1));
            }
        }
    }

    /// Share of all customers created by day `d` of the period.
    fn created_share(&self, d: f64) -> f64 {
        let days = self.cal.days as f64;
        (libm::exp(GROWTH * d / days) - 1.0) / (libm::exp(GROWTH) - 1.0)
    }

    /// Creation time (days from the start) of customer `index`: stratified over the growing
    /// acquisition curve, so customer numbers rise with creation time.
    pub fn created_day(&self, index: u64, rng: &mut Rng) -> f64 {
        let u = (index as f64 + rng.f64()) / self.customers as f64;
        libm::log(1.0 + u * (libm::exp(GROWTH) - 1.0)) / GROWTH * self.cal.days as f64
    }

    fn make_campaigns(&mut self, rng: &mut Rng) {
        let n = self.cal.months();
        let width = n.to_string().len().max(3);
        let weights: Vec<f64> = CHANNELS.iter().map(|c| c.1).collect();
        for m in 0..n {
            let (channel, _, per_contact) = CHANNELS[rng.weighted(&weights)];
            let start = (self.cal.month_start(m)
                + rng.range(0, 9) * DAY
                + 9 * HOUR
                + rng.range(0, 3 * HOUR))
            .min(self.cal.end - HOUR)
            .max(0);
            let end = start + rng.range(14, 45) * DAY;
            let share = rng.uniform(0.08, 0.25);
            let (effect, response) = match channel {
                "email" => (rng.uniform(0.06, 0.12), rng.uniform(0.12, 0.30)),
                "sms" => (rng.uniform(0.04, 0.10), rng.uniform(0.05, 0.15)),
                "ads" => (rng.uniform(0.03, 0.07), rng.uniform(0.02, 0.10)),
                _ => (rng.uniform(0.02, 0.06), rng.uniform(0.02, 0.10)),
            };
            let members =
                self.customers as f64 * self.created_share(start as f64 / DAY as f64) * share;
            let fixed = if per_contact > 10 {
                rng.range(50_000, 300_000)
            } else {
                rng.range(20_000, 80_000)
            };
            let id = format!("K{:0width$}", m + 1);
            let label = self.cal.month_date(self.cal.month_of(start));
            let t = &mut self.campaigns_table;
            t.campaign_id.push(&id);
            t.name.fmt(format_args!(
                "{} {} ({channel})",
                THEMES[label.month0() as usize],
                label.year()
            ));
            t.channel.push(channel);
            t.started_at.push(self.cal.us(start));
            t.ended_at
                .opt((end <= self.cal.end).then(|| self.cal.us(end)));
            t.cost
                .push(fixed + (members * per_contact as f64).round() as i64);
            self.campaigns.push(Campaign {
                id,
                channel,
                start,
                share,
                control: rng.uniform(0.10, 0.20),
                effect,
                response,
            });
        }
    }

    pub fn managers_batch(&mut self) -> Result<RecordBatch> {
        self.managers_table.finish()
    }
    pub fn products_batch(&mut self) -> Result<RecordBatch> {
        self.products_table.finish()
    }
    pub fn campaigns_batch(&mut self) -> Result<RecordBatch> {
        self.campaigns_table.finish()
    }

    /// Index into the plan-vs-actual array of (manager, month, category).
    pub fn actual_index(&self, manager: u32, month: usize, category: usize) -> usize {
        (manager as usize * self.cal.months() + month) * CATEGORIES.len() + category
    }

    pub fn actual_len(&self) -> usize {
        self.managers.len() * self.cal.months() * CATEGORIES.len()
    }
}
