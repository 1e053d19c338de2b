//! A fitted CLV model as one value: the purchase model (BG/NBD or Pareto/NBD) and the
//! Gamma-Gamma spend model, the time unit they were fitted in, and the predictions of
//! PRODUCT.md ("CLV, predicted") from per-customer summaries in days. Serialises to the JSON
//! of CLI.md (`crmlens clv fit`), which `--save` writes and `predict` / `customer_features`
//! read back.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Summary, bgnbd, gamma_gamma, pareto_nbd};

/// The purchase model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum ModelKind {
    #[serde(rename = "bgnbd")]
    #[value(name = "bgnbd")]
    BgNbd,
    #[serde(rename = "pareto-nbd")]
    #[value(name = "pareto-nbd")]
    ParetoNbd,
}

/// The time unit the model's parameters are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    Days,
    Weeks,
}

impl TimeUnit {
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }
}

/// Purchase-model parameters: BG/NBD `r, alpha, a, b` or Pareto/NBD `r, alpha, s, beta`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PurchaseParams {
    BgNbd(bgnbd::Params),
    ParetoNbd(pareto_nbd::Params),
}

impl PurchaseParams {
    /// The four values of a `kind` model, in its order.
    pub fn from_values(kind: ModelKind, v: [f64; 4]) -> PurchaseParams {
        let [r, alpha, third, fourth] = v;
        match kind {
            ModelKind::BgNbd => PurchaseParams::BgNbd(bgnbd::Params {
                r,
                alpha,
                a: third,
                b: fourth,
            }),
            ModelKind::ParetoNbd => PurchaseParams::ParetoNbd(pareto_nbd::Params {
                r,
                alpha,
                s: third,
                beta: fourth,
            }),
        }
    }

    /// The four values, in the model's order.
    pub fn values(&self) -> [f64; 4] {
        match *self {
            PurchaseParams::BgNbd(p) => [p.r, p.alpha, p.a, p.b],
            PurchaseParams::ParetoNbd(p) => [p.r, p.alpha, p.s, p.beta],
        }
    }
}

/// The spend model's fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendFit {
    pub p: f64,
    pub q: f64,
    pub v: f64,
    pub n_customers: usize,
    pub log_likelihood: f64,
    pub converged: bool,
    pub iterations: u64,
    /// Standard errors of p, q, v (see [`ClvModel::standard_errors`]).
    #[serde(default)]
    pub standard_errors: Option<gamma_gamma::Params>,
    /// Covariance of ln p, ln q, ln v (see [`ClvModel::log_covariance`]).
    #[serde(default)]
    pub log_covariance: Option<Vec<Vec<f64>>>,
}

impl SpendFit {
    /// The fitted parameters.
    pub fn params(&self) -> gamma_gamma::Params {
        gamma_gamma::Params {
            p: self.p,
            q: self.q,
            v: self.v,
        }
    }
}

/// A fitted model, as `crmlens clv fit` prints and saves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvModel {
    pub model: ModelKind,
    pub time_unit: TimeUnit,
    pub n_customers: usize,
    pub params: PurchaseParams,
    pub log_likelihood: f64,
    pub converged: bool,
    pub iterations: u64,
    /// Standard errors of `params` from the observed information (the inverse Hessian of the
    /// negative log-likelihood at the optimum; see `fit::Fit::standard_errors`). None when
    /// that Hessian is singular, or in a model saved before they were computed.
    #[serde(default)]
    pub standard_errors: Option<PurchaseParams>,
    /// The asymptotic covariance of the logarithms of `params` (in their order), what
    /// `clv predict --interval` draws parameters from. None as for `standard_errors`.
    #[serde(default)]
    pub log_covariance: Option<Vec<Vec<f64>>>,
    /// None when the spend model cannot be fitted (fewer than two repeat customers with
    /// positive spend); the value predictions are then NULL.
    pub spend: Option<SpendFit>,
    /// The end of the calibration period.
    pub as_of: NaiveDate,
    pub crmlens_version: String,
}

/// One customer's summary in days: x, t_x, T and the mean repeat-day spend m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DaysSummary {
    pub x: f64,
    pub t_x: f64,
    pub t: f64,
    pub m: f64,
}

impl ClvModel {
    /// Fits the purchase model on all customers and Gamma-Gamma on those with x > 0, m > 0.
    pub fn fit(
        customers: &[DaysSummary],
        kind: ModelKind,
        unit: TimeUnit,
        as_of: NaiveDate,
    ) -> Result<ClvModel, String> {
        if customers.is_empty() {
            return Err("no customer has a purchase up to as_of: nothing to fit".into());
        }
        let scale = unit.days();
        let summaries: Vec<Summary> = customers
            .iter()
            .map(|c| Summary {
                x: c.x,
                t_x: c.t_x / scale,
                t: c.t / scale,
            })
            .collect();
        let (params, fit) = match kind {
            ModelKind::BgNbd => {
                let (p, f) = bgnbd::fit(&summaries)?;
                (PurchaseParams::BgNbd(p), f)
            }
            ModelKind::ParetoNbd => {
                let (p, f) = pareto_nbd::fit(&summaries)?;
                (PurchaseParams::ParetoNbd(p), f)
            }
        };
        let standard_errors = fit
            .standard_errors()
            .and_then(|se| se.try_into().ok())
            .map(|se| PurchaseParams::from_values(kind, se));
        let spend_data: Vec<(f64, f64)> = customers.iter().map(|c| (c.x, c.m)).collect();
        let spend = match gamma_gamma::fit(&spend_data) {
            Ok((p, f, n)) => Some(SpendFit {
                p: p.p,
                q: p.q,
                v: p.v,
                n_customers: n,
                log_likelihood: f.log_likelihood,
                converged: f.converged,
                iterations: f.iterations,
                standard_errors: f.standard_errors().map(|se| gamma_gamma::Params {
                    p: se[0],
                    q: se[1],
                    v: se[2],
                }),
                log_covariance: f.log_covariance,
            }),
            Err(e) => {
                log::warn!("{e}; expected values and CLV will be empty");
                None
            }
        };
        Ok(ClvModel {
            model: kind,
            time_unit: unit,
            n_customers: customers.len(),
            params,
            log_likelihood: fit.log_likelihood,
            converged: fit.converged,
            iterations: fit.iterations,
            standard_errors,
            log_covariance: fit.log_covariance,
            spend,
            as_of,
            crmlens_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }

    /// Reads a saved model and checks it is one this version can use.
    pub fn from_json(text: &str) -> Result<ClvModel, String> {
        let model: ClvModel = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let ok = matches!(
            (model.model, model.params),
            (ModelKind::BgNbd, PurchaseParams::BgNbd(_))
                | (ModelKind::ParetoNbd, PurchaseParams::ParetoNbd(_))
        );
        if !ok {
            return Err(format!(
                "\"model\" is {:?} but \"params\" are those of the other model",
                model.model
            ));
        }
        Ok(model)
    }

    fn summary(&self, x: f64, t_x: f64, t: f64) -> Result<Summary, String> {
        let scale = self.time_unit.days();
        let s = Summary {
            x,
            t_x: t_x / scale,
            t: t / scale,
        };
        s.check()?;
        Ok(s)
    }

    /// P(alive | x, t_x, T), the summary in days.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> Result<f64, String> {
        let s = self.summary(x, t_x, t)?;
        Ok(match &self.params {
            PurchaseParams::BgNbd(p) => bgnbd::p_alive(p, &s),
            PurchaseParams::ParetoNbd(p) => pareto_nbd::p_alive(p, &s),
        })
    }

    /// E[X(h) | x, t_x, T]: expected purchases in the next `horizon_days` days.
    pub fn expected_purchases(
        &self,
        x: f64,
        t_x: f64,
        t: f64,
        horizon_days: f64,
    ) -> Result<f64, String> {
        let s = self.summary(x, t_x, t)?;
        if horizon_days <= 0.0 {
            return Ok(0.0);
        }
        let h = horizon_days / self.time_unit.days();
        let e = match &self.params {
            PurchaseParams::BgNbd(p) => bgnbd::expected_purchases(p, &s, h)?,
            PurchaseParams::ParetoNbd(p) => pareto_nbd::expected_purchases(p, &s, h)?,
        };
        if e.is_finite() {
            Ok(e)
        } else {
            Err(format!("expected purchases are not finite for {s:?}"))
        }
    }

    /// E[M | x, m]: expected average purchase-day value; None without a spend model or when
    /// the expectation does not exist (q ≤ 1).
    pub fn expected_avg_value(&self, x: f64, m: f64) -> Option<f64> {
        let s = self.spend.as_ref()?;
        let v = gamma_gamma::expected_average_value(&s.params(), x, m);
        (v.is_finite() && s.p * x + s.q > 1.0).then_some(v)
    }

    /// Discounted CLV over `months` months of 30 days (PRODUCT.md):
    /// Σ_{i=1..H} (E[X(30i)] − E[X(30(i−1))]) × E[m] × margin / (1 + d)^i.
    pub fn clv(
        &self,
        c: &DaysSummary,
        months: u32,
        monthly_discount: f64,
        margin: f64,
    ) -> Result<Option<f64>, String> {
        let Some(value) = self.expected_avg_value(c.x, c.m) else {
            return Ok(None);
        };
        let mut total = 0.0;
        let mut previous = 0.0;
        for i in 1..=months {
            let e = self.expected_purchases(c.x, c.t_x, c.t, 30.0 * f64::from(i))?;
            total += (e - previous) * value * margin / (1.0 + monthly_discount).powi(i as i32);
            previous = e;
        }
        Ok(Some(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::clv::fixtures::model;

    #[test]
    fn days_are_converted_to_the_model_unit() {
        // The paper's example in weeks, given in days.
        let m = model();
        let e = m
            .expected_purchases(2.0, 30.43 * 7.0, 38.86 * 7.0, 39.0 * 7.0)
            .unwrap();
        assert!((e - 1.226).abs() < 5e-4, "{e}");
    }

    #[test]
    fn json_round_trip_and_cli_shape() {
        let m = model();
        let text = serde_json::to_string(&m).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["model"], "bgnbd");
        assert_eq!(v["time_unit"], "weeks");
        assert_eq!(v["params"]["alpha"], 4.4135);
        assert_eq!(v["spend"]["v"], 15.4477);
        assert_eq!(ClvModel::from_json(&text).unwrap(), m);
        let wrong = text.replace("\"bgnbd\"", "\"pareto-nbd\"");
        assert!(
            ClvModel::from_json(&wrong)
                .unwrap_err()
                .contains("other model")
        );
    }

    #[test]
    fn clv_is_the_discounted_sum_of_monthly_increments() {
        let m = model();
        let c = DaysSummary {
            x: 2.0,
            t_x: 200.0,
            t: 270.0,
            m: 20.0,
        };
        // Independent: one month undiscounted is E[X(30)] × E[M].
        let one = m.clv(&c, 1, 0.0, 1.0).unwrap().unwrap();
        let e30 = m.expected_purchases(2.0, 200.0, 270.0, 30.0).unwrap();
        let value = m.expected_avg_value(2.0, 20.0).unwrap();
        assert!((one - e30 * value).abs() < 1e-9);
        // Gamma-Gamma mean by hand: p (v + x m) / (p x + q − 1).
        let by_hand = 6.2488 * (15.4477 + 40.0) / (6.2488 * 2.0 + 3.7446 - 1.0);
        assert!((value - by_hand).abs() < 1e-9);
        // Discounting lowers a twelve-month value; a 0.5 margin halves it.
        let full = m.clv(&c, 12, 0.0, 1.0).unwrap().unwrap();
        let disc = m.clv(&c, 12, 0.01, 1.0).unwrap().unwrap();
        let half = m.clv(&c, 12, 0.0, 0.5).unwrap().unwrap();
        assert!(disc < full && (half - full / 2.0).abs() < 1e-9);
        let e360 = m.expected_purchases(2.0, 200.0, 270.0, 360.0).unwrap();
        assert!((full - e360 * value).abs() < 1e-9);
    }

    #[test]
    fn invalid_summaries_are_errors() {
        assert!(model().p_alive(1.0, 10.0, 5.0).is_err());
    }
}
