//! ARPU and the customer base by month: the view `customer_base_monthly`, whole or split by
//! a customer dimension (`customer_base_monthly_by`; definitions in `views::arpu`).

use datafusion::dataframe::DataFrame;

use super::Months;
use super::dimensions::{CustomerDim, customer_split};
use crate::Result;
use crate::engine::Engine;

/// The customer base per month of `period`, whole or split by `by` into a `value` column.
pub async fn base_monthly(
    engine: &Engine,
    by: Option<CustomerDim>,
    period: Months,
) -> Result<DataFrame> {
    let order = if by.is_some() {
        "month, value"
    } else {
        "month"
    };
    engine
        .sql(&format!(
            "select * from {} where {} order by {order}",
            customer_split("customer_base_monthly", by),
            period.condition("month")
        ))
        .await
}
