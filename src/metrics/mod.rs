//! Every figure a command prints, as a library call: one module per family of metrics, each a
//! function that takes an open [`Engine`] and typed parameters (a [`Days`] or [`Months`]
//! period, a breakdown enum, …) and returns the result as a DataFusion `DataFrame` (or record
//! batches). The SQL text of a metric is built here from those parameters over the built-in
//! views (`views/`); the CLI only parses its arguments into these types, calls one function
//! and writes the result, and a server face can call the same functions.
//!
//! ```no_run
//! # async fn demo() -> crmlens::Result<()> {
//! use crmlens::metrics::{Months, retention};
//! let config = crmlens::config::Config::for_dataset("datasets/demo");
//! let engine = crmlens::engine::Engine::open(&config).await?;
//! let first_half = Months::new(
//!     chrono::NaiveDate::from_ymd_opt(2025, 1, 1),
//!     chrono::NaiveDate::from_ymd_opt(2025, 6, 1),
//! )?;
//! let batches = retention::churn(&engine, None, first_half).await?.collect().await?;
//! # Ok(()) }
//! ```

pub mod abc_xyz;
pub mod affinity;
pub mod arpu;
pub mod clv;
pub mod dimensions;
pub mod forecast;
pub mod funnel_events;
pub mod funnel_pipeline;
pub mod managers;
pub mod marketing;
pub mod period;
pub mod retention;
pub mod sales;
pub mod service;
pub mod value;

pub use dimensions::{CustomerDim, Dimension};
pub use period::{Days, Months};

use crate::Result;
use crate::columns::numbers;
use crate::engine::Engine;

/// The first row of a query of counts, one number per column (NULL as 0); empty when the
/// query returns no row.
async fn counts(engine: &Engine, sql: &str) -> Result<Vec<i64>> {
    let batches = engine.query(sql).await?;
    let columns = batches.first().map_or(0, |b| b.num_columns());
    (0..columns)
        .map(|i| {
            let first = numbers(&batches, i)?.first().copied().flatten();
            Ok(first.unwrap_or(0.0) as i64)
        })
        .collect()
}

/// ` where A and B …` for a list of SQL conditions (empty for none).
fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" where {}", conditions.join(" and "))
    }
}
