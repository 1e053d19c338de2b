//! `crmlens features` and `crmlens rfm`: arguments for [`crate::metrics::value`].

use super::{GlobalArgs, open, write};
use crate::Result;
use crate::metrics::value::{self, RfmTable};

/// Print the per-customer feature view (`customer_features`)
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens features --dataset datasets/demo
  crmlens features --where \"rfm_segment = 'champions'\" --format csv --output champions.csv
  crmlens features --columns customer_id,recency_days,frequency,monetary --format json

The same view is available to SQL: crmlens sql \"select … from customer_features where …\"")]
pub struct FeaturesArgs {
    /// Only customers matching this SQL condition over the view's columns
    #[arg(long = "where", value_name = "SQL")]
    filter: Option<String>,
    /// Comma-separated columns to print [default: all]
    #[arg(long, value_name = "COLS", value_delimiter = ',')]
    columns: Vec<String>,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn features(global: &GlobalArgs, args: FeaturesArgs) -> Result<u8> {
    let engine = open(global).await?;
    let df = value::features(&engine, args.filter.as_deref(), &args.columns).await?;
    write(global, args.max_rows, df).await
}

/// RFM scores and segments (view `rfm`), the segment summary, or the 5×5 R×F grid
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens rfm --dataset datasets/demo                  per-segment summary
  crmlens rfm --customers --format csv --output rfm.csv
  crmlens rfm --grid --format json                     the R×F grid the report draws

Scores are 1–5 by least(5, 1 + floor(5 × percent_rank())), better is higher; configure a
lookback, fixed thresholds or your own segment rules in crmlens.toml ([rfm]).")]
pub struct RfmArgs {
    /// One row per customer: recency_days, frequency, monetary, scores, segment
    #[arg(long, conflicts_with = "grid")]
    customers: bool,
    /// The 5×5 R×F grid: customers and revenue per (r_score, f_score) cell
    #[arg(long)]
    grid: bool,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn rfm(global: &GlobalArgs, args: RfmArgs) -> Result<u8> {
    let table = if args.customers {
        RfmTable::Customers
    } else if args.grid {
        RfmTable::Grid
    } else {
        RfmTable::Segments
    };
    let engine = open(global).await?;
    write(global, args.max_rows, value::rfm(&engine, table).await?).await
}
