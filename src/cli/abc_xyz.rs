//! `crmlens abc-xyz`: the ABC / XYZ classes of customers or products (views
//! `customer_abc_xyz`, `product_abc_xyz`), or their 3×3 matrix.

use super::GlobalArgs;
use crate::Result;
use crate::engine::Engine;
use crate::output::write_dataframe;
use crate::views::abc_xyz::{Entity, summary_sql};

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
    let config = global.config()?;
    let output = global.output(args.max_rows);
    let entity = Entity::from(args.by);
    let engine = Engine::open(&config).await?;
    engine.require(&format!("ABC / XYZ by {}", entity.noun()), entity.tables())?;
    let sql = if args.summary {
        summary_sql(entity)
    } else {
        format!(
            "select * from {} order by revenue desc, {}",
            entity.view(),
            entity.key()
        )
    };
    let rows = write_dataframe(engine.sql(&sql).await?, &output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}
