//! `crmlens features` and `crmlens rfm`: the customer feature view and RFM.

use super::{GlobalArgs, show_sql};
use crate::Result;

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
    let columns = if args.columns.is_empty() {
        "*".to_string()
    } else {
        args.columns
            .iter()
            .map(|c| format!("\"{}\"", c.trim().replace('"', "")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let filter = args
        .filter
        .map(|f| format!(" where {f}"))
        .unwrap_or_default();
    let sql = format!("select {columns} from customer_features{filter} order by customer_id");
    show_sql(global, &sql, args.max_rows).await
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
    let sql = if args.customers {
        "select * from rfm order by customer_id"
    } else if args.grid {
        "select * from rfm_grid order by r_score desc, f_score"
    } else {
        "select rfm_segment, count(*) as customers, \
           cast(count(*) as double) / sum(count(*)) over () as customer_share, \
           sum(monetary) as revenue, sum(monetary) / sum(sum(monetary)) over () as revenue_share, \
           avg(recency_days) as avg_recency_days, avg(frequency) as avg_frequency, \
           avg(monetary) as avg_monetary \
         from rfm group by rfm_segment order by revenue desc"
    };
    show_sql(global, sql, args.max_rows).await
}
