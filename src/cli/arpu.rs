//! `crmlens arpu`: the view `customer_base_monthly`, whole or split by a customer dimension
//! (definitions in `views::arpu`).

use super::GlobalArgs;
use super::sales::MonthsShown;
use crate::Result;
use crate::views::arpu::{DIMENSIONS, base_monthly_sql};

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
purchase) or segment (the RFM segment at as_of); the groups add up to the whole. The whole
base is the view customer_base_monthly of `crmlens sql`.")]
pub struct Args {
    /// Split by one of region, country, kind, source, channel, segment
    #[arg(long, value_name = "DIM", value_parser = clap::builder::PossibleValuesParser::new(DIMENSIONS))]
    by: Option<String>,
    #[command(flatten)]
    months: MonthsShown,
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let filter = args.months.filter("month")?;
    let config = global.config()?;
    let output = global.output(args.months.max_rows);
    let engine = crate::engine::Engine::open(&config).await?;
    let as_of = engine.as_of().await?;
    let env = engine.view_env(as_of).await?;
    let order = if args.by.is_some() {
        "month, value"
    } else {
        "month"
    };
    let sql = format!(
        "select * from ({}) where {filter} order by {order}",
        base_monthly_sql(&env, args.by.as_deref())?
    );
    let rows = crate::output::write_dataframe(engine.sql(&sql).await?, &output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}
