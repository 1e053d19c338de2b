//! Service figures (PRODUCT.md, "Service"): support tickets and satisfaction surveys.
//!
//! - `ticket_facts`: one row per ticket opened on or before as_of: ticket_id, customer_id,
//!   manager_id, `kind` (NULL shown as `(none)`), `month` (first day of the month it was opened,
//!   in the dataset time zone), `closed` (closed on or before as_of; a ticket closed later was
//!   still open at as_of), and `hours_to_close` (closed tickets only). A ticket whose
//!   `closed_at` is before its `opened_at` is closed but has no time to close
//!   (`bad_close_time`): a negative duration would pull the median down.
//! - `service_tickets`: per kind and month: `opened`, `closed`, `open` (= opened − closed),
//!   `median_hours_to_close`, `p90_hours_to_close` (exact, `percentile_cont`),
//!   `mean_hours_to_close`, `bad_close_times`. Tickets without an opening time cannot be
//!   placed in a month: they form a row with a NULL month, so none is lost.
//! - `survey_answers`: one row per answer on or before as_of (or without a time): survey_id,
//!   customer_id, answered_at, `day` (local date), `score`, `on_scale`.
//! - `survey_scores`: the five levels of the scale, always all five: `score` (5 … 1),
//!   `label` (Excellent, Very good, Good, Acceptable, Weak), `answers`, `named`,
//!   `anonymous` (no customer_id), `share` of all answers on the scale. Answers on or
//!   before as_of.
//! - `survey_summary`: one row: `answers`, `named`, `anonymous`, `mean_score`,
//!   `top_two_share` (Excellent or Very good), and `out_of_scale`: answers whose score is not
//!   an integer 1 … 5 (or NULL); they are counted there and left out of the distribution and
//!   the mean.

use super::{View, ViewEnv};
use crate::Result;

/// The names of this module's views.
pub const NAMES: &[&str] = &[
    "ticket_facts",
    "service_tickets",
    "survey_answers",
    "survey_scores",
    "survey_summary",
];

/// The five levels of the satisfaction scale, best first.
pub const LEVELS: [(i32, &str); 5] = [
    (5, "Excellent"),
    (4, "Very good"),
    (3, "Good"),
    (2, "Acceptable"),
    (1, "Weak"),
];

/// This module's views, in dependency order.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    Ok(vec![
        View {
            name: "ticket_facts",
            sql: ticket_facts_sql(env)?,
        },
        View {
            name: "service_tickets",
            sql: ticket_summary_sql("kind, month", "true"),
        },
        View {
            name: "survey_answers",
            sql: survey_answers_sql(env)?,
        },
        View {
            name: "survey_scores",
            sql: survey_scores_sql("true"),
        },
        View {
            name: "survey_summary",
            sql: survey_summary_sql("true"),
        },
    ])
}

fn ticket_facts_sql(env: &ViewEnv) -> Result<String> {
    let opened = env.up_to_as_of("opened_at")?;
    let closed = env.up_to_as_of("closed_at")?;
    let month = format!("date_trunc('month', {})", env.local_date("opened_at"));
    let manager = env.column_or_null("tickets", "t", "manager_id", "varchar");
    Ok(format!(
        "select t.ticket_id, t.customer_id, {manager}, coalesce(t.kind, '(none)') as kind, \
           cast({month} as date) as month, t.opened_at, t.closed_at, \
           (t.closed_at is not null and {closed}) as closed, \
           (t.closed_at is not null and {closed} and t.closed_at < t.opened_at) as bad_close_time, \
           case when t.closed_at is not null and {closed} and t.closed_at >= t.opened_at \
             then (date_part('epoch', t.closed_at) - date_part('epoch', t.opened_at)) / 3600.0 \
           end as hours_to_close \
         from tickets t where t.opened_at is null or {opened}"
    ))
}

/// Tickets per group of `ticket_facts` columns (`keys`, e.g. "kind, month") over the rows
/// matching `filter` (SQL).
pub fn ticket_summary_sql(keys: &str, filter: &str) -> String {
    format!(
        "select {keys}, count(*) as opened, count(*) filter (where closed) as closed, \
           count(*) filter (where not closed) as open, \
           median(hours_to_close) as median_hours_to_close, \
           percentile_cont(0.9) within group (order by hours_to_close) as p90_hours_to_close, \
           avg(hours_to_close) as mean_hours_to_close, \
           count(*) filter (where bad_close_time) as bad_close_times \
         from ticket_facts where {filter} group by {keys}"
    )
}

fn survey_answers_sql(env: &ViewEnv) -> Result<String> {
    let up_to = env.up_to_as_of("answered_at")?;
    let day = env.local_date("answered_at");
    Ok(format!(
        "select survey_id, customer_id, answered_at, {day} as day, \
           cast(score as double) as score, \
           coalesce(cast(score as double) in (1, 2, 3, 4, 5), false) as on_scale \
         from surveys where answered_at is null or {up_to}"
    ))
}

/// The score distribution over the `survey_answers` rows matching `filter` (SQL, e.g.
/// "true").
pub fn survey_scores_sql(filter: &str) -> String {
    let levels = LEVELS
        .iter()
        .map(|(s, l)| format!("({s}, '{l}')"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "with scale as (select cast(score as int) as score, count(*) as answers, \
             count(customer_id) as named \
           from survey_answers where on_scale and ({filter}) group by 1), \
         total as (select sum(answers) as n from scale), \
         levels (score, label) as (values {levels}) \
         select levels.score, levels.label, coalesce(scale.answers, 0) as answers, \
           coalesce(scale.named, 0) as named, \
           coalesce(scale.answers, 0) - coalesce(scale.named, 0) as anonymous, \
           case when total.n > 0 then cast(coalesce(scale.answers, 0) as double) / total.n end as share \
         from levels cross join total left join scale on scale.score = levels.score"
    )
}

/// One row over the `survey_answers` rows matching `filter`: answers, mean score, and the
/// answers off the scale.
pub fn survey_summary_sql(filter: &str) -> String {
    format!(
        "select count(*) filter (where on_scale) as answers, \
           count(customer_id) filter (where on_scale) as named, \
           count(*) filter (where on_scale and customer_id is null) as anonymous, \
           avg(score) filter (where on_scale) as mean_score, \
           cast(count(*) filter (where on_scale and score >= 4) as double) \
             / nullif(count(*) filter (where on_scale), 0) as top_two_share, \
           count(*) filter (where not on_scale) as out_of_scale \
         from survey_answers where {filter}"
    )
}
