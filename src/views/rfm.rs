//! RFM (PRODUCT.md, "RFM"): recency, frequency and monetary value per customer within the
//! lookback, scored 1–5 (percentiles or fixed thresholds), and named segments from a rule
//! table over the R and F scores.
//!
//! Views: `rfm` (one row per customer with a purchase in the lookback) and `rfm_grid` (the
//! 25 R×F cells with customers and revenue, empty cells included).
//!
//! The percentile score `least(5, 1 + floor(5 × percent_rank()))` is computed in integers,
//! `1 + (5 × (rank − 1)) div (n − 1)`, which is the same number without the floating-point
//! rounding that could put a customer exactly on a boundary one score too low.
//!
//! No window runs over all customers ([`super::buckets`]). With L the number of customers
//! ranked strictly before a customer (rank − 1) and m = max(n − 1, 1), the score is
//! 1 + #{k ∈ 1..4 : 5·L ≥ k·m}, i.e. 1 + the number of *edges* t_k = ⌈k·m / 5⌉ that L
//! reaches. So the view needs, per measure, only where the four edges fall:
//!
//! 1. every customer's value gets a bucket that rises with the rank: the value itself for
//!    recency (negated: the most recent ranks last) and frequency, whose distinct values
//!    are few (days, order counts); for monetary the bucket of [`super::buckets::signed`];
//! 2. a histogram of the three measures in one `group by (measure, bucket)` gives, per
//!    bucket, its customers and those in lower buckets (`below`, a window partitioned by
//!    the measure over the histogram's rows), and n;
//! 3. edge k falls in the bucket with below ≤ t_k < below + customers, at `offset`
//!    t_k − below within it: one row of twelve (bucket, offset) pairs;
//! 4. each customer, joined with that row, reaches edge k when its bucket is above the
//!    edge's, or is the edge's and the customers of its bucket ranked before it (`rank()`
//!    partitioned by the bucket, for monetary; none for recency and frequency, whose bucket
//!    holds one value) number at least the offset.
//!
//! Ties share a bucket and a rank within it, so equal values get equal scores as before. The
//! result is today's definition bit for bit: the measures are unchanged, only how their
//! ranks are counted. A bucket whose edge is missing (n = 1: t_k = 1 = n) is reached by no
//! one, so a lone customer scores 1 as `percent_rank()` = 0 says. The measures are computed
//! twice (DataFusion does not share a subquery between two uses), for the histogram and for
//! the rows; monetary is an exact decimal sum (`purchases.amount` is money, see
//! [`crate::functions::money`]), so both evaluations give the same value, the same bucket,
//! and equal cents rank together.

use std::path::Path;

use serde::Deserialize;

use super::{View, ViewEnv, sql_string};
use crate::config::Config;
use crate::{Error, Result};

/// The built-in rule table (`queries/rfm_segments.toml`).
pub const DEFAULT_SEGMENTS: &str = include_str!("../../queries/rfm_segments.toml");

/// One named segment: the R and F scores it covers (inclusive ranges).
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRule {
    pub name: String,
    pub r: (u8, u8),
    pub f: (u8, u8),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    segment: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    r: ScoreRange,
    f: ScoreRange,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ScoreRange {
    One(i64),
    Text(String),
}

impl ScoreRange {
    fn parse(&self) -> std::result::Result<(u8, u8), String> {
        let (lo, hi) = match self {
            ScoreRange::One(n) => (*n, *n),
            ScoreRange::Text(t) => {
                let parse = |s: &str| s.trim().parse::<i64>().ok();
                match t.split_once('-') {
                    Some((a, b)) => match (parse(a), parse(b)) {
                        (Some(a), Some(b)) => (a, b),
                        _ => return Err(format!("{t:?} is not a score range like \"1-2\"")),
                    },
                    None => match parse(t) {
                        Some(n) => (n, n),
                        None => {
                            return Err(format!(
                                "{t:?} is not a score 1–5 or a range like \"1-2\""
                            ));
                        }
                    },
                }
            }
        };
        if !(1..=5).contains(&lo) || !(1..=5).contains(&hi) || lo > hi {
            return Err(format!(
                "{lo}-{hi} is not a range of scores within 1–5 (low end first)"
            ));
        }
        Ok((lo as u8, hi as u8))
    }
}

/// Parses a rule table and checks that it assigns every (R, F) cell exactly once.
pub fn parse_rules(text: &str) -> std::result::Result<Vec<SegmentRule>, String> {
    let file: RuleFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut rules = Vec::new();
    for (i, raw) in file.segment.iter().enumerate() {
        let which = format!("segment {} ({:?})", i + 1, raw.name);
        if raw.name.trim().is_empty() {
            return Err(format!("segment {}: the name is empty", i + 1));
        }
        if rules.iter().any(|r: &SegmentRule| r.name == raw.name) {
            return Err(format!("{which}: the name is used twice"));
        }
        rules.push(SegmentRule {
            name: raw.name.clone(),
            r: raw.r.parse().map_err(|e| format!("{which}, r: {e}"))?,
            f: raw.f.parse().map_err(|e| format!("{which}, f: {e}"))?,
        });
    }
    check_cover(&rules)?;
    Ok(rules)
}

/// Every cell of the 5×5 grid must match exactly one rule; the error lists the cells that
/// match none and those that match several (with the rules).
fn check_cover(rules: &[SegmentRule]) -> std::result::Result<(), String> {
    let mut gaps = Vec::new();
    let mut overlaps = Vec::new();
    for r in 1..=5u8 {
        for f in 1..=5u8 {
            let matching: Vec<&str> = rules
                .iter()
                .filter(|s| (s.r.0..=s.r.1).contains(&r) && (s.f.0..=s.f.1).contains(&f))
                .map(|s| s.name.as_str())
                .collect();
            match matching.len() {
                0 => gaps.push(format!("R{r}F{f}")),
                1 => {}
                _ => overlaps.push(format!("R{r}F{f} ({})", matching.join(", "))),
            }
        }
    }
    let mut problems = Vec::new();
    if !gaps.is_empty() {
        problems.push(format!("cells with no segment: {}", gaps.join(", ")));
    }
    if !overlaps.is_empty() {
        problems.push(format!(
            "cells in more than one segment: {}",
            overlaps.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the rules must assign each of the 25 (R, F) cells exactly once; {}",
            problems.join("; ")
        ))
    }
}

/// The configured rule table, or the built-in one.
pub fn rules(config: &Config) -> Result<Vec<SegmentRule>> {
    match &config.rfm.segments {
        None => parse_rules(DEFAULT_SEGMENTS)
            .map_err(|e| Error::Query(format!("built-in RFM segments: {e}"))),
        Some(path) => load_rules(path),
    }
}

/// Reads and checks a rule table file.
pub fn load_rules(path: &Path) -> Result<Vec<SegmentRule>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: format!("cannot read the RFM segment rules: {e}"),
    })?;
    parse_rules(&text).map_err(|message| Error::Config {
        path: path.to_path_buf(),
        message: format!("RFM segment rules: {message}"),
    })
}

/// One RFM measure of the `measures` subquery and how it is scored.
struct Measure<'a> {
    /// Its number in the histogram and the prefix of its columns (`r_bucket`, `r_edge_1`…).
    id: u8,
    prefix: &'static str,
    column: &'static str,
    better_is_lower: bool,
    thresholds: Option<&'a Vec<f64>>,
}

impl Measure<'_> {
    /// SQL: the bucket of the measure's value, rising with its percentile rank (see the
    /// module doc). Recency and frequency are integers and never NULL (every customer here
    /// has a purchase): their value is their bucket.
    fn bucket(&self) -> String {
        match self.id {
            1 => format!("-cast({} as double)", self.column),
            2 => format!("cast({} as double)", self.column),
            _ => super::buckets::signed(self.column),
        }
    }

    /// SQL: customers of the same bucket ranked before this one; `None` when the bucket holds
    /// one value, so none are.
    fn within(&self) -> Option<String> {
        (self.id == 3).then(|| format!("{}_within", self.prefix))
    }

    /// SQL: the 1–5 score, by the configured thresholds or by percentile rank from the
    /// edges of the module doc (columns of `ranked` and `edges`).
    fn score(&self) -> String {
        let column = self.column;
        match self.thresholds {
            Some(t) if self.better_is_lower => format!(
                "case when {column} <= {} then 5 when {column} <= {} then 4 \
                 when {column} <= {} then 3 when {column} <= {} then 2 else 1 end",
                t[0], t[1], t[2], t[3]
            ),
            Some(t) => format!(
                "case when {column} >= {} then 5 when {column} >= {} then 4 \
                 when {column} >= {} then 3 when {column} >= {} then 2 else 1 end",
                t[3], t[2], t[1], t[0]
            ),
            None => {
                let p = self.prefix;
                let reached = (1..=4)
                    .map(|k| {
                        let same_bucket = match self.within() {
                            Some(w) => format!("{w} >= {p}_offset_{k}"),
                            None => format!("{p}_offset_{k} = 0"),
                        };
                        // A missing edge (NULL) is reached by no one: `else 0`.
                        format!(
                            "case when {p}_bucket > {p}_edge_{k} or ({p}_bucket = {p}_edge_{k} \
                             and {same_bucket}) then 1 else 0 end"
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" + ");
                format!("1 + {reached}")
            }
        }
    }
}

/// SQL of the CTEs `keyed`, `histogram`, `positions`, `edges` and `ranked` over `measures`
/// for the measures scored by percentile rank (see the module doc), to be followed by
/// `select … from ranked cross join edges`; `None` when every measure has thresholds.
fn ranking(measures: &[Measure]) -> Option<String> {
    let ranked: Vec<&Measure> = measures.iter().filter(|m| m.thresholds.is_none()).collect();
    if ranked.is_empty() {
        return None;
    }
    let buckets = ranked
        .iter()
        .map(|m| format!(", {} as {}_bucket", m.bucket(), m.prefix))
        .collect::<String>();
    let ids = ranked
        .iter()
        .map(|m| format!("({})", m.id))
        .collect::<Vec<_>>()
        .join(", ");
    let bucket_of = ranked
        .iter()
        .map(|m| format!("when {} then {}_bucket", m.id, m.prefix))
        .collect::<Vec<_>>()
        .join(" ");
    let edges = ranked
        .iter()
        .flat_map(|m| {
            (1..=4).map(move |k| {
                let this = format!("measure = {} and k = {k}", m.id);
                format!(
                    "max(case when {this} then bucket end) as {p}_edge_{k}, \
                     max(case when {this} then t - below end) as {p}_offset_{k}",
                    p = m.prefix
                )
            })
        })
        .collect::<Vec<_>>()
        .join(", ");
    let within = ranked
        .iter()
        .filter_map(|m| {
            m.within().map(|w| {
                format!(
                    ", cast(rank() over (partition by {p}_bucket order by {c}) as bigint) - 1 \
                     as {w}",
                    p = m.prefix,
                    c = m.column
                )
            })
        })
        .collect::<String>();
    // t = ⌈k·m / 5⌉ in integers: (k·m + 4) div 5, with m = `span`.
    Some(format!(
        "keyed as (select * {buckets} from measures), \
         histogram as ( \
           select u.column1 as measure, case u.column1 {bucket_of} end as bucket, \
             count(*) as customers \
           from keyed cross join (values {ids}) u group by 1, 2), \
         positions as ( \
           select measure, bucket, customers, \
             sum(customers) over (partition by measure order by bucket) - customers as below, \
             greatest(sum(customers) over (partition by measure) - 1, 1) as span \
           from histogram), \
         edges as ( \
           select {edges} \
           from (select p.*, e.column1 as k, (e.column1 * p.span + 4) / 5 as t \
                 from positions p cross join (values (1), (2), (3), (4)) e) \
           where below <= t and t < below + customers), \
         ranked as (select * {within} from keyed)"
    ))
}

/// The `rfm` and `rfm_grid` views.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    let rules = rules(env.config)?;
    let as_of = env.as_of_sql();
    let window = match env.config.rfm.lookback_days {
        Some(days) => format!("where purchase_date > {as_of} - interval '{days} days'"),
        None => String::new(),
    };
    let t = &env.config.rfm.thresholds;
    let measures = [
        Measure {
            id: 1,
            prefix: "r",
            column: "recency_days",
            better_is_lower: true,
            thresholds: t.recency.as_ref(),
        },
        Measure {
            id: 2,
            prefix: "f",
            column: "frequency",
            better_is_lower: false,
            thresholds: t.frequency.as_ref(),
        },
        Measure {
            id: 3,
            prefix: "m",
            column: "monetary",
            better_is_lower: false,
            thresholds: t.monetary.as_ref(),
        },
    ];
    let [r, f, m] = measures.each_ref().map(Measure::score);
    let (ranking, source) = match ranking(&measures) {
        Some(sql) => (format!("{sql},"), "ranked cross join edges"),
        None => (String::new(), "measures"),
    };
    let segment = rules
        .iter()
        .map(|s| {
            format!(
                "when r_score between {} and {} and f_score between {} and {} then {}",
                s.r.0,
                s.r.1,
                s.f.0,
                s.f.1,
                sql_string(&s.name)
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    let rfm = format!(
        "with measures as ( \
           select customer_id, \
             {as_of} - max(purchase_date) as recency_days, \
             count(*) as frequency, \
             sum(amount) as monetary \
           from purchases {window} group by customer_id), \
         {ranking} \
         scored as ( \
           select customer_id, recency_days, frequency, monetary, \
             cast({r} as int) as r_score, cast({f} as int) as f_score, \
             cast({m} as int) as m_score \
           from {source}) \
         select customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, \
           concat(r_score, f_score, m_score) as rfm_cell, \
           case {segment} end as rfm_segment \
         from scored"
    );
    let grid = format!(
        "select g.r_score, g.f_score, g.rfm_segment, \
           coalesce(s.customers, 0) as customers, coalesce(s.revenue, 0) as revenue \
         from (select r_score, f_score, case {segment} end as rfm_segment \
               from (select cast(r.column1 as int) as r_score, cast(f.column1 as int) as f_score \
                     from (values (1), (2), (3), (4), (5)) r \
                     cross join (values (1), (2), (3), (4), (5)) f)) g \
         left join (select r_score, f_score, count(*) as customers, sum(monetary) as revenue \
                    from rfm group by r_score, f_score) s \
           on g.r_score = s.r_score and g.f_score = s.f_score"
    );
    Ok(vec![
        View {
            name: "rfm",
            sql: rfm,
        },
        View {
            name: "rfm_grid",
            sql: grid,
        },
    ])
}

/// The segment a cell belongs to.
pub fn segment_of(rules: &[SegmentRule], r: u8, f: u8) -> Option<&str> {
    rules
        .iter()
        .find(|s| (s.r.0..=s.r.1).contains(&r) && (s.f.0..=s.f.1).contains(&f))
        .map(|s| s.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_table_is_the_ten_segment_map() {
        let rules = parse_rules(DEFAULT_SEGMENTS).unwrap();
        assert_eq!(rules.len(), 10);
        // PRODUCT.md, cell by cell.
        let expect = [
            (1, 1, "hibernating"),
            (2, 2, "hibernating"),
            (2, 3, "at risk"),
            (1, 4, "at risk"),
            (2, 5, "cannot lose them"),
            (3, 2, "about to sleep"),
            (3, 3, "need attention"),
            (3, 4, "loyal customers"),
            (4, 5, "loyal customers"),
            (4, 1, "promising"),
            (5, 1, "new customers"),
            (4, 2, "potential loyalists"),
            (5, 3, "potential loyalists"),
            (5, 4, "champions"),
            (5, 5, "champions"),
        ];
        for (r, f, name) in expect {
            assert_eq!(segment_of(&rules, r, f), Some(name), "R{r}F{f}");
        }
    }

    #[test]
    fn gaps_and_overlaps_are_listed() {
        let text = r#"
            [[segment]]
            name = "low"
            r = "1-3"
            f = "1-5"
            [[segment]]
            name = "high"
            r = "3-5"
            f = "2-5"
        "#;
        let err = parse_rules(text).unwrap_err();
        assert!(err.contains("cells with no segment: R4F1, R5F1"), "{err}");
        assert!(err.contains("R3F2 (low, high)"), "{err}");
        assert!(!err.contains("R3F1 ("), "{err}");
    }

    #[test]
    fn bad_ranges_are_named() {
        let text = "[[segment]]\nname = \"x\"\nr = \"0-2\"\nf = 1\n";
        let err = parse_rules(text).unwrap_err();
        assert!(err.contains("segment 1 (\"x\"), r: 0-2"), "{err}");
        let text = "[[segment]]\nname = \"x\"\nr = \"a\"\nf = 1\n";
        assert!(
            parse_rules(text)
                .unwrap_err()
                .contains("\"a\" is not a score")
        );
    }
}
