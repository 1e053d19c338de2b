//! `crmlens managers` (the KPI table of `views::managers`, over the default period or
//! --from/--to) and `crmlens plan` (the view `plan_actual` aggregated by month, manager,
//! department or product category).

use chrono::Datelike;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};

use super::GlobalArgs;
use super::range::{Days, Months};
use crate::engine::Engine;
use crate::hint::closest;
use crate::output::write_dataframe;
use crate::views::managers::{Period, items_known, kpis_sql, plan_rollup_sql, unassigned_sql};
use crate::views::{ViewEnv, sql_string};
use crate::{Error, Result};

/// Manager KPIs: activity, active customers, deals, win rate, revenue, lead response
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens managers --dataset datasets/demo                 the 30 days ending at as_of
  crmlens managers --from 2025-03-01 --to 2025-03-31       one calendar month
  crmlens managers --department SMB --format csv
  crmlens managers --manager M001 --format json

One row per manager of the managers table (those with no logged activity included, with
zeros), sorted by department and manager: activities by kind (calls, meetings, emails, tasks)
and per working day, working days in the period and those with no logged activity (working
day = a configured weekday that is not a holiday, in the dataset time zone), owned customers
active in the last 30 / 90 days up to the period end, deals created / won / lost, win_rate
(created deals won by as_of ÷ created), win_rate_closed (won ÷ won + lost), revenue of paid
orders credited to the manager, average deal size and cycle (days) of won deals, and lead
response: median minutes from a deal's creation to the first call, meeting or e-mail logged on
it, the share of created deals answered within the SLA, and deals never answered.
Configure in crmlens.toml: [managers] response_sla_minutes (30), working_days, holidays.
The default period is the view manager_kpis of `crmlens sql`.")]
#[command(mut_arg("from", |a| a.help("First day of the period, YYYY-MM-DD [default: 29 days before --to]")), mut_arg("to", |a| a.help("Last day of the period, YYYY-MM-DD [default: as_of]")))]
pub struct ManagersArgs {
    #[command(flatten)]
    period: Days,
    /// Only this manager (manager_id)
    #[arg(long, value_name = "ID")]
    manager: Option<String>,
    /// Only the managers of this department
    #[arg(long, value_name = "DEPARTMENT")]
    department: Option<String>,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

/// The tables the KPIs read.
const KPI_TABLES: &[&str] = &["managers", "activities", "deals"];

pub async fn managers(global: &GlobalArgs, args: ManagersArgs) -> Result<u8> {
    args.period.check()?;
    let config = global.config()?;
    let output = global.output(args.max_rows);
    let engine = Engine::open(&config).await?;
    engine.require("manager KPIs", KPI_TABLES)?;
    let as_of = engine.as_of().await?;
    let period = Period::new(args.period.from, args.period.to, as_of)?;
    let env = engine.view_env(as_of).await?;
    let mut conditions = Vec::new();
    if let Some(id) = &args.manager {
        check_known(&engine, "manager_id", id, "--manager").await?;
        conditions.push(format!("manager_id = {}", sql_string(id)));
    }
    if let Some(dept) = &args.department {
        check_known(&engine, "department", dept, "--department").await?;
        conditions.push(format!("department = {}", sql_string(dept)));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" where {}", conditions.join(" and "))
    };
    warn_unassigned(&engine, &env, period).await?;
    let sql = format!(
        "select * from ({}) k{filter} order by department nulls last, manager_id",
        kpis_sql(&env, period)?
    );
    let rows = write_dataframe(engine.sql(&sql).await?, &output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
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
    let mut known: Vec<String> = Vec::new();
    for b in &batches {
        // Whatever string layout the engine chose (Utf8, LargeUtf8, Utf8View).
        let column = cast(b.column(0), &DataType::Utf8)?;
        let c = column.as_string::<i32>();
        known.extend(
            (0..c.len())
                .filter(|&i| c.is_valid(i))
                .map(|i| c.value(i).to_string()),
        );
    }
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
    let batches = engine.query(&unassigned_sql(env, period)?).await?;
    let value = |i: usize| {
        batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .and_then(|b| b.column(i).as_primitive_opt::<Int64Type>())
            .filter(|a| a.is_valid(0))
            .map(|a| a.value(0))
            .unwrap_or(0)
    };
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

/// Plan vs actual by month, manager, department or product category
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens plan --dataset datasets/demo                     one row per month
  crmlens plan --by manager --from 2025-01 --to 2025-06    per manager over six months
  crmlens plan --by month,department --format csv
  crmlens plan --by product_category --format json

Targets come from the plans table (one row per month × manager or department × product
category); actual = paid order items (quantity × unit_price) of orders credited to a manager
(orders.manager_id), by the month of the order and the item's product category. A plan row
with manager_id NULL is a department target; with product_category NULL it covers every
category. Per group: plan_rows, target = Σ target, actual = Σ actual of those plan rows,
attainment_pct = 100 × Σ actual ÷ Σ target (NULL when Σ target is 0), unplanned_actual =
sales no plan row covers, total_actual = actual + unplanned_actual. Months run up to the
month of as_of (measured up to as_of). The rows are the view plan_actual of `crmlens sql`.")]
#[command(mut_arg("from", |a| a.help("First month, YYYY-MM (or any date in it) [default: the first planned month]")), mut_arg("to", |a| a.help("Last month, YYYY-MM (or any date in it) [default: the month of as_of]")))]
pub struct PlanArgs {
    /// Group by these dimensions, comma-separated
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "month",
        value_name = "DIM"
    )]
    by: Vec<PlanDim>,
    #[command(flatten)]
    period: Months,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

/// A dimension of `crmlens plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PlanDim {
    /// The plan month
    Month,
    /// The manager (NULL: department targets)
    Manager,
    /// The department
    Department,
    /// The product category (NULL: targets over all categories)
    #[value(name = "product_category", alias = "category")]
    ProductCategory,
}

impl PlanDim {
    fn column(self) -> &'static str {
        match self {
            PlanDim::Month => "month",
            PlanDim::Manager => "manager_id",
            PlanDim::Department => "department",
            PlanDim::ProductCategory => "product_category",
        }
    }
}

pub async fn plan(global: &GlobalArgs, args: PlanArgs) -> Result<u8> {
    args.period.check()?;
    let mut dims: Vec<&str> = Vec::new();
    for d in &args.by {
        if !dims.contains(&d.column()) {
            dims.push(d.column());
        }
    }
    let config = global.config()?;
    let output = global.output(args.max_rows);
    let engine = Engine::open(&config).await?;
    engine.require("plan vs actual", &["plans", "managers"])?;
    let as_of = engine.as_of().await?;
    let last = as_of.with_day(1).unwrap_or(as_of);
    let to = args.period.to.unwrap_or(last);
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
    let sql = plan_rollup_sql(&dims, args.period.from, to);
    let rows = write_dataframe(engine.sql(&sql).await?, &output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}
