//! Churn and cohorts: the views `churn_monthly` and `cohort_retention` (definitions in
//! `views::retention`) over a period of months, whole or split by a customer dimension (the
//! views `churn_monthly_by` and `cohort_retention_by`), the cohorts also pivoted to a cohort
//! × month matrix.

use std::sync::Arc;

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;

use super::Months;
use super::dimensions::{CustomerDim, customer_split};
use crate::Result;
use crate::engine::Engine;

/// The monthly churn series of the months of `period`, whole or split by `by` into a
/// `value` column (one series per value).
pub async fn churn(engine: &Engine, by: Option<CustomerDim>, period: Months) -> Result<DataFrame> {
    engine
        .sql(&format!(
            "select * from {}{} order by month{}",
            customer_split("churn_monthly", by),
            period.filter("month"),
            if by.is_some() { ", value" } else { "" }
        ))
        .await
}

/// `value, ` when split, else empty.
fn value_key(by: Option<CustomerDim>) -> &'static str {
    if by.is_some() { "value, " } else { "" }
}

/// What a cohort figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortMetric {
    /// Customers with a purchase in the month (retention).
    Customers,
    /// Revenue in the month (revenue retention).
    Revenue,
}

/// The cohorts of `period` as a long table, one row per cohort and month (and value of `by`,
/// when split): every column, or only those of `metric`.
pub async fn cohorts(
    engine: &Engine,
    metric: Option<CohortMetric>,
    by: Option<CustomerDim>,
    period: Months,
) -> Result<DataFrame> {
    let key = value_key(by);
    let columns = match metric {
        None => "*".to_string(),
        Some(CohortMetric::Customers) => {
            format!("cohort, {key}months_since, month, cohort_size, customers, retention, retained")
        }
        Some(CohortMetric::Revenue) => {
            format!("cohort, {key}months_since, month, revenue, revenue_retention")
        }
    };
    let filter = period.filter("cohort");
    engine
        .sql(&format!(
            "select {columns} from {}{filter} order by cohort, {key}months_since",
            customer_split("cohort_retention", by)
        ))
        .await
}

/// The cohorts of `period` as a matrix: one row per cohort (and value of `by`, when split),
/// a column `m{k}` per month since the first purchase (cells after the month of as_of are
/// NULL), holding shares of month 0 or, `absolute`, counts of customers or revenue amounts.
/// The long table is computed once and kept in memory (one row per cohort and month: small),
/// as the number of columns depends on it.
pub async fn cohort_matrix(
    engine: &Engine,
    metric: CohortMetric,
    absolute: bool,
    by: Option<CustomerDim>,
    period: Months,
) -> Result<DataFrame> {
    let cell = match (metric, absolute) {
        (CohortMetric::Customers, false) => "retention",
        (CohortMetric::Customers, true) => "customers",
        (CohortMetric::Revenue, false) => "revenue_retention",
        (CohortMetric::Revenue, true) => "revenue",
    };
    let key = value_key(by);
    let filter = period.filter("cohort");
    let cells = engine
        .sql(&format!(
            "select cohort, {key}cohort_size, months_since, revenue, {cell} as cell \
             from {}{filter}",
            customer_split("cohort_retention", by)
        ))
        .await?;
    let schema = Arc::new(cells.schema().as_arrow().clone());
    let batches = cells.collect().await?;
    let mut months = 0;
    for b in &batches {
        if let Some(column) = b.column_by_name("months_since") {
            let column = column.as_primitive::<Int64Type>();
            months = column.iter().flatten().fold(months, i64::max);
        }
    }
    let table = MemTable::try_new(schema, vec![batches])?;
    let columns = (0..=months)
        .map(|k| format!("max(case when months_since = {k} then cell end) as m{k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let head = match metric {
        CohortMetric::Customers => format!("cohort, {key}cohort_size"),
        CohortMetric::Revenue => format!(
            "cohort, {key}cohort_size, \
             max(case when months_since = 0 then revenue end) as cohort_revenue"
        ),
    };
    let ctx = engine.context();
    // A second matrix on the same engine replaces the first one's cells.
    ctx.deregister_table("cohort_cells")?;
    ctx.register_table("cohort_cells", Arc::new(table))?;
    Ok(ctx
        .sql(&format!(
            "select {head}, {columns} from cohort_cells group by cohort, {key}cohort_size \
             order by cohort{}",
            if by.is_some() { ", value" } else { "" }
        ))
        .await?)
}
