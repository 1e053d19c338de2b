//! `crmlens funnel events`: arguments for [`crate::metrics::funnel_events`].

use super::range::DayArgs;
use super::{GlobalArgs, write};
use crate::Result;
use crate::engine::Engine;
use crate::metrics::funnel_events::{Interval, Request, Shape, check_top, event_funnel};

/// An event funnel over the `events` table
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens funnel events --dataset datasets/demo --steps visit,signup,cart,purchase --window 7d
  crmlens funnel events --steps visit,cart,purchase --window 24h --mode strict_order
  crmlens funnel events --steps visit,signup,purchase --window 30d --by country
  crmlens funnel events --steps visit,cart,purchase --window 7d --by utm_source --top 5
  crmlens funnel events --steps visit,cart,purchase --window 7d --over-time month --format csv
  crmlens funnel events --steps visit,cart,purchase --window 7d --histogram
  crmlens funnel events --steps visit,cart,purchase --window 7d --exclude search

A customer's level is window_funnel(window, ts, step1, …, stepN): the longest chain of the
steps' events in order, each within the window of the first (window inclusive). Step k
counts the customers whose level is at least k; conversion_from_first and
conversion_from_previous are shares of step 1 and of step k − 1; drop_off is step k − 1 minus
step k; the median minutes are between the chain's steps. Modes (--mode, comma-separated):
strict_order (no other event between steps), strict_deduplication (a repeated step event stops
the chain), strict_increase (strictly increasing times), strict_once (one event is one step at
most), allow_reentry (with strict_order: a step event before its previous step is ignored
instead of stopping the chain); or unordered alone (the steps in any order: step k counts the
customers who did k of the steps within one window). --by takes a column of customers
(country, kind, acquisition_source, …; customer.NAME to force) or a key of the entry event's
properties JSON (utm_source, device, …; event.NAME to force). Without --steps the funnel is
the configured one ([event_funnel] steps, window, mode: the view event_funnel). In SQL:
  select window_funnel(interval '7 days', occurred_at, event = 'visit', event = 'cart')
  from events group by customer_id")]
#[command(mut_arg("from", |a| a.help("First entry day (YYYY-MM-DD)")), mut_arg("to", |a| a.help("Last entry day (YYYY-MM-DD)")))]
pub struct Args {
    /// Event names of the steps, in order, comma-separated (1 to 32) [default: event_funnel.steps]
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    steps: Vec<String>,
    /// Conversion window from funnel entry: 7d, 24h, 30m, 90s, 2w [default: event_funnel.window]
    #[arg(long, value_name = "DURATION")]
    window: Option<String>,
    /// window_funnel modes: strict_order, strict_deduplication, strict_increase, strict_once, allow_reentry; or unordered
    #[arg(long, value_name = "MODE", value_delimiter = ',')]
    mode: Vec<String>,
    /// Remove customers with this event between entry and entry + window (repeatable)
    #[arg(long, value_name = "EVENT", value_delimiter = ',')]
    exclude: Vec<String>,
    /// Breakdown by a customer property or an entry-event property
    #[arg(long, value_name = "PROP", conflicts_with_all = ["over_time", "histogram"])]
    by: Option<String>,
    /// With --by: values kept by name (the rest is "(other)")
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    /// Conversion by entry period instead of the step table
    #[arg(long, value_enum, value_name = "PERIOD", conflicts_with = "histogram")]
    over_time: Option<Period>,
    /// Time-to-convert histogram (entry to last step) instead of the step table
    #[arg(long)]
    histogram: bool,
    #[command(flatten)]
    period: DayArgs,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 100, value_name = "N")]
    max_rows: usize,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Period {
    Week,
    Month,
}

impl From<Period> for Interval {
    fn from(p: Period) -> Interval {
        match p {
            Period::Week => Interval::Week,
            Period::Month => Interval::Month,
        }
    }
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let config = global.config()?;
    let request = Request {
        steps: args.steps,
        window: args.window,
        modes: args.mode,
        exclude: args.exclude,
        period: args.period.period()?,
    };
    // Checked before the dataset is opened.
    request.funnel(&config.event_funnel)?;
    check_top(args.top)?;
    let shape = if let Some(property) = args.by {
        Shape::Breakdown {
            property,
            top: args.top,
        }
    } else if let Some(period) = args.over_time {
        Shape::OverTime(period.into())
    } else if args.histogram {
        Shape::Histogram
    } else {
        Shape::Steps
    };
    let engine = Engine::open(&config).await?;
    write(
        global,
        args.max_rows,
        event_funnel(&engine, &request, &shape).await?,
    )
    .await
}
