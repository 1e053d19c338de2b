//! Manager KPIs (the KPI table of `views::managers`, over the default period or a given one)
//! and plan vs actual (the view `plan_actual` rolled up by month, manager, department or
//! product category).

use chrono::Datelike;
use datafusion::dataframe::DataFrame;

use super::dimensions::{Dimension, keys};
use super::{Days, Months, where_clause};
use crate::columns::texts;
use crate::engine::Engine;
use crate::hint::closest;
use crate::views::managers::{Period, items_known, kpis_sql, plan_rollup_sql, unassigned_sql};
use crate::views::{ViewEnv, sql_string};
use crate::{Error, Result};

/// Which managers and days the KPIs cover.
#[derive(Debug, Clone, Default)]
pub struct KpiFilter {
    /// The days [default: the 30 days ending at as_of; a missing `from` is 29 days before
    /// `to`].
    pub period: Days,
    /// Only this manager (manager_id; an unknown one is a usage error).
    pub manager: Option<String>,
    /// Only the managers of this department (an unknown one is a usage error).
    pub department: Option<String>,
}

/// The tables the KPIs read.
const KPI_TABLES: &[&str] = &["managers", "activities", "deals"];

/// One row per manager of `filter`, by department and manager; deals and orders of the
/// period without a manager are logged.
pub async fn kpis(engine: &Engine, filter: &KpiFilter) -> Result<DataFrame> {
    engine.require("manager KPIs", KPI_TABLES)?;
    let as_of = engine.as_of().await?;
    let period = Period::new(filter.period.from(), filter.period.to(), as_of)?;
    let env = engine.view_env(as_of).await?;
    let mut conditions = Vec::new();
    if let Some(id) = &filter.manager {
        check_known(engine, "manager_id", id, "--manager").await?;
        conditions.push(format!("manager_id = {}", sql_string(id)));
    }
    if let Some(dept) = &filter.department {
        check_known(engine, "department", dept, "--department").await?;
        conditions.push(format!("department = {}", sql_string(dept)));
    }
    warn_unassigned(engine, &env, period).await?;
    let sql = format!(
        "select * from ({}) k{} order by department nulls last, manager_id",
        kpis_sql(&env, period)?,
        where_clause(&conditions)
    );
    engine.sql(&sql).await
}

/// Fails with a usage error naming the value (and the closest known one) when no manager has
/// it in `column` of `managers`.
async fn check_known(engine: &Engine, column: &str, value: &str, flag: &str) -> Result<()> {
    let batches = engine
        .query(&format!(
            "select distinct cast({column} as varchar) as v from managers \
             where {column} is not null order by v"
        ))
        .await?;
    let known: Vec<String> = texts(&batches, 0)?.into_iter().flatten().collect();
    if known.iter().any(|k| k == value) {
        return Ok(());
    }
    let hint = match closest(value, known.iter().map(String::as_str)) {
        Some(best) => format!(", did you mean {best:?}?"),
        None if known.len() <= 12 => format!(" (known: {})", known.join(", ")),
        None => format!(" ({} known values in managers.{column})", known.len()),
    };
    Err(Error::Usage(format!(
        "{flag} {value:?}: no manager has {column} {value:?}{hint}"
    )))
}

/// Deals and orders of the period without a manager are nobody's KPI: says how many.
async fn warn_unassigned(engine: &Engine, env: &ViewEnv<'_>, period: Period) -> Result<()> {
    let counts = super::counts(engine, &unassigned_sql(env, period)?).await?;
    let value = |i: usize| counts.get(i).copied().unwrap_or(0);
    let (deals, orders) = (value(0), value(1));
    if deals > 0 {
        log::warn!(
            "{deals} deal(s) created or closed in the period have no manager_id and are in no \
             manager's row"
        );
    }
    if orders > 0 {
        log::info!(
            "{orders} purchased order(s) in the period have no manager_id (not credited to a \
             manager)"
        );
    }
    Ok(())
}

/// A dimension of plan vs actual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanDim {
    /// The plan month.
    Month,
    /// The manager (NULL: department targets).
    Manager,
    /// The department.
    Department,
    /// The product category (NULL: targets over all categories).
    ProductCategory,
}

impl Dimension for PlanDim {
    const ALL: &'static [PlanDim] = &[
        PlanDim::Month,
        PlanDim::Manager,
        PlanDim::Department,
        PlanDim::ProductCategory,
    ];

    fn name(self) -> &'static str {
        match self {
            PlanDim::Month => "month",
            PlanDim::Manager => "manager",
            PlanDim::Department => "department",
            PlanDim::ProductCategory => "product_category",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            PlanDim::Month => "month",
            PlanDim::Manager => "manager_id",
            PlanDim::Department => "department",
            PlanDim::ProductCategory => "product_category",
        }
    }
}

/// Plan vs actual per group of `by` over the months of `period` (the last one at most the
/// month of as_of, which is also the default).
pub async fn plan(engine: &Engine, by: &[PlanDim], period: Months) -> Result<DataFrame> {
    let dims = keys(by)?;
    engine.require("plan vs actual", &["plans", "managers"])?;
    let as_of = engine.as_of().await?;
    let last = as_of.with_day(1).unwrap_or(as_of);
    let to = period.to().unwrap_or(last);
    if to > last {
        return Err(Error::Usage(format!(
            "--to {} is after the month of as_of ({}): there are no actuals yet \
             (pass --as-of to move it)",
            to.format("%Y-%m"),
            last.format("%Y-%m")
        )));
    }
    let env = engine.view_env(as_of).await?;
    if !items_known(&env) {
        log::warn!(
            "the dataset lacks order_items or products: the product category of a sale is \
             unknown, plan rows for one product category have no actual (NULL) and the others \
             are measured from orders.amount"
        );
    }
    engine.sql(&plan_rollup_sql(&dims, period.from(), to)).await
}
