//! Event funnels over `events` (PRODUCT.md, "Event funnel"), built on the aggregate
//! `window_funnel_steps` (the timestamps of the steps `window_funnel` reaches, see
//! `functions::window_funnel`). [`Funnel`] writes the SQL of every table `crmlens funnel
//! events` prints; the views are the same SQL for the configured default funnel
//! (`[event_funnel] steps, window, mode`).
//!
//! Views:
//! - `funnel_event_log`: the events on or before as_of with their calendar `day` in the
//!   dataset time zone (rows without a customer or a time cannot take part and are left out
//!   here; `crmlens funnel events` counts and reports them);
//! - `event_funnel_customers`: one row per customer who entered the default funnel:
//!   `customer_id`, `level` (the `window_funnel` level), `path` (the step timestamps),
//!   `entered_at`, `entry_day`;
//! - `event_funnel`: the step table of the default funnel.
//!
//! Definitions, where PRODUCT.md leaves a choice:
//! - A customer *enters* the funnel with a step-1 event; `customers` at step k counts the
//!   customers whose level is at least k (the `window_funnel` semantics: steps in order,
//!   each within the window from the entry, the window inclusive). Customers who never did
//!   step 1 are not in the funnel.
//! - Times between steps come from the chain `window_funnel_steps` reports for the customer:
//!   `median_minutes_from_previous` at step k is the median over customers reaching k of
//!   ts(k) − ts(k − 1); `median_minutes_from_first` of ts(k) − ts(1).
//! - Exclusion events (`--exclude`): a customer with an excluded event at or after their
//!   entry and no later than entry + window is removed from the funnel entirely (from every
//!   step); `excluded` says how many were.
//! - Conversion over time groups customers by the week (ISO, from Monday) or month of their
//!   entry day; the time-to-convert histogram is over customers reaching the last step, time
//!   from entry to the last step, in fixed bins (1, 5, 15 minutes, 1, 6 hours, 1, 2, 3, 7,
//!   14, 30 days) cut at the window.
//! - Breakdowns: a customer property is a column of `customers` (the customer's current
//!   value); an event property is a key of the entry event's `properties` JSON (first touch).
//!   The top N values by customers entering keep their name, the rest are `(other)`, a
//!   missing value is `(none)`.

use super::{View, ViewEnv, sql_string};
use crate::Result;
use crate::config::parse_duration;

/// The names of this module's views.
pub const NAMES: &[&str] = &["funnel_event_log", "event_funnel_customers", "event_funnel"];

/// This module's views, in dependency order.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    let up_to = env.up_to_as_of("occurred_at")?;
    let day = env.local_date("occurred_at");
    let properties = env.column_or_null("events", "e", "properties", "varchar");
    let c = &env.config.event_funnel;
    let funnel = Funnel {
        steps: c.steps.clone(),
        window_seconds: parse_duration(&c.window).map_err(crate::Error::Usage)?,
        modes: c.mode.clone(),
        exclude: Vec::new(),
        from: None,
        to: None,
    };
    Ok(vec![
        View {
            name: "funnel_event_log",
            sql: format!(
                "select e.customer_id, e.event, e.occurred_at, {day} as day, {properties} \
                 from events e \
                 where e.customer_id is not null and e.occurred_at is not null and {up_to}"
            ),
        },
        View {
            name: "event_funnel_customers",
            sql: funnel.customers_sql(&env.config.timezone),
        },
        View {
            name: "event_funnel",
            sql: funnel.steps_sql(&env.config.timezone),
        },
    ])
}

/// One event funnel: its steps (event names), window, modes, exclusion events and the range
/// of entry days.
#[derive(Debug, Clone)]
pub struct Funnel {
    pub steps: Vec<String>,
    pub window_seconds: i64,
    pub modes: Vec<String>,
    pub exclude: Vec<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

/// Histogram bin edges in seconds (the last bin is open).
const BINS: [(i64, &str); 12] = [
    (0, "< 1 min"),
    (60, "1–5 min"),
    (300, "5–15 min"),
    (900, "15–60 min"),
    (3_600, "1–6 h"),
    (21_600, "6–24 h"),
    (86_400, "1–2 d"),
    (172_800, "2–3 d"),
    (259_200, "3–7 d"),
    (604_800, "7–14 d"),
    (1_209_600, "14–30 d"),
    (2_592_000, "≥ 30 d"),
];

/// A breakdown property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Property {
    /// A column of `customers`.
    Customer(String),
    /// A key of the entry event's `properties` JSON.
    Event(String),
}

impl Funnel {
    /// `CTE`s ending in `funnel`: one row per customer in the funnel (customer_id, level,
    /// path, entered_at, entry_day), after exclusions, and `excluded_count`.
    fn ctes(&self, timezone: &str) -> String {
        let strict_order = self.modes.iter().any(|m| m.trim() == "strict_order");
        let names = self
            .steps
            .iter()
            .map(|s| sql_string(s))
            .collect::<Vec<_>>()
            .join(", ");
        // Without strict_order only step events can matter; with it every event of the
        // customer may break the chain, so all are kept.
        let event_filter = if strict_order {
            String::new()
        } else {
            format!(" and event in ({names})")
        };
        let conditions = self
            .steps
            .iter()
            .map(|s| format!("event = {}", sql_string(s)))
            .collect::<Vec<_>>()
            .join(", ");
        let modes = if self.modes.is_empty() {
            String::new()
        } else {
            format!("{}, ", sql_string(&self.modes.join(",")))
        };
        let window = self.window_seconds;
        let entry_day = super::local_date(timezone, "entered_at");
        let mut range = String::new();
        if let Some(f) = self.from {
            range.push_str(&format!(" and {entry_day} >= DATE '{f}'"));
        }
        if let Some(t) = self.to {
            range.push_str(&format!(" and {entry_day} <= DATE '{t}'"));
        }
        let exclusion = if self.exclude.is_empty() {
            "excluded as (select customer_id from entered where false)".to_string()
        } else {
            let ex = self
                .exclude
                .iter()
                .map(|s| sql_string(s))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "excluded as (select distinct f.customer_id from entered f \
                   join funnel_event_log l on l.customer_id = f.customer_id \
                   where l.event in ({ex}) and l.occurred_at >= f.entered_at \
                     and l.occurred_at <= f.entered_at + interval '{window} seconds')"
            )
        };
        format!(
            "paths as ( \
               select customer_id, \
                 window_funnel_steps({window}, {modes}occurred_at, {conditions}) as path \
               from funnel_event_log where true{event_filter} group by customer_id), \
             reached as ( \
               select customer_id, path, cast(cardinality(path) as bigint) as level, \
                 path[1] as entered_at \
               from paths where cardinality(path) > 0), \
             entered as ( \
               select customer_id, path, level, entered_at, {entry_day} as entry_day \
               from reached where true{range}), \
             {exclusion}, \
             excluded_count as (select count(*) as n from excluded), \
             funnel as ( \
               select * from entered \
               where customer_id not in (select customer_id from excluded))"
        )
    }

    /// The step values `(step, event)`. Under the `unordered` mode step k is "k of the N
    /// steps, in any order", and says so instead of naming the k-th step.
    fn step_values(&self) -> String {
        let unordered = self.modes.iter().any(|m| m.trim() == "unordered");
        let n = self.steps.len();
        self.steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let label = if unordered {
                    format!("{} of {n}", i + 1)
                } else {
                    s.clone()
                };
                format!("({}, {})", i + 1, sql_string(&label))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One row per customer in the funnel.
    pub fn customers_sql(&self, timezone: &str) -> String {
        format!(
            "with {} select customer_id, level, path, entered_at, entry_day from funnel",
            self.ctes(timezone)
        )
    }

    /// The step table: customers per step, conversions, drop-off, median times.
    pub fn steps_sql(&self, timezone: &str) -> String {
        let minutes = |a: &str, b: &str| {
            format!(
                "(date_part('epoch', array_element(f.path, {a})) \
                  - date_part('epoch', array_element(f.path, {b}))) / 60.0"
            )
        };
        let from_prev = minutes("s.step", "s.step - 1");
        let from_first = minutes("s.step", "1");
        format!(
            "with {ctes}, \
             steps (step, event) as (values {values}), \
             counts as ( \
               select s.step, s.event, count(f.customer_id) as customers, \
                 median(case when s.step > 1 then {from_prev} end) as median_minutes_from_previous, \
                 median(case when s.step > 1 then {from_first} end) as median_minutes_from_first \
               from steps s left join funnel f on f.level >= s.step \
               group by s.step, s.event) \
             select c.step, c.event, c.customers, \
               cast(c.customers as double) / nullif(first_value(c.customers) over (order by c.step), 0) \
                 as conversion_from_first, \
               case when c.step > 1 then cast(c.customers as double) \
                 / nullif(lag(c.customers) over (order by c.step), 0) end as conversion_from_previous, \
               lag(c.customers) over (order by c.step) - c.customers as drop_off, \
               c.median_minutes_from_previous, c.median_minutes_from_first, \
               (select n from excluded_count) as excluded \
             from counts c order by c.step",
            ctes = self.ctes(timezone),
            values = self.step_values(),
        )
    }

    /// The time-to-convert histogram: customers reaching the last step by time from entry.
    pub fn histogram_sql(&self, timezone: &str) -> String {
        let n = self.steps.len();
        let bins: Vec<(i64, &str)> = BINS
            .iter()
            .copied()
            .filter(|(lower, _)| *lower <= self.window_seconds)
            .collect();
        let values = bins
            .iter()
            .enumerate()
            .map(|(i, (lower, label))| {
                let upper = bins
                    .get(i + 1)
                    .map(|(u, _)| u.to_string())
                    .unwrap_or_else(|| "cast(null as bigint)".into());
                format!("({}, '{label}', {lower}, {upper})", i + 1)
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "with {ctes}, \
             conv as ( \
               select date_part('epoch', array_element(path, {n})) \
                 - date_part('epoch', path[1]) as seconds \
               from funnel where level = {n}), \
             bins (bin, label, lower_seconds, upper_seconds) as (values {values}), \
             counted as ( \
               select b.bin, b.label, b.lower_seconds, b.upper_seconds, count(c.seconds) as customers \
               from bins b left join conv c on c.seconds >= b.lower_seconds \
                 and (b.upper_seconds is null or c.seconds < b.upper_seconds) \
               group by b.bin, b.label, b.lower_seconds, b.upper_seconds) \
             select bin, label, lower_seconds, upper_seconds, customers, \
               cast(customers as double) / nullif(sum(customers) over (), 0) as share, \
               cast(sum(customers) over (order by bin) as double) / nullif(sum(customers) over (), 0) \
                 as cumulative_share \
             from counted order by bin",
            ctes = self.ctes(timezone),
        )
    }

    /// Conversion by entry period (`week` or `month`): customers per step and the
    /// conversion to the last step.
    pub fn over_time_sql(&self, timezone: &str, period: &str) -> String {
        let n = self.steps.len();
        let columns = (1..=n)
            .map(|k| format!("count(*) filter (where level >= {k}) as step_{k}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "with {ctes} \
             select cast(date_trunc('{period}', entry_day) as date) as period, {columns}, \
               cast(count(*) filter (where level >= {n}) as double) / count(*) as conversion \
             from funnel group by 1 order by 1",
            ctes = self.ctes(timezone),
        )
    }

    /// The step table per value of a property (top `top` values by customers entering, the
    /// rest as `(other)`).
    pub fn breakdown_sql(&self, timezone: &str, property: &Property, top: usize) -> String {
        let step1 = sql_string(&self.steps[0]);
        let (value_cte, join) = match property {
            Property::Customer(column) => (
                format!(
                    "val as (select customer_id, cast(\"{}\" as varchar) as value from customers)",
                    column.replace('"', "")
                ),
                "left join val v on v.customer_id = f.customer_id",
            ),
            Property::Event(key) => (
                format!(
                    "val as (select f.customer_id, \
                       min(json_get_str(l.properties, {key})) as value \
                     from funnel f join funnel_event_log l on l.customer_id = f.customer_id \
                       and l.occurred_at = f.entered_at and l.event = {step1} \
                     group by f.customer_id)",
                    key = sql_string(key)
                ),
                "left join val v on v.customer_id = f.customer_id",
            ),
        };
        format!(
            "with {ctes}, {value_cte}, \
             labelled as (select f.customer_id, f.level, coalesce(v.value, '(none)') as value \
               from funnel f {join}), \
             ranked as (select value, row_number() over (order by count(*) desc, value) as rank \
               from labelled group by value), \
             grouped as (select case when r.rank <= {top} then l.value else '(other)' end as value, \
               l.level from labelled l join ranked r on r.value = l.value), \
             steps (step, event) as (values {values}), \
             counts as (select d.value, s.step, s.event, count(g.level) as customers \
               from (select distinct value from grouped) d cross join steps s \
               left join grouped g on g.value = d.value and g.level >= s.step \
               group by d.value, s.step, s.event), \
             rows as (select value, step, event, customers, \
               first_value(customers) over (partition by value order by step) as entered, \
               lag(customers) over (partition by value order by step) as previous \
               from counts) \
             select value, step, event, customers, \
               cast(customers as double) / nullif(entered, 0) as conversion_from_first, \
               case when step > 1 then cast(customers as double) / nullif(previous, 0) end \
                 as conversion_from_previous \
             from rows order by value = '(other)', entered desc, value, step",
            ctes = self.ctes(timezone),
            values = self.step_values(),
        )
    }
}
