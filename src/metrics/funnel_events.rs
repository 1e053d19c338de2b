//! An event funnel over `events` with `window_funnel` semantics (SQL and definitions in
//! `views::event_funnel`): the step table, the time-to-convert histogram, conversion by
//! entry week or month, or a breakdown by a property.

use datafusion::dataframe::DataFrame;

use super::Days;
use crate::columns::texts;
use crate::config::{EventFunnelConfig, parse_duration};
use crate::engine::Engine;
use crate::functions::window_funnel;
use crate::hint::closest;
use crate::views::event_funnel::{Funnel, Property};
use crate::{Error, Result};

/// An event funnel as asked for: every part left empty is the configured one
/// ([`EventFunnelConfig`]).
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// Event names of the steps, in order (1 to 32).
    pub steps: Vec<String>,
    /// Conversion window from funnel entry: 7d, 24h, 30m, 90s, 2w.
    pub window: Option<String>,
    /// window_funnel modes: strict_order, strict_deduplication, strict_increase, strict_once,
    /// allow_reentry; or unordered alone.
    pub modes: Vec<String>,
    /// Customers with one of these events between entry and entry + window are removed.
    pub exclude: Vec<String>,
    /// The entry days.
    pub period: Days,
}

/// What the funnel is shown as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// One row per step.
    Steps,
    /// Time to convert (entry to last step), in bins.
    Histogram,
    /// Conversion by entry period.
    OverTime(Interval),
    /// The step table per value of a property (see [`property`]); the `top` values are kept
    /// by name, the rest is "(other)".
    Breakdown { property: String, top: usize },
}

/// The entry periods of [`Shape::OverTime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Week,
    Month,
}

impl Request {
    /// The funnel with the configured defaults filled in, checked: 1 to 32 non-empty steps, a
    /// valid window and known modes.
    pub fn funnel(&self, defaults: &EventFunnelConfig) -> Result<Funnel> {
        let steps: Vec<String> = if self.steps.is_empty() {
            defaults.steps.clone()
        } else {
            self.steps.iter().map(|s| s.trim().to_string()).collect()
        };
        if steps.is_empty() || steps.len() > 32 || steps.iter().any(String::is_empty) {
            return Err(Error::Usage(format!(
                "--steps: expected 1 to 32 non-empty event names, found {}",
                steps.len()
            )));
        }
        let window = self.window.as_deref().unwrap_or(&defaults.window);
        let window_seconds =
            parse_duration(window).map_err(|e| Error::Usage(format!("--window {e}")))?;
        let modes = if self.modes.is_empty() {
            defaults.mode.clone()
        } else {
            self.modes.clone()
        };
        window_funnel::Modes::parse("window_funnel", &modes.join(","))
            .map_err(|m| Error::Usage(format!("--mode: {m}")))?;
        Ok(Funnel {
            steps,
            window_seconds,
            modes,
            exclude: self.exclude.iter().map(|s| s.trim().to_string()).collect(),
            from: self.period.from(),
            to: self.period.to(),
        })
    }
}

/// A usage error when a breakdown would keep no value by name.
pub fn check_top(top: usize) -> Result<()> {
    if top == 0 {
        return Err(Error::Usage("--top: expected at least 1".into()));
    }
    Ok(())
}

/// The event funnel of `request` shown as `shape`. Every step and exclusion event must occur
/// in `events` (a typo would give a silent zero); events that cannot take part are logged.
pub async fn event_funnel(engine: &Engine, request: &Request, shape: &Shape) -> Result<DataFrame> {
    let funnel = request.funnel(&engine.config().event_funnel)?;
    if let Shape::Breakdown { top, .. } = shape {
        check_top(*top)?;
    }
    engine.require("an event funnel", &["events"])?;
    check_events(engine, &funnel).await?;
    let tz = &engine.config().timezone;
    let sql = match shape {
        Shape::Breakdown {
            property: name,
            top,
        } => funnel.breakdown_sql(tz, &property(engine, name).await?, *top),
        Shape::OverTime(Interval::Week) => funnel.over_time_sql(tz, "week"),
        Shape::OverTime(Interval::Month) => funnel.over_time_sql(tz, "month"),
        Shape::Histogram => funnel.histogram_sql(tz),
        Shape::Steps => funnel.steps_sql(tz),
    };
    engine.sql(&sql).await
}

/// Fails when a step or exclusion event does not occur in `events`; logs the events that
/// cannot take part (no customer or no time).
async fn check_events(engine: &Engine, funnel: &Funnel) -> Result<()> {
    let batches = engine
        .query("select distinct event from events where event is not null")
        .await?;
    let mut known: Vec<String> = texts(&batches, 0)?.into_iter().flatten().collect();
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
    let unusable = "select count(*) from events where customer_id is null or occurred_at is null";
    let n = super::counts(engine, unusable)
        .await?
        .first()
        .copied()
        .unwrap_or(0);
    if n > 0 {
        log::warn!(
            "{n} events without a customer_id or an occurred_at cannot take part in the funnel"
        );
    }
    Ok(())
}

/// A breakdown property by name: a column of customers, else a key of the events'
/// properties JSON; `customer.NAME` and `event.NAME` choose explicitly.
pub async fn property(engine: &Engine, name: &str) -> Result<Property> {
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
