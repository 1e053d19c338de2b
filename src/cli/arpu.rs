//! `crmlens arpu`: arguments for [`crate::metrics::arpu`].

use super::customer_by::CustomerBy;
use super::sales::MonthsShown;
use super::{GlobalArgs, open, write};
use crate::Result;
use crate::metrics::arpu::base_monthly;

/// ARPU and the customer base by month
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens arpu --dataset datasets/demo                 the whole base, month by month
  crmlens arpu --by region --from 2025-01 --to 2025-12
  crmlens arpu --by channel --format csv               by acquisition channel

Per month (measured at its end, or at as_of in the month of as_of): customers (created or
purchased by then), active_customers (a purchase within [churn] inactive_days), buyers,
new_customers (first purchase that month), returning_customers, orders, revenue, arpu =
revenue ÷ customers, revenue_per_active, revenue_per_buyer. --by splits by one customer
attribute: region, country, kind, source (acquisition_source), channel (of the first
purchase) or segment (the RFM segment at as_of); the groups add up to the whole. The same
figures are the views customer_base_monthly (whole) and customer_base_monthly_by (every
split, with a dimension column) of `crmlens sql`.")]
pub struct Args {
    #[command(flatten)]
    by: CustomerBy,
    #[command(flatten)]
    months: MonthsShown,
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let period = args.months.period()?;
    let engine = open(global).await?;
    let df = base_monthly(&engine, args.by.by, period).await?;
    write(global, args.months.max_rows, df).await
}
