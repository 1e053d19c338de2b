//! `clv_summary`: the per-customer purchase summary of the "buy till you die" models
//! (PRODUCT.md, "CLV, predicted"), in days, from daily-aggregated purchases up to as_of:
//! `frequency` x = distinct purchase days − 1, `recency` t_x = days from the first to the
//! last purchase day, `t` T = days from the first purchase day to as_of, `monetary` m = mean
//! per-day total over the repeat purchase days (the first day excluded), 0 when x = 0.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Array, Float64Builder, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use super::{View, ViewEnv};
use crate::analytics::clv::Summary;
use crate::analytics::clv::model::{ClvModel, DaysSummary, ModelKind, TimeUnit};
use crate::config::Config;
use crate::engine::Engine;
use crate::{Error, Result};

pub fn views(env: &ViewEnv) -> Vec<View> {
    let as_of = env.as_of_sql();
    let sql = format!(
        "with d as ( \
           select customer_id, min(purchase_date) as first_day, max(purchase_date) as last_day, \
             count(*) as days, sum(amount) as total, \
             first_value(amount order by purchase_date) as first_amount \
           from purchase_days group by customer_id) \
         select customer_id, \
           cast(days - 1 as double) as frequency, \
           cast(last_day - first_day as double) as recency, \
           cast({as_of} - first_day as double) as t, \
           case when days > 1 then (total - first_amount) / cast(days - 1 as double) else 0.0 end as monetary \
         from d"
    );
    vec![View {
        name: "clv_summary",
        sql,
    }]
}

/// Registers the CLV model's SQL functions when `[clv] model_file` is set; whether it did.
///
/// The functions take summaries in days, as `clv_summary` has them:
/// `clv_p_alive(x, t_x, T)`, `clv_expected_purchases(x, t_x, T, horizon_days)`,
/// `clv_expected_avg_value(x, m)` and `clv_value(x, t_x, T, m)` (the discounted CLV with the
/// configured horizon, discount and margin).
pub fn register_model(ctx: &SessionContext, config: &Config) -> Result<bool> {
    let Some(path) = &config.clv.model_file else {
        return Ok(false);
    };
    let model = load_model(path)?;
    register_functions(ctx, model, config);
    Ok(true)
}

/// Reads a model saved by `crmlens clv fit --save`.
pub fn load_model(path: &Path) -> Result<ClvModel> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: format!(
            "cannot read the CLV model: {e} (write one with `crmlens clv fit --save FILE`)"
        ),
    })?;
    ClvModel::from_json(&text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: format!("not a CLV model saved by `crmlens clv fit --save`: {e}"),
    })
}

/// Registers the four functions over one model.
pub fn register_functions(ctx: &SessionContext, model: ClvModel, config: &Config) {
    let settings = Settings {
        months: config.clv.horizon_months,
        discount: config.clv.monthly_discount,
        margin: config.clv.margin,
    };
    let model = Arc::new(model);
    for function in ClvFunction::ALL {
        ctx.register_udf(clv_udf(function, model.clone(), settings));
    }
}

/// The CLV settings a model's functions apply.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Settings {
    months: u32,
    discount: f64,
    margin: f64,
}

fn clv_udf(function: ClvFunction, model: Arc<ClvModel>, settings: Settings) -> ScalarUDF {
    let key = format!(
        "{}|{}|{}|{}",
        serde_json::to_string(&*model).unwrap_or_default(),
        settings.months,
        settings.discount,
        settings.margin
    );
    ScalarUDF::new_from_impl(ClvUdf {
        function,
        signature: Signature::uniform(
            function.arity(),
            vec![DataType::Float64],
            Volatility::Immutable,
        ),
        model,
        settings,
        key,
    })
}

/// A model function as it travels in a distributed plan: the model and its settings.
#[cfg(feature = "distributed")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Wire {
    model: ClvModel,
    settings: Settings,
}

/// The bytes that carry a model function (`clv_value`, …) to a Ballista cluster, or `None`
/// when `udf` is not one of them.
#[cfg(feature = "distributed")]
pub fn encode(udf: &ScalarUDF) -> Option<datafusion::error::Result<Vec<u8>>> {
    let f = udf.inner().downcast_ref::<ClvUdf>()?;
    let wire = Wire {
        model: (*f.model).clone(),
        settings: f.settings,
    };
    Some(serde_json::to_vec(&wire).map_err(|e| {
        DataFusionError::Internal(format!("{}: cannot encode the model: {e}", f.name()))
    }))
}

/// The model function `name` from the bytes [`encode`] wrote; `None` when `name` is not one.
#[cfg(feature = "distributed")]
pub fn decode(name: &str, buf: &[u8]) -> Option<datafusion::error::Result<ScalarUDF>> {
    let function = ClvFunction::ALL.into_iter().find(|f| f.name() == name)?;
    Some(
        serde_json::from_slice::<Wire>(buf)
            .map(|w| clv_udf(function, Arc::new(w.model), w.settings))
            .map_err(|e| {
                DataFusionError::Internal(format!("{name}: cannot decode the model: {e}"))
            }),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ClvFunction {
    PAlive,
    ExpectedPurchases,
    ExpectedAvgValue,
    Value,
}

impl ClvFunction {
    const ALL: [ClvFunction; 4] = [
        ClvFunction::PAlive,
        ClvFunction::ExpectedPurchases,
        ClvFunction::ExpectedAvgValue,
        ClvFunction::Value,
    ];

    fn name(self) -> &'static str {
        match self {
            ClvFunction::PAlive => "clv_p_alive",
            ClvFunction::ExpectedPurchases => "clv_expected_purchases",
            ClvFunction::ExpectedAvgValue => "clv_expected_avg_value",
            ClvFunction::Value => "clv_value",
        }
    }

    fn arity(self) -> usize {
        match self {
            ClvFunction::PAlive => 3,
            ClvFunction::ExpectedPurchases => 4,
            ClvFunction::ExpectedAvgValue => 2,
            ClvFunction::Value => 4,
        }
    }
}

/// One of the model's SQL functions. Equality and hashing go by the function and a text key
/// of the model and settings (the model's floats have no `Eq`).
#[derive(Debug)]
struct ClvUdf {
    function: ClvFunction,
    signature: Signature,
    model: Arc<ClvModel>,
    settings: Settings,
    key: String,
}

impl PartialEq for ClvUdf {
    fn eq(&self, other: &Self) -> bool {
        self.function == other.function && self.key == other.key
    }
}

impl Eq for ClvUdf {}

impl std::hash::Hash for ClvUdf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.function.hash(state);
        self.key.hash(state);
    }
}

impl ClvUdf {
    /// One row: NULL for NULL input; an invalid summary is an error naming it; a value the
    /// model cannot compute is NULL (never NaN), with a warning.
    fn row(&self, v: &[f64]) -> datafusion::error::Result<Option<f64>> {
        if self.function != ClvFunction::ExpectedAvgValue {
            let summary = Summary {
                x: v[0],
                t_x: v[1],
                t: v[2],
            };
            summary.check().map_err(|e| {
                DataFusionError::Execution(format!("{}: {e} (in days)", self.function.name()))
            })?;
        }
        let m = &*self.model;
        let result = match self.function {
            ClvFunction::PAlive => m.p_alive(v[0], v[1], v[2]).map(Some),
            ClvFunction::ExpectedPurchases => {
                m.expected_purchases(v[0], v[1], v[2], v[3]).map(Some)
            }
            ClvFunction::ExpectedAvgValue => Ok(m.expected_avg_value(v[0], v[1])),
            ClvFunction::Value => m.clv(
                &DaysSummary {
                    x: v[0],
                    t_x: v[1],
                    t: v[2],
                    m: v[3],
                },
                self.settings.months,
                self.settings.discount,
                self.settings.margin,
            ),
        };
        match result {
            Ok(value) => Ok(value.filter(|x| x.is_finite())),
            Err(e) => {
                log::warn!("{}({v:?}): {e}; the value is NULL", self.function.name());
                Ok(None)
            }
        }
    }
}

impl ScalarUDFImpl for ClvUdf {
    fn name(&self) -> &str {
        self.function.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns: Vec<&Float64Array> = arrays
            .iter()
            .map(|a| {
                a.as_any().downcast_ref::<Float64Array>().ok_or_else(|| {
                    DataFusionError::Execution(format!(
                        "{}: expected numeric arguments, found {}",
                        self.function.name(),
                        a.data_type()
                    ))
                })
            })
            .collect::<datafusion::error::Result<_>>()?;
        let mut out = Float64Builder::with_capacity(args.number_rows);
        let mut values = vec![0.0; columns.len()];
        for row in 0..args.number_rows {
            if columns.iter().any(|c| c.is_null(row)) {
                out.append_null();
                continue;
            }
            for (v, c) in values.iter_mut().zip(&columns) {
                *v = c.value(row);
            }
            out.append_option(self.row(&values)?);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The per-customer summaries (days) of `clv_summary`, with their customer ids.
pub async fn summaries(engine: &Engine) -> Result<(Vec<String>, Vec<DaysSummary>)> {
    let batches = engine
        .query("select customer_id, frequency, recency, t, monetary from clv_summary")
        .await?;
    let mut ids = Vec::new();
    let mut out = Vec::new();
    for b in &batches {
        let id = texts(b, 0)?;
        let (x, tx, t, m) = (
            numbers(b, 1)?,
            numbers(b, 2)?,
            numbers(b, 3)?,
            numbers(b, 4)?,
        );
        for r in 0..b.num_rows() {
            ids.push(id.value(r).to_string());
            out.push(DaysSummary {
                x: x.value(r),
                t_x: tx.value(r),
                t: t.value(r),
                m: m.value(r),
            });
        }
    }
    Ok((ids, out))
}

/// Column `i` of a result as plain text (ids come as utf8 view or dictionary too).
pub fn texts(b: &RecordBatch, i: usize) -> Result<StringArray> {
    let array = datafusion::arrow::compute::cast(b.column(i), &DataType::Utf8)?;
    Ok(array.as_string::<i32>().clone())
}

/// Column `i` of a result as doubles.
pub fn numbers(b: &RecordBatch, i: usize) -> Result<Float64Array> {
    let array = datafusion::arrow::compute::cast(b.column(i), &DataType::Float64)?;
    Ok(array
        .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
        .clone())
}

/// Fits a purchase model and Gamma-Gamma on the dataset's `clv_summary`.
pub async fn fit(engine: &Engine, kind: ModelKind, unit: TimeUnit) -> Result<ClvModel> {
    let as_of = engine.as_of().await?;
    let (_, data) = summaries(engine).await?;
    let started = std::time::Instant::now();
    let model = ClvModel::fit(&data, kind, unit, as_of).map_err(|e| Error::Dataset {
        path: engine.dataset().root.clone(),
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

/// Opens the engine so that `customer_features`' model columns (p_alive, clv, …) are filled
/// when `needed`: with `[clv] model_file` when set, else with a BG/NBD + Gamma-Gamma model
/// (days) fitted on the dataset first. Returns the engine and where the model came from
/// (None when no model is used).
pub async fn open_with_model(config: &Config, needed: bool) -> Result<(Engine, Option<String>)> {
    if let Some(file) = &config.clv.model_file {
        let note = format!("file {}", file.display());
        return Ok((Engine::open(config).await?, Some(note)));
    }
    let engine = Engine::open(config).await?;
    if !needed {
        return Ok((engine, None));
    }
    let model = fit(&engine, ModelKind::BgNbd, TimeUnit::Days).await?;
    let file = tempfile::Builder::new()
        .prefix("crmlens-clv-")
        .suffix(".json")
        .tempfile()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let text = serde_json::to_string(&model).map_err(|e| Error::Query(e.to_string()))?;
    std::fs::write(file.path(), text).map_err(|e| Error::io(file.path(), e))?;
    let mut config = config.clone();
    config.clv.model_file = Some(file.path().to_path_buf());
    let engine = Engine::open(&config).await?;
    let note = format!(
        "fitted in this run: BG/NBD + Gamma-Gamma (days) on {} customers, converged: {}",
        model.n_customers, model.converged
    );
    log::info!("CLV columns are used and no [clv] model_file is set: {note}");
    Ok((engine, Some(note)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::clv::bgnbd;
    use crate::analytics::clv::model::{ModelKind, PurchaseParams, TimeUnit};

    /// The published CDNOW BG/NBD parameters (weeks), without a spend model.
    fn context() -> SessionContext {
        let model = ClvModel {
            model: ModelKind::BgNbd,
            time_unit: TimeUnit::Weeks,
            n_customers: 2357,
            params: PurchaseParams::BgNbd(bgnbd::Params {
                r: 0.2426,
                alpha: 4.4135,
                a: 0.7929,
                b: 2.4258,
            }),
            log_likelihood: -9582.4,
            converged: true,
            iterations: 1,
            spend: None,
            as_of: chrono::NaiveDate::from_ymd_opt(1997, 9, 30).unwrap(),
            crmlens_version: "test".into(),
        };
        let ctx = SessionContext::new();
        register_functions(&ctx, model, &Config::default());
        ctx
    }

    async fn one(ctx: &SessionContext, sql: &str) -> datafusion::error::Result<Option<f64>> {
        let batches = ctx.sql(sql).await?.collect().await?;
        let a = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .clone();
        Ok((!a.is_null(0)).then(|| a.value(0)))
    }

    #[tokio::test]
    async fn functions_take_days_nulls_and_refuse_invalid_summaries() {
        let ctx = context();
        // The paper's E[X(39 weeks) | 2, 30.43, 38.86] = 1.226, given in days (integers coerce).
        let e = one(
            &ctx,
            "select clv_expected_purchases(2, 30.43 * 7, 38.86 * 7, 273)",
        )
        .await
        .unwrap()
        .unwrap();
        assert!((e - 1.226).abs() < 5e-4, "{e}");
        assert_eq!(
            one(&ctx, "select clv_p_alive(null, 1, 2)").await.unwrap(),
            None
        );
        // No spend model: value functions are NULL, never NaN.
        assert_eq!(
            one(&ctx, "select clv_expected_avg_value(2, 20)")
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            one(&ctx, "select clv_value(2, 100, 200, 20)")
                .await
                .unwrap(),
            None
        );
        // t_x > T is the caller's mistake: an error naming the function.
        let err = one(&ctx, "select clv_p_alive(1, 10, 5)")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("clv_p_alive") && err.contains("invalid purchase summary"),
            "{err}"
        );
    }
}
