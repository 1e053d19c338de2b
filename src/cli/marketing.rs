//! `crmlens campaigns` and `crmlens sources`: campaign and lead-source effectiveness (views
//! `campaign_effectiveness` and `source_effectiveness`; definitions in `views::marketing`).

use super::GlobalArgs;
use super::range::Days;
use crate::engine::Engine;
use crate::output::write_dataframe;
use crate::views::sql_string;
use crate::{Error, Result};

/// Campaign effectiveness against the control group
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens campaigns --dataset datasets/demo
  crmlens campaigns --channel email --from 2025-01-01 --format json
  crmlens campaigns --attribution-days 14 --margin 0.35 --format csv --output campaigns.csv

One row per campaign. A member's window starts when the campaign was sent to them (control
members, who are sent nothing, from the campaign's start) and lasts attribution_days days, ends
included, cut at as_of. A member converts when converted_at falls in the window or they make
a purchase in it; revenue is their purchases in the window.
  response_rate       responded ÷ members (treatment group)
  conversion_rate     conversions ÷ members; control_conversion_rate likewise
  uplift              conversion_rate − control_conversion_rate, with a 95% confidence interval
                      (uplift_ci_low … uplift_ci_high) by Newcombe's hybrid score method
                      (Wilson intervals of both rates)
  incremental_revenue (revenue_per_member − control_revenue_per_member) × members
  roi                 (incremental_revenue × margin − cost) ÷ cost
Without a control group uplift, incremental revenue and ROI are empty (has_control false).
window_complete is false while some member's window is still open at as_of. Defaults in
crmlens.toml: [campaigns] attribution_days = 30, margin = 1.0. The same figures are the view
campaign_effectiveness of `crmlens sql`.")]
#[command(mut_arg("from", |a| a.help("Campaigns started on or after this date (YYYY-MM-DD)")), mut_arg("to", |a| a.help("Campaigns started on or before this date (YYYY-MM-DD)")))]
pub struct CampaignsArgs {
    /// Only this campaign
    #[arg(long, value_name = "ID")]
    campaign: Option<String>,
    /// Only campaigns of this channel (email, sms, ads, …)
    #[arg(long, value_name = "CHANNEL")]
    channel: Option<String>,
    #[command(flatten)]
    period: Days,
    /// Attribution window in days [default: campaigns.attribution_days, 30]
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    attribution_days: Option<u32>,
    /// Margin applied to incremental revenue in ROI, 0 < m ≤ 1 [default: campaigns.margin, 1]
    #[arg(long, value_name = "M")]
    margin: Option<f64>,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn campaigns(global: &GlobalArgs, args: CampaignsArgs) -> Result<u8> {
    let mut config = global.config()?;
    if let Some(days) = args.attribution_days {
        config.campaigns.attribution_days = days;
    }
    if let Some(m) = args.margin {
        if !(m > 0.0 && m <= 1.0) {
            return Err(Error::Usage(format!(
                "--margin {m}: expected a share 0 < m ≤ 1 (e.g. 0.35 for a 35% margin)"
            )));
        }
        config.campaigns.margin = m;
    }
    let mut conditions = Vec::new();
    if let Some(c) = &args.campaign {
        conditions.push(format!("campaign_id = {}", sql_string(c)));
    }
    if let Some(c) = &args.channel {
        conditions.push(format!("channel = {}", sql_string(c)));
    }
    conditions.extend(args.period.conditions("start_date")?);
    let sql = format!(
        "select * from campaign_effectiveness{} order by started_at nulls last, campaign_id",
        where_clause(&conditions)
    );
    let output = global.output(args.max_rows);
    let engine = Engine::open(&config).await?;
    engine.require("campaign effectiveness", &["campaigns", "campaign_members"])?;
    if let Some(c) = &args.campaign {
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
    }
    let rows = write_dataframe(engine.sql(&sql).await?, &output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}

/// Lead-source effectiveness
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens sources --dataset datasets/demo
  crmlens sources --format json
  crmlens funnel pipeline --by source      stage-by-stage conversion of each source's deals

One row per lead source (customers' acquisition_source and deals' source):
  leads             customers acquired from the source (created up to as_of)
  leads_with_deal   of those, customers with at least one deal; buyers: with a purchase
  customer_revenue  the purchases of those customers up to as_of
  deals, won, lost, open, won_amount   deals from the source created up to as_of; a deal
                    closed after as_of is open at as_of
  lead_to_deal = leads_with_deal ÷ leads, lead_to_buyer = buyers ÷ leads,
  win_rate = won ÷ deals, win_rate_closed = won ÷ (won + lost)
The same figures are the view source_effectiveness of `crmlens sql`.")]
pub struct SourcesArgs {
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn sources(global: &GlobalArgs, args: SourcesArgs) -> Result<u8> {
    super::show_sql(
        global,
        "select * from source_effectiveness order by leads + deals desc, source",
        args.max_rows,
    )
    .await
}

/// SQL conditions `column` (a DATE) between the optional first and last day.
fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" where {}", conditions.join(" and "))
    }
}
