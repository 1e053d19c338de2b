//! The CLV model's SQL functions over per-customer summaries in days, as `clv_summary` has
//! them: `clv_p_alive(x, t_x, T)`, `clv_expected_purchases(x, t_x, T, horizon_days)`,
//! `clv_expected_avg_value(x, m)` and `clv_value(x, t_x, T, m)` (the discounted CLV with the
//! configured horizon, discount and margin); and their wire form for a Ballista cluster. They
//! exist in a session once a model is fitted or read
//! ([`Engine::use_model`](crate::engine::Engine::use_model)).

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, Float64Array, Float64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use crate::analytics::clv::Summary;
use crate::analytics::clv::model::{ClvModel, DaysSummary};
use crate::config::ClvConfig;
use crate::{Error, Result};

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
pub fn register_functions(ctx: &SessionContext, model: ClvModel, clv: &ClvConfig) {
    let settings = Settings {
        months: clv.horizon_months,
        discount: clv.monthly_discount,
        margin: clv.margin,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The published CDNOW BG/NBD parameters (weeks), without a spend model.
    fn context() -> SessionContext {
        let model = ClvModel {
            spend: None,
            ..crate::analytics::clv::fixtures::model()
        };
        let ctx = SessionContext::new();
        register_functions(&ctx, model, &ClvConfig::default());
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
