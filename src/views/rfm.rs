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

/// The score of one measure: by percentile rank, or by the configured thresholds.
fn score(column: &str, better_is_lower: bool, thresholds: Option<&Vec<f64>>) -> String {
    match thresholds {
        None => {
            let order = if better_is_lower { "desc" } else { "asc" };
            // rank() is unsigned and count(*) signed: without the cast they meet as
            // Decimal(20, 0), the division is fractional and only `cast(… as int)` truncates
            // it, which DataFusion's optimizer drops from a comparison (`where r_score <= 2`
            // then compared the fraction). In bigint the division is the integer one.
            format!(
                "least(5, 1 + (5 * (cast(rank() over (order by {column} {order}) as bigint) - 1)) \
                 / greatest(count(*) over () - 1, 1))"
            )
        }
        Some(t) if better_is_lower => format!(
            "case when {column} <= {} then 5 when {column} <= {} then 4 \
             when {column} <= {} then 3 when {column} <= {} then 2 else 1 end",
            t[0], t[1], t[2], t[3]
        ),
        Some(t) => format!(
            "case when {column} >= {} then 5 when {column} >= {} then 4 \
             when {column} >= {} then 3 when {column} >= {} then 2 else 1 end",
            t[3], t[2], t[1], t[0]
        ),
    }
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
    let r = score("recency_days", true, t.recency.as_ref());
    let f = score("frequency", false, t.frequency.as_ref());
    let m = score("monetary", false, t.monetary.as_ref());
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
         scored as ( \
           select customer_id, recency_days, frequency, monetary, \
             cast({r} as int) as r_score, cast({f} as int) as f_score, \
             cast({m} as int) as m_score \
           from measures) \
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
