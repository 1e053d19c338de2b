//! `crmlens service`: arguments for [`crate::metrics::service`].

use super::range::MonthArgs;
use super::{GlobalArgs, open, write};
use crate::Result;
use crate::metrics::dimensions::parse;
use crate::metrics::service::{ServiceFigure, TicketDim, service};

/// Service figures: tickets by kind and month with time to close; survey scores
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens service --dataset datasets/demo              tickets per kind and month
  crmlens service --by kind --from 2025-01 --to 2025-06
  crmlens service --by manager --format csv --output tickets_by_manager.csv
  crmlens service --surveys                            answers per level, Excellent … Weak
  crmlens service --surveys --summary --format json    answers, anonymous, mean score
  crmlens service --sla                                first response and resolution vs [service.sla]
  crmlens service --breaches --from 2025-06            the tickets that breached it
  crmlens service --surveys --trend                    score by month and kind of the ticket rated

Tickets opened up to as_of: opened, closed (by as_of), still open, and the median, p90 and mean
hours from opening to closing of the closed ones. Surveys: answers per level of the five-level
scale (5 Excellent, 4 Very good, 3 Good, 2 Acceptable, 1 Weak), anonymous answers (no
customer) included; scores off the scale are counted in the summary's out_of_scale and left
out of the distribution and the mean. The same figures are the views service_tickets,
survey_scores and survey_summary of `crmlens sql`.
--sla judges each ticket against [service.sla] first_response (default 4h) and resolution (3d):
met, breached (late, or still waiting past the due time at the end of as_of), pending (not
due yet) or unknown (no time to measure; first responses need the optional column
tickets.first_response_at); met_share = met ÷ (met + breached). --breaches lists the breached
tickets with the hours late. --surveys --trend: answers per month and kind of the ticket the
answer most likely rates (the customer's latest ticket closed within [service] survey_window,
default 14d, before it). Views ticket_sla, service_sla, survey_trend.")]
#[command(mut_arg("from", |a| a.help("First month, YYYY-MM (tickets by opening month, answers by date)")), mut_arg("to", |a| a.help("Last month, YYYY-MM (included)")))]
pub struct Args {
    /// Ticket breakdown: a comma-separated list of kind, month, manager
    #[arg(long, default_value = "kind,month", value_name = "DIMS")]
    by: String,
    #[command(flatten)]
    period: MonthArgs,
    /// The survey score distribution instead of tickets
    #[arg(long)]
    surveys: bool,
    /// With --surveys: one row with answers, anonymous answers, mean score and the share of the
    /// two best levels
    #[arg(long, requires = "surveys", conflicts_with = "trend")]
    summary: bool,
    /// With --surveys: answers, mean score and top/bottom shares per month and kind of the
    /// ticket answered about
    #[arg(long, requires = "surveys")]
    trend: bool,
    /// Tickets against the service level ([service.sla]) per --by group
    #[arg(long, conflicts_with_all = ["surveys", "breaches"])]
    sla: bool,
    /// The tickets that breached the service level, one row each
    #[arg(long, conflicts_with = "surveys")]
    breaches: bool,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let max_rows = args.max_rows;
    // Arguments are checked before the dataset is opened.
    let figure = ServiceFigure::try_from(args)?;
    let engine = open(global).await?;
    write(global, max_rows, service(&engine, &figure).await?).await
}

impl TryFrom<Args> for ServiceFigure {
    type Error = crate::Error;

    fn try_from(args: Args) -> Result<ServiceFigure> {
        let period = args.period.period()?;
        if args.surveys {
            return Ok(if args.summary {
                ServiceFigure::SurveySummary { period }
            } else if args.trend {
                ServiceFigure::SurveyTrend { period }
            } else {
                ServiceFigure::Surveys { period }
            });
        }
        let by: Vec<TicketDim> = parse(&args.by)?;
        Ok(if args.breaches {
            ServiceFigure::Breaches { period }
        } else if args.sla {
            ServiceFigure::Sla { by, period }
        } else {
            ServiceFigure::Tickets { by, period }
        })
    }
}
