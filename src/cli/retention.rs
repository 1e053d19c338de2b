//! `crmlens churn` and `crmlens cohorts`: the views `churn_monthly` and `cohort_retention`
//! (definitions in `views::retention`), the cohorts also pivoted to a cohort × month matrix.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::datasource::MemTable;

use super::GlobalArgs;
use super::range::Months;
use crate::Result;
use crate::engine::Engine;
use crate::output::write_dataframe;

/// Monthly churn series (view `churn_monthly`)
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens churn --dataset datasets/demo
  crmlens churn --from 2025-01 --to 2025-06 --format json
  crmlens churn --as-of 2025-06-30 --format csv --output churn.csv

One row per calendar month from the first purchase through the month of as_of: customers
active at the start (a purchase within churn.inactive_days up to the last day of the previous
month), new, reactivated, churned (active at the start, not at the end), lapsed (new or
reactivated but inactive again by the end), active at the end, and churn_rate = churned ÷
active_at_start. active_at_end = active_at_start − churned + new + reactivated − lapsed.
Configure the window in crmlens.toml ([churn] inactive_days, default 180). The same figures
are the view churn_monthly of `crmlens sql`.")]
pub struct ChurnArgs {
    #[command(flatten)]
    period: Months,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

pub async fn churn(global: &GlobalArgs, args: ChurnArgs) -> Result<u8> {
    let filter = args.period.filter("month")?;
    let sql = format!("select * from churn_monthly{filter} order by month");
    super::show_sql(global, &sql, args.max_rows).await
}

/// Monthly first-purchase cohorts (view `cohort_retention`)
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens cohorts --dataset datasets/demo              the long table, one row per cell
  crmlens cohorts --matrix                             retention: one row per cohort, m0, m1, …
  crmlens cohorts --matrix --metric revenue            revenue retention (÷ month-0 revenue)
  crmlens cohorts --matrix --absolute --format csv     customers with a purchase per cell
  crmlens cohorts --from 2025-01 --metric revenue --format json

A cohort is the month of a customer's first purchase; cell (cohort, k) is the share of the
cohort with a purchase in month cohort + k (customers), or the cohort's revenue in that month
÷ its revenue in month 0 (revenue). Every cell up to the month of as_of is present, empty
ones as 0. `retained` counts the members still active (churn window) at that month's end.
The same figures are the view cohort_retention of `crmlens sql`.")]
#[command(mut_arg("from", |a| a.help("First cohort shown, YYYY-MM (or any date in it)")), mut_arg("to", |a| a.help("Last cohort shown, YYYY-MM (or any date in it)")))]
pub struct CohortsArgs {
    /// The measure: customers (retention) or revenue (revenue retention); in the long table it
    /// keeps only that measure's columns [default: all columns, customers in the matrix]
    #[arg(long, value_enum, value_name = "METRIC")]
    metric: Option<Metric>,
    /// Pivot to one row per cohort with columns m0, m1, … (months since the first purchase)
    #[arg(long)]
    matrix: bool,
    /// Matrix cells as counts of customers or revenue amounts instead of shares
    #[arg(long, requires = "matrix")]
    absolute: bool,
    #[command(flatten)]
    period: Months,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

/// What `crmlens cohorts` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Metric {
    /// Customers with a purchase in the month (retention)
    Customers,
    /// Revenue in the month (revenue retention)
    Revenue,
}

pub async fn cohorts(global: &GlobalArgs, args: CohortsArgs) -> Result<u8> {
    let filter = args.period.filter("cohort")?;
    let config = global.config()?;
    let output = global.output(args.max_rows);
    let engine = Engine::open(&config).await?;
    let df = if args.matrix {
        matrix(
            &engine,
            args.metric.unwrap_or(Metric::Customers),
            args.absolute,
            &filter,
        )
        .await?
    } else {
        let columns = match args.metric {
            None => "*",
            Some(Metric::Customers) => {
                "cohort, months_since, month, cohort_size, customers, retention, retained"
            }
            Some(Metric::Revenue) => "cohort, months_since, month, revenue, revenue_retention",
        };
        engine
            .sql(&format!(
                "select {columns} from cohort_retention{filter} order by cohort, months_since"
            ))
            .await?
    };
    let rows = write_dataframe(df, &output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}

/// One row per cohort, a column `m{k}` per month since the first purchase (cells after the
/// month of as_of are NULL). The long table is computed once and kept in memory (one row per
/// cohort and month: small), as the number of columns depends on it.
async fn matrix(
    engine: &Engine,
    metric: Metric,
    absolute: bool,
    filter: &str,
) -> Result<datafusion::dataframe::DataFrame> {
    let value = match (metric, absolute) {
        (Metric::Customers, false) => "retention",
        (Metric::Customers, true) => "customers",
        (Metric::Revenue, false) => "revenue_retention",
        (Metric::Revenue, true) => "revenue",
    };
    let cells = engine
        .sql(&format!(
            "select cohort, cohort_size, months_since, revenue, {value} as value \
             from cohort_retention{filter}"
        ))
        .await?;
    let schema = std::sync::Arc::new(cells.schema().as_arrow().clone());
    let batches = cells.collect().await?;
    let mut months = 0;
    for b in &batches {
        let column = b.column(2).as_primitive::<Int64Type>();
        months = column.iter().flatten().fold(months, i64::max);
    }
    let table = MemTable::try_new(schema, vec![batches])?;
    let columns = (0..=months)
        .map(|k| format!("max(case when months_since = {k} then value end) as m{k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let head = match metric {
        Metric::Customers => "cohort, cohort_size",
        Metric::Revenue => {
            "cohort, cohort_size, \
             max(case when months_since = 0 then revenue end) as cohort_revenue"
        }
    };
    let ctx = engine.context();
    ctx.register_table("cohort_cells", std::sync::Arc::new(table))?;
    Ok(ctx
        .sql(&format!(
            "select {head}, {columns} from cohort_cells group by cohort, cohort_size \
             order by cohort"
        ))
        .await?)
}
