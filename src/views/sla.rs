//! Service level of support tickets and the survey trend (issue 22, item 7; PRODUCT.md,
//! "Service and satisfaction").
//!
//! `[service.sla]` sets two durations (parsed by `config::parse_duration`: "4h", "3d", …):
//! `first_response` (default 4 h) and `resolution` (default 3 d), measured from
//! `tickets.opened_at` in elapsed time (nights and weekends count: the contract has no
//! service calendar).
//!
//! Views:
//! - `ticket_sla`: one row per ticket of `ticket_facts` (opened up to as_of): ticket_id,
//!   customer_id, manager_id, kind, month, opened_at, first_response_at, closed_at (NULL when
//!   closed after as_of), `response_hours`, `resolution_hours`, `response_due`,
//!   `resolution_due`, and for each of the two a status:
//!   - `met`: done at or before the due time (exactly at it counts as met);
//!   - `breached`: done after it, or not done by the end of as_of while the due time has
//!     passed (a ticket still waiting is a breach as soon as it is late);
//!   - `pending`: not done by the end of as_of and not due yet;
//!   - `unknown`: cannot be measured: no opening time, a close (response) time before the
//!     opening, or, for the first response, a dataset whose `tickets` has no
//!     `first_response_at` column (optional in the contract).
//!
//!   `response_hours_late` / `resolution_hours_late`: hours past the due time of a breach,
//!   up to the response (close) or, while still waiting, up to the end of as_of.
//! - `service_sla`: per kind and opening month: tickets, `response_met`,
//!   `response_breached`, `response_pending`, `response_unknown`, `response_met_share` =
//!   met ÷ (met + breached) (pending and unknown tickets are not judged yet),
//!   `median_response_hours`, and the same six for resolution.
//! - `survey_trend`: answers on the five-level scale (`survey_answers.on_scale`) by month
//!   answered (dataset time zone) and `ticket_kind`: the kind of the customer's latest ticket
//!   closed at or before the answer and no more than `[service] survey_window` (default 14
//!   days) before it: what the answer most likely rates. `(no ticket)` for a named answer
//!   with no such ticket, `(anonymous)` for an answer without a customer. Columns: answers,
//!   mean_score, top_two_share (4–5), bottom_two_share (1–2), and out_of_scale answers of the
//!   group (counted, not in the figures).

use super::{View, ViewEnv};
use crate::Result;

/// The names of this module's views.
pub const NAMES: &[&str] = &["ticket_sla", "service_sla", "survey_trend"];

/// This module's views, in dependency order.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    Ok(vec![
        View {
            name: "ticket_sla",
            sql: ticket_sla_sql(env)?,
        },
        View {
            name: "service_sla",
            sql: sla_summary_sql("kind, month", "true"),
        },
        View {
            name: "survey_trend",
            sql: survey_trend_sql(seconds(env)?.2, "month, ticket_kind", "true"),
        },
    ])
}

fn seconds(env: &ViewEnv) -> Result<(i64, i64, i64)> {
    env.config.service.seconds().map_err(crate::Error::Usage)
}

/// SQL of the status of one SLA clock: `done` the time it stopped (NULL: still running; only
/// meaningful when `valid`), `due` when it is due.
fn status(env: &ViewEnv, done: &str, due: &str, valid: &str) -> Result<String> {
    let due_passed = env.up_to_as_of(due)?;
    Ok(format!(
        "case when not ({valid}) then 'unknown' \
           when {done} is not null and {done} <= {due} then 'met' \
           when {done} is not null or {due_passed} then 'breached' \
           else 'pending' end"
    ))
}

fn hours(from: &str, to: &str) -> String {
    format!("(date_part('epoch', {to}) - date_part('epoch', {from})) / 3600.0")
}

fn ticket_sla_sql(env: &ViewEnv) -> Result<String> {
    let (response, resolution, _) = seconds(env)?;
    let has_response = env.has_column("tickets", "first_response_at");
    let response_at = if has_response {
        "t.first_response_at"
    } else {
        // Typed like the instants of the tables, so the comparisons below still plan.
        "arrow_cast(null, 'Timestamp(Microsecond, Some(\"UTC\"))') as first_response_at"
    };
    let responded_by = env.up_to_as_of("first_response_at")?;
    // The end of as_of as an instant: the bound `up_to_as_of` compares a column with.
    let bound = env.up_to_as_of("x")?;
    let end = bound.trim_start_matches("x < ");
    let response_valid = format!(
        "opened_at is not null and {has_response} \
         and (first_response_at is null or first_response_at >= opened_at)"
    );
    let resolution_valid = "opened_at is not null and not bad_close_time";
    let response_status = status(env, "first_response_at", "response_due", &response_valid)?;
    let resolution_status = status(env, "closed_at", "resolution_due", resolution_valid)?;
    let late = |done: &str, due: &str, status: &str| {
        format!(
            "case when {status} = 'breached' then {} end",
            hours(due, &format!("coalesce({done}, {end})"))
        )
    };
    Ok(format!(
        "with t as ( \
           select f.ticket_id, f.customer_id, f.manager_id, f.kind, f.month, f.opened_at, \
             case when {responded_by} then r.first_response_at end as first_response_at, \
             case when f.closed then f.closed_at end as closed_at, f.bad_close_time, \
             f.opened_at + interval '{response} seconds' as response_due, \
             f.opened_at + interval '{resolution} seconds' as resolution_due \
           from ticket_facts f \
           left join (select t.ticket_id, {response_at} from tickets t) r \
             on r.ticket_id = f.ticket_id), \
         s as ( \
           select *, {response_status} as response_status, \
             {resolution_status} as resolution_status from t) \
         select ticket_id, customer_id, manager_id, kind, month, opened_at, first_response_at, \
           closed_at, \
           case when response_status in ('met', 'breached') and first_response_at is not null \
             then {response_hours} end as response_hours, \
           case when resolution_status in ('met', 'breached') and closed_at is not null \
             then {resolution_hours} end as resolution_hours, \
           response_due, resolution_due, response_status, resolution_status, \
           {response_late} as response_hours_late, \
           {resolution_late} as resolution_hours_late \
         from s",
        response_hours = hours("opened_at", "first_response_at"),
        resolution_hours = hours("opened_at", "closed_at"),
        response_late = late("first_response_at", "response_due", "response_status"),
        resolution_late = late("closed_at", "resolution_due", "resolution_status"),
    ))
}

/// The SLA figures per group of `ticket_sla` columns (`keys`) over the rows matching
/// `filter`.
pub fn sla_summary_sql(keys: &str, filter: &str) -> String {
    let clock = |name: &str| {
        format!(
            "count(*) filter (where {name}_status = 'met') as {name}_met, \
             count(*) filter (where {name}_status = 'breached') as {name}_breached, \
             count(*) filter (where {name}_status = 'pending') as {name}_pending, \
             count(*) filter (where {name}_status = 'unknown') as {name}_unknown, \
             cast(count(*) filter (where {name}_status = 'met') as double) \
               / nullif(count(*) filter (where {name}_status in ('met', 'breached')), 0) \
               as {name}_met_share, \
             median({name}_hours) as median_{name}_hours"
        )
    };
    format!(
        "select {keys}, count(*) as tickets, {}, {} from ticket_sla where {filter} \
         group by {keys}",
        clock("response"),
        clock("resolution")
    )
}

/// The survey trend grouped by `keys` (of month, ticket_kind) over the answers whose
/// month matches `filter`; a ticket closed up to `window` seconds before an answer may be
/// what it rates.
pub fn survey_trend_sql(window: i64, keys: &str, filter: &str) -> String {
    format!(
        "with answers as (select *, row_number() over () as answer_row from survey_answers), \
         rated as ( \
           select a.answer_row, a.customer_id, a.score, a.on_scale, \
             cast(date_trunc('month', a.day) as date) as month, \
             case when a.customer_id is null then '(anonymous)' \
               else coalesce(last_value(f.kind order by f.closed_at, f.ticket_id), \
                 '(no ticket)') end as ticket_kind \
           from answers a left join ticket_facts f \
             on f.customer_id = a.customer_id and f.closed and not f.bad_close_time \
             and f.closed_at <= a.answered_at \
             and f.closed_at >= a.answered_at - interval '{window} seconds' \
           group by a.answer_row, a.customer_id, a.score, a.on_scale, a.day) \
         select {keys}, count(*) filter (where on_scale) as answers, \
           avg(score) filter (where on_scale) as mean_score, \
           cast(count(*) filter (where on_scale and score >= 4) as double) \
             / nullif(count(*) filter (where on_scale), 0) as top_two_share, \
           cast(count(*) filter (where on_scale and score <= 2) as double) \
             / nullif(count(*) filter (where on_scale), 0) as bottom_two_share, \
           count(*) filter (where not on_scale) as out_of_scale \
         from rated where {filter} group by {keys}"
    )
}
