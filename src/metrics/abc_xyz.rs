//! ABC / XYZ classes of customers or products (views `customer_abc_xyz`, `product_abc_xyz`;
//! definitions in `views::abc_xyz`), or their 3×3 matrix.

use datafusion::dataframe::DataFrame;

use crate::Result;
use crate::engine::Engine;
use crate::views::abc_xyz::summary_sql;

pub use crate::views::abc_xyz::Entity;

/// One row per customer or product with its classes, largest revenue first.
pub async fn classes(engine: &Engine, entity: Entity) -> Result<DataFrame> {
    require(engine, entity)?;
    engine
        .sql(&format!(
            "select * from {} order by revenue desc, {}",
            entity.view(),
            entity.key()
        ))
        .await
}

/// The ABC×XYZ matrix: items and revenue per cell, all nine cells (then items without an
/// XYZ class, per ABC class).
pub async fn matrix(engine: &Engine, entity: Entity) -> Result<DataFrame> {
    require(engine, entity)?;
    engine.sql(&summary_sql(entity)).await
}

fn require(engine: &Engine, entity: Entity) -> Result<()> {
    engine.require(&format!("ABC / XYZ by {}", entity.noun()), entity.tables())
}
