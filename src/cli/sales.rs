//! `crmlens sales lost-reasons|channels|durations|lead-sla|departed`: the sales diagnostics of
//! `views::diagnostics` (definitions there and in docs/metrics.md).

use chrono::NaiveDate;

use super::GlobalArgs;
use super::breakdown::{dimensions, order_by};
use super::range::{Days, Months};
use crate::Result;
use crate::engine::Engine;
use crate::output::write_dataframe;
use crate::views::diagnostics::{channel_revenue_sql, durations_sql, sla_misses_sql};
use crate::views::managers::Period;
use crate::views::sql_string;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Lost deals by reason, stage reached, manager and month (view lost_reasons)
    LostReasons(LostArgs),
    /// Paid revenue, orders and buyers by sales channel and month (view channel_revenue)
    Channels(ChannelArgs),
    /// Call (or other activity) duration statistics per manager (view activity_durations)
    Durations(DurationArgs),
    /// The deals whose lead response missed the SLA, with how late (view lead_sla_misses)
    LeadSla(LeadSlaArgs),
    /// Managers who left (or are unknown) with customers still assigned (view
    /// departed_managers)
    Departed(DepartedArgs),
}

/// Months and table size shared by the monthly commands (`sales`, `arpu`).
#[derive(Debug, clap::Args)]
pub struct MonthsShown {
    #[command(flatten)]
    period: Months,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub(super) max_rows: usize,
}

impl MonthsShown {
    /// SQL condition on a month column ("true" without bounds).
    pub(super) fn filter(&self, column: &str) -> Result<String> {
        self.period.condition(column)
    }
}

/// Lost deals by reason, stage reached, manager and month
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens sales lost-reasons --dataset datasets/demo          reasons per stage reached
  crmlens sales lost-reasons --by manager,reason --from 2025-01
  crmlens sales lost-reasons --by month,reason --format csv

Deals lost as of as_of (status lost, closed by as_of), grouped by the dimensions of --by:
reason (deals.lost_reason; missing shown as (none)), stage (the furthest pipeline stage the
deal reached; (no history) without stage history), manager, month (closing month). Columns:
lost_deals, lost_amount, and share = lost_deals ÷ the lost deals of the same group without
the reason (of all lost deals when the reason is the only dimension or is not one).")]
pub struct LostArgs {
    /// Group by: a comma-separated list of reason, stage, manager, month
    #[arg(long, default_value = "stage,reason", value_name = "DIMS")]
    by: String,
    #[command(flatten)]
    months: MonthsShown,
}

/// Paid revenue, orders and buyers by sales channel and month
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens sales channels --dataset datasets/demo              per month and channel
  crmlens sales channels --by channel --from 2025-01 --to 2025-12

Orders with a purchase status up to as_of, by calendar month (dataset time zone) and
orders.channel ((none) when missing): revenue, orders, customers (distinct buyers; a customer
buying through two channels counts in both), avg_order_value, revenue_share (of the month's
revenue, or of the whole without month).")]
pub struct ChannelArgs {
    /// Group by: a comma-separated list of month, channel
    #[arg(long, default_value = "month,channel", value_name = "DIMS")]
    by: String,
    #[command(flatten)]
    months: MonthsShown,
}

/// Activity duration statistics per manager
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens sales durations --dataset datasets/demo             calls, the 30 days to as_of
  crmlens sales durations --kind meeting --from 2025-01-01 --to 2025-03-31

Per manager (activities.manager_id) and kind over the period: activities, with_duration,
without_duration (NULL duration_s), bad_durations (negative, left out), median, p90 (linear
interpolation), mean and total duration in seconds.")]
#[command(mut_arg("from", |a| a.help("First day, YYYY-MM-DD [default: 29 days before --to]")), mut_arg("to", |a| a.help("Last day, YYYY-MM-DD [default: as_of]")))]
pub struct DurationArgs {
    /// Activity kind (call, meeting, email, task), or all
    #[arg(long, default_value = "call", value_name = "KIND")]
    kind: String,
    #[command(flatten)]
    period: Days,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

/// The deals whose lead response missed the SLA
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens sales lead-sla --dataset datasets/demo              deals created in the 30 days to as_of
  crmlens sales lead-sla --manager M001 --from 2025-01-01 --format csv

Deals created in the period whose first call, meeting or e-mail logged on the deal came later
than [managers] response_sla_minutes after creation (status late, minutes_late) or never by
as_of (status unanswered): the same definition as the response columns of `crmlens managers`,
so per manager the rows are its deals_created − responded_within_sla.")]
#[command(mut_arg("from", |a| a.help("First day of creation, YYYY-MM-DD [default: 29 days before --to]")), mut_arg("to", |a| a.help("Last day of creation, YYYY-MM-DD [default: as_of]")))]
pub struct LeadSlaArgs {
    #[command(flatten)]
    period: Days,
    /// Only this manager's deals (deals.manager_id)
    #[arg(long, value_name = "ID")]
    manager: Option<String>,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

/// Managers who left with customers still assigned
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens sales departed --dataset datasets/demo
  crmlens sales departed --customers --format csv --output reassign.csv

Owners of customers (customers.owner_manager_id) who left (managers.active = false) or are not
in the managers table (status unknown): customers still assigned, those active at as_of (a
purchase within [churn] inactive_days), the manager's deals open at as_of and last logged
activity. --customers lists the customers themselves, to reassign them.")]
pub struct DepartedArgs {
    /// One row per customer instead of per manager
    #[arg(long)]
    customers: bool,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn run(global: &GlobalArgs, command: Command) -> Result<u8> {
    let (what, tables, max_rows): (&str, &[&str], usize) = match &command {
        Command::LostReasons(a) => (
            "lost reasons",
            &["deals", "deal_stage_history"],
            a.months.max_rows,
        ),
        Command::Channels(a) => ("revenue by channel", &[], a.months.max_rows),
        Command::Durations(a) => ("activity durations", &["activities"], a.max_rows),
        Command::LeadSla(a) => ("lead SLA misses", &["deals", "activities"], a.max_rows),
        Command::Departed(a) => ("departed managers", &["managers"], a.max_rows),
    };
    // Arguments are checked before the dataset is opened.
    let plan = Plan::try_from(command)?;
    let config = global.config()?;
    let output = global.output(max_rows);
    let engine = Engine::open(&config).await?;
    engine.require(what, tables)?;
    let sql = match plan {
        Plan::Sql(sql) => sql,
        Plan::Durations { from, to, kind } => {
            let as_of = engine.as_of().await?;
            let env = engine.view_env(as_of).await?;
            let kind = match kind {
                Some(k) => format!("kind = {}", sql_string(&k)),
                None => "true".into(),
            };
            format!(
                "select * from ({}) where {kind} order by manager_id nulls last, kind",
                durations_sql(&env, Period::new(from, to, as_of)?)?
            )
        }
        Plan::LeadSla { from, to, manager } => {
            let as_of = engine.as_of().await?;
            let env = engine.view_env(as_of).await?;
            let manager = match manager {
                Some(m) => format!("manager_id = {}", sql_string(&m)),
                None => "true".into(),
            };
            format!(
                "select * from ({}) where {manager} order by created_at, deal_id",
                sla_misses_sql(&env, Period::new(from, to, as_of)?)?
            )
        }
        Plan::Channels { keys, filter } => {
            let as_of = engine.as_of().await?;
            let env = engine.view_env(as_of).await?;
            format!(
                "select * from ({}) order by {}",
                channel_revenue_sql(&env, &keys.join(", "), &filter)?,
                order_by(&keys)
            )
        }
    };
    let rows = write_dataframe(engine.sql(&sql).await?, &output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}

/// What a command runs, decided from its arguments alone.
enum Plan {
    /// A query over the built-in views.
    Sql(String),
    /// Duration statistics over a period of days (once as_of is known); `kind` None = all.
    Durations {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        kind: Option<String>,
    },
    /// The SLA misses among the deals created in a period of days.
    LeadSla {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        manager: Option<String>,
    },
    /// Purchases grouped by month and/or channel.
    Channels {
        keys: Vec<&'static str>,
        filter: String,
    },
}

/// Fails when a period's first day is after its last.
impl TryFrom<Command> for Plan {
    type Error = crate::Error;

    fn try_from(command: Command) -> Result<Plan> {
        Ok(match command {
            Command::LostReasons(a) => Plan::Sql(lost_sql(&a)?),
            Command::Channels(a) => Plan::Channels {
                keys: dimensions(&a.by, &[("month", "month"), ("channel", "channel")])?,
                filter: a.months.filter("month")?,
            },
            Command::Durations(a) => {
                a.period.check()?;
                Plan::Durations {
                    from: a.period.from,
                    to: a.period.to,
                    kind: (a.kind != "all").then_some(a.kind),
                }
            }
            Command::LeadSla(a) => {
                a.period.check()?;
                Plan::LeadSla {
                    from: a.period.from,
                    to: a.period.to,
                    manager: a.manager,
                }
            }
            Command::Departed(a) => Plan::Sql(if a.customers {
                "select * from departed_manager_customers \
                 order by owner_manager_id, customer_id"
                    .into()
            } else {
                "select * from departed_managers order by customers desc, manager_id".into()
            }),
        })
    }
}

fn lost_sql(a: &LostArgs) -> Result<String> {
    let keys = dimensions(
        &a.by,
        &[
            ("reason", "lost_reason"),
            ("stage", "stage_order, stage"),
            ("manager", "manager_id"),
            ("month", "month"),
        ],
    )?;
    let filter = a.months.filter("month")?;
    let list = keys.join(", ");
    let others: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| *k != "lost_reason")
        .collect();
    let partition = if others.is_empty() || others.len() == keys.len() {
        String::new()
    } else {
        format!("partition by {}", others.join(", "))
    };
    let order = if others.is_empty() {
        "lost_deals desc, lost_reason".to_string()
    } else {
        format!("{}, lost_deals desc", order_by(&others))
    };
    Ok(format!(
        "select {list}, sum(lost_deals) as lost_deals, sum(lost_amount) as lost_amount, \
           cast(sum(lost_deals) as double) / sum(sum(lost_deals)) over ({partition}) as share \
         from lost_reasons where {filter} group by {list} order by {order}"
    ))
}
