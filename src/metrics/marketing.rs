//! Campaign and lead-source effectiveness (views `campaign_effectiveness` and
//! `source_effectiveness`; definitions in `views::marketing`).

use datafusion::dataframe::DataFrame;

use super::{Days, where_clause};
use crate::config::Config;
use crate::engine::Engine;
use crate::views::sql_string;
use crate::{Error, Result};

/// Which campaigns to show.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    /// Only this campaign (an unknown one is a usage error).
    pub campaign: Option<String>,
    /// Only campaigns of this channel.
    pub channel: Option<String>,
    /// Campaigns started in these days.
    pub period: Days,
}

/// Sets the attribution window (days) and the margin of ROI in `config`, before the engine
/// opens (the view `campaign_effectiveness` is defined with them); a margin outside
/// 0 < m ≤ 1 is a usage error.
pub fn settings(
    config: &mut Config,
    attribution_days: Option<u32>,
    margin: Option<f64>,
) -> Result<()> {
    if let Some(days) = attribution_days {
        config.campaigns.attribution_days = days;
    }
    if let Some(m) = margin {
        if !(m > 0.0 && m <= 1.0) {
            return Err(Error::Usage(format!(
                "--margin {m}: expected a share 0 < m ≤ 1 (e.g. 0.35 for a 35% margin)"
            )));
        }
        config.campaigns.margin = m;
    }
    Ok(())
}

/// Campaign effectiveness, one row per campaign of `filter`, by start.
pub async fn campaigns(engine: &Engine, filter: &CampaignFilter) -> Result<DataFrame> {
    engine.require("campaign effectiveness", &["campaigns", "campaign_members"])?;
    let mut conditions = Vec::new();
    if let Some(c) = &filter.campaign {
        let known = engine
            .sql(&format!(
                "select 1 from campaign_effectiveness where campaign_id = {}",
                sql_string(c)
            ))
            .await?
            .count()
            .await?;
        if known == 0 {
            return Err(Error::Usage(format!(
                "--campaign {c}: no such campaign in campaigns or campaign_members"
            )));
        }
        conditions.push(format!("campaign_id = {}", sql_string(c)));
    }
    if let Some(c) = &filter.channel {
        conditions.push(format!("channel = {}", sql_string(c)));
    }
    conditions.extend(filter.period.conditions("start_date"));
    engine
        .sql(&format!(
            "select * from campaign_effectiveness{} order by started_at nulls last, campaign_id",
            where_clause(&conditions)
        ))
        .await
}

/// Lead-source effectiveness, one row per lead source, largest first.
pub async fn sources(engine: &Engine) -> Result<DataFrame> {
    engine
        .sql("select * from source_effectiveness order by leads + deals desc, source")
        .await
}
