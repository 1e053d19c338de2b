//! Built-in analyses a report section can name: the SQL over the built-in views and how to
//! draw it. A section may override any of it (chart, columns, title).

use super::template::{ChartKind, Section};

/// Every built-in analysis, for help and error messages.
pub const NAMES: &[&str] = &[
    "pipeline_funnel",
    "conversion_over_time",
    "managers",
    "plan_actual",
    "forecast",
    "rfm_grid",
    "segment_sizes",
    "clv_distribution",
    "churn",
    "cohorts",
    "campaign_uplift",
    "campaign_roi",
    "sources",
    "event_funnel",
    "surveys",
];

/// Analyses that read the CLV model's columns (a model is fitted when none is configured).
pub const NEEDS_MODEL: &[&str] = &["clv_distribution"];

/// `segment_sizes` has no SQL: the segments of `queries/segments/` are evaluated (see
/// `report::run`).
const SEGMENT_SIZES: &str = "segment_sizes";

fn section(sql: &str, chart: ChartKind, x: &str, y: &[&str]) -> Section {
    Section {
        sql: Some(sql.to_string()),
        chart: Some(chart),
        x: Some(x.to_string()),
        y: y.iter().map(|s| s.to_string()).collect(),
        ..Section::default()
    }
}

/// The SQL and chart of a built-in analysis.
pub fn builtin(name: &str) -> Option<Section> {
    Some(match name {
        "pipeline_funnel" => section(
            "select stage, reached, won, dropped, in_progress, conversion_to_next, \
               median_days_in_stage, p90_days_in_stage \
             from pipeline_funnel order by stage_order",
            ChartKind::Funnel,
            "stage",
            &["reached"],
        ),
        "conversion_over_time" => Section {
            percent: Some(true),
            ..section(
                "select created_month as month, count(*) as deals, \
                   sum(case when status = 'won' then 1 else 0 end) as won, \
                   avg(case when status = 'won' then 1.0 else 0.0 end) as win_rate \
                 from pipeline_deal_facts group by created_month order by created_month",
                ChartKind::TimeSeries,
                "month",
                &["win_rate"],
            )
        },
        "managers" => section(
            "select coalesce(name, manager_id) as manager, revenue, deals_won, win_rate, \
               activities_per_day, days_without_activity, response_median_minutes \
             from manager_kpis where revenue > 0 or activities > 0 \
             order by revenue desc nulls last limit 15",
            ChartKind::Bars,
            "manager",
            &["revenue"],
        ),
        "plan_actual" => section(
            &format!(
                "select cast(month as varchar) as month, sum(target) as target, \
                   sum(actual) as actual, {} as attainment \
                 from plan_actual where planned and manager_id is not null \
                 group by month order by month",
                crate::views::managers::attainment("sum(actual)", "sum(target)")
            ),
            ChartKind::TimeSeries,
            "month",
            &["target", "actual"],
        ),
        "forecast" => Section {
            series: Some("stage".into()),
            ..section(
                "select cast(expected_close_month as varchar) as month, stage, stage_order, \
                   open_deals, open_amount, probability, weighted_amount \
                 from pipeline_forecast where expected_close_month is not null \
                 order by expected_close_month, stage_order",
                ChartKind::Stacked,
                "month",
                &["weighted_amount"],
            )
        },
        "rfm_grid" => Section {
            series: Some("frequency".into()),
            label: Some("cell".into()),
            table: Some(false),
            ..section(
                "select 'R ' || cast(r_score as varchar) as recency, 'F ' || cast(f_score as varchar) as frequency, \
                   count(*) as customers, sum(monetary) as revenue, \
                   cast(count(*) as varchar) || chr(10) || cast(cast(round(sum(monetary)) as bigint) as varchar) as cell \
                 from rfm where r_score is not null \
                 group by r_score, f_score order by r_score desc, f_score",
                ChartKind::Heatmap,
                "recency",
                &["customers"],
            )
        },
        SEGMENT_SIZES => Section {
            sql: None,
            ..section("", ChartKind::Bars, "segment", &["members"])
        },
        "clv_distribution" => Section {
            table: Some(false),
            ..section(
                "with c as (select clv from customer_features where clv is not null), \
                 b as (select case when clv < 50 then 0 when clv < 100 then 1 when clv < 250 then 2 \
                   when clv < 500 then 3 when clv < 1000 then 4 when clv < 2500 then 5 else 6 end as bin \
                   from c) \
                 select case bin when 0 then '<50' when 1 then '50–100' when 2 then '100–250' \
                   when 3 then '250–500' when 4 then '500–1k' when 5 then '1k–2.5k' else '2.5k+' end as clv, \
                   count(*) as customers from b group by bin order by bin",
                ChartKind::Histogram,
                "clv",
                &["customers"],
            )
        },
        "churn" => Section {
            percent: Some(true),
            ..section(
                "select cast(month as varchar) as month, active_at_start, churned, new, reactivated, churn_rate \
                 from churn_monthly order by month",
                ChartKind::TimeSeries,
                "month",
                &["churn_rate"],
            )
        },
        "cohorts" => Section {
            series: Some("months_after".into()),
            label: Some("cell".into()),
            percent: Some(true),
            table: Some(false),
            ..section(
                "select cast(cohort as varchar) as cohort, 'm' || cast(months_since as varchar) as months_after, \
                   retention, cast(round(retention * 100) as bigint) || '%' as cell \
                 from cohort_retention \
                 where cohort >= (select max(cohort) from cohort_retention) - interval '11 months' \
                   and months_since <= 11 \
                 order by cohort, months_since",
                ChartKind::Heatmap,
                "cohort",
                &["retention"],
            )
        },
        "campaign_uplift" => Section {
            low: Some("uplift_ci_low".into()),
            high: Some("uplift_ci_high".into()),
            percent: Some(true),
            ..section(
                "select name, members, control_members, conversion_rate, control_conversion_rate, \
                   uplift, uplift_ci_low, uplift_ci_high \
                 from campaign_effectiveness \
                 where has_control and uplift is not null and members >= 50 and control_members >= 10 \
                 order by start_date desc, name limit 12",
                ChartKind::Intervals,
                "name",
                &["uplift"],
            )
        },
        "campaign_roi" => Section {
            percent: Some(true),
            ..section(
                "select name, cost, incremental_revenue, roi from campaign_effectiveness \
                 where roi is not null and members >= 50 and control_members >= 10 \
                 order by start_date desc limit 12",
                ChartKind::Bars,
                "name",
                &["roi"],
            )
        },
        "sources" => section(
            "select source, leads, deals, won, won_amount, customer_revenue, lead_to_deal, win_rate \
             from source_effectiveness order by customer_revenue desc nulls last",
            ChartKind::Bars,
            "source",
            &["customer_revenue"],
        ),
        "event_funnel" => section(
            "select event, customers, conversion_from_previous, conversion_from_first, \
               median_minutes_from_previous from event_funnel order by step",
            ChartKind::Funnel,
            "event",
            &["customers"],
        ),
        "surveys" => section(
            "select label, answers, share from survey_scores order by score desc",
            ChartKind::Survey,
            "label",
            &["answers"],
        ),
        _ => return None,
    })
}

/// A section with its built-in analysis filled in where the section says nothing.
pub fn resolve(s: &Section) -> Section {
    let Some(base) = s.analysis.as_deref().and_then(builtin) else {
        return s.clone();
    };
    Section {
        heading: s.heading.clone(),
        text: s.text.clone(),
        analysis: s.analysis.clone(),
        sql: s.sql.clone().or(base.sql),
        chart: s.chart.or(base.chart),
        title: s.title.clone().or(base.title),
        x: s.x.clone().or(base.x),
        y: if s.y.is_empty() { base.y } else { s.y.clone() },
        series: s.series.clone().or(base.series),
        low: s.low.clone().or(base.low),
        high: s.high.clone().or(base.high),
        label: s.label.clone().or(base.label),
        percent: s.percent.or(base.percent),
        table: s.table.or(base.table),
        max_rows: s.max_rows.or(base.max_rows),
    }
}
