//! `--from` / `--to`: a period given as two optional days ([`DayArgs`]) or months
//! ([`MonthArgs`]), the one definition of those arguments for every command that takes a
//! period, read into the library's [`metrics::Days`] / [`metrics::Months`]. Each command
//! words what the ends mean for it with `mut_arg` (e.g. "First deal creation date included").

use chrono::NaiveDate;

use crate::Result;
use crate::metrics;
use crate::metrics::period::parse_month;

/// `--from DATE` / `--to DATE`, both ends included.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct DayArgs {
    /// First day included, YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day included, YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    pub to: Option<NaiveDate>,
}

/// `--from MONTH` / `--to MONTH` (YYYY-MM, or any date in the month), both months included.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct MonthArgs {
    /// First month shown, YYYY-MM (or any date in it)
    #[arg(long, value_name = "MONTH", value_parser = parse_month)]
    pub from: Option<NaiveDate>,
    /// Last month shown, YYYY-MM (or any date in it)
    #[arg(long, value_name = "MONTH", value_parser = parse_month)]
    pub to: Option<NaiveDate>,
}

impl DayArgs {
    /// The period; a usage error when `--from` is after `--to`.
    pub fn period(&self) -> Result<metrics::Days> {
        metrics::Days::new(self.from, self.to)
    }
}

impl MonthArgs {
    /// The period; a usage error when `--from` is after `--to`.
    pub fn period(&self) -> Result<metrics::Months> {
        metrics::Months::new(self.from, self.to)
    }
}
