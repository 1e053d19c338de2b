//! Sales diagnostics: lost reasons, revenue by channel, activity durations, lead SLA misses,
//! managers who left with customers (views of `views::diagnostics`; definitions there and
//! in docs/metrics.md).

use datafusion::dataframe::DataFrame;

use super::dimensions::{Dimension, keys, order_by};
use super::{Days, Months};
use crate::Result;
use crate::engine::Engine;
use crate::views::diagnostics::{channel_revenue_sql, durations_sql, sla_misses_sql};
use crate::views::managers::Period;
use crate::views::{ViewEnv, sql_string};

/// A sales diagnostic and its parameters.
#[derive(Debug, Clone)]
pub enum Diagnostic {
    /// Lost deals by the dimensions of `by`, of the closing months of `period`.
    LostReasons { by: Vec<LostDim>, period: Months },
    /// Paid revenue, orders and buyers by the dimensions of `by` over the months of `period`.
    Channels { by: Vec<ChannelDim>, period: Months },
    /// Duration statistics per manager of the activities of `kind` (None: all kinds) over
    /// `period` [default: the 30 days ending at as_of].
    Durations { kind: Option<String>, period: Days },
    /// The deals created in `period` [default: the 30 days ending at as_of] whose lead
    /// response missed the SLA, of one manager or all.
    LeadSla {
        manager: Option<String>,
        period: Days,
    },
    /// Managers who left with customers assigned, or (`customers`) those customers.
    Departed { customers: bool },
}

/// A dimension of the lost reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostDim {
    /// deals.lost_reason.
    Reason,
    /// The furthest stage reached.
    Stage,
    /// The deal's manager.
    Manager,
    /// The closing month.
    Month,
}

impl Dimension for LostDim {
    const ALL: &'static [LostDim] = &[
        LostDim::Reason,
        LostDim::Stage,
        LostDim::Manager,
        LostDim::Month,
    ];

    fn name(self) -> &'static str {
        match self {
            LostDim::Reason => "reason",
            LostDim::Stage => "stage",
            LostDim::Manager => "manager",
            LostDim::Month => "month",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            LostDim::Reason => "lost_reason",
            LostDim::Stage => "stage_order, stage",
            LostDim::Manager => "manager_id",
            LostDim::Month => "month",
        }
    }
}

/// A dimension of the revenue by channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelDim {
    /// The calendar month of the order.
    Month,
    /// orders.channel.
    Channel,
}

impl Dimension for ChannelDim {
    const ALL: &'static [ChannelDim] = &[ChannelDim::Month, ChannelDim::Channel];

    fn name(self) -> &'static str {
        match self {
            ChannelDim::Month => "month",
            ChannelDim::Channel => "channel",
        }
    }

    fn columns(self) -> &'static str {
        self.name()
    }
}

impl Diagnostic {
    /// What the diagnostic is called in messages and the tables it needs.
    fn needs(&self) -> (&'static str, &'static [&'static str]) {
        match self {
            Diagnostic::LostReasons { .. } => ("lost reasons", &["deals", "deal_stage_history"]),
            Diagnostic::Channels { .. } => ("revenue by channel", &[]),
            Diagnostic::Durations { .. } => ("activity durations", &["activities"]),
            Diagnostic::LeadSla { .. } => ("lead SLA misses", &["deals", "activities"]),
            Diagnostic::Departed { .. } => ("departed managers", &["managers"]),
        }
    }
}

/// The rows of one sales diagnostic.
pub async fn diagnostic(engine: &Engine, diagnostic: &Diagnostic) -> Result<DataFrame> {
    let (what, tables) = diagnostic.needs();
    engine.require(what, tables)?;
    let sql = match diagnostic {
        Diagnostic::LostReasons { by, period } => lost_sql(by, *period)?,
        Diagnostic::Departed { customers: true } => "select * from departed_manager_customers \
             order by owner_manager_id, customer_id"
            .into(),
        Diagnostic::Departed { customers: false } => {
            "select * from departed_managers order by customers desc, manager_id".into()
        }
        Diagnostic::Durations { kind: only, period }
        | Diagnostic::LeadSla {
            manager: only,
            period,
        } => {
            // Rows over a period of days (once as_of is known), of one kind or manager or all.
            let (rows, column, order): (fn(&ViewEnv, Period) -> Result<String>, _, _) =
                match diagnostic {
                    Diagnostic::Durations { .. } => {
                        (durations_sql, "kind", "manager_id nulls last, kind")
                    }
                    _ => (sla_misses_sql, "manager_id", "created_at, deal_id"),
                };
            let as_of = engine.as_of().await?;
            let env = engine.view_env(as_of).await?;
            let only = match only {
                Some(v) => format!("{column} = {}", sql_string(v)),
                None => "true".into(),
            };
            format!(
                "select * from ({}) where {only} order by {order}",
                rows(&env, Period::new(period.from(), period.to(), as_of)?)?
            )
        }
        Diagnostic::Channels { by, period } => {
            let keys = keys(by)?;
            let as_of = engine.as_of().await?;
            let env = engine.view_env(as_of).await?;
            format!(
                "select * from ({}) order by {}",
                channel_revenue_sql(&env, &keys.join(", "), &period.condition("month"))?,
                order_by(&keys)
            )
        }
    };
    engine.sql(&sql).await
}

fn lost_sql(by: &[LostDim], period: Months) -> Result<String> {
    let keys = keys(by)?;
    let filter = period.condition("month");
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
