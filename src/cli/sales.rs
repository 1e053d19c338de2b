//! `crmlens sales lost-reasons|channels|durations|lead-sla|departed`: arguments for
//! [`crate::metrics::sales`] (definitions there and in docs/metrics.md).

use super::range::{DayArgs, MonthArgs};
use super::{GlobalArgs, open, write};
use crate::Result;
use crate::metrics::dimensions::parse;
use crate::metrics::sales::{Diagnostic, diagnostic};

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
    period: MonthArgs,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub(super) max_rows: usize,
}

impl MonthsShown {
    /// The months; a usage error when `--from` is after `--to`.
    pub(super) fn period(&self) -> Result<crate::metrics::Months> {
        self.period.period()
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
    period: DayArgs,
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
    period: DayArgs,
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
    let max_rows = match &command {
        Command::LostReasons(a) => a.months.max_rows,
        Command::Channels(a) => a.months.max_rows,
        Command::Durations(a) => a.max_rows,
        Command::LeadSla(a) => a.max_rows,
        Command::Departed(a) => a.max_rows,
    };
    // Arguments are checked before the dataset is opened.
    let asked = Diagnostic::try_from(command)?;
    let engine = open(global).await?;
    write(global, max_rows, diagnostic(&engine, &asked).await?).await
}

impl TryFrom<Command> for Diagnostic {
    type Error = crate::Error;

    fn try_from(command: Command) -> Result<Diagnostic> {
        Ok(match command {
            Command::LostReasons(a) => Diagnostic::LostReasons {
                by: parse(&a.by)?,
                period: a.months.period()?,
            },
            Command::Channels(a) => Diagnostic::Channels {
                by: parse(&a.by)?,
                period: a.months.period()?,
            },
            Command::Durations(a) => Diagnostic::Durations {
                period: a.period.period()?,
                kind: (a.kind != "all").then_some(a.kind),
            },
            Command::LeadSla(a) => Diagnostic::LeadSla {
                period: a.period.period()?,
                manager: a.manager,
            },
            Command::Departed(a) => Diagnostic::Departed {
                customers: a.customers,
            },
        })
    }
}
