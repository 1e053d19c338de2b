//! crmlens: an analytical CRM engine. CRM exports land as Parquet files; DataFusion SQL builds
//! segments, customer value and funnel figures over them.
//!
//! The library is the product; the `crmlens` binary is a thin shell over it. Start with
//! [`engine::Engine::open`]:
//!
//! ```no_run
//! # async fn demo() -> crmlens::Result<()> {
//! let config = crmlens::config::Config::for_dataset("datasets/demo");
//! let engine = crmlens::engine::Engine::open(&config).await?;
//! let batches = engine.query("select count(*) from orders").await?;
//! # Ok(()) }
//! ```

pub mod analytics;
pub mod cli;
pub mod columns;
pub mod config;
pub mod dataset;
#[cfg(feature = "distributed")]
pub mod distributed;
pub mod engine;
pub mod error;
pub mod functions;
pub mod generate;
pub mod hint;
pub mod import;
pub mod metrics;
pub mod nightly;
pub mod output;
#[cfg(feature = "polars")]
pub mod polars;
pub mod report;
pub mod segments;
pub mod validate;
pub mod views;

pub use error::{Error, Result};
