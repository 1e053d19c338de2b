//! The engine: a DataFusion session built from the configuration ([`session`]) with every
//! table of the dataset registered ([`tables`]), limited to a row-level [`scope`] when the
//! configuration has one. The library API for running SQL.

pub mod depth;
pub mod model;
pub mod remote;
pub mod scope;
pub mod session;
pub mod statement;
pub mod tables;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement;
use tokio::sync::OnceCell;

use crate::config::Config;
use crate::dataset::Dataset;
use crate::{Error, Result};

pub use session::{remove_spill_folders, session_context, session_state};

/// An open dataset in a configured session.
pub struct Engine {
    ctx: SessionContext,
    config: Config,
    dataset: Dataset,
    as_of: OnceCell<NaiveDate>,
    /// Built-in views left out on this dataset, with the reason.
    unavailable: HashMap<String, String>,
    /// Where materialised views are written ([`Engine::materialize`]); removed with the engine.
    work: std::sync::OnceLock<tempfile::TempDir>,
    /// The views read from their materialised file.
    materialized: std::sync::Mutex<HashSet<String>>,
    /// Why the CLV model could not be fitted ([`Engine::model_error`]).
    model_error: Option<String>,
    /// Whether a CLV model's functions are registered (the views use them).
    has_model: bool,
}

impl Engine {
    /// Opens the configured dataset: checks the contract's required tables and column types
    /// and registers every table, limited to `config.scope` when there is one (see
    /// [`scope`]). Fails with a message naming the table, column or file, or the unknown
    /// manager or department of the scope.
    pub async fn open(config: &Config) -> Result<Engine> {
        let root = dataset_path(config)?;
        let mut dataset = Dataset::open(&root)?;
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
        let as_of = OnceCell::new();
        match &config.scope {
            None => {
                for source in dataset.tables.values() {
                    tables::register(&ctx, source, true, &config.timezone).await?;
                }
            }
            Some(s) => {
                let registered = scope::register(&ctx, config, &dataset, s).await?;
                if let Some(d) = registered.as_of {
                    as_of.set(d).map_err(|e| Error::Internal(e.to_string()))?;
                }
                // Analyses that need a left-out table say it is missing.
                for name in registered.left_out.keys() {
                    dataset.tables.remove(name);
                }
            }
        }
        let mut engine = Engine {
            ctx,
            config: config.clone(),
            dataset,
            as_of,
            unavailable: HashMap::new(),
            work: std::sync::OnceLock::new(),
            materialized: std::sync::Mutex::new(HashSet::new()),
            model_error: None,
            has_model: false,
        };
        let model = match &config.clv.model_file {
            Some(path) => Some(crate::functions::clv::load_model(path)?),
            None => None,
        };
        engine.has_model = model.is_some();
        if let Some(model) = model {
            crate::functions::clv::register_functions(&engine.ctx, model, &config.clv);
        }
        engine.unavailable = engine.register_views(|_| true).await?;
        engine.check_purchase_statuses().await?;
        Ok(engine)
    }

    /// Warns about a configured purchase status that no order has (a typo such as
    /// `"payed"` would otherwise leave every analysis empty without a word), naming the
    /// statuses the orders have and the closest one. Only statuses outside the contract's
    /// (`paid`, `cancelled`, `refunded`) are looked up, so the usual configuration costs
    /// no query.
    async fn check_purchase_statuses(&self) -> Result<()> {
        let statuses = &self.config.purchase_statuses;
        let contract = crate::dataset::schema::ORDER_STATUSES;
        if statuses.iter().all(|s| contract.contains(&s.as_str())) {
            return Ok(());
        }
        let Ok(df) = self
            .ctx
            .sql("select distinct cast(status as varchar) from orders where status is not null order by 1")
            .await
        else {
            return Ok(());
        };
        let present: Vec<String> = crate::columns::texts(&df.collect().await?, 0)?
            .into_iter()
            .flatten()
            .collect();
        for s in statuses.iter().filter(|s| !present.contains(s)) {
            if contract.contains(&s.as_str()) {
                continue;
            }
            let hint = crate::hint::closest(s, present.iter().map(String::as_str))
                .map(|c| format!(" (did you mean {c:?}?)"))
                .unwrap_or_default();
            log::warn!(
                "purchase_statuses: no order has status {s:?}{hint}; the orders' statuses are {} (only orders with a configured purchase status count as purchases)",
                if present.is_empty() {
                    "none (no orders)".to_string()
                } else {
                    present
                        .iter()
                        .map(|p| format!("{p:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
        }
        Ok(())
    }

    /// Registers the built-in views (`customer_features`, `rfm`, …) for as_of. Without an
    /// as_of (no --as-of and no order rows to take it from) the dataset's tables stay usable
    /// and the views are left out, with a warning saying why.
    /// Registers the built-in views `wanted` says (all of them when the engine opens; after
    /// a change, those that depend on it), with or without the model's columns as the engine
    /// has a model or not.
    async fn register_views(
        &self,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<HashMap<String, String>> {
        let as_of = match self.as_of().await {
            Ok(d) => d,
            Err(e) => {
                log::warn!("built-in views (customer_features, rfm, …) are not available: {e}");
                let why = format!("is not available: {e}");
                return Ok(crate::views::names()
                    .into_iter()
                    .map(|n| (n.to_string(), why.clone()))
                    .collect());
            }
        };
        self.ctx.register_udf(crate::functions::as_of::udf(as_of));
        let mut env = self.view_env(as_of).await?;
        env.has_model = self.has_model;
        crate::views::register(&self.ctx, &env, wanted).await
    }

    /// Registers again the views that read one of `changed` (a view now read from its
    /// file, or views whose SQL changed with the model), except those read from their file:
    /// views are registered as plans, which hold the tables they read as they were.
    /// `stale` views read from a file are dropped from the materialised ones first (their
    /// file no longer holds what the view means). Returns the reasons of the views that
    /// cannot be planned, for the views registered again.
    async fn refresh_dependents(
        &self,
        changed: HashSet<String>,
        stale: bool,
    ) -> Result<(HashSet<String>, HashMap<String, String>)> {
        let as_of = self.as_of().await?;
        let mut env = self.view_env(as_of).await?;
        env.has_model = self.has_model;
        let affected = crate::views::dependents(&crate::views::definitions(&env)?, &changed);
        let materialized = {
            let mut m = self
                .materialized
                .lock()
                .map_err(|e| Error::Internal(format!("refresh views: {e}")))?;
            if stale {
                m.retain(|name| !affected.contains(name));
            }
            m.clone()
        };
        let unavailable = self
            .register_views(|name| affected.contains(name) && !materialized.contains(name))
            .await?;
        Ok((affected, unavailable))
    }

    /// What view SQL depends on, for commands that build view SQL with their own parameters
    /// (a period, a breakdown) for an as_of.
    pub async fn view_env(&self, as_of: NaiveDate) -> Result<crate::views::ViewEnv<'_>> {
        Ok(crate::views::ViewEnv {
            config: &self.config,
            dataset: &self.dataset,
            as_of,
            has_model: false,
            columns: tables::table_columns(&self.ctx).await?,
        })
    }

    /// Computes a view once into a Parquet file in the engine's work directory (under
    /// `[engine] spill_dir`, else the system's temporary directory; removed with the engine)
    /// and reads it from that file from then on, with the same column types. Writing streams
    /// the rows, so the view never has to fit in memory (where `DataFrame::cache` would hold
    /// all of it); every later query pays a Parquet scan instead of recomputing the view.
    /// A view already materialised is left as it is; on a cluster (`[engine] url`) views are
    /// not materialised.
    pub async fn materialize(&self, view: &str) -> Result<()> {
        let done = |e: std::sync::PoisonError<_>| Error::Internal(format!("materialize: {e}"));
        if self.materialized.lock().map_err(done)?.contains(view) {
            return Ok(());
        }
        if self.config.engine.url.is_some() {
            // On a cluster the executors could not read a file of this machine's temporary
            // directory: the view stays a view there.
            return Ok(());
        }
        let dir = match self.work.get() {
            Some(dir) => dir,
            None => {
                let base = self
                    .config
                    .engine
                    .spill_dir
                    .clone()
                    .unwrap_or_else(std::env::temp_dir);
                // `crmlens-work-PID-…`: a killed run's folder is removed by the next one.
                let dir = crate::output::process_folder(&base, "crmlens-work")?;
                self.work.get_or_init(|| dir)
            }
        };
        let started = std::time::Instant::now();
        // The view joins per-customer aggregates of every customer: as hash joins, each build
        // side (hundreds of MB per partition at 10M customers) must fit in memory and cannot
        // spill, which stopped the 10M-customer nightly run. Sort-merge joins spill their sorts
        // to disk under the memory limit; this one query over all customers is where that
        // matters, so only it is planned so.
        let (mut state, plan) = self
            .sql(&format!("select * from {view}"))
            .await?
            .into_parts();
        state.config_mut().options_mut().optimizer.prefer_hash_join = false;
        let df = DataFrame::new(state, plan);
        let schema = df.schema().as_arrow().clone();
        let path = dir.path().join(format!("{view}.parquet"));
        let text = path.to_string_lossy().into_owned();
        df.write_parquet(
            &text,
            datafusion::dataframe::DataFrameWriteOptions::new().with_single_file_output(true),
            None,
        )
        .await?;
        self.ctx.deregister_table(view)?;
        self.ctx
            .register_parquet(
                view,
                &text,
                datafusion::prelude::ParquetReadOptions::default().schema(&schema),
            )
            .await?;
        self.materialized
            .lock()
            .map_err(done)?
            .insert(view.to_string());
        // The views over this one read the file from now on.
        self.refresh_dependents(HashSet::from([view.to_string()]), false)
            .await?;
        log::info!(
            "{view} materialised in {:.1} s ({} MB)",
            started.elapsed().as_secs_f64(),
            std::fs::metadata(&path).map(|m| m.len() >> 20).unwrap_or(0)
        );
        Ok(())
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
    /// available names. Under a scope only queries and views are allowed
    /// ([`scope::check_statement`]).
    pub async fn sql(&self, query: &str) -> Result<DataFrame> {
        depth::check_sql(query)?;
        let state = self.ctx.state();
        let dialect = state.config().options().sql_parser.dialect;
        match state.sql_to_statement(query, &dialect) {
            Ok(statement) => self.statement(statement).await,
            Err(e) => self.execute(Err(e)).await,
        }
    }

    /// Plans and runs (DDL) or prepares (queries) one parsed statement, as [`Engine::sql`]
    /// (long AND/OR chains rebalanced: [`depth::balance_statement`]).
    pub async fn statement(&self, mut statement: Statement) -> Result<DataFrame> {
        depth::balance_statement(&mut statement);
        self.execute(self.ctx.state().statement_to_plan(statement).await)
            .await
    }

    async fn execute(&self, plan: datafusion::error::Result<LogicalPlan>) -> Result<DataFrame> {
        let plan = plan.map_err(|e| self.explain_sql_error(e))?;
        if self.config.scope.is_some() {
            scope::check_statement(&plan)?;
        }
        self.ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| self.explain_sql_error(e))
    }

    /// [`tables::explain_sql_error`] for this session and its left-out views.
    pub fn explain_sql_error(&self, e: datafusion::error::DataFusionError) -> Error {
        tables::explain_sql_error(&self.ctx, e, &self.unavailable)
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
    /// latest order not after today (of the whole dataset, also under a scope; see
    /// [`tables::latest_date`]).
    pub async fn as_of(&self) -> Result<NaiveDate> {
        if let Some(d) = self.config.as_of {
            return Ok(d);
        }
        self.as_of
            .get_or_try_init(|| async {
                tables::latest_date(
                    &self.ctx,
                    "orders",
                    "ordered_at",
                    &self.config.timezone,
                    self.config.today(),
                )
                .await
            })
            .await
            .copied()
    }
}

/// The statements of a SQL text, for [`Engine::statement`]; a syntax error or expressions
/// nested too deep ([`depth`]) are query errors.
pub fn parse_sql(text: &str) -> Result<std::collections::VecDeque<Statement>> {
    depth::check_sql(text)?;
    datafusion::sql::parser::DFParser::parse_sql(text)
        .map_err(|e| Error::Query(format!("SQL syntax error: {e}")))
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
