//! `crmlens service`: support tickets by kind and month, and the satisfaction survey (views
//! `service_tickets`, `survey_scores`, `survey_summary`; definitions in `views::service`).

use chrono::NaiveDate;

use super::GlobalArgs;
use super::retention::{month_filter, parse_month};
use crate::Result;
use crate::views::service::{survey_scores_sql, survey_summary_sql, ticket_summary_sql};

/// Service figures: tickets by kind and month with time to close; survey scores
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens service --dataset datasets/demo              tickets per kind and month
  crmlens service --by kind --from 2025-01 --to 2025-06
  crmlens service --by manager --format csv --output tickets_by_manager.csv
  crmlens service --surveys                            answers per level, Excellent … Weak
  crmlens service --surveys --summary --format json    answers, anonymous, mean score

Tickets opened up to as_of: opened, closed (by as_of), still open, and the median, p90 and mean
hours from opening to closing of the closed ones. Surveys: answers per level of the five-level
scale (5 Excellent, 4 Very good, 3 Good, 2 Acceptable, 1 Weak), anonymous answers (no
customer) included; scores off the scale are counted in the summary's out_of_scale and left
out of the distribution and the mean. The same figures are the views service_tickets,
survey_scores and survey_summary of `crmlens sql`.")]
pub struct Args {
    /// Ticket breakdown: a comma-separated list of kind, month, manager
    #[arg(long, default_value = "kind,month", value_name = "DIMS")]
    by: String,
    /// First month, YYYY-MM (tickets by opening month, answers by date)
    #[arg(long, value_name = "MONTH", value_parser = parse_month)]
    from: Option<NaiveDate>,
    /// Last month, YYYY-MM (included)
    #[arg(long, value_name = "MONTH", value_parser = parse_month)]
    to: Option<NaiveDate>,
    /// The survey score distribution instead of tickets
    #[arg(long)]
    surveys: bool,
    /// With --surveys: one row with answers, anonymous answers, mean score and the share of the
    /// two best levels
    #[arg(long, requires = "surveys")]
    summary: bool,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let sql = if args.surveys {
        // Whole months: from the first day of --from to the last day of --to.
        let filter = month_filter("date_trunc('month', day)", args.from, args.to)?;
        let filter = filter.strip_prefix(" where ").unwrap_or("true").to_string();
        if args.summary {
            survey_summary_sql(&filter)
        } else {
            format!(
                "select * from ({}) order by score desc",
                survey_scores_sql(&filter)
            )
        }
    } else {
        let keys = dimensions(&args.by)?;
        let filter = month_filter("month", args.from, args.to)?;
        let filter = filter.strip_prefix(" where ").unwrap_or("true").to_string();
        let list = keys.join(", ");
        format!(
            "select * from ({}) order by {}",
            ticket_summary_sql(&list, &filter),
            keys.iter()
                .map(|k| format!("{k} nulls last"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let what = if args.surveys { "surveys" } else { "tickets" };
    let config = global.config()?;
    let output = global.output(args.max_rows);
    let engine = crate::engine::Engine::open(&config).await?;
    engine.require(&format!("service figures ({what})"), &[what])?;
    let rows = crate::output::write_dataframe(engine.sql(&sql).await?, &output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}

/// The ticket breakdown columns of `--by`.
fn dimensions(by: &str) -> Result<Vec<&'static str>> {
    super::breakdown::dimensions(
        by,
        &[
            ("kind", "kind"),
            ("month", "month"),
            ("manager", "manager_id"),
        ],
    )
}
