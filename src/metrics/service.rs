//! Service: support tickets by kind and month, the service level (SLA) and its breaches,
//! and the satisfaction survey (views `service_tickets`, `ticket_sla`, `service_sla`,
//! `survey_scores`, `survey_summary`, `survey_trend`; definitions in `views::service` and
//! `views::sla`).

use datafusion::dataframe::DataFrame;

use super::Months;
use super::dimensions::{Dimension, keys, order_by};
use crate::engine::Engine;
use crate::views::service::{survey_scores_sql, survey_summary_sql, ticket_summary_sql};
use crate::views::sla::{sla_summary_sql, survey_trend_sql};
use crate::{Error, Result};

/// A service figure. Tickets are taken by opening month, survey answers by their date's
/// month.
#[derive(Debug, Clone)]
pub enum ServiceFigure {
    /// Tickets opened, closed, open and time to close per group of `by`.
    Tickets { by: Vec<TicketDim>, period: Months },
    /// Tickets against the service level ([service.sla]) per group of `by`.
    Sla { by: Vec<TicketDim>, period: Months },
    /// The tickets that breached the service level, one row each.
    Breaches { period: Months },
    /// Survey answers per level of the scale.
    Surveys { period: Months },
    /// One row: answers, anonymous answers, mean score, share of the two best levels.
    SurveySummary { period: Months },
    /// Survey answers per month and kind of the ticket answered about.
    SurveyTrend { period: Months },
}

/// A dimension of the ticket figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketDim {
    Kind,
    Month,
    Manager,
}

impl Dimension for TicketDim {
    const ALL: &'static [TicketDim] = &[TicketDim::Kind, TicketDim::Month, TicketDim::Manager];

    fn name(self) -> &'static str {
        match self {
            TicketDim::Kind => "kind",
            TicketDim::Month => "month",
            TicketDim::Manager => "manager",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            TicketDim::Manager => "manager_id",
            other => other.name(),
        }
    }
}

/// The rows of one service figure.
pub async fn service(engine: &Engine, figure: &ServiceFigure) -> Result<DataFrame> {
    let sql = match figure {
        ServiceFigure::Surveys { period } => format!(
            "select * from ({}) order by score desc",
            survey_scores_sql(&survey_days(period))
        ),
        ServiceFigure::SurveySummary { period } => survey_summary_sql(&survey_days(period)),
        ServiceFigure::SurveyTrend { period } => {
            let window = engine.config().service.seconds().map_err(Error::Usage)?.2;
            let filter = period.condition("date_trunc('month', month)");
            format!(
                "select * from ({}) order by month nulls last, ticket_kind",
                survey_trend_sql(window, "month, ticket_kind", &filter)
            )
        }
        ServiceFigure::Breaches { period } => format!(
            "select * from ticket_sla where ({}) and \
             (response_status = 'breached' or resolution_status = 'breached') \
             order by opened_at, ticket_id",
            period.condition("month")
        ),
        ServiceFigure::Sla { by, period } | ServiceFigure::Tickets { by, period } => {
            let keys = keys(by)?;
            let summary = match figure {
                ServiceFigure::Sla { .. } => sla_summary_sql,
                _ => ticket_summary_sql,
            };
            format!(
                "select * from ({}) order by {}",
                summary(&keys.join(", "), &period.condition("month")),
                order_by(&keys)
            )
        }
    };
    let what = match figure {
        ServiceFigure::Surveys { .. }
        | ServiceFigure::SurveySummary { .. }
        | ServiceFigure::SurveyTrend { .. } => "surveys",
        _ => "tickets",
    };
    engine.require(&format!("service figures ({what})"), &[what])?;
    engine.sql(&sql).await
}

/// Whole months of survey answers: from the first day of the first month to the last day of
/// the last.
fn survey_days(period: &Months) -> String {
    period.condition("date_trunc('month', day)")
}
