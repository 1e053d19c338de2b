//! The statistical shape of a generated dataset: what RFM, churn, CLV, funnel, manager,
//! campaign and plan analyses need to find in it.

use std::collections::{HashMap, HashSet};

use datafusion::arrow::array::AsArray;

use super::tests::{opts, read};
use super::*;

fn share(n: usize, of: usize) -> f64 {
    n as f64 / of.max(1) as f64
}

#[test]
fn the_data_behaves_like_a_crm() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let summary = generate(&opts(dir, 3000, 2)).expect("generate");
    assert_eq!(summary.as_of.to_string(), "2025-12-31");
    let customers = read(dir, "customers");
    let ids = customers.s("customer_id");
    let orgs = customers
        .s("kind")
        .iter()
        .filter(|k| *k == "organization")
        .count();
    assert!(
        (0.2..0.4).contains(&share(orgs, ids.len())),
        "organisations {orgs}"
    );
    let countries: HashSet<String> = customers.s("country").into_iter().collect();
    assert!(countries.len() >= 8, "{countries:?}");
    let names = customers.s("name").join(" ");
    for (script, range) in [
        ("Cyrillic", '\u{0400}'..='\u{04FF}'),
        ("Arabic", '\u{0600}'..='\u{06FF}'),
        ("Hebrew", '\u{0590}'..='\u{05FF}'),
    ] {
        assert!(
            names.chars().any(|c| range.contains(&c)),
            "no {script} names"
        );
    }
    let phones: Vec<String> = customers.str("phone").into_iter().flatten().collect();
    assert!(
        phones.iter().any(|p| p.starts_with("+7 (")) && phones.iter().any(|p| p.starts_with("8 "))
    );
    assert!(
        phones
            .iter()
            .any(|p| p.len() == 7 && p.bytes().all(|b| b.is_ascii_digit())),
        "no local numbers"
    );
    assert!(phones.len() < ids.len() && customers.str("email").iter().any(Option::is_none));
    let created: HashMap<String, i64> = ids
        .iter()
        .cloned()
        .zip(customers.ts("created_at").into_iter().flatten())
        .collect();

    // Buy till you die: about ten orders per customer, most buy a few times, a heavy tail.
    let orders = read(dir, "orders");
    let (oid, ocust, at, amount) = (
        orders.s("order_id"),
        orders.s("customer_id"),
        orders.ts("ordered_at"),
        orders.money("amount"),
    );
    let mut per_customer: HashMap<&str, usize> = HashMap::new();
    for (c, t) in ocust.iter().zip(&at) {
        *per_customer.entry(c).or_default() += 1;
        assert!(
            t.unwrap_or(0) >= created[c],
            "order before the customer existed"
        );
    }
    let mean = share(orders.rows(), ids.len());
    assert!(
        (7.0..14.0).contains(&mean),
        "mean orders per customer {mean}"
    );
    let few = ids
        .iter()
        .filter(|c| per_customer.get(c.as_str()).copied().unwrap_or(0) <= 3)
        .count();
    assert!(share(few, ids.len()) > 0.4);
    assert!(per_customer.values().copied().max().unwrap_or(0) as f64 > 8.0 * mean);
    let paid = orders.s("status").iter().filter(|s| *s == "paid").count();
    assert!((0.85..0.96).contains(&share(paid, orders.rows())));

    // Order amounts are the sum of their lines.
    let items = read(dir, "order_items");
    let mut lines: HashMap<&str, i128> = HashMap::new();
    let (iid, qty, price) = (
        items.s("order_id"),
        items.int("quantity"),
        items.money("unit_price"),
    );
    for i in 0..items.rows() {
        *lines.entry(iid[i].as_str()).or_default() += qty[i] as i128 * price[i];
    }
    for i in 0..orders.rows() {
        assert_eq!(
            lines.get(oid[i].as_str()).copied(),
            Some(amount[i]),
            "order {}",
            oid[i]
        );
    }

    // Deals: history consistent with status; won deals are paid sales orders.
    let deals = read(dir, "deals");
    let history = read(dir, "deal_stage_history");
    let mut stages: HashMap<String, Vec<(String, i64)>> = HashMap::new();
    for ((d, s), t) in history
        .s("deal_id")
        .into_iter()
        .zip(history.s("stage"))
        .zip(history.ts("entered_at"))
    {
        stages.entry(d).or_default().push((s, t.unwrap_or(0)));
    }
    let channel = orders.s("channel");
    let sales: HashSet<(String, i64, i128)> = (0..orders.rows())
        .filter(|&i| channel[i] == "sales")
        .map(|i| (ocust[i].clone(), at[i].unwrap_or(0), amount[i]))
        .collect();
    let (did, dstatus, dcreated, dclosed) = (
        deals.s("deal_id"),
        deals.s("status"),
        deals.ts("created_at"),
        deals.ts("closed_at"),
    );
    let (dmgr, dcust, damount, reason) = (
        deals.s("manager_id"),
        deals.s("customer_id"),
        deals.money("amount"),
        deals.str("lost_reason"),
    );
    let mut by_manager: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut skipped = 0;
    for i in 0..deals.rows() {
        let h = &stages[&did[i]];
        assert_eq!(
            h[0],
            ("lead".to_string(), dcreated[i].unwrap_or(0)),
            "deal {}",
            did[i]
        );
        let last = h.last().expect("history");
        match dstatus[i].as_str() {
            "open" => assert!(dclosed[i].is_none() && last.0 != "won" && last.0 != "lost"),
            s => {
                assert_eq!(
                    (last.0.as_str(), Some(last.1)),
                    (s, dclosed[i]),
                    "deal {}",
                    did[i]
                );
                assert_eq!(reason[i].is_some(), s == "lost");
                let e = by_manager.entry(&dmgr[i]).or_default();
                e.0 += 1;
                e.1 += usize::from(s == "won");
            }
        }
        if dstatus[i] == "won" {
            assert!(
                sales.contains(&(dcust[i].clone(), dclosed[i].unwrap_or(0), damount[i])),
                "won deal {} has no order",
                did[i]
            );
        }
        let order = ["lead", "qualified", "proposal", "negotiation", "won"];
        let pos: Vec<usize> = h
            .iter()
            .filter_map(|(s, _)| order.iter().position(|o| o == s))
            .collect();
        skipped += usize::from(pos.windows(2).any(|w| w[1] > w[0] + 1));
    }
    assert!(share(skipped, deals.rows()) > 0.02, "no deal skips a stage");
    let rates: Vec<f64> = by_manager
        .values()
        .filter(|(n, _)| *n >= 20)
        .map(|(n, w)| share(*w, *n))
        .collect();
    let spread =
        rates.iter().cloned().fold(0.0, f64::max) - rates.iter().cloned().fold(1.0, f64::min);
    assert!(rates.len() >= 5 && spread > 0.1, "win rates {rates:?}");

    // Activities: some managers are idle; first responses are often within half an hour.
    let acts = read(dir, "activities");
    let mut per_manager: HashMap<String, usize> = HashMap::new();
    for m in acts.s("manager_id") {
        *per_manager.entry(m).or_default() += 1;
    }
    let mut counts: Vec<usize> = per_manager.values().copied().collect();
    counts.sort();
    assert!(
        counts[0] * 4 < counts[counts.len() / 2],
        "no idle manager: {counts:?}"
    );
    let mut first: HashMap<String, i64> = HashMap::new();
    for (d, t) in acts.str("deal_id").into_iter().zip(acts.ts("occurred_at")) {
        if let (Some(d), Some(t)) = (d, t) {
            let e = first.entry(d).or_insert(i64::MAX);
            *e = (*e).min(t);
        }
    }
    let fast = (0..deals.rows())
        .filter(|&i| {
            first
                .get(&did[i])
                .is_some_and(|f| f - dcreated[i].unwrap_or(0) <= 1_800_000_000)
        })
        .count();
    assert!(
        (0.2..0.7).contains(&share(fast, first.len())),
        "fast responses {fast} of {}",
        first.len()
    );

    // Campaigns: a holdout, and a real uplift.
    let members = read(dir, "campaign_members");
    let (control, sent, conv) = (
        members.bools("is_control"),
        members.ts("sent_at"),
        members.ts("converted_at"),
    );
    let (mut n, mut k) = ([0usize; 2], [0usize; 2]);
    for i in 0..members.rows() {
        let g = usize::from(control[i]);
        assert_eq!(sent[i].is_none(), control[i]);
        n[g] += 1;
        k[g] += usize::from(conv[i].is_some());
    }
    assert!((0.05..0.3).contains(&share(n[1], members.rows())));
    assert!(
        share(k[0], n[0]) > share(k[1], n[1]) + 0.03,
        "treatment {k:?} of {n:?}"
    );

    // Events: the funnel steps, JSON properties.
    let events = read(dir, "events");
    let names: HashSet<String> = events.s("event").into_iter().collect();
    for e in [
        "visit",
        "signup",
        "cart",
        "purchase",
        "view_product",
        "search",
    ] {
        assert!(names.contains(e), "no {e} events");
    }
    for p in events.str("properties").into_iter().flatten() {
        assert!(
            serde_json::from_str::<serde_json::Value>(&p)
                .map(|v| v.is_object())
                .unwrap_or(false),
            "{p}"
        );
    }
    let per_customer_events = share(events.rows(), ids.len());
    assert!((1.0..10.0).contains(&per_customer_events));

    // Service: open tickets exist; surveys lean positive, some anonymous.
    let tickets = read(dir, "tickets");
    assert!(tickets.ts("closed_at").iter().any(Option::is_none));
    let surveys = read(dir, "surveys");
    let scores = surveys.int("score");
    assert!(scores.iter().sum::<i64>() as f64 / scores.len() as f64 > 3.5);
    let anonymous = surveys
        .str("customer_id")
        .iter()
        .filter(|c| c.is_none())
        .count();
    assert!((0.2..0.4).contains(&share(anonymous, surveys.rows())));

    // Plans follow what managers actually sold.
    let products = read(dir, "products");
    let category: HashMap<String, String> = products
        .s("product_id")
        .into_iter()
        .zip(products.s("category"))
        .collect();
    let order_row: HashMap<&str, usize> = oid
        .iter()
        .enumerate()
        .map(|(i, o)| (o.as_str(), i))
        .collect();
    let mut actual: HashMap<(String, String, String), i128> = HashMap::new();
    let (omgr, ostatus) = (orders.str("manager_id"), orders.s("status"));
    let pid = items.s("product_id");
    for i in 0..items.rows() {
        let o = order_row[iid[i].as_str()];
        if let (Some(m), "paid") = (&omgr[o], ostatus[o].as_str()) {
            let month = chrono::DateTime::from_timestamp_micros(at[o].unwrap_or(0))
                .expect("ts")
                .format("%Y-%m")
                .to_string();
            *actual
                .entry((m.clone(), month, category[&pid[i]].clone()))
                .or_default() += qty[i] as i128 * price[i];
        }
    }
    let plans = read(dir, "plans");
    let periods = plans
        .col("period")
        .as_primitive::<datafusion::arrow::datatypes::Date32Type>()
        .clone();
    let (pm, pc, target) = (
        plans.s("manager_id"),
        plans.s("product_category"),
        plans.money("target_amount"),
    );
    let (mut near, mut with_sales) = (0, 0);
    for i in 0..plans.rows() {
        let day = periods.value_as_date(i).expect("date");
        assert_eq!(chrono::Datelike::day(&day), 1);
        if let Some(a) = actual.get(&(
            pm[i].clone(),
            day.format("%Y-%m").to_string(),
            pc[i].clone(),
        )) {
            with_sales += 1;
            near += usize::from((0.75..1.3).contains(&(*a as f64 / target[i] as f64)));
        }
    }
    assert!(
        with_sales > 100 && share(near, with_sales) > 0.9,
        "{near} of {with_sales} plans near actual"
    );
}
