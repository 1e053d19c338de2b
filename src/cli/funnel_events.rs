//! `crmlens funnel events`: an event funnel over `events` with `window_funnel` semantics (SQL
//! and definitions in `views::event_funnel`): the step table, or the time-to-convert
//! histogram, conversion by entry week or month, or a breakdown by a property.

use super::GlobalArgs;
use super::range::Days;
use crate::config::parse_duration;
use crate::engine::Engine;
use crate::functions::window_funnel;
use crate::hint::closest;
use crate::output::write_dataframe;
use crate::views::event_funnel::{Funnel, Property};
use crate::{Error, Result};

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
    period: Days,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 100, value_name = "N")]
    max_rows: usize,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Period {
    Week,
    Month,
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let config = global.config()?;
    let defaults = &config.event_funnel;
    let steps: Vec<String> = if args.steps.is_empty() {
        defaults.steps.clone()
    } else {
        args.steps.iter().map(|s| s.trim().to_string()).collect()
    };
    if steps.is_empty() || steps.len() > 32 || steps.iter().any(String::is_empty) {
        return Err(Error::Usage(format!(
            "--steps: expected 1 to 32 non-empty event names, found {}",
            steps.len()
        )));
    }
    let window = args.window.as_deref().unwrap_or(&defaults.window);
    let window_seconds =
        parse_duration(window).map_err(|e| Error::Usage(format!("--window {e}")))?;
    let modes = if args.mode.is_empty() {
        defaults.mode.clone()
    } else {
        args.mode.clone()
    };
    window_funnel::Modes::parse("window_funnel", &modes.join(","))
        .map_err(|m| Error::Usage(format!("--mode: {m}")))?;
    args.period.check()?;
    if args.top == 0 {
        return Err(Error::Usage("--top: expected at least 1".into()));
    }
    let funnel = Funnel {
        steps,
        window_seconds,
        modes,
        exclude: args.exclude.iter().map(|s| s.trim().to_string()).collect(),
        from: args.period.from,
        to: args.period.to,
    };
    let output = global.output(args.max_rows);
    let engine = Engine::open(&config).await?;
    engine.require("an event funnel", &["events"])?;
    check_events(&engine, &funnel).await?;
    let tz = &config.timezone;
    let sql = if let Some(prop) = &args.by {
        let property = resolve_property(&engine, prop).await?;
        funnel.breakdown_sql(tz, &property, args.top)
    } else if let Some(period) = args.over_time {
        let p = match period {
            Period::Week => "week",
            Period::Month => "month",
        };
        funnel.over_time_sql(tz, p)
    } else if args.histogram {
        funnel.histogram_sql(tz)
    } else {
        funnel.steps_sql(tz)
    };
    let rows = write_dataframe(engine.sql(&sql).await?, &output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}

/// Every step and exclusion event must occur in `events` (a typo would give a silent zero);
/// rows that cannot take part (no customer or no time) are reported.
async fn check_events(engine: &Engine, funnel: &Funnel) -> Result<()> {
    let batches = engine
        .sql("select distinct event from events where event is not null")
        .await?
        .collect()
        .await?;
    let mut known = Vec::new();
    for b in &batches {
        let column = datafusion::arrow::compute::cast(
            b.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )?;
        let column = column
            .as_any()
            .downcast_ref::<datafusion::arrow::array::StringArray>()
            .ok_or_else(|| Error::Query("events.event is not text".into()))?;
        known.extend(column.iter().flatten().map(str::to_string));
    }
    for (what, name) in funnel
        .steps
        .iter()
        .map(|s| ("step", s))
        .chain(funnel.exclude.iter().map(|s| ("--exclude", s)))
    {
        if !known.iter().any(|k| k == name) {
            let hint = closest(name, known.iter().map(String::as_str))
                .map(|b| format!("; did you mean `{b}`?"))
                .unwrap_or_default();
            known.sort();
            let listed = known
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::Usage(format!(
                "{what} `{name}`: no event of that name in events{hint} (events: {listed})"
            )));
        }
    }
    let unusable = engine
        .sql("select count(*) from events where customer_id is null or occurred_at is null")
        .await?
        .collect()
        .await?;
    let n = unusable
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .map(|a| a.value(0))
        })
        .unwrap_or(0);
    if n > 0 {
        log::warn!(
            "{n} events without a customer_id or an occurred_at cannot take part in the funnel"
        );
    }
    Ok(())
}

/// `--by NAME`: a column of customers, else a key of the events' properties JSON;
/// `customer.NAME` and `event.NAME` choose explicitly.
async fn resolve_property(engine: &Engine, name: &str) -> Result<Property> {
    let columns: Vec<String> = engine
        .sql("select * from customers limit 0")
        .await?
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    if let Some(c) = name.strip_prefix("customer.") {
        if !columns.iter().any(|x| x == c) {
            let hint = closest(c, columns.iter().map(String::as_str))
                .map(|b| format!(", did you mean `{b}`?"))
                .unwrap_or_default();
            return Err(Error::Usage(format!(
                "--by {name}: customers has no column `{c}`{hint} (columns: {})",
                columns.join(", ")
            )));
        }
        return Ok(Property::Customer(c.to_string()));
    }
    if let Some(k) = name.strip_prefix("event.") {
        return Ok(Property::Event(k.to_string()));
    }
    if columns.iter().any(|x| x == name) {
        Ok(Property::Customer(name.to_string()))
    } else {
        Ok(Property::Event(name.to_string()))
    }
}
