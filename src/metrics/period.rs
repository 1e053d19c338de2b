//! A period given as two optional days ([`Days`]) or months ([`Months`]), both ends
//! included: the one definition of the period every metric takes, checked once when it is
//! made (a first end after the last is a usage error), so a metric never sees a backwards
//! period.

use chrono::{Datelike, NaiveDate};

use crate::{Error, Result};

/// Days `from` to `to`, both included; an end left open is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Days {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// Months `from` to `to`, both included; each end is the first day of its month, an end left
/// open is unbounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Months {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl Days {
    /// The period, or a usage error when `from` is after `to`.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Days> {
        check(from, to, "%Y-%m-%d")?;
        Ok(Days { from, to })
    }

    pub fn from(&self) -> Option<NaiveDate> {
        self.from
    }

    pub fn to(&self) -> Option<NaiveDate> {
        self.to
    }

    /// The period's conditions on a date column (none for an open period).
    pub fn conditions(&self, column: &str) -> Vec<String> {
        conditions(column, self.from, self.to)
    }
}

impl Months {
    /// The months of `from` to `to` (any day of each), or a usage error when `from` is after
    /// `to`.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Months> {
        let first = |d: NaiveDate| d.with_day(1).unwrap_or(d);
        let (from, to) = (from.map(first), to.map(first));
        check(from, to, "%Y-%m")?;
        Ok(Months { from, to })
    }

    /// The first day of the first month.
    pub fn from(&self) -> Option<NaiveDate> {
        self.from
    }

    /// The first day of the last month.
    pub fn to(&self) -> Option<NaiveDate> {
        self.to
    }

    /// `COLUMN >= … and COLUMN <= …` over a month column (`true` for an open period).
    pub fn condition(&self, column: &str) -> String {
        let conditions = conditions(column, self.from, self.to);
        if conditions.is_empty() {
            "true".to_string()
        } else {
            conditions.join(" and ")
        }
    }

    /// ` where COLUMN >= … and COLUMN <= …` over a month column (empty for an open period).
    pub fn filter(&self, column: &str) -> String {
        let conditions = conditions(column, self.from, self.to);
        if conditions.is_empty() {
            String::new()
        } else {
            format!(" where {}", conditions.join(" and "))
        }
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
        assert!(matches!(Months::new(a, b), Err(Error::Usage(_))));
        assert_eq!(
            Months::new(b, a).unwrap().filter("month"),
            " where month >= DATE '2025-01-01' and month <= DATE '2025-03-01'"
        );
    }

    #[test]
    fn date_range_is_inclusive_and_checked() {
        let a = NaiveDate::from_ymd_opt(2025, 1, 1);
        let b = NaiveDate::from_ymd_opt(2025, 3, 31);
        assert_eq!(
            Days::new(a, b).unwrap().conditions("d").join(" and "),
            "d >= DATE '2025-01-01' and d <= DATE '2025-03-31'"
        );
        assert!(Days::default().conditions("d").is_empty());
        assert!(matches!(Days::new(b, a), Err(Error::Usage(_))));
    }
}
