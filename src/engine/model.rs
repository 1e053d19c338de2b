//! A fitted CLV model as engine state: the per-customer purchase summaries the models are
//! fitted on, the fit itself, and [`Engine::use_model`], which registers a model's SQL
//! functions ([`crate::functions::clv`]) and re-registers the built-in views so that
//! `customer_features` fills `p_alive`, `expected_purchases`, `expected_avg_value` and `clv`.
//! The engine is opened once; a model fitted in a run never goes through a file.

use crate::analytics::clv::model::{ClvModel, DaysSummary, ModelKind, TimeUnit};
use std::collections::HashSet;

use crate::columns::{numbers, texts};
use crate::{Error, Result};

use super::Engine;

/// The purchases per customer and day: what the CLV summaries are computed from.
pub const PURCHASE_DAYS: &str = "purchase_days";

/// Where the model behind `customer_features`' CLV columns came from, for manifests and logs.
pub type ModelNote = Option<String>;

impl Engine {
    /// Opens the engine so that `customer_features`' model columns (p_alive, clv, …) are
    /// filled when `needed`: with `[clv] model_file` when set (read at open), else with a
    /// BG/NBD + Gamma-Gamma model (days) fitted on the dataset and registered in this same
    /// engine. Returns the engine and where the model came from (None when no model is used).
    /// A fit that fails is not an error here: the engine opens without the model and
    /// [`Engine::model_error`] says why, for what needs the model columns to fail with.
    pub async fn open_with_model(
        config: &crate::config::Config,
        needed: bool,
    ) -> Result<(Engine, ModelNote)> {
        let mut engine = Engine::open(config).await?;
        if let Some(file) = &config.clv.model_file {
            return Ok((engine, Some(format!("file {}", file.display()))));
        }
        if !needed {
            return Ok((engine, None));
        }
        // The fit and customer_features both read purchase_days (through clv_summary): it
        // is computed once, into a file, instead of once for each.
        if engine.ctx.table_exist(PURCHASE_DAYS)? {
            engine.materialize(PURCHASE_DAYS).await?;
        }
        let model = match engine.fit_model(ModelKind::BgNbd, TimeUnit::Days).await {
            Ok(model) => model,
            Err(e) => {
                // One failed fit (no repeat purchases, as_of before the data) does not stop
                // what does not need the model: the segments and report sections that do
                // fail with this error ([`Engine::model_error`]), the others run.
                let why = format!("the CLV model could not be fitted: {e}");
                log::error!("{why}");
                engine.model_error = Some(why);
                return Ok((engine, None));
            }
        };
        let note = format!(
            "fitted in this run: BG/NBD + Gamma-Gamma (days) on {} customers, converged: {}",
            model.n_customers, model.converged
        );
        log::info!("CLV columns are used and no [clv] model_file is set: {note}");
        engine.use_model(model).await?;
        Ok((engine, Some(note)))
    }

    /// Why the CLV model this engine was opened for could not be fitted
    /// ([`Engine::open_with_model`]); what needs the model columns fails with it.
    pub fn model_error(&self) -> Option<&str> {
        self.model_error.as_deref()
    }

    /// Registers a model's SQL functions (`clv_p_alive`, …) with the configured horizon,
    /// discount and margin, and the built-in views again so that `customer_features` fills its
    /// model columns from it.
    pub async fn use_model(&mut self, model: ClvModel) -> Result<()> {
        crate::functions::clv::register_functions(&self.ctx, model, &self.config.clv);
        let as_of = self.as_of().await?;
        let mut env = self.view_env(as_of).await?;
        env.has_model = self.has_model;
        let before = crate::views::definitions(&env)?;
        env.has_model = true;
        let changed: HashSet<String> = crate::views::definitions(&env)?
            .iter()
            .filter(|v| !before.iter().any(|b| b.name == v.name && b.sql == v.sql))
            .map(|v| v.name.to_string())
            .collect();
        drop(env);
        self.has_model = true;
        // The views whose SQL names the model's columns, and those over them, are planned
        // again (a materialised one is read from its file no more); the others stay.
        let (affected, unavailable) = self.refresh_dependents(changed, true).await?;
        self.unavailable.retain(|name, _| !affected.contains(name));
        self.unavailable.extend(unavailable);
        Ok(())
    }

    /// The per-customer summaries (days) of `clv_summary`, with their customer ids.
    pub async fn clv_summaries(&self) -> Result<(Vec<String>, Vec<DaysSummary>)> {
        let batches = self
            .query("select customer_id, frequency, recency, t, monetary from clv_summary")
            .await?;
        let ids = texts(&batches, 0)?;
        let (x, t_x, t, m) = (
            numbers(&batches, 1)?,
            numbers(&batches, 2)?,
            numbers(&batches, 3)?,
            numbers(&batches, 4)?,
        );
        let summaries = (0..ids.len())
            .map(|r| DaysSummary {
                x: x[r].unwrap_or_default(),
                t_x: t_x[r].unwrap_or_default(),
                t: t[r].unwrap_or_default(),
                m: m[r].unwrap_or_default(),
            })
            .collect();
        Ok((
            ids.into_iter().map(Option::unwrap_or_default).collect(),
            summaries,
        ))
    }

    /// Fits a purchase model and Gamma-Gamma on the dataset's `clv_summary`.
    pub async fn fit_model(&self, kind: ModelKind, unit: TimeUnit) -> Result<ClvModel> {
        let as_of = self.as_of().await?;
        let (_, data) = self.clv_summaries().await?;
        let started = std::time::Instant::now();
        let model = ClvModel::fit(&data, kind, unit, as_of).map_err(|e| Error::Dataset {
            path: self.dataset().root.clone(),
            message: format!("CLV model: {e}"),
        })?;
        log::info!(
            "fitted {:?} on {} customers in {:.2} s ({} iterations, converged: {})",
            kind,
            data.len(),
            started.elapsed().as_secs_f64(),
            model.iterations,
            model.converged
        );
        if !model.converged {
            log::warn!(
                "the optimiser stopped before converging after {} iterations; the parameters may be imprecise",
                model.iterations
            );
        }
        Ok(model)
    }
}
