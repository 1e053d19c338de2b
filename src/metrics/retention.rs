//! Churn and cohorts: the views `churn_monthly` and `cohort_retention` (definitions in
//! `views::retention`) over a period of months, the cohorts also pivoted to a cohort × month
//! matrix.

use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;

use super::Months;
use crate::Result;
use crate::engine::Engine;

/// The monthly churn series of the months of `period`.
pub async fn churn(engine: &Engine, period: Months) -> Result<DataFrame> {
    let filter = period.filter("month");
    engine
        .sql(&format!(
            "select * from churn_monthly{filter} order by month"
        ))
        .await
}

/// What a cohort figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortMetric {
    /// Customers with a purchase in the month (retention).
    Customers,
    /// Revenue in the month (revenue retention).
    Revenue,
}

/// The cohorts of `period` as a long table, one row per cohort and month: every column, or
/// only those of `metric`.
pub async fn cohorts(
    engine: &Engine,
    metric: Option<CohortMetric>,
    period: Months,
) -> Result<DataFrame> {
    let columns = match metric {
        None => "*",
        Some(CohortMetric::Customers) => {
            "cohort, months_since, month, cohort_size, customers, retention, retained"
        }
        Some(CohortMetric::Revenue) => "cohort, months_since, month, revenue, revenue_retention",
    };
    let filter = period.filter("cohort");
    engine
        .sql(&format!(
            "select {columns} from cohort_retention{filter} order by cohort, months_since"
        ))
        .await
}

/// The cohorts of `period` as a matrix: one row per cohort, a column `m{k}` per month since
/// the first purchase (cells after the month of as_of are NULL), holding shares of month 0
/// or, `absolute`, counts of customers or revenue amounts. The long table is computed once
/// and kept in memory (one row per cohort and month: small), as the number of columns
/// depends on it.
pub async fn cohort_matrix(
    engine: &Engine,
    metric: CohortMetric,
    absolute: bool,
    period: Months,
) -> Result<DataFrame> {
    let value = match (metric, absolute) {
        (CohortMetric::Customers, false) => "retention",
        (CohortMetric::Customers, true) => "customers",
        (CohortMetric::Revenue, false) => "revenue_retention",
        (CohortMetric::Revenue, true) => "revenue",
    };
    let filter = period.filter("cohort");
    let cells = engine
        .sql(&format!(
            "select cohort, cohort_size, months_since, revenue, {value} as value \
             from cohort_retention{filter}"
        ))
        .await?;
    let schema = Arc::new(cells.schema().as_arrow().clone());
    let batches = cells.collect().await?;
    let mut months = 0;
    for b in &batches {
        let column = b.column(2).as_primitive::<Int64Type>();
        months = column.iter().flatten().fold(months, i64::max);
    }
    let table = MemTable::try_new(schema, vec![batches])?;
    let columns = (0..=months)
        .map(|k| format!("max(case when months_since = {k} then value end) as m{k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let head = match metric {
        CohortMetric::Customers => "cohort, cohort_size",
        CohortMetric::Revenue => {
            "cohort, cohort_size, \
             max(case when months_since = 0 then revenue end) as cohort_revenue"
        }
    };
    let ctx = engine.context();
    // A second matrix on the same engine replaces the first one's cells.
    ctx.deregister_table("cohort_cells")?;
    ctx.register_table("cohort_cells", Arc::new(table))?;
    Ok(ctx
        .sql(&format!(
            "select {head}, {columns} from cohort_cells group by cohort, cohort_size \
             order by cohort"
        ))
        .await?)
}
