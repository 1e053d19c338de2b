//! `crmlens campaigns` and `crmlens sources`: arguments for [`crate::metrics::marketing`].

use super::range::DayArgs;
use super::{GlobalArgs, open, write};
use crate::Result;
use crate::engine::Engine;
use crate::metrics::marketing::{self, CampaignFilter};

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
    period: DayArgs,
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
    marketing::settings(&mut config, args.attribution_days, args.margin)?;
    let filter = CampaignFilter {
        campaign: args.campaign,
        channel: args.channel,
        period: args.period.period()?,
    };
    let engine = Engine::open(&config).await?;
    write(
        global,
        args.max_rows,
        marketing::campaigns(&engine, &filter).await?,
    )
    .await
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
    let engine = open(global).await?;
    write(global, args.max_rows, marketing::sources(&engine).await?).await
}
