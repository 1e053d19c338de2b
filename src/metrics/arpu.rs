//! ARPU and the customer base by month: the view `customer_base_monthly`, whole or split by
//! a customer dimension (definitions in `views::arpu`).

use datafusion::dataframe::DataFrame;

use super::Months;
use crate::Result;
use crate::engine::Engine;
use crate::views::arpu::base_monthly_sql;

pub use crate::views::arpu::DIMENSIONS;

/// The customer base per month of `period`, whole or split by `by` (one of [`DIMENSIONS`])
/// into a `value` column.
pub async fn base_monthly(engine: &Engine, by: Option<&str>, period: Months) -> Result<DataFrame> {
    let as_of = engine.as_of().await?;
    let env = engine.view_env(as_of).await?;
    let order = if by.is_some() {
        "month, value"
    } else {
        "month"
    };
    let sql = format!(
        "select * from ({}) where {} order by {order}",
        base_monthly_sql(&env, by)?,
        period.condition("month")
    );
    engine.sql(&sql).await
}
