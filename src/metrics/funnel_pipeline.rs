//! The deal funnel (view `pipeline_funnel`), its win rate and sales cycle
//! (`pipeline_summary`) and the per-hundred conversion (`per_hundred_conversion`), optionally
//! broken down and limited to a range of deal creation dates. Definitions in
//! `views::pipeline`.

use datafusion::dataframe::DataFrame;

use super::Days;
use crate::engine::Engine;
use crate::views::pipeline::{
    Breakdown, ContactBreakdown, funnel_sql, per_hundred_sql, summary_sql,
};
use crate::{Error, Result};

/// What the funnel can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineBy {
    /// The deal's manager.
    Manager,
    /// The deal's lead source.
    Source,
    /// The customer's region.
    Region,
    /// The deal's product category.
    ProductCategory,
    /// The customer's RFM segment.
    Segment,
    /// The deal's creation month.
    Month,
}

impl PipelineBy {
    fn breakdown(self) -> Breakdown<'static> {
        let (expr, column) = match self {
            PipelineBy::Manager => ("manager_id", "manager_id"),
            PipelineBy::Source => ("source", "source"),
            PipelineBy::Region => ("region", "region"),
            PipelineBy::ProductCategory => ("product_category", "product_category"),
            PipelineBy::Segment => ("segment", "segment"),
            PipelineBy::Month => ("created_month", "month"),
        };
        let customer = matches!(self, PipelineBy::Region | PipelineBy::Segment);
        Breakdown {
            expr,
            column,
            customer,
        }
    }

    /// The breakdown of cold contacts, which have no deal source or product category.
    pub fn contact(self) -> Option<ContactBreakdown> {
        match self {
            PipelineBy::Manager => Some(ContactBreakdown::Manager),
            PipelineBy::Region => Some(ContactBreakdown::Region),
            PipelineBy::Segment => Some(ContactBreakdown::Segment),
            PipelineBy::Month => Some(ContactBreakdown::Month),
            PipelineBy::Source | PipelineBy::ProductCategory => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PipelineBy::Manager => "manager",
            PipelineBy::Source => "source",
            PipelineBy::Region => "region",
            PipelineBy::ProductCategory => "product_category",
            PipelineBy::Segment => "segment",
            PipelineBy::Month => "month",
        }
    }
}

/// The funnel and its summary over the deals created in a period, broken down or not.
#[derive(Clone)]
pub struct DealFunnel<'a> {
    engine: &'a Engine,
    by: Option<PipelineBy>,
    /// The condition on `created_date` (empty for an open period).
    deal_filter: String,
}

impl<'a> DealFunnel<'a> {
    /// The deals created in `period`, per `by`, once the dataset is known to have them;
    /// deals and history rows the funnel leaves out are logged as warnings.
    pub async fn new(
        engine: &'a Engine,
        by: Option<PipelineBy>,
        period: Days,
    ) -> Result<DealFunnel<'a>> {
        engine.require("the pipeline funnel", &["deals", "deal_stage_history"])?;
        let deal_filter = period.conditions("created_date").join(" and ");
        warn_left_out(engine, &deal_filter).await?;
        Ok(DealFunnel {
            engine,
            by,
            deal_filter,
        })
    }

    /// Per stage: reached, converted, won, dropped, in progress, conversions, days in stage.
    pub async fn funnel(&self) -> Result<DataFrame> {
        let by = self.by.map(PipelineBy::breakdown);
        let config = &self.engine.config().pipeline;
        self.engine
            .sql(&funnel_sql(config, by, &self.deal_filter))
            .await
    }

    /// Win rate, sales cycle and the deals left out of the funnel.
    pub async fn summary(&self) -> Result<DataFrame> {
        let by = self.by.map(PipelineBy::breakdown);
        self.engine.sql(&summary_sql(by, &self.deal_filter)).await
    }
}

/// The breakdown of the per-hundred conversion, or a usage error for one a cold contact
/// does not have (source, product category).
pub fn per_hundred_breakdown(by: Option<PipelineBy>) -> Result<Option<ContactBreakdown>> {
    match by {
        Some(b) if b.contact().is_none() => Err(Error::Usage(format!(
            "--per-hundred cannot be broken down by {}: a cold contact has no deal yet; \
             use --by manager, region, segment or month",
            b.name()
        ))),
        Some(b) => Ok(b.contact()),
        None => Ok(None),
    }
}

/// The per-hundred conversion (cold contacts → opportunities → sales) of the cold contacts
/// made in `period`, per `by` (see [`per_hundred_breakdown`]).
pub async fn per_hundred(
    engine: &Engine,
    by: Option<PipelineBy>,
    period: Days,
) -> Result<DataFrame> {
    let contact_by = per_hundred_breakdown(by)?;
    engine.require("per-hundred conversion", &["deals", "activities"])?;
    let contact_filter = period.conditions("contact_date").join(" and ");
    let env = engine.view_env(engine.as_of().await?).await?;
    engine
        .sql(&per_hundred_sql(&env, contact_by, &contact_filter)?)
        .await
}

/// Logs a warning for every deal or history row the funnel leaves out, so none vanishes
/// silently.
async fn warn_left_out(engine: &Engine, deal_filter: &str) -> Result<()> {
    let sql = format!(
        "select deals_without_history, unknown_stage_rows, orphan_history_rows, \
           unknown_status_deals from ({})",
        summary_sql(None, deal_filter)
    );
    let counts = super::counts(engine, &sql).await?;
    let stages = engine.config().pipeline.stages.join(", ");
    let lost = &engine.config().pipeline.lost_stage;
    let messages = [
        "deal(s) have no history entry of an ordered stage up to as_of: they are not in \
         the funnel (see deals_without_history; they count in the win rate)"
            .to_string(),
        format!(
            "deal_stage_history row(s) have a stage that is neither one of [{stages}] nor \
             the lost stage {lost:?}: ignored (see unknown_stage_rows)"
        ),
        "deal_stage_history row(s) belong to no deal of `deals`: ignored \
         (see orphan_history_rows)"
            .to_string(),
        "deal(s) have a status other than open/won/lost: counted as open \
         (see unknown_status_deals)"
            .to_string(),
    ];
    for (n, what) in counts.into_iter().zip(messages) {
        if n > 0 {
            log::warn!("{n} {what}");
        }
    }
    Ok(())
}
