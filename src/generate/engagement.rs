//! A customer's contact with marketing and service: campaign membership with a real uplift
//! over the holdout, web events for the `visit → signup → cart → purchase` funnel, support
//! tickets and satisfaction surveys.

use std::fmt::Write;

use super::calendar::{DAY, HOUR};
use super::customer::{BlockSim, Cust, PAID, add_order, order_id};
use super::rng::Rng;

/// Attribution window of a campaign contact.
const WINDOW: i64 = 30 * DAY;

pub fn campaigns(sim: &mut BlockSim, c: &Cust, rng: &mut Rng) {
    let w = sim.w;
    let end = w.cal.end;
    // Natural purchases are generated in time order; campaign orders are appended after.
    let natural = sim.s.orders.len();
    for (k, camp) in w.campaigns.iter().enumerate() {
        if camp.start <= c.created {
            continue;
        }
        // Campaigns mostly go to customers who have not bought lately (win-back).
        let before = sim.s.orders[..natural].partition_point(|o| o.t < camp.start);
        let recent = before > 0 && sim.s.orders[before - 1].t > camp.start - 90 * DAY;
        if !rng.chance(camp.share * if recent { 0.2 } else { 1.0 }) {
            continue;
        }
        let control = rng.chance(camp.control);
        let sent = (!control).then(|| (camp.start + rng.range(0, 36 * HOUR)).min(end));
        let base = sent.unwrap_or(camp.start);
        let until = (base + WINDOW).min(end);
        let bought = sim.s.orders[..natural]
            .iter()
            .find(|o| o.status == PAID && o.t >= base && o.t <= until)
            .map(|o| o.t);
        let mut converted = bought;
        let mut caused = false;
        if !control && bought.is_none() && rng.chance(camp.effect) {
            let t = base + (rng.exp(4.0 * DAY as f64) as i64).min(WINDOW - HOUR);
            if t <= end {
                let channel = match camp.channel {
                    "email" => "email",
                    "sms" => "sms",
                    _ => "web",
                };
                add_order(w, c, rng, &mut sim.s, t, PAID, channel);
                converted = Some(t);
                caused = true;
            }
        }
        let responded = match (sent, converted) {
            (None, _) => None,
            (Some(s), Some(cv)) if caused || rng.chance(0.5) => {
                Some((cv - rng.range(60, (cv - s).clamp(61, 2 * DAY))).max(s))
            }
            (Some(s), _) if rng.chance(camp.response) => {
                Some(s + (rng.exp(DAY as f64) as i64).min(WINDOW)).filter(|t| *t <= end)
            }
            _ => None,
        };
        if let Some(t) = responded {
            sim.s.responses.push((k, t));
        }
        let m = &mut sim.t.members;
        m.campaign_id.push(&camp.id);
        m.customer_id.push(&c.id);
        m.is_control.push(control);
        m.sent_at.opt(sent.map(|t| w.cal.us(t)));
        m.responded_at.opt(responded.map(|t| w.cal.us(t)));
        m.converted_at.opt(converted.map(|t| w.cal.us(t)));
    }
}

/// One web event before sorting: time, name, range of its JSON in the text buffer.
struct Ev {
    t: i64,
    name: &'static str,
    props: (usize, usize),
}

struct Session<'a> {
    utm: &'static str,
    device: &'static str,
    events: &'a mut Vec<Ev>,
    text: &'a mut String,
}

impl<'a> Session<'a> {
    /// A new session from its (utm source, device), writing into the customer's buffers.
    fn open(
        (utm, device): (&'static str, &'static str),
        events: &'a mut Vec<Ev>,
        text: &'a mut String,
    ) -> Self {
        Session {
            utm,
            device,
            events,
            text,
        }
    }

    /// Records an event; `extra` is written after the session's properties.
    fn add(&mut self, t: i64, name: &'static str, extra: std::fmt::Arguments<'_>) {
        let from = self.text.len();
        let _ = write!(
            self.text,
            r#"{{"utm_source":"{}","device":"{}",{extra}}}"#,
            self.utm, self.device
        );
        self.events.push(Ev {
            t,
            name,
            props: (from, self.text.len()),
        });
    }
}

const SEARCHES: &[&str] = &[
    "laptop",
    "chair",
    "gift",
    "headphones",
    "printer paper",
    "yoga mat",
    "coffee",
    "sale",
];
const PAGES: &[&str] = &[
    "/",
    "/pricing",
    "/catalog",
    "/sale",
    "/blog/top-10",
    "/about",
];

pub fn events(sim: &mut BlockSim, c: &Cust, rng: &mut Rng) {
    if !c.tracked {
        return;
    }
    let w = sim.w;
    let end = w.cal.end;
    let mut events = Vec::new();
    let mut text = String::new();
    let cyrillic = matches!(c.country.code(), "RU" | "KZ");
    let session = |rng: &mut Rng| -> (&'static str, &'static str) {
        let utm = match c.source {
            _ if rng.chance(0.35) => ["direct", "google", "newsletter", "facebook"][rng.index(4)],
            "paid_search" if cyrillic => "yandex",
            "paid_search" => "google",
            "social" if cyrillic => "vk",
            "social" => ["facebook", "instagram", "linkedin"][rng.index(3)],
            "email" => "newsletter",
            "referral" | "partner" => "partner_site",
            _ => "direct",
        };
        let device = ["mobile", "desktop", "tablet"][rng.weighted(&[0.55, 0.38, 0.07])];
        (utm, device)
    };
    let browse = |s: &mut Session, rng: &mut Rng, mut t: i64, views: u64| -> i64 {
        for _ in 0..views {
            t += rng.range(10, 180);
            if rng.chance(0.25) {
                let q = SEARCHES[rng.index(SEARCHES.len())];
                s.add(
                    t,
                    "search",
                    format_args!(r#""page":"/search","query":"{q}""#),
                );
            } else {
                let p = &w.products[rng.index(w.products.len())].id;
                s.add(t, "view_product", format_args!(r#""page":"/product/{p}""#));
            }
        }
        t
    };
    // The session in which the card was created.
    let mut signed_up = false;
    {
        let mut s = Session::open(session(rng), &mut events, &mut text);
        let page = PAGES[rng.index(PAGES.len())];
        s.add(c.created, "visit", format_args!(r#""page":"{page}""#));
        let views = rng.below(2);
        let t = browse(&mut s, rng, c.created, views);
        if rng.chance(0.75) {
            s.add(
                t + rng.range(30, 600),
                "signup",
                format_args!(r#""page":"/signup""#),
            );
            signed_up = true;
        }
    }
    // Sessions that ended in the first few web orders.
    let web: Vec<(usize, i64)> = sim
        .s
        .orders
        .iter()
        .enumerate()
        .filter(|(_, o)| o.channel == "web")
        .map(|(i, o)| (i, o.t))
        .take(2)
        .collect();
    for (seq, at) in web {
        let mut s = Session::open(session(rng), &mut events, &mut text);
        let start = (at - rng.range(5 * 60, 45 * 60)).max(c.created);
        s.add(start, "visit", format_args!(r#""page":"/""#));
        let views = rng.below(3);
        let mut t = browse(&mut s, rng, start, views).min(at);
        if !signed_up && rng.chance(0.8) {
            t = (t + rng.range(20, 120)).min(at);
            s.add(t, "signup", format_args!(r#""page":"/signup""#));
            signed_up = true;
        }
        let cart = (at - rng.range(30, 600)).max(t);
        s.add(cart, "cart", format_args!(r#""page":"/cart""#));
        if rng.chance(0.05) {
            s.add(
                (cart + rng.range(5, 60)).min(at),
                "cart",
                format_args!(r#""page":"/cart""#),
            );
        }
        // A few purchases are logged a moment before the cart event (client clock skew).
        let paid_at = if rng.chance(0.03) {
            cart - rng.range(1, 5)
        } else {
            at
        };
        let mut id = String::new();
        order_id(&mut id, w, c.num, seq);
        let amount = sim.s.orders[seq].amount;
        s.add(
            paid_at.max(c.created),
            "purchase",
            format_args!(
                r#""page":"/checkout","order_id":"{id}","amount":"{}.{:02}""#,
                amount / 100,
                amount % 100
            ),
        );
    }
    // Browsing that led nowhere (or to an abandoned cart).
    let horizon = (c.created + 400 * DAY).min(end);
    for _ in 0..rng.poisson(0.7).min(3) {
        let mut s = Session::open(session(rng), &mut events, &mut text);
        let start = rng.range(c.created, horizon.max(c.created));
        let page = PAGES[rng.index(PAGES.len())];
        s.add(start, "visit", format_args!(r#""page":"{page}""#));
        let views = 1 + rng.below(2);
        let t = browse(&mut s, rng, start, views);
        if !signed_up && rng.chance(0.3) {
            s.add(
                t + rng.range(20, 300),
                "signup",
                format_args!(r#""page":"/signup""#),
            );
            signed_up = true;
        } else if rng.chance(0.25) {
            s.add(
                t + rng.range(20, 300),
                "cart",
                format_args!(r#""page":"/cart""#),
            );
        }
    }
    events.sort_by_key(|e| e.t);
    let e = &mut sim.t.events;
    for ev in events.iter().filter(|e| e.t <= end) {
        e.customer_id.push(&c.id);
        e.event.push(ev.name);
        e.occurred_at.push(w.cal.us(ev.t));
        e.properties.push(&text[ev.props.0..ev.props.1]);
    }
}

/// A bijection on u64 (the SplitMix64 finaliser): distinct inputs give distinct ids.
fn scramble(x: u64) -> u64 {
    let mut z = x ^ 0x5DEE_CE66_D1CE_4E5B;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Satisfaction: mostly good, worse after slow ticket handling.
fn score(rng: &mut Rng, handling_hours: Option<f64>) -> i64 {
    let weights: &[f64] = match handling_hours {
        None => &[0.04, 0.06, 0.14, 0.34, 0.42],
        Some(h) if h <= 24.0 => &[0.03, 0.05, 0.12, 0.35, 0.45],
        Some(h) if h > 168.0 => &[0.20, 0.22, 0.25, 0.20, 0.13],
        Some(_) => &[0.06, 0.10, 0.20, 0.34, 0.30],
    };
    1 + rng.weighted(weights) as i64
}

fn survey(sim: &mut BlockSim, c: &Cust, rng: &mut Rng, k: u64, t: i64, score: i64) {
    let w = sim.w;
    if t > w.cal.end {
        return;
    }
    // Survey ids do not reveal the customer: anonymous answers stay anonymous.
    let s = &mut sim.t.surveys;
    s.survey_id.fmt(format_args!(
        "S{:016X}",
        scramble(w.seed.rotate_left(40) ^ (c.num << 8 | k))
    ));
    if rng.chance(0.3) {
        s.customer_id.null();
    } else {
        s.customer_id.push(&c.id);
    }
    s.answered_at.push(w.cal.us(t));
    s.score.push(score);
}

/// Support tickets (bug / wish / question) and satisfaction surveys after orders and tickets.
pub fn service(sim: &mut BlockSim, c: &Cust, rng: &mut Rng) {
    let w = sim.w;
    let end = w.cal.end;
    let paid: Vec<i64> = sim
        .s
        .orders
        .iter()
        .filter(|o| o.status == PAID)
        .map(|o| o.t)
        .collect();
    let mut k = 0u64;
    let tickets = rng
        .poisson(0.03 * paid.len().min(50) as f64 + if c.org { 0.3 } else { 0.05 })
        .min(8);
    for n in 1..=tickets {
        let opened = match rng.pick(&paid) {
            Some(&t) if rng.chance(0.7) => t + (rng.exp(6.0) * DAY as f64) as i64,
            _ => rng.range(c.created, end),
        };
        if opened > end {
            continue;
        }
        let kind = ["bug", "wish", "question"][rng.weighted(&[0.3, 0.2, 0.5])];
        let median_hours = match kind {
            "question" => 6.0,
            "bug" => 72.0,
            _ => 240.0,
        };
        let hours = rng.lognormal(median_hours, 1.0);
        let closed = (!rng.chance(0.04))
            .then(|| opened + (hours * HOUR as f64) as i64)
            .filter(|t| *t <= end);
        let manager = (!rng.chance(0.15)).then(|| w.manager_at(c.owner, c.org, opened, rng));
        let t = &mut sim.t.tickets;
        t.ticket_id
            .fmt(format_args!("T{:0w$}{n:02}", c.num, w = w.width));
        t.customer_id.push(&c.id);
        t.kind.push(kind);
        t.opened_at.push(w.cal.us(opened));
        t.closed_at.opt(closed.map(|t| w.cal.us(t)));
        t.manager_id
            .opt(manager.map(|m| w.managers[m as usize].id.as_str()));
        if let Some(cl) = closed
            && rng.chance(0.35)
        {
            k += 1;
            let sc = score(rng, Some(hours));
            let at = cl + (rng.exp(1.0) * DAY as f64) as i64;
            survey(sim, c, rng, k, at, sc);
        }
    }
    let mut after_orders = 0;
    for &t in &paid {
        if after_orders >= 4 {
            break;
        }
        if rng.chance(0.04) {
            after_orders += 1;
            k += 1;
            let sc = score(rng, None);
            let at = t + (rng.exp(3.0) * DAY as f64) as i64;
            survey(sim, c, rng, k, at, sc);
        }
    }
}
