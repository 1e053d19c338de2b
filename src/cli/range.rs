//! `--from` / `--to`: a period given as two optional days ([`Days`]) or months ([`Months`]),
//! the one definition of those arguments for every command that takes a period. Each command
//! words what the ends mean for it with `mut_arg` (e.g. "First deal creation date included").

use chrono::{Datelike, NaiveDate};

use crate::{Error, Result};

/// `--from DATE` / `--to DATE`, both ends included.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Days {
    /// First day included, YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day included, YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
}

/// `--from MONTH` / `--to MONTH` (YYYY-MM, or any date in the month), both months included;
/// each end is the first day of its month.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Months {
    /// First month shown, YYYY-MM (or any date in it)
    #[arg(long, value_name = "MONTH", value_parser = parse_month)]
    pub from: Option<NaiveDate>,
    /// Last month shown, YYYY-MM (or any date in it)
    #[arg(long, value_name = "MONTH", value_parser = parse_month)]
    pub to: Option<NaiveDate>,
}

impl Days {
    /// A usage error when `--from` is after `--to`.
    pub fn check(&self) -> Result<()> {
        check(self.from, self.to, "%Y-%m-%d")
    }

    /// The period's conditions on a date column (none for an open period), checked.
    pub fn conditions(&self, column: &str) -> Result<Vec<String>> {
        self.check()?;
        Ok(conditions(column, self.from, self.to))
    }
}

impl Months {
    /// A usage error when `--from` is after `--to`.
    pub fn check(&self) -> Result<()> {
        check(self.from, self.to, "%Y-%m")
    }

    /// `COLUMN >= … and COLUMN <= …` over a month column (`true` for an open period),
    /// checked.
    pub fn condition(&self, column: &str) -> Result<String> {
        self.check()?;
        let conditions = conditions(column, self.from, self.to);
        Ok(if conditions.is_empty() {
            "true".to_string()
        } else {
            conditions.join(" and ")
        })
    }

    /// ` where COLUMN >= … and COLUMN <= …` over a month column (empty for an open period),
    /// checked.
    pub fn filter(&self, column: &str) -> Result<String> {
        self.check()?;
        let conditions = conditions(column, self.from, self.to);
        Ok(if conditions.is_empty() {
            String::new()
        } else {
            format!(" where {}", conditions.join(" and "))
        })
    }
}

fn check(from: Option<NaiveDate>, to: Option<NaiveDate>, shown: &str) -> Result<()> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(Error::Usage(format!(
            "--from {} is after --to {}",
            f.format(shown),
            t.format(shown)
        ))),
        _ => Ok(()),
    }
}

fn conditions(column: &str, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(f) = from {
        out.push(format!("{column} >= DATE '{}'", f.format("%Y-%m-%d")));
    }
    if let Some(t) = to {
        out.push(format!("{column} <= DATE '{}'", t.format("%Y-%m-%d")));
    }
    out
}

/// A month given as `YYYY-MM` or as any date `YYYY-MM-DD` in it: its first day.
pub fn parse_month(s: &str) -> std::result::Result<NaiveDate, String> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d"))
        .map(|d| d.with_day(1).unwrap_or(d))
        .map_err(|_| format!("{s:?} is not a month YYYY-MM (or a date YYYY-MM-DD)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_to_their_first_day() {
        let jan = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        assert_eq!(parse_month("2025-01"), Ok(jan));
        assert_eq!(parse_month("2025-01-17"), Ok(jan));
        assert!(parse_month("2025-13").is_err());
        assert!(parse_month("January").is_err());
    }

    #[test]
    fn from_after_to_is_a_usage_error() {
        let a = parse_month("2025-03").ok();
        let b = parse_month("2025-01").ok();
        assert!(matches!(
            Months { from: a, to: b }.filter("month"),
            Err(Error::Usage(_))
        ));
        assert_eq!(
            Months { from: b, to: a }.filter("month").unwrap(),
            " where month >= DATE '2025-01-01' and month <= DATE '2025-03-01'"
        );
    }

    #[test]
    fn date_range_is_inclusive_and_checked() {
        let a = NaiveDate::from_ymd_opt(2025, 1, 1);
        let b = NaiveDate::from_ymd_opt(2025, 3, 31);
        assert_eq!(
            Days { from: a, to: b }
                .conditions("d")
                .unwrap()
                .join(" and "),
            "d >= DATE '2025-01-01' and d <= DATE '2025-03-31'"
        );
        assert!(
            Days {
                from: None,
                to: None
            }
            .conditions("d")
            .unwrap()
            .is_empty()
        );
        assert!(matches!(
            Days { from: b, to: a }.conditions("d"),
            Err(Error::Usage(_))
        ));
    }
}
