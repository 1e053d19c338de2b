//! Reading snapshots under a row-level scope (`--scope`): a scope sees only its own customers,
//! in member lists as everywhere else.
//!
//! - A scoped `segment run` writes into the scope's own store, `OUT/scope-<scope>/`
//!   ([`Store::for_scope`]), never over the company-wide snapshots of `OUT/`.
//! - `segment list` and `show` under a scope read that store only, so every size they print
//!   was counted under the scope.
//! - `segment diff` and `export` under a scope read the scope's own snapshots of the segment
//!   when it has any, else the company-wide ones; either way every row is limited to the
//!   customers the scope sees today (a company-wide snapshot intersected with the scope; a
//!   scoped one without the customers that have moved to another manager since).

use std::collections::HashSet;
use std::path::Path;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use super::run::keep;
use super::snapshot::Store;
use crate::config::Config;
use crate::engine::Engine;
use crate::{Error, Result};

/// Where a command reads one segment's snapshots, and the members it may show.
pub struct Reader {
    pub store: Store,
    /// The scope's customers (None: no scope, every member).
    customers: Option<HashSet<String>>,
    /// The scope, for messages.
    scope: Option<String>,
}

impl Reader {
    /// The reader of `segment`'s snapshots in `out` under `config.scope`. Under a scope the
    /// dataset (`config.dataset`, else the one the snapshot was made from) is opened to learn
    /// the scope's customers.
    pub async fn open(out: &Path, segment: &str, config: &Config) -> Result<Reader> {
        let Some(scope) = &config.scope else {
            return Ok(Reader {
                store: Store::new(out),
                customers: None,
                scope: None,
            });
        };
        let own = Store::for_scope(out, Some(scope));
        let store = if own.snapshots(segment)?.is_empty() {
            Store::new(out)
        } else {
            own
        };
        let mut config = config.clone();
        if config.dataset.is_none() {
            let latest = store.snapshots(segment)?.last().copied();
            config.dataset = match latest {
                Some(as_of) => Some(store.manifest(segment, as_of)?.dataset),
                None => {
                    return Err(Error::Usage(format!(
                        "--scope {scope}: pass --dataset DIR so the scope's customers can be \
                         read (segment `{segment}` has no snapshot to take the dataset from)"
                    )));
                }
            };
        }
        let engine = Engine::open(&config).await?;
        let batches = engine.query("select customer_id from customers").await?;
        let customers = crate::columns::texts(&batches, 0)?
            .into_iter()
            .flatten()
            .collect();
        Ok(Reader {
            store,
            customers: Some(customers),
            scope: Some(scope.to_string()),
        })
    }

    /// A snapshot file's rows (members, entered or exited), those of other scopes left out.
    pub fn read(
        &self,
        segment: &str,
        as_of: NaiveDate,
        file: &str,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let (schema, batches) = self.store.read(segment, as_of, file)?;
        let Some(customers) = &self.customers else {
            return Ok((schema, batches));
        };
        let kept: Vec<RecordBatch> = batches
            .iter()
            .map(|b| keep(b, |id| customers.contains(id)))
            .collect::<Result<_>>()?;
        let count = |b: &[RecordBatch]| b.iter().map(RecordBatch::num_rows).sum::<usize>();
        let manifest = self.store.manifest(segment, as_of)?;
        log::info!(
            "--scope {}: {} of the {} rows of {file} of segment {segment} ({as_of}, {}) are the \
             scope's customers",
            self.scope.as_deref().unwrap_or_default(),
            count(&kept),
            count(&batches),
            match &manifest.scope {
                Some(s) => format!("made under scope {s}"),
                None => "company-wide".to_string(),
            }
        );
        Ok((schema, kept))
    }
}
