//! `crmlens clv fit | predict | evaluate`: arguments for [`Engine::fit_model`] and
//! [`crate::metrics::clv`] (PRODUCT.md, "CLV, predicted"; CLI.md for the JSON shape).

use std::path::PathBuf;

use chrono::NaiveDate;

use super::{GlobalArgs, write};
use crate::Result;
use crate::analytics::clv::model::{ModelKind, TimeUnit};
use crate::config::Config;
use crate::engine::Engine;
use crate::metrics::clv;
use crate::output::{write_batches, write_json_object};

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

The JSON has the parameters with their standard_errors (observed information: the inverse
Hessian of the negative log-likelihood at the optimum), for the purchase model and under
spend for Gamma-Gamma, and log_covariance, the covariance of the log-parameters that
`clv predict --interval` draws from.

Then set `[clv] model_file = \"clv-model.json\"` in crmlens.toml so customer_features fills
p_alive, expected_purchases, expected_avg_value and clv, or pass --model-file to predict.")]
    Fit(FitArgs),
    /// Per customer: summary (in days), expected purchases, P(alive), expected value, CLV
    #[command(after_help = "Examples:
  crmlens clv predict --model-file clv-model.json --horizon-days 90 --format csv
  crmlens clv predict --format json --output predictions.json   (fits first, no file given)
  crmlens clv predict --model-file clv-model.json --interval --format csv

frequency, recency and t are in days; clv is over [clv] horizon_months months with the
configured monthly_discount and margin. --interval adds clv_low and clv_high, a 90% interval
by parametric bootstrap: 1000 parameter sets drawn (fixed seed) from the fit's asymptotic
normal distribution (the standard errors `clv fit` prints), the 5th and 95th percentiles of
the customer's CLV over them.")]
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
    /// Add clv_low and clv_high, the 90% interval of the CLV (parametric bootstrap)
    #[arg(long)]
    interval: bool,
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

async fn fit(global: &GlobalArgs, config: &Config, args: FitArgs) -> Result<u8> {
    let engine = Engine::open(config).await?;
    let model = engine
        .fit_model(args.model.model, args.model.time_unit)
        .await?;
    if let Some(path) = &args.save {
        write_json_object(&model, Some(path))?;
        log::info!("saved the model to {}", path.display());
    }
    write_json_object(&model, global.output.as_deref())?;
    Ok(0)
}

async fn predict(global: &GlobalArgs, config: &Config, args: PredictArgs) -> Result<u8> {
    let mut engine = Engine::open(config).await?;
    let (kind, unit) = (args.model.model, args.model.time_unit);
    let model = clv::model(&engine, args.model_file.as_deref(), kind, unit).await?;
    let interval = args.interval.then(|| model.clone());
    engine.use_model(model).await?;
    let df = clv::predictions(&engine, args.horizon_days, interval.as_ref()).await?;
    write(global, args.max_rows, df).await
}

async fn evaluate(global: &GlobalArgs, config: &Config, args: EvaluateArgs) -> Result<u8> {
    let engine = Engine::open(config).await?;
    let (kind, unit) = (args.model.model, args.model.time_unit);
    let batch = clv::evaluate(&engine, args.calibration_end, kind, unit).await?;
    write_batches(batch.schema(), &[batch], &global.output(20)?)?;
    Ok(0)
}
