//! The engine: a DataFusion session built from the configuration ([`session`]) with every
//! table of the dataset registered ([`tables`]). The library API for running SQL.

pub mod session;
pub mod tables;

use std::path::PathBuf;

use chrono::NaiveDate;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use tokio::sync::OnceCell;

use crate::config::Config;
use crate::dataset::Dataset;
use crate::{Error, Result};

pub use session::{session_context, session_state};

/// An open dataset in a configured session.
pub struct Engine {
    ctx: SessionContext,
    config: Config,
    dataset: Dataset,
    as_of: OnceCell<NaiveDate>,
}

impl Engine {
    /// Opens the configured dataset: checks the contract's required tables and column types
    /// and registers every table. Fails with a message naming the table, column or file.
    pub async fn open(config: &Config) -> Result<Engine> {
        let root = dataset_path(config)?;
        let dataset = Dataset::open(&root)?;
        let missing = dataset.missing_required();
        if !missing.is_empty() {
            let found: Vec<&str> = dataset.tables.keys().map(String::as_str).collect();
            return Err(Error::dataset(
                &root,
                format!(
                    "required table{} {} missing (expected {}); tables found: {}",
                    if missing.len() > 1 { "s" } else { "" },
                    missing
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    missing
                        .iter()
                        .map(|t| format!("{t}.parquet or {t}/"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if found.is_empty() {
                        "none".to_string()
                    } else {
                        found.join(", ")
                    },
                ),
            ));
        }
        let ctx = session_context(config)?;
        for source in dataset.tables.values() {
            tables::register(&ctx, source, true, &config.timezone).await?;
        }
        Ok(Engine {
            ctx,
            config: config.clone(),
            dataset,
            as_of: OnceCell::new(),
        })
    }

    /// The DataFusion session, for callers that build plans themselves.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// Plans one SQL statement; SQL errors name the unknown table or column and the
    /// available names.
    pub async fn sql(&self, query: &str) -> Result<DataFrame> {
        self.ctx
            .sql(query)
            .await
            .map_err(|e| tables::explain_sql_error(&self.ctx, e))
    }

    /// Runs one SQL statement and collects its batches.
    pub async fn query(&self, query: &str) -> Result<Vec<RecordBatch>> {
        Ok(self.sql(query).await?.collect().await?)
    }

    /// Fails with a clear message when an analysis needs tables the dataset lacks.
    pub fn require(&self, analysis: &str, needed: &[&str]) -> Result<()> {
        let missing: Vec<&str> = needed
            .iter()
            .copied()
            .filter(|t| self.dataset.table(t).is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::dataset(
            &self.dataset.root,
            format!(
                "{analysis} needs table(s) {}, which the dataset does not have",
                missing.join(", ")
            ),
        ))
    }

    /// The analysis date: the configured one, else the date (in the dataset time zone) of the
    /// latest order.
    pub async fn as_of(&self) -> Result<NaiveDate> {
        if let Some(d) = self.config.as_of {
            return Ok(d);
        }
        self.as_of
            .get_or_try_init(|| async {
                tables::latest_date(&self.ctx, "orders", "ordered_at", &self.config.timezone).await
            })
            .await
            .copied()
    }
}

/// The dataset directory from the configuration, or a usage error saying how to give one.
pub fn dataset_path(config: &Config) -> Result<PathBuf> {
    config.dataset.clone().ok_or_else(|| {
        Error::Usage(
            "no dataset given: pass --dataset DIR or set `dataset = \"DIR\"` in crmlens.toml"
                .into(),
        )
    })
}
