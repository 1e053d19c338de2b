//! Per-hundred conversion: cold contacts → opportunities → sales; definitions in the parent
//! module's doc.

use super::{NO_SEGMENT, NO_VALUE, status_sql};
use crate::Result;
use crate::views::{ViewEnv, sql_string};

/// What a cold contact can be broken down by (a contact has no deal source or category).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactBreakdown {
    /// The manager who made the contact.
    Manager,
    /// The customer's region.
    Region,
    /// The customer's RFM segment.
    Segment,
    /// The month of the contact.
    Month,
}

/// Per-hundred conversion over the cold contacts whose date (dataset time zone) matches
/// `date_filter`, a condition on the column `contact_date` (or empty).
pub fn per_hundred_sql(
    env: &ViewEnv,
    by: Option<ContactBreakdown>,
    date_filter: &str,
) -> Result<String> {
    let days = env.config.pipeline.opportunity_days;
    let status = status_sql(env)?;
    let created_by = env.up_to_as_of("d.created_at")?;
    let occurred_by = env.up_to_as_of("a.occurred_at")?;
    let created_date = env.local_date("d.created_at");
    let contact_date = env.local_date("a.occurred_at");
    let (grp, join, head) = match by {
        None => ("''".to_string(), "", String::new()),
        Some(b) => {
            let (grp, join, column) = match b {
                ContactBreakdown::Manager => (
                    format!("coalesce(a.manager_id, {})", sql_string(NO_VALUE)),
                    "",
                    "manager_id",
                ),
                ContactBreakdown::Region => (
                    format!(
                        "coalesce(cast(c.region as varchar), {})",
                        sql_string(NO_VALUE)
                    ),
                    "left join customers c on c.customer_id = a.customer_id",
                    "region",
                ),
                ContactBreakdown::Segment => (
                    format!("coalesce(r.rfm_segment, {})", sql_string(NO_SEGMENT)),
                    "left join rfm r on r.customer_id = a.customer_id",
                    "segment",
                ),
                ContactBreakdown::Month => (
                    format!("cast(cast(date_trunc('month', {contact_date}) as date) as varchar)"),
                    "",
                    "month",
                ),
            };
            (grp, join, format!("g.grp as {column}, "))
        }
    };
    let groups = if by.is_some() {
        "select grp from touched union select grp from opps"
    } else {
        "select '' as grp"
    };
    let date_filter = if date_filter.is_empty() {
        String::new()
    } else {
        format!(" where {date_filter}")
    };
    Ok(format!(
        "with dl as ( \
           select d.deal_id, d.customer_id, d.created_at, {created_date} as created_date, \
             {status} as status \
           from deals d where d.customer_id is not null and {created_by}), \
         first_deal as (select customer_id, min(created_at) as first_deal_at from dl \
           group by customer_id), \
         contacts as ( \
           select a.activity_id, a.customer_id, a.occurred_at, {contact_date} as contact_date, \
             {grp} as grp \
           from activities a \
           left join first_deal f on f.customer_id = a.customer_id {join} \
           where a.customer_id is not null and a.direction = 'outbound' \
             and a.kind in ('call', 'meeting') and a.occurred_at is not null and {occurred_by} \
             and (f.first_deal_at is null or f.first_deal_at > a.occurred_at)), \
         cold as (select * from contacts{date_filter}), \
         candidates as ( \
           select dl.deal_id, dl.status, c.grp, \
             row_number() over (partition by dl.deal_id \
               order by c.occurred_at desc, c.activity_id desc) as rn \
           from cold c join dl on dl.customer_id = c.customer_id \
             and dl.created_at > c.occurred_at \
             and dl.created_date <= c.contact_date + interval '{days} days'), \
         opps as (select grp, count(*) as opportunities, \
             count(*) filter (where status = 'won') as sales \
           from candidates where rn = 1 group by grp), \
         touched as (select grp, count(*) as cold_contacts, \
             count(distinct customer_id) as cold_customers from cold group by grp) \
         select {head}coalesce(t.cold_contacts, 0) as cold_contacts, \
           coalesce(t.cold_customers, 0) as cold_customers, \
           coalesce(o.opportunities, 0) as opportunities, coalesce(o.sales, 0) as sales, \
           100.0 * coalesce(o.opportunities, 0) / cast(nullif(t.cold_contacts, 0) as double) \
             as opportunities_per_100_contacts, \
           100.0 * coalesce(o.sales, 0) / cast(nullif(t.cold_contacts, 0) as double) \
             as sales_per_100_contacts, \
           100.0 * o.sales / cast(nullif(o.opportunities, 0) as double) \
             as sales_per_100_opportunities \
         from ({groups}) g left join touched t on t.grp = g.grp \
         left join opps o on o.grp = g.grp order by g.grp"
    ))
}
