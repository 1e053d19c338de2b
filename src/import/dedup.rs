//! Duplicate customer cards. Two cards are the same customer when they share a normalised
//! e-mail (rule `email`) or E.164 phone (rule `phone`), or, likely, when their normalised
//! names are similar (Jaro-Winkler ≥ the threshold, rule `name_city`) in the same city.
//! Names are compared word by word (words sorted, so "Петров Иван" = "Иван Петров"): the
//! score is the lowest Jaro-Winkler similarity of the paired words, and names with a
//! different number of words do not match; a whole-name similarity would join "Franziska
//! Koch" and "Franziska Köhler" on the shared first name.
//! A role address (`info@`, `office@`, `sales@`, … — [`ROLE_ADDRESSES`], or the mapping's
//! `[dedup] role_addresses`) is a weak identifier: branches, franchisees and a holding's
//! companies share one, so a shared role address merges two cards only when their names also
//! match (rule `role_email`, the name score as for `name_city`, any city), and two different
//! role addresses are no conflict.
//! A merge never joins cards that conflict on a strong identifier: a cluster holds at most
//! one distinct personal e-mail and one distinct phone, and pairs listed in `[dedup] never`
//! stay apart.
//!
//! The surviving card is the one already in the dataset (append), else the earliest
//! `created_at`, else the first in the input. Cards already in the dataset are never merged
//! with each other: they were deduplicated when they were imported.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::Serialize;

/// What dedup needs of one card.
#[derive(Debug, Clone, Default)]
pub struct Card {
    pub id: String,
    pub existing: bool,
    pub email: Option<String>,
    /// The e-mail is a role address (a weak identifier).
    pub role_email: bool,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub city: Option<String>,
    pub created: Option<i64>,
}

/// One merged card, as `merges.csv` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merge {
    pub surviving_id: String,
    pub merged_id: String,
    pub rule: &'static str,
    pub score: f64,
    /// The shared e-mail or phone, or the two names compared.
    pub evidence: String,
}

/// A name for comparison: lower case, letters and digits only (ё = е), words sorted (so
/// "Петров Иван" = "Иван Петров" and "ООО «Ромашка»" = "Ромашка ООО"). Legal forms stay:
/// АО «Магистраль» and ООО «Магистраль» are two companies.
pub fn name_key(name: &str) -> String {
    let lower = name.to_lowercase().replace('ё', "е");
    let mut words: Vec<String> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    words.sort();
    words.join(" ")
}

/// The similarity of two name keys: the lowest Jaro-Winkler similarity of their words in
/// sorted order; 0 when they have a different number of words.
pub fn name_score(a: &str, b: &str) -> f64 {
    let (wa, wb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    if wa.len() != wb.len() {
        return 0.0;
    }
    wa.iter()
        .zip(&wb)
        .map(|(x, y)| strsim::jaro_winkler(x, y))
        .fold(1.0, f64::min)
}

/// Local parts of role addresses, shared by everyone at an organisation (English and the
/// transliterated Russian ones common in Russian CRMs).
pub const ROLE_ADDRESSES: &[&str] = &[
    "info",
    "office",
    "sales",
    "hello",
    "contact",
    "contacts",
    "mail",
    "admin",
    "support",
    "help",
    "team",
    "reception",
    "order",
    "orders",
    "shop",
    "service",
    "marketing",
    "hr",
    "jobs",
    "billing",
    "accounts",
    "accounting",
    "enquiries",
    "inquiries",
    "general",
    "noreply",
    "no-reply",
    "post",
    "secretary",
    "welcome",
    "zakaz",
    "buh",
    "buhgalteria",
    "priemnaya",
    "snab",
    "kontakt",
    "pochta",
    "ofis",
];

/// Whether an e-mail's local part is one of `roles` (compared lower-case; `info1@`,
/// `info.msk@` and `sales-spb@` count: a role word followed by digits or a branch tag).
pub fn is_role_address(email: &str, roles: &[String]) -> bool {
    let Some((local, _)) = email.split_once('@') else {
        return false;
    };
    let local = local.to_lowercase();
    let word = local
        .split(['.', '-', '_', '+'])
        .next()
        .unwrap_or("")
        .trim_end_matches(|c: char| c.is_ascii_digit());
    roles
        .iter()
        .any(|r| r.eq_ignore_ascii_case(word) || r.eq_ignore_ascii_case(&local))
}

fn city_key(city: &str) -> String {
    let c = city.trim().to_lowercase().replace('ё', "е");
    c.strip_prefix("г.").unwrap_or(&c).trim().to_string()
}

struct Clusters<'a> {
    parent: Vec<usize>,
    emails: Vec<HashSet<&'a str>>,
    phones: Vec<HashSet<&'a str>>,
    existing: Vec<usize>,
    members: Vec<Vec<usize>>,
}

impl<'a> Clusters<'a> {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins the clusters of a and b unless that would break a rule; true when joined.
    fn union(&mut self, a: usize, b: usize, never: &[(usize, usize)]) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb
            || self.emails[ra].union(&self.emails[rb]).count() > 1
            || self.phones[ra].union(&self.phones[rb]).count() > 1
            || self.existing[ra] + self.existing[rb] > 1
        {
            return false;
        }
        let apart = never.iter().any(|&(x, y)| {
            let (rx, ry) = (self.find(x), self.find(y));
            (rx == ra && ry == rb) || (rx == rb && ry == ra)
        });
        if apart {
            return false;
        }
        let (small, big) = if self.members[ra].len() < self.members[rb].len() {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small] = big;
        let moved = std::mem::take(&mut self.members[small]);
        self.members[big].extend(moved);
        let e = std::mem::take(&mut self.emails[small]);
        self.emails[big].extend(e);
        let p = std::mem::take(&mut self.phones[small]);
        self.phones[big].extend(p);
        self.existing[big] += self.existing[small];
        true
    }
}

/// A card's e-mail when it is a strong identifier (not a role address).
fn strong_email(c: &Card) -> Option<&str> {
    c.email.as_deref().filter(|_| !c.role_email)
}

/// Sorted neighbourhood: each (name key, card) of a sorted list against the next few, calling
/// `matched(a, b, score)` for the pairs whose names score ≥ threshold (score to 3 decimals).
fn neighbours(
    list: &[(String, usize)],
    threshold: f64,
    mut matched: impl FnMut(usize, usize, f64),
) {
    const WINDOW: usize = 8;
    for a in 0..list.len() {
        for b in a + 1..list.len().min(a + 1 + WINDOW) {
            let score = name_score(&list[a].0, &list[b].0);
            if score >= threshold {
                matched(list[a].1, list[b].1, (score * 1000.0).round() / 1000.0);
            }
        }
    }
}

/// The merges among `cards`, survivors first by the rules above; `never` holds id pairs.
pub fn find_merges(cards: &[Card], threshold: f64, never: &[[String; 2]]) -> Vec<Merge> {
    let n = cards.len();
    let index: HashMap<&str, usize> = cards
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let never: Vec<(usize, usize)> = never
        .iter()
        .filter_map(|[a, b]| Some((*index.get(a.as_str())?, *index.get(b.as_str())?)))
        .collect();
    let mut cl = Clusters {
        parent: (0..n).collect(),
        emails: cards
            .iter()
            .map(|c| strong_email(c).into_iter().collect())
            .collect(),
        phones: cards
            .iter()
            .map(|c| c.phone.as_deref().into_iter().collect())
            .collect(),
        existing: cards.iter().map(|c| usize::from(c.existing)).collect(),
        members: (0..n).map(|i| vec![i]).collect(),
    };
    // Accepted edges: (a, b, rule, score, evidence).
    let mut edges: Vec<(usize, usize, &'static str, f64, String)> = Vec::new();

    for (rule, get) in [
        (
            "email",
            (|c: &Card| strong_email(c).map(str::to_string)) as fn(&Card) -> Option<String>,
        ),
        ("phone", |c: &Card| c.phone.clone()),
    ] {
        let mut first: HashMap<String, usize> = HashMap::new();
        for (i, c) in cards.iter().enumerate() {
            let Some(v) = get(c) else { continue };
            match first.get(&v) {
                Some(&j) => {
                    if cl.union(j, i, &never) {
                        edges.push((j, i, rule, 1.0, v));
                    }
                }
                None => {
                    first.insert(v, i);
                }
            }
        }
    }

    // A shared role address with matching names, in any city.
    let mut by_role: BTreeMap<&str, Vec<(String, usize)>> = BTreeMap::new();
    for (i, c) in cards.iter().enumerate() {
        if let (true, Some(e), Some(name)) = (c.role_email, &c.email, &c.name) {
            let k = name_key(name);
            if !k.is_empty() {
                by_role.entry(e).or_default().push((k, i));
            }
        }
    }
    for (email, list) in &mut by_role {
        list.sort();
        neighbours(list, threshold, |i, j, score| {
            if cl.union(i, j, &never) {
                let evidence = format!(
                    "{email}: {} ~ {}",
                    cards[i].name.as_deref().unwrap_or(""),
                    cards[j].name.as_deref().unwrap_or("")
                );
                edges.push((i, j, "role_email", score, evidence));
            }
        });
    }

    // Likely matches: sorted neighbourhood over (city, name key) within each city.
    let mut by_city: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for (i, c) in cards.iter().enumerate() {
        if let (Some(name), Some(city)) = (&c.name, &c.city) {
            let (k, ck) = (name_key(name), city_key(city));
            if !k.is_empty() && !ck.is_empty() {
                by_city.entry(ck).or_default().push((k, i));
            }
        }
    }
    for list in by_city.values_mut() {
        list.sort();
        neighbours(list, threshold, |i, j, score| {
            if cl.union(i, j, &never) {
                let evidence = format!(
                    "{} ~ {}",
                    cards[i].name.as_deref().unwrap_or(""),
                    cards[j].name.as_deref().unwrap_or("")
                );
                edges.push((i, j, "name_city", score, evidence));
            }
        });
    }

    let mut adjacency: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, (a, b, ..)) in edges.iter().enumerate() {
        adjacency.entry(*a).or_default().push(k);
        adjacency.entry(*b).or_default().push(k);
    }
    let mut merges = Vec::new();
    for root in 0..n {
        if cl.find(root) != root || cl.members[root].len() < 2 {
            continue;
        }
        let survivor = *cl.members[root]
            .iter()
            .min_by_key(|&&i| (!cards[i].existing, cards[i].created.unwrap_or(i64::MAX), i))
            .expect("a cluster has members");
        let mut seen = HashSet::from([survivor]);
        let mut queue = VecDeque::from([survivor]);
        while let Some(x) = queue.pop_front() {
            for &k in adjacency.get(&x).into_iter().flatten() {
                let (a, b, rule, score, evidence) = &edges[k];
                let y = if *a == x { *b } else { *a };
                if seen.insert(y) {
                    merges.push(Merge {
                        surviving_id: cards[survivor].id.clone(),
                        merged_id: cards[y].id.clone(),
                        rule,
                        score: *score,
                        evidence: evidence.clone(),
                    });
                    queue.push_back(y);
                }
            }
        }
    }
    merges.sort_by(|a, b| (&a.surviving_id, &a.merged_id).cmp(&(&b.surviving_id, &b.merged_id)));
    merges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(id: &str, email: &str, phone: &str, name: &str, city: &str) -> Card {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Card {
            id: id.into(),
            email: opt(email),
            phone: opt(phone),
            name: opt(name),
            city: opt(city),
            ..Card::default()
        }
    }

    /// (surviving, merged, rule) of each merge.
    fn pairs(m: &[Merge]) -> Vec<(&str, &str, &str)> {
        m.iter()
            .map(|m| (m.surviving_id.as_str(), m.merged_id.as_str(), m.rule))
            .collect()
    }

    #[test]
    fn rules_and_conflicts() {
        let cards = vec![
            card("C1", "ivan@x.ru", "", "Иван Петров", "Москва"),
            card("C2", "ivan@x.ru", "+74951234567", "Петров Иван", "Москва"),
            card("C3", "", "+74951234567", "И. Петров", "Казань"),
            card("C4", "", "", "Анна Смирнова", "Тверь"),
            card("C5", "", "", "Анна  Смирнова", "г. Тверь"),
            card("C6", "a@x.ru", "", "Олег Орлов", "Омск"),
            card("C7", "b@x.ru", "", "Олег Орлов", "Омск"),
            card("C8", "", "+74951234568", "Анна Смирнова", "Тверь"),
        ];
        let m = find_merges(&cards, 0.92, &[]);
        let pairs = pairs(&m);
        // C8 matches C4/C5 by name but its phone is new to the cluster: one phone is fine.
        assert_eq!(
            pairs,
            vec![
                ("C1", "C2", "email"),
                ("C1", "C3", "phone"),
                ("C4", "C5", "name_city"),
                ("C4", "C8", "name_city"),
            ]
        );
        let m = find_merges(&cards, 0.92, &[["C4".into(), "C5".into()]]);
        assert!(
            !m.iter()
                .any(|m| m.merged_id == "C5" && m.surviving_id == "C4")
        );
    }

    #[test]
    fn role_addresses_are_weak() {
        let roles: Vec<String> = ROLE_ADDRESSES.iter().map(|s| s.to_string()).collect();
        for (e, role) in [
            ("info@romashka.ru", true),
            ("Office@x.de", true),
            ("sales-spb@x.ru", true),
            ("info2@x.ru", true),
            ("zakaz.msk@x.ru", true),
            ("ivan.petrov@x.ru", false),
            ("information@x.ru", false),
            ("salesman@x.ru", false),
        ] {
            assert_eq!(is_role_address(e, &roles), role, "{e}");
        }
        let role = |id: &str, email: &str, phone: &str, name: &str, city: &str| Card {
            role_email: true,
            ..card(id, email, phone, name, city)
        };
        let cards = vec![
            // Two companies behind one generic address: different names, never merged.
            role("R1", "info@romashka.ru", "", "ООО «Ромашка»", "Москва"),
            role("R2", "info@romashka.ru", "", "ИП Сидоров", "Москва"),
            // The same company entered in another city: same address and name.
            role("R3", "info@romashka.ru", "", "Ромашка ООО", "Казань"),
            // Different role addresses are no conflict: R4 joins R5 by phone.
            role("R4", "office@lux.ru", "+74951234567", "Люкс", "Омск"),
            role("R5", "sales@lux.ru", "+74951234567", "Люкс", "Омск"),
            // A role address does not make the conflict rule skip a personal one.
            card("R6", "anna@lux.ru", "", "Анна Орлова", "Тверь"),
            card("R7", "olga@lux.ru", "", "Анна Орлова", "Тверь"),
        ];
        let m = find_merges(&cards, 0.92, &[]);
        let pairs = pairs(&m);
        assert_eq!(
            pairs,
            vec![("R1", "R3", "role_email"), ("R4", "R5", "phone")]
        );
        assert_eq!(
            m[0].evidence,
            "info@romashka.ru: ООО «Ромашка» ~ Ромашка ООО"
        );
    }

    #[test]
    fn keys() {
        assert_eq!(name_key("ООО «Ромашка»"), name_key("Ромашка ООО"));
        assert!(name_score(&name_key("АО «Магистраль»"), &name_key("ООО «Магистраль»")) < 0.92);
        assert_eq!(name_key("Петров  Иван"), name_key("иван петров"));
        assert_eq!(city_key(" г. Москва"), "москва");
        assert!(name_score(&name_key("Franziska Koch"), &name_key("Franziska Köhler")) < 0.92);
        assert!(name_score(&name_key("Петров Иван"), &name_key("Иван Петрова")) > 0.92);
        assert_eq!(name_score("иван петров", "иван петрович петров"), 0.0);
    }
}
