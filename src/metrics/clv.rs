//! CLV predictions and their check: the "buy till you die" models over the dataset's
//! purchases (PRODUCT.md, "CLV, predicted"): per-customer predictions with the engine's
//! model, and a fit on a calibration period compared with the purchases after it. Fitting
//! itself is [`Engine::fit_model`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Float64Builder, Int64Builder, StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;

use crate::analytics::clv::model::{ClvModel, ModelKind, TimeUnit};
use crate::analytics::clv::uncertainty;
use crate::columns::{numbers, texts};
use crate::engine::Engine;
use crate::functions::clv::load_model;
use crate::{Error, Result};

/// The model to predict with: the fit saved in `file`, else the configured `[clv]
/// model_file`, else a `kind` model in `unit` fitted on the dataset now.
pub async fn model(
    engine: &Engine,
    file: Option<&Path>,
    kind: ModelKind,
    unit: TimeUnit,
) -> Result<ClvModel> {
    match file.or(engine.config().clv.model_file.as_deref()) {
        Some(path) => load_model(path),
        None => engine.fit_model(kind, unit).await,
    }
}

/// Per customer, with the engine's model ([`Engine::use_model`]): the summary (in days),
/// expected purchases over `horizon_days` ([clv] horizon_days when None), P(alive), expected
/// average value and CLV. With `interval`, the engine's model again, also `clv_low` and
/// `clv_high`: the 90% interval of the CLV by parametric bootstrap from the covariance of its
/// parameters (`analytics::clv::uncertainty`; NULL where the CLV is).
pub async fn predictions(
    engine: &Engine,
    horizon_days: Option<u32>,
    interval: Option<&ClvModel>,
) -> Result<DataFrame> {
    let horizon = horizon_days.unwrap_or(engine.config().clv.horizon_days);
    let point = format!(
        "select customer_id, frequency, recency, t, monetary, \
           clv_expected_purchases(frequency, recency, t, {horizon}) as expected_purchases, \
           clv_p_alive(frequency, recency, t) as p_alive, \
           clv_expected_avg_value(frequency, monetary) as expected_avg_value, \
           clv_value(frequency, recency, t, monetary) as clv \
         from clv_summary"
    );
    let Some(model) = interval else {
        return engine.sql(&format!("{point} order by customer_id")).await;
    };
    let models = uncertainty::draw_models(model, uncertainty::DRAWS, uncertainty::SEED)
        .map_err(|e| Error::Usage(format!("--interval: {e}")))?;
    let (ids, data) = engine.clv_summaries().await?;
    let settings = &engine.config().clv;
    let started = std::time::Instant::now();
    let intervals = uncertainty::clv_intervals(
        &models,
        &data,
        settings.horizon_months,
        settings.monthly_discount,
        settings.margin,
    );
    log::info!(
        "CLV intervals of {} customers from {} parameter draws in {:.2} s",
        ids.len(),
        models.len(),
        started.elapsed().as_secs_f64()
    );
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("clv_low", DataType::Float64, true),
        Field::new("clv_high", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(Float64Array::from_iter(
            intervals.iter().map(|i| i.map(|(low, _)| low)),
        )),
        Arc::new(Float64Array::from_iter(
            intervals.iter().map(|i| i.map(|(_, high)| high)),
        )),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let ctx = engine.context();
    // A second call on the same engine replaces the first one's intervals.
    ctx.deregister_table("clv_intervals")?;
    ctx.register_table(
        "clv_intervals",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    engine
        .sql(&format!(
            "select p.*, i.clv_low, i.clv_high from ({point}) p \
             left join clv_intervals i on i.customer_id = p.customer_id \
             order by p.customer_id"
        ))
        .await
}

/// Fits a `kind` model in `unit` on the purchases up to `calibration_end` and compares its
/// expected repeat purchase days in the holdout (calibration end, as_of] with the actual
/// ones. Rows: calibration frequency 0, 1, …, 6, 7+ (those with customers) and all;
/// customers, mean and total actual and predicted.
pub async fn evaluate(
    engine: &Engine,
    calibration_end: NaiveDate,
    kind: ModelKind,
    unit: TimeUnit,
) -> Result<RecordBatch> {
    // The holdout ends at as_of (given, or the latest order date).
    let end = engine.as_of().await?;
    let cal_end = calibration_end;
    if cal_end >= end {
        return Err(Error::Usage(format!(
            "--calibration-end {cal_end} must be before the end of the data ({end}; set with --as-of)"
        )));
    }
    let mut calibration = engine.config().clone();
    calibration.as_of = Some(cal_end);
    let cal = Engine::open(&calibration).await?;
    let model = cal.fit_model(kind, unit).await?;
    let (ids, data) = cal.clv_summaries().await?;
    log::info!(
        "calibration to {cal_end}: {} customers; params {}",
        data.len(),
        serde_json::to_string(&model.params).unwrap_or_default()
    );

    // Actual repeat purchase days in (cal_end, end]: the same `purchase_days` the
    // calibration summaries come from.
    let sql = format!(
        "select customer_id, count(*) from purchase_days \
         where purchase_date > DATE '{cal_end}' group by customer_id"
    );
    let mut actual: HashMap<String, f64> = HashMap::new();
    let batches = engine.query(&sql).await?;
    for (id, n) in texts(&batches, 0)?.into_iter().zip(numbers(&batches, 1)?) {
        actual.insert(id.unwrap_or_default(), n.unwrap_or_default());
    }
    let horizon = (end - cal_end).num_days() as f64;
    // Buckets 0..=6 and 7+, then all.
    let mut buckets = vec![(0usize, 0.0f64, 0.0f64); 9];
    for (id, c) in ids.iter().zip(&data) {
        let predicted = model
            .expected_purchases(c.x, c.t_x, c.t, horizon)
            .map_err(|e| Error::Query(format!("customer {id}: {e}")))?;
        let got = actual.get(id).copied().unwrap_or(0.0);
        let k = (c.x as usize).min(7);
        for b in [k, 8] {
            buckets[b].0 += 1;
            buckets[b].1 += got;
            buckets[b].2 += predicted;
        }
    }
    let mut label = StringBuilder::new();
    let (mut customers, mut actual_mean, mut predicted_mean) = (
        Int64Builder::new(),
        Float64Builder::new(),
        Float64Builder::new(),
    );
    let (mut actual_total, mut predicted_total) = (Float64Builder::new(), Float64Builder::new());
    for (i, (n, a, p)) in buckets.iter().enumerate() {
        if *n == 0 && i < 8 {
            continue;
        }
        label.append_value(match i {
            7 => "7+".to_string(),
            8 => "all".to_string(),
            k => k.to_string(),
        });
        customers.append_value(*n as i64);
        let mean = |v: f64| if *n > 0 { Some(v / *n as f64) } else { None };
        actual_mean.append_option(mean(*a));
        predicted_mean.append_option(mean(*p));
        actual_total.append_value(*a);
        predicted_total.append_value(*p);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("calibration_frequency", DataType::Utf8, false),
        Field::new("customers", DataType::Int64, false),
        Field::new("actual_mean", DataType::Float64, true),
        Field::new("predicted_mean", DataType::Float64, true),
        Field::new("actual_total", DataType::Float64, false),
        Field::new("predicted_total", DataType::Float64, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(label.finish()),
        Arc::new(customers.finish()),
        Arc::new(actual_mean.finish()),
        Arc::new(predicted_mean.finish()),
        Arc::new(actual_total.finish()),
        Arc::new(predicted_total.finish()),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}
