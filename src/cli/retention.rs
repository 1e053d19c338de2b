//! `crmlens churn` and `crmlens cohorts`: arguments for [`crate::metrics::retention`].

use super::customer_by::CustomerBy;
use super::range::MonthArgs;
use super::{GlobalArgs, open, write};
use crate::Result;
use crate::metrics::retention::{self, CohortMetric};

/// Monthly churn series (view `churn_monthly`)
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens churn --dataset datasets/demo
  crmlens churn --from 2025-01 --to 2025-06 --format json
  crmlens churn --as-of 2025-06-30 --format csv --output churn.csv
  crmlens churn --by segment --from 2025-01              one series per RFM segment

One row per calendar month from the first purchase through the month of as_of: customers
active at the start (a purchase within churn.inactive_days up to the last day of the previous
month), new, reactivated, churned (active at the start, not at the end), lapsed (new or
reactivated but inactive again by the end), active at the end, and churn_rate = churned ÷
active_at_start. active_at_end = active_at_start − churned + new + reactivated − lapsed.
Configure the window in crmlens.toml ([churn] inactive_days, default 180). --by splits the
series by one customer attribute (a value column; each value's series starts with its first
purchase month); the values of a month add up to the whole. The same figures are the views
churn_monthly and churn_monthly_by (every split, with a dimension column) of `crmlens sql`.")]
pub struct ChurnArgs {
    #[command(flatten)]
    by: CustomerBy,
    #[command(flatten)]
    period: MonthArgs,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn churn(global: &GlobalArgs, args: ChurnArgs) -> Result<u8> {
    let period = args.period.period()?;
    let engine = open(global).await?;
    write(
        global,
        args.max_rows,
        retention::churn(&engine, args.by.by, period).await?,
    )
    .await
}

/// Monthly first-purchase cohorts (view `cohort_retention`)
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens cohorts --dataset datasets/demo              the long table, one row per cell
  crmlens cohorts --matrix                             retention: one row per cohort, m0, m1, …
  crmlens cohorts --matrix --metric revenue            revenue retention (÷ month-0 revenue)
  crmlens cohorts --matrix --absolute --format csv     customers with a purchase per cell
  crmlens cohorts --from 2025-01 --metric revenue --format json
  crmlens cohorts --matrix --by channel                one row per cohort and channel

A cohort is the month of a customer's first purchase; cell (cohort, k) is the share of the
cohort with a purchase in month cohort + k (customers), or the cohort's revenue in that month
÷ its revenue in month 0 (revenue). Every cell up to the month of as_of is present, empty
ones as 0. `retained` counts the members still active (churn window) at that month's end.
--by splits every cohort by one customer attribute (a value column after cohort); the values
of a cohort add up to it. The same figures are the views cohort_retention and
cohort_retention_by (every split, with a dimension column) of `crmlens sql`.")]
#[command(mut_arg("from", |a| a.help("First cohort shown, YYYY-MM (or any date in it)")), mut_arg("to", |a| a.help("Last cohort shown, YYYY-MM (or any date in it)")))]
pub struct CohortsArgs {
    /// The measure: customers (retention) or revenue (revenue retention); in the long table it
    /// keeps only that measure's columns [default: all columns, customers in the matrix]
    #[arg(long, value_enum, value_name = "METRIC")]
    metric: Option<Metric>,
    /// Pivot to one row per cohort with columns m0, m1, … (months since the first purchase)
    #[arg(long)]
    matrix: bool,
    /// Matrix cells as counts of customers or revenue amounts instead of shares
    #[arg(long, requires = "matrix")]
    absolute: bool,
    #[command(flatten)]
    by: CustomerBy,
    #[command(flatten)]
    period: MonthArgs,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

/// What `crmlens cohorts` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Metric {
    /// Customers with a purchase in the month (retention)
    Customers,
    /// Revenue in the month (revenue retention)
    Revenue,
}

impl From<Metric> for CohortMetric {
    fn from(m: Metric) -> CohortMetric {
        match m {
            Metric::Customers => CohortMetric::Customers,
            Metric::Revenue => CohortMetric::Revenue,
        }
    }
}

pub async fn cohorts(global: &GlobalArgs, args: CohortsArgs) -> Result<u8> {
    let period = args.period.period()?;
    let metric = args.metric.map(CohortMetric::from);
    let engine = open(global).await?;
    let df = if args.matrix {
        let metric = metric.unwrap_or(CohortMetric::Customers);
        retention::cohort_matrix(&engine, metric, args.absolute, args.by.by, period).await?
    } else {
        retention::cohorts(&engine, metric, args.by.by, period).await?
    };
    write(global, args.max_rows, df).await
}
