//! `crmlens clv fit | predict | evaluate`: the "buy till you die" models over the dataset's
//! purchases (PRODUCT.md, "CLV, predicted"; CLI.md for the JSON shape).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, Float64Builder, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::GlobalArgs;
use crate::analytics::clv::model::{ClvModel, ModelKind, TimeUnit};
use crate::columns::{numbers, texts};
use crate::config::Config;
use crate::engine::Engine;
use crate::functions::clv::load_model;
use crate::output::{write_batches, write_dataframe, write_json_object};
use crate::{Error, Result};

/// Fit, apply and check the CLV models (BG/NBD or Pareto/NBD with Gamma-Gamma spend)
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: ClvCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ClvCommand {
    /// Fit the purchase model and Gamma-Gamma by maximum likelihood; prints the fit as JSON
    #[command(after_help = "Examples:
  crmlens clv fit --dataset datasets/demo --save clv-model.json
  crmlens clv fit --model pareto-nbd --time-unit weeks --as-of 1997-09-30

Then set `[clv] model_file = \"clv-model.json\"` in crmlens.toml so customer_features fills
p_alive, expected_purchases, expected_avg_value and clv, or pass --model-file to predict.")]
    Fit(FitArgs),
    /// Per customer: summary (in days), expected purchases, P(alive), expected value, CLV
    #[command(after_help = "Examples:
  crmlens clv predict --model-file clv-model.json --horizon-days 90 --format csv
  crmlens clv predict --format json --output predictions.json   (fits first, no file given)

frequency, recency and t are in days; clv is over [clv] horizon_months months with the
configured monthly_discount and margin.")]
    Predict(PredictArgs),
    /// Fit on a calibration period and compare predicted with actual purchases after it
    #[command(after_help = "Examples:
  crmlens clv evaluate --calibration-end 1997-09-30 --time-unit weeks
  crmlens clv evaluate --calibration-end 2025-06-30 --as-of 2025-12-31 --format csv

Rows: calibration frequency 0, 1, …, 6, 7+ and all; customers, mean actual and predicted
repeat purchase days in the holdout (calibration end, as_of].")]
    Evaluate(EvaluateArgs),
}

#[derive(Debug, clap::Args)]
struct ModelArgs {
    /// The purchase model
    #[arg(long, value_enum, default_value = "bgnbd")]
    model: ModelKind,
    /// Time unit of the fitted parameters
    #[arg(long, value_enum, default_value = "days")]
    time_unit: TimeUnit,
}

#[derive(Debug, clap::Args)]
struct FitArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Also save the fit (JSON) to FILE, atomically, for predict and customer_features
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct PredictArgs {
    /// Horizon of expected_purchases in days [default: [clv] horizon_days, 90]
    #[arg(long, value_name = "N")]
    horizon_days: Option<u32>,
    /// A fit saved by `clv fit --save` [default: [clv] model_file, else fit now]
    #[arg(long, value_name = "FILE")]
    model_file: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

#[derive(Debug, clap::Args)]
struct EvaluateArgs {
    /// Last day of the calibration period (inclusive), YYYY-MM-DD
    #[arg(long, value_name = "DATE")]
    calibration_end: NaiveDate,
    #[command(flatten)]
    model: ModelArgs,
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let config = global.config()?;
    match args.command {
        ClvCommand::Fit(a) => fit(global, &config, a).await,
        ClvCommand::Predict(a) => predict(global, &config, a).await,
        ClvCommand::Evaluate(a) => evaluate(global, &config, a).await,
    }
}

async fn fit_model(engine: &Engine, args: &ModelArgs) -> Result<ClvModel> {
    engine.fit_model(args.model, args.time_unit).await
}

async fn fit(global: &GlobalArgs, config: &Config, args: FitArgs) -> Result<u8> {
    let engine = Engine::open(config).await?;
    let model = fit_model(&engine, &args.model).await?;
    if let Some(path) = &args.save {
        write_json_object(&model, Some(path))?;
        log::info!("saved the model to {}", path.display());
    }
    write_json_object(&model, global.output.as_deref())?;
    Ok(0)
}

async fn predict(global: &GlobalArgs, config: &Config, args: PredictArgs) -> Result<u8> {
    let mut engine = Engine::open(config).await?;
    let model = match args.model_file.as_ref().or(config.clv.model_file.as_ref()) {
        Some(path) => load_model(path)?,
        None => fit_model(&engine, &args.model).await?,
    };
    engine.use_model(model).await?;
    let horizon = args.horizon_days.unwrap_or(config.clv.horizon_days);
    let sql = format!(
        "select customer_id, frequency, recency, t, monetary, \
           clv_expected_purchases(frequency, recency, t, {horizon}) as expected_purchases, \
           clv_p_alive(frequency, recency, t) as p_alive, \
           clv_expected_avg_value(frequency, monetary) as expected_avg_value, \
           clv_value(frequency, recency, t, monetary) as clv \
         from clv_summary order by customer_id"
    );
    let df = engine.sql(&sql).await?;
    write_dataframe(df, &global.output(args.max_rows)).await?;
    Ok(0)
}

async fn evaluate(global: &GlobalArgs, config: &Config, args: EvaluateArgs) -> Result<u8> {
    // The holdout ends at as_of (given, or the latest order date).
    let full = Engine::open(config).await?;
    let end = full.as_of().await?;
    let cal_end = args.calibration_end;
    if cal_end >= end {
        return Err(Error::Usage(format!(
            "--calibration-end {cal_end} must be before the end of the data ({end}; set with --as-of)"
        )));
    }
    let mut calibration = config.clone();
    calibration.as_of = Some(cal_end);
    let cal = Engine::open(&calibration).await?;
    let model = fit_model(&cal, &args.model).await?;
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
    let batches = full.query(&sql).await?;
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
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    write_batches(schema, &[batch], &global.output(20))?;
    Ok(0)
}
