//! `crmlens managers` and `crmlens plan`: arguments for [`crate::metrics::managers`].

use super::range::{DayArgs, MonthArgs};
use super::{GlobalArgs, open, write};
use crate::Result;
use crate::metrics::managers::{self, KpiFilter, PlanDim};

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
    period: DayArgs,
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

pub async fn managers(global: &GlobalArgs, args: ManagersArgs) -> Result<u8> {
    let filter = KpiFilter {
        period: args.period.period()?,
        manager: args.manager,
        department: args.department,
    };
    let engine = open(global).await?;
    write(
        global,
        args.max_rows,
        managers::kpis(&engine, &filter).await?,
    )
    .await
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
    by: Vec<Dim>,
    #[command(flatten)]
    period: MonthArgs,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

/// A dimension of `crmlens plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Dim {
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

impl From<Dim> for PlanDim {
    fn from(d: Dim) -> PlanDim {
        match d {
            Dim::Month => PlanDim::Month,
            Dim::Manager => PlanDim::Manager,
            Dim::Department => PlanDim::Department,
            Dim::ProductCategory => PlanDim::ProductCategory,
        }
    }
}

pub async fn plan(global: &GlobalArgs, args: PlanArgs) -> Result<u8> {
    let period = args.period.period()?;
    let by: Vec<PlanDim> = args.by.into_iter().map(PlanDim::from).collect();
    let engine = open(global).await?;
    write(
        global,
        args.max_rows,
        managers::plan(&engine, &by, period).await?,
    )
    .await
}
