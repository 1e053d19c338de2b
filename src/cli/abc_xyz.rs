//! `crmlens abc-xyz`: arguments for [`crate::metrics::abc_xyz`].

use super::{GlobalArgs, open, write};
use crate::Result;
use crate::metrics::abc_xyz::{Entity, classes, matrix};

/// ABC / XYZ classes of customers or products, or the ABC×XYZ matrix
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens abc-xyz --dataset datasets/demo              one row per customer, largest first
  crmlens abc-xyz --by product --format csv --output products.csv
  crmlens abc-xyz --summary --format json              the 3×3 matrix: counts and revenue

ABC: items by revenue (all history to as_of), descending; cumulative share ≤ a → A, ≤ b → B,
else C. XYZ: coefficient of variation of monthly revenue over the last xyz_months calendar
months (the month of as_of included); ≤ x → X, ≤ y → Y, else Z; no revenue there → no class.
Thresholds in crmlens.toml ([abc_xyz] a, b, x, y, xyz_months). The same figures are the
views customer_abc_xyz and product_abc_xyz of `crmlens sql`.")]
pub struct Args {
    /// Classify customers, or products (needs the order_items table)
    #[arg(long, value_enum, default_value_t = By::Customer)]
    by: By,
    /// The ABC×XYZ matrix: items and revenue per cell, all nine cells (then items without
    /// an XYZ class, per ABC class)
    #[arg(long)]
    summary: bool,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum By {
    Customer,
    Product,
}

impl From<By> for Entity {
    fn from(by: By) -> Entity {
        match by {
            By::Customer => Entity::Customer,
            By::Product => Entity::Product,
        }
    }
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let entity = Entity::from(args.by);
    let engine = open(global).await?;
    let df = if args.summary {
        matrix(&engine, entity).await?
    } else {
        classes(&engine, entity).await?
    };
    write(global, args.max_rows, df).await
}
