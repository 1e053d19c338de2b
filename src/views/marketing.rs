//! Campaign and lead-source effectiveness (PRODUCT.md, "Campaigns and sources").
//!
//! `campaign_members` (one row per campaign and member) gives the views:
//!
//! - `campaign_member_outcomes`: one row per member row whose reference time is on or before
//!   as_of. The reference time is `sent_at`, or the campaign's `started_at` for a member who
//!   was not sent anything (the control group): both groups are measured over the same
//!   calendar window. The attribution window is [reference, reference +
//!   `campaigns.attribution_days` days], both ends included, cut at as_of. A member
//!   *converts* when `converted_at` falls in that window or when they made a purchase (a
//!   `purchases` row) in it, so a CRM that does not fill `converted_at` still gets
//!   conversions from its orders. `revenue` is the member's purchases in the window (orders up
//!   to as_of). `responded` = `responded_at` on or before as_of (only sent members can
//!   respond).
//! - `campaign_effectiveness`: one row per campaign (also a campaign id that appears only in
//!   `campaign_members`, with a NULL name, so no member is lost), with:
//!   - `start_date`: the day `started_at` falls on in the dataset time zone;
//!   - `members` (treatment: `is_control` false or NULL) and `control_members`;
//!     `members_pending`: members whose reference time is after as_of or unknown (no
//!     `sent_at` and no campaign start), not measured yet and not counted elsewhere;
//!   - `responded`, `response_rate` = responded ÷ members;
//!   - `conversions`, `conversion_rate` and the same for the control group;
//!   - `uplift` = conversion_rate − control_conversion_rate, with a 95 % confidence interval
//!     `uplift_ci_low` … `uplift_ci_high` by Newcombe's hybrid score method (method 10 of
//!     Newcombe 1998, "Interval estimation for the difference between independent
//!     proportions"): Wilson score intervals (l₁, u₁) and (l₂, u₂) for the two rates, then
//!     d − √((p₁ − l₁)² + (u₂ − p₂)²) … d + √((u₁ − p₁)² + (p₂ − l₂)²). Unlike the Wald
//!     interval it stays inside [−1, 1] and does not collapse to a point when a rate is 0 or
//!     1, which small control groups often give;
//!   - `revenue` (treatment, in the window), `revenue_per_member` and
//!     `control_revenue_per_member`; `incremental_revenue` = (revenue_per_member −
//!     control_revenue_per_member) × members: what the treatment group bought beyond what it
//!     would have bought at the control group's rate;
//!   - `roi` = (incremental_revenue × `campaigns.margin` − cost) ÷ cost.
//!     Without a control group uplift, incremental revenue and ROI are NULL (`has_control`
//!     false): crediting the campaign with all the members' purchases would overstate it.
//!     ROI is NULL when the cost is missing or 0;
//!   - `deals`, `won_deals`, `won_amount`: deals whose `campaign_id` is the campaign (created
//!     up to as_of; won = status won, closed on or before as_of);
//!   - `window_complete`: no member is pending and every measured member's window has ended
//!     by as_of; when false the figures are still growing.
//! - `source_effectiveness`: one row per lead source, the union of the customers'
//!   `acquisition_source` and the deals' `source` (NULL shown as `(none)`): `leads` =
//!   customers acquired from the source (created on or before as_of, or without a creation
//!   time), `leads_with_deal` = those with at least one deal, `buyers` = those with a
//!   purchase, `customer_revenue` = their purchases, then `deals` with that source (created up
//!   to as_of), `won` / `lost` (closed on or before as_of; a deal closed later was open at
//!   as_of), `open`, `won_amount`; conversions `lead_to_deal` = leads_with_deal ÷ leads,
//!   `lead_to_buyer` = buyers ÷ leads, `win_rate` = won ÷ deals (open deals in the
//!   denominator), `win_rate_closed` = won ÷ (won + lost). Stage-by-stage conversion per
//!   source is the pipeline funnel's `--by source`.

use super::{View, ViewEnv};
use crate::Result;

/// The names of this module's views.
pub const NAMES: &[&str] = &[
    "campaign_member_outcomes",
    "campaign_effectiveness",
    "source_effectiveness",
];

/// The two-sided 95 % normal quantile.
const Z95: f64 = 1.959_963_984_540_054;

/// This module's views, in dependency order.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    Ok(vec![
        View {
            name: "campaign_member_outcomes",
            sql: member_outcomes_sql(env)?,
        },
        View {
            name: "campaign_effectiveness",
            sql: campaign_sql(env)?,
        },
        View {
            name: "source_effectiveness",
            sql: sources_sql(env)?,
        },
    ])
}

fn member_outcomes_sql(env: &ViewEnv) -> Result<String> {
    let days = env.config.campaigns.attribution_days;
    let ref_up_to = env.up_to_as_of("m.ref_at")?;
    let responded_up_to = env.up_to_as_of("m.responded_at")?;
    let converted_up_to = env.up_to_as_of("m.converted_at")?;
    Ok(format!(
        "with m as ( \
           select cm.campaign_id, cm.customer_id, coalesce(cm.is_control, false) as is_control, \
             coalesce(cm.sent_at, c.started_at) as ref_at, \
             coalesce(cm.sent_at, c.started_at) + interval '{days} days' as window_end, \
             cm.responded_at, cm.converted_at \
           from campaign_members cm left join campaigns c on c.campaign_id = cm.campaign_id), \
         measured as ( \
           select m.campaign_id, m.customer_id, m.is_control, m.ref_at, m.window_end, \
             (m.responded_at is not null and {responded_up_to}) as responded, \
             (m.converted_at is not null and m.converted_at >= m.ref_at \
               and m.converted_at <= m.window_end and {converted_up_to}) as converted_recorded \
           from m where m.ref_at is not null and {ref_up_to}), \
         bought as ( \
           select x.campaign_id, x.customer_id, x.ref_at, count(*) as purchases, \
             sum(p.amount) as revenue \
           from measured x join purchases p on p.customer_id = x.customer_id \
             and p.ordered_at >= x.ref_at and p.ordered_at <= x.window_end \
           group by x.campaign_id, x.customer_id, x.ref_at) \
         select x.campaign_id, x.customer_id, x.is_control, x.ref_at, x.window_end, \
           x.responded, \
           (x.converted_recorded or coalesce(b.purchases, 0) > 0) as converted, \
           coalesce(b.purchases, 0) as purchases, coalesce(b.revenue, 0) as revenue \
         from measured x left join bought b on b.campaign_id = x.campaign_id \
           and b.customer_id = x.customer_id and b.ref_at = x.ref_at"
    ))
}

/// SQL for the Wilson score interval bound of `x` successes in `n` trials (`sign` −1 for
/// the lower bound, +1 for the upper one); NULL when n = 0.
fn wilson(x: &str, n: &str, sign: f64) -> String {
    let z2 = Z95 * Z95;
    format!(
        "(case when {n} > 0 then \
           (({x} + {h}) + ({sign}) * {Z95} * sqrt({x} * ({n} - {x}) / {n} + {q})) / ({n} + {z2}) \
         end)",
        h = z2 / 2.0,
        q = z2 / 4.0,
    )
}

fn campaign_sql(env: &ViewEnv) -> Result<String> {
    let margin = env.config.campaigns.margin;
    let start_date = env.local_date("c.started_at");
    let pending_ref = env.up_to_as_of("coalesce(cm.sent_at, c.started_at)")?;
    let window_done = env.up_to_as_of("g.last_window_end")?;
    let (deals_cte, deals_join, deals_cols) = if env.has("deals")
        && env.has_column("deals", "campaign_id")
    {
        let created = env.up_to_as_of("created_at")?;
        let closed = env.up_to_as_of("closed_at")?;
        let amount = env.money("amount", "deals.amount");
        (
            format!(
                ", d as (select campaign_id, count(*) as deals, \
                   count(*) filter (where status = 'won' and (closed_at is null or {closed})) as won_deals, \
                   coalesce(sum({amount}) filter (where status = 'won' and (closed_at is null or {closed})), 0) as won_amount \
                 from deals where campaign_id is not null and {created} group by campaign_id)"
            ),
            "left join d on d.campaign_id = k.campaign_id",
            "coalesce(d.deals, 0) as deals, coalesce(d.won_deals, 0) as won_deals, \
             coalesce(d.won_amount, 0) as won_amount"
                .to_string(),
        )
    } else {
        (
            String::new(),
            "",
            "cast(null as bigint) as deals, cast(null as bigint) as won_deals, \
             cast(null as double) as won_amount"
                .to_string(),
        )
    };
    let (p1, p2) = ("s.conversion_rate", "s.control_conversion_rate");
    let (x1, n1) = ("cast(s.conversions as double)", "cast(s.members as double)");
    let (x2, n2) = (
        "cast(s.control_conversions as double)",
        "cast(s.control_members as double)",
    );
    let (l1, u1) = (wilson(x1, n1, -1.0), wilson(x1, n1, 1.0));
    let (l2, u2) = (wilson(x2, n2, -1.0), wilson(x2, n2, 1.0));
    Ok(format!(
        "with g as ( \
           select campaign_id, \
             count(*) filter (where not is_control) as members, \
             count(*) filter (where is_control) as control_members, \
             count(*) filter (where not is_control and responded) as responded, \
             count(*) filter (where not is_control and converted) as conversions, \
             count(*) filter (where is_control and converted) as control_conversions, \
             coalesce(sum(revenue) filter (where not is_control), 0.0) as revenue, \
             coalesce(sum(revenue) filter (where is_control), 0.0) as control_revenue, \
             max(window_end) as last_window_end \
           from campaign_member_outcomes group by campaign_id), \
         pending as ( \
           select cm.campaign_id, count(*) as members_pending \
           from campaign_members cm left join campaigns c on c.campaign_id = cm.campaign_id \
           where coalesce(cm.sent_at, c.started_at) is null or not ({pending_ref}) \
           group by cm.campaign_id), \
         k as ( \
           select campaign_id from campaigns union select campaign_id from campaign_members) \
         {deals_cte}, \
         s as ( \
           select k.campaign_id, c.name, c.channel, c.started_at, {start_date} as start_date, \
             c.ended_at, \
             cast(c.cost as double) as cost, \
             coalesce(g.members, 0) as members, coalesce(g.control_members, 0) as control_members, \
             coalesce(p.members_pending, 0) as members_pending, \
             coalesce(g.responded, 0) as responded, \
             coalesce(g.conversions, 0) as conversions, \
             coalesce(g.control_conversions, 0) as control_conversions, \
             g.members > 0 as has_members, coalesce(g.control_members, 0) > 0 as has_control, \
             case when g.members > 0 then cast(g.conversions as double) / g.members end as conversion_rate, \
             case when g.control_members > 0 then cast(g.control_conversions as double) / g.control_members end as control_conversion_rate, \
             coalesce(g.revenue, 0.0) as revenue, \
             case when g.members > 0 then g.revenue / g.members end as revenue_per_member, \
             case when g.control_members > 0 then g.control_revenue / g.control_members end as control_revenue_per_member, \
             case when coalesce(p.members_pending, 0) > 0 then false \
               when g.last_window_end is null then true else {window_done} end as window_complete, \
             {deals_cols} \
           from k left join campaigns c on c.campaign_id = k.campaign_id \
           left join g on g.campaign_id = k.campaign_id \
           left join pending p on p.campaign_id = k.campaign_id {deals_join}) \
         select s.campaign_id, s.name, s.channel, s.started_at, s.start_date, s.ended_at, s.cost, \
           s.members, s.control_members, s.members_pending, s.responded, \
           case when s.members > 0 then cast(s.responded as double) / s.members end as response_rate, \
           s.conversions, s.conversion_rate, s.control_conversions, s.control_conversion_rate, \
           {p1} - {p2} as uplift, \
           ({p1} - {p2}) - sqrt(power({p1} - {l1}, 2) + power({u2} - {p2}, 2)) as uplift_ci_low, \
           ({p1} - {p2}) + sqrt(power({u1} - {p1}, 2) + power({p2} - {l2}, 2)) as uplift_ci_high, \
           s.revenue, s.revenue_per_member, s.control_revenue_per_member, \
           (s.revenue_per_member - s.control_revenue_per_member) * s.members as incremental_revenue, \
           case when s.cost > 0 then \
             ((s.revenue_per_member - s.control_revenue_per_member) * s.members * {margin} - s.cost) / s.cost \
           end as roi, \
           s.has_control, s.deals, s.won_deals, s.won_amount, s.window_complete \
         from s"
    ))
}

fn sources_sql(env: &ViewEnv) -> Result<String> {
    let created = env.up_to_as_of("c.created_at")?;
    let deal_created = env.up_to_as_of("d.created_at")?;
    let closed = env.up_to_as_of("d.closed_at")?;
    let amount = env.money("d.amount", "deals.amount");
    let source = if env.has_column("customers", "acquisition_source") {
        "coalesce(c.acquisition_source, '(none)')"
    } else {
        "'(none)'"
    };
    let has_created = env.has_column("customers", "created_at");
    let lead_filter = if has_created {
        format!("where c.created_at is null or {created}")
    } else {
        String::new()
    };
    let (deals_ctes, lead_deal, deal_cols, deal_join) = if env.has("deals") {
        (
            format!(
                "has_deal as (select distinct d.customer_id from deals d where {deal_created}), \
                 ds as ( \
                   select coalesce(d.source, '(none)') as source, count(*) as deals, \
                     count(*) filter (where d.status = 'won' and (d.closed_at is null or {closed})) as won, \
                     count(*) filter (where d.status = 'lost' and (d.closed_at is null or {closed})) as lost, \
                     coalesce(sum({amount}) filter (where d.status = 'won' and (d.closed_at is null or {closed})), 0) as won_amount \
                   from deals d where {deal_created} group by 1),"
            ),
            "count(h.customer_id) as leads_with_deal",
            "coalesce(ds.deals, 0) as deals, coalesce(ds.won, 0) as won, \
             coalesce(ds.lost, 0) as lost, coalesce(ds.deals, 0) - coalesce(ds.won, 0) - coalesce(ds.lost, 0) as open, \
             coalesce(ds.won_amount, 0) as won_amount",
            "full join ds on ds.source = l.source",
        )
    } else {
        (
            String::new(),
            "cast(null as bigint) as leads_with_deal",
            "cast(null as bigint) as deals, cast(null as bigint) as won, \
             cast(null as bigint) as lost, cast(null as bigint) as open, \
             cast(null as double) as won_amount",
            "",
        )
    };
    let has_deal_join = if env.has("deals") {
        "left join has_deal h on h.customer_id = c.customer_id"
    } else {
        ""
    };
    let ds_source = if env.has("deals") {
        "coalesce(l.source, ds.source)"
    } else {
        "l.source"
    };
    Ok(format!(
        "with buy as (select customer_id, sum(amount) as revenue from purchases group by customer_id), \
         {deals_ctes} \
         l as ( \
           select {source} as source, count(*) as leads, {lead_deal}, \
             count(b.customer_id) as buyers, coalesce(sum(b.revenue), 0) as customer_revenue \
           from customers c left join buy b on b.customer_id = c.customer_id {has_deal_join} \
           {lead_filter} group by 1), \
         j as ( \
           select {ds_source} as source, coalesce(l.leads, 0) as leads, \
             coalesce(l.leads_with_deal, 0) as leads_with_deal, coalesce(l.buyers, 0) as buyers, \
             coalesce(l.customer_revenue, 0) as customer_revenue, {deal_cols} \
           from l {deal_join}) \
         select source, leads, leads_with_deal, buyers, customer_revenue, deals, won, lost, open, \
           won_amount, \
           case when leads > 0 then cast(leads_with_deal as double) / leads end as lead_to_deal, \
           case when leads > 0 then cast(buyers as double) / leads end as lead_to_buyer, \
           case when deals > 0 then cast(won as double) / deals end as win_rate, \
           case when won + lost > 0 then cast(won as double) / (won + lost) end as win_rate_closed \
         from j"
    ))
}
