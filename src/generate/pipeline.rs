//! The sales side of a customer: cold outbound contacts, deals walking the pipeline
//! `lead → qualified → proposal → negotiation → won` (or `lost`) with stage-dependent
//! conversion and durations, the activities managers log around them, and account
//! management calls. Won deals become paid orders.

use super::calendar::{DAY, HOUR};
use super::customer::{BlockSim, Cust, Order, PAID, basket, category};
use super::rng::Rng;
use super::world::Manager;

pub const STAGES: [&str; 6] = [
    "lead",
    "qualified",
    "proposal",
    "negotiation",
    "won",
    "lost",
];
const WON: usize = 4;
const LOST: usize = 5;
/// Chance to move on from each open stage, before the manager's skill.
const CONVERSION: [f64; 4] = [0.65, 0.55, 0.60, 0.70];
/// Median days spent in each open stage.
const STAGE_DAYS: [f64; 4] = [2.0, 6.0, 9.0, 12.0];
const LOST_REASONS: [&str; 5] = ["price", "competitor", "no budget", "no response", "timing"];
/// Deals per customer are numbered with two digits, activities with four.
const MAX_DEALS: u32 = 99;
const MAX_ACTIVITIES: u32 = 9_999;

/// A deal to open: when, from which source, through which campaign.
struct Lead {
    t: i64,
    source: &'static str,
    campaign: Option<usize>,
}

fn logistic_shift(p: f64, shift: f64) -> f64 {
    let logit = libm::log(p / (1.0 - p)) + shift;
    1.0 / (1.0 + libm::exp(-logit))
}

pub fn deals(sim: &mut BlockSim, c: &Cust, rng: &mut Rng) {
    let w = sim.w;
    let end = w.cal.end;
    let mut leads: Vec<Lead> = Vec::new();
    if c.org {
        if c.source == "cold_call" || rng.chance(0.25) {
            // Cold outbound before any deal; about a third turn into an opportunity within
            // 90 days (the "per hundred cold contacts" figure).
            let first = w.cal.work_after(c.created + rng.range(0, 2 * DAY), rng);
            let touches = 1 + rng.poisson(1.0).min(3);
            let mut t = first;
            for _ in 0..touches {
                if t > end {
                    break;
                }
                let m = w.manager_at(c.owner, true, t, rng);
                let kind = if rng.chance(0.8) { "call" } else { "meeting" };
                let outcome = if kind == "call" {
                    ["connected", "no answer", "voicemail", "not interested"]
                        [rng.weighted(&[0.35, 0.4, 0.15, 0.1])]
                } else {
                    "held"
                };
                activity(sim, c, rng, None, m, kind, Some("outbound"), t, outcome);
                t = w
                    .cal
                    .work_after(t + (rng.exp(4.0) * DAY as f64) as i64 + HOUR, rng);
            }
            let skill = w.managers[c.owner as usize].skill;
            if rng.chance(logistic_shift(0.3, skill)) {
                let lt = (t + (rng.exp(12.0) * DAY as f64) as i64).min(first + 89 * DAY);
                leads.push(Lead {
                    t: lt,
                    source: "cold_call",
                    campaign: None,
                });
            } else if rng.chance(0.3) {
                let lt = first + 90 * DAY + (rng.exp(120.0) * DAY as f64) as i64;
                let source = if c.source == "cold_call" {
                    "referral"
                } else {
                    c.source
                };
                leads.push(Lead {
                    t: lt,
                    source,
                    campaign: None,
                });
            }
        } else if rng.chance(0.8) {
            leads.push(Lead {
                t: c.created + (rng.exp(1.0) * DAY as f64) as i64,
                source: c.source,
                campaign: None,
            });
        }
        // Existing accounts come back with new opportunities.
        if let Some(first) = leads.first().map(|l| l.t) {
            let mut t = first;
            for _ in 0..4 {
                t += ((rng.exp(330.0) + 30.0) * DAY as f64) as i64;
                if t > end {
                    break;
                }
                leads.push(Lead {
                    t,
                    source: "existing_customer",
                    campaign: None,
                });
            }
        }
    } else if rng.chance(0.04) {
        leads.push(Lead {
            t: c.created + (rng.exp(20.0) * DAY as f64) as i64,
            source: c.source,
            campaign: None,
        });
    }
    for i in 0..sim.s.responses.len() {
        let (k, t) = sim.s.responses[i];
        if rng.chance(if c.org { 0.2 } else { 0.02 }) {
            leads.push(Lead {
                t: t + rng.range(HOUR, 3 * DAY),
                source: "campaign",
                campaign: Some(k),
            });
        }
    }
    leads.sort_by_key(|l| l.t);
    let mut seq = 0;
    for mut lead in leads {
        // Most deals are opened by a manager at work; web leads arrive at any hour.
        if rng.chance(0.7) {
            lead.t = w.cal.work_after(lead.t, rng);
        }
        lead.t = lead.t.max(c.created);
        if lead.t > end || seq >= MAX_DEALS {
            continue;
        }
        seq += 1;
        run_deal(sim, c, rng, seq, lead);
    }
}

fn run_deal(sim: &mut BlockSim, c: &Cust, rng: &mut Rng, seq: u32, lead: Lead) {
    let w = sim.w;
    let end = w.cal.end;
    let created = lead.t;
    let mi = w.manager_at(c.owner, c.org, created, rng);
    let m: &Manager = &w.managers[mi as usize];
    let cat = if rng.chance(0.6) {
        c.fav[0]
    } else if rng.chance(0.5) {
        c.fav[1]
    } else {
        category(rng, c.org)
    };
    let size = if !c.org {
        rng.lognormal(900.0, 0.6)
    } else if m.dept == 0 {
        rng.lognormal(18_000.0, 0.9)
    } else {
        rng.lognormal(6_000.0, 0.9)
    };
    let (items, amount) = basket(w, c, rng, &mut sim.s, size, Some(cat));

    let shift = m.skill
        + match lead.source {
            "referral" => 0.3,
            "cold_call" => -0.2,
            "existing_customer" => 0.4,
            _ => 0.0,
        };
    let mut stages: [(usize, i64); 6] = [(0, 0); 6];
    let mut n = 0;
    let mut push = |stage: usize, t: i64| {
        if n < stages.len() {
            stages[n] = (stage, t);
            n += 1;
        }
    };
    push(0, created);
    // One deal in ten jumps a stage (lead → proposal, …).
    let skip_at = rng.chance(0.15).then(|| rng.index(3));
    let (mut stage, mut t) = (0, created);
    let speed = if c.org { 1.0 } else { 0.5 };
    let (status, closed) = loop {
        let days = rng.lognormal(STAGE_DAYS[stage] * speed, 0.8);
        let advance = rng.chance(logistic_shift(CONVERSION[stage], shift));
        let next_t = w.cal.work_after(
            t + (days * if advance { 1.0 } else { 1.4 } * DAY as f64) as i64,
            rng,
        );
        if next_t > end {
            break ("open", None);
        }
        if !advance {
            push(LOST, next_t);
            break ("lost", Some(next_t));
        }
        let next = if skip_at == Some(stage) {
            stage + 2
        } else {
            stage + 1
        }
        .min(WON);
        push(next, next_t);
        if next == WON {
            break ("won", Some(next_t));
        }
        stage = next;
        t = next_t;
    };

    let s = &mut sim.s;
    s.buf.clear();
    {
        use std::fmt::Write;
        let _ = write!(s.buf, "D{:0w$}{seq:02}", c.num, w = w.width);
    }
    let deal_id = s.buf.clone();
    let d = &mut sim.t.deals;
    d.deal_id.push(&deal_id);
    d.customer_id.push(&c.id);
    d.manager_id.push(&m.id);
    d.source.push(lead.source);
    d.campaign_id
        .opt(lead.campaign.map(|k| w.campaigns[k].id.as_str()));
    d.created_at.push(w.cal.us(created));
    d.amount.push(amount);
    d.status.push(status);
    d.closed_at.opt(closed.map(|t| w.cal.us(t)));
    let reason = (status == "lost").then(|| {
        let late = stage >= 2;
        LOST_REASONS[rng.weighted(if late {
            &[0.35, 0.3, 0.1, 0.1, 0.15]
        } else {
            &[0.15, 0.1, 0.3, 0.35, 0.1]
        })]
    });
    d.lost_reason.opt(reason);
    d.product_category.push(super::world::CATEGORIES[cat].0);
    for &(st, at) in &stages[..n] {
        let h = &mut sim.t.stages;
        h.deal_id.push(&deal_id);
        h.stage.push(STAGES[st]);
        h.entered_at.push(w.cal.us(at));
    }
    if let (Some(t), "won") = (closed, status) {
        sim.s.orders.push(Order {
            t,
            status: PAID,
            channel: "sales",
            manager: Some(w.manager_at(mi, c.org, t, rng)),
            items,
            amount,
        });
    }

    // Work logged on the deal: a first response to the lead, then activity in every stage.
    let life_end = closed.unwrap_or(end);
    let mut response = created + rng.lognormal(25.0 * 60.0, 1.3) as i64;
    if rng.chance(0.15) {
        response += rng.range(1, 4) * DAY;
    }
    if rng.chance(0.85) {
        response = w.cal.office_hours(response, rng);
    }
    if response <= life_end && rng.chance(m.logs.min(1.0)) {
        let kind = if rng.chance(0.7) { "call" } else { "email" };
        let outcome = random_outcome(rng, kind);
        activity(
            sim,
            c,
            rng,
            Some(&deal_id),
            mi,
            kind,
            Some("outbound"),
            response,
            outcome,
        );
    }
    for i in 0..n {
        let (st, from) = stages[i];
        if st >= WON {
            break;
        }
        let to = if i + 1 < n { stages[i + 1].1 } else { life_end };
        let mean = (0.5 + (to - from) as f64 / DAY as f64 / 5.0) * m.logs;
        let count = rng.poisson(mean).min(6);
        for _ in 0..count {
            let Some(at) =
                (0..4).find_map(|_| w.cal.workday(from + rng.range(0, (to - from).max(1)), rng))
            else {
                continue;
            };
            if at < from || at > to || at > end {
                continue;
            }
            let kind = ["call", "email", "meeting", "task"]
                [rng.weighted(&[0.4, 0.35, 0.1 + 0.05 * st as f64, 0.1])];
            let dir = match kind {
                "task" => None,
                _ if rng.chance(0.25) => Some("inbound"),
                _ => Some("outbound"),
            };
            let outcome = random_outcome(rng, kind);
            activity(sim, c, rng, Some(&deal_id), mi, kind, dir, at, outcome);
        }
    }
}

fn random_outcome(rng: &mut Rng, kind: &str) -> &'static str {
    match kind {
        "call" => [
            "connected",
            "no answer",
            "voicemail",
            "busy",
            "callback requested",
        ][rng.weighted(&[0.5, 0.25, 0.12, 0.05, 0.08])],
        "meeting" => ["held", "rescheduled", "cancelled"][rng.weighted(&[0.8, 0.15, 0.05])],
        "email" => ["sent", "replied", "bounced"][rng.weighted(&[0.75, 0.2, 0.05])],
        _ => ["done", "overdue", "cancelled"][rng.weighted(&[0.8, 0.15, 0.05])],
    }
}

/// Logs one activity (unless the customer already has the maximum).
#[allow(clippy::too_many_arguments)]
fn activity(
    sim: &mut BlockSim,
    c: &Cust,
    rng: &mut Rng,
    deal: Option<&str>,
    manager: u32,
    kind: &str,
    direction: Option<&str>,
    t: i64,
    outcome: &str,
) {
    let w = sim.w;
    // Nothing is logged before the card exists, after as_of, or by someone who has left.
    if sim.s.activities >= MAX_ACTIVITIES
        || t > w.cal.end
        || t < c.created
        || t > w.managers[manager as usize].left
    {
        return;
    }
    sim.s.activities += 1;
    let a = &mut sim.t.activities;
    a.activity_id.fmt(format_args!(
        "A{:0w$}{:04}",
        c.num,
        sim.s.activities,
        w = w.width
    ));
    a.customer_id.push(&c.id);
    if c.contacts > 0 && rng.chance(0.9) {
        let k = 1 + rng.below(c.contacts as u64);
        a.contact_id
            .fmt(format_args!("CT{:0w$}{k}", c.num, w = w.width));
    } else {
        a.contact_id.null();
    }
    a.deal_id.opt(deal);
    a.manager_id.push(&w.managers[manager as usize].id);
    a.kind.push(kind);
    a.direction.opt(direction);
    a.occurred_at.push(w.cal.us(t));
    let duration = match (kind, outcome) {
        ("call", "no answer" | "voicemail" | "busy") => Some(rng.range(5, 40)),
        ("call", _) => Some((rng.lognormal(240.0, 0.8) as i64).clamp(30, 3_600)),
        ("meeting", "held") => Some(rng.range(6, 18) * 300),
        _ => None,
    };
    a.duration_s.opt(duration);
    a.outcome.push(outcome);
}

/// Organisations hear from their account manager every couple of months while they buy.
pub fn account_management(sim: &mut BlockSim, c: &Cust, rng: &mut Rng) {
    if !c.org {
        return;
    }
    let w = sim.w;
    let last_buy = sim.s.orders.iter().map(|o| o.t).max().unwrap_or(c.created);
    let until = (last_buy + 180 * DAY).min(w.cal.end);
    let mut t = c.created + 30 * DAY;
    for _ in 0..30 {
        let m = w.manager_at(c.owner, true, t, rng);
        let logs = w.managers[m as usize].logs;
        t += (rng.exp(60.0) * DAY as f64) as i64;
        let at = w.cal.work_after(t, rng);
        if at > until {
            break;
        }
        if !rng.chance(logs.min(1.0)) {
            continue;
        }
        let kind = ["call", "email", "meeting"][rng.weighted(&[0.5, 0.4, 0.1])];
        let dir = if rng.chance(0.2) {
            "inbound"
        } else {
            "outbound"
        };
        let outcome = random_outcome(rng, kind);
        activity(sim, c, rng, None, m, kind, Some(dir), at, outcome);
    }
}
