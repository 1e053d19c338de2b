//! The CDNOW fixtures of the CLV models' tests, in one place: the customer summaries of the
//! CDNOW sample (`datasets/cdnow`, weeks) and the maximum-likelihood parameters published for
//! it, which every model's tests reproduce or build on.

use chrono::NaiveDate;

use super::model::{ClvModel, ModelKind, PurchaseParams, SpendFit, TimeUnit};
use super::{Summary, bgnbd, gamma_gamma, pareto_nbd};

/// Customers of the CDNOW sample.
pub const CUSTOMERS: usize = 2357;

/// Of those, the customers with repeat spend (what Gamma-Gamma is fitted on).
pub const SPEND_CUSTOMERS: usize = 946;

/// BG/NBD on CDNOW as published by Fader, Hardie and Lee (2005).
pub const BGNBD: bgnbd::Params = bgnbd::Params {
    r: 0.2426,
    alpha: 4.4135,
    a: 0.7929,
    b: 2.4258,
};

/// The log-likelihood of [`BGNBD`] on CDNOW, as published.
pub const BGNBD_LOG_LIKELIHOOD: f64 = -9582.4;

/// Pareto/NBD on CDNOW as published with the BTYD R package (vignette).
pub const PARETO_NBD: pareto_nbd::Params = pareto_nbd::Params {
    r: 0.5534,
    alpha: 10.5802,
    s: 0.6061,
    beta: 11.6562,
};

/// The log-likelihood of [`PARETO_NBD`] on CDNOW, as published.
pub const PARETO_NBD_LOG_LIKELIHOOD: f64 = -9595.0;

/// Gamma-Gamma on CDNOW as published.
pub const GAMMA_GAMMA: gamma_gamma::Params = gamma_gamma::Params {
    p: 6.2488,
    q: 3.7446,
    v: 15.4477,
};

/// Whether `got` is within `rel` of `want`, relatively.
pub fn close(got: f64, want: f64, rel: f64) -> bool {
    ((got - want) / want).abs() <= rel
}

/// The rows of a CSV file of `datasets/cdnow` (header skipped), as numbers.
fn rows(file: &str) -> Vec<Vec<f64>> {
    let path = format!("{}/datasets/cdnow/{file}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect()
}

/// The purchase summaries (x, t_x, T in weeks) of the CDNOW customers.
pub fn summaries() -> Vec<Summary> {
    rows("cdnow_customers_summary.csv")
        .into_iter()
        .map(|f| Summary {
            x: f[1],
            t_x: f[2],
            t: f[3],
        })
        .collect()
}

/// (x, m) of the CDNOW customers: repeat purchases and their mean spend.
pub fn spend() -> Vec<(f64, f64)> {
    rows("cdnow_customers_summary_with_transactions.csv")
        .into_iter()
        .map(|f| (f[1], f[4]))
        .collect()
}

/// The published BG/NBD and Gamma-Gamma parameters (weeks) as a fitted model.
pub fn model() -> ClvModel {
    ClvModel {
        model: ModelKind::BgNbd,
        time_unit: TimeUnit::Weeks,
        n_customers: CUSTOMERS,
        params: PurchaseParams::BgNbd(BGNBD),
        log_likelihood: BGNBD_LOG_LIKELIHOOD,
        converged: true,
        iterations: 1,
        standard_errors: None,
        log_covariance: None,
        spend: Some(SpendFit {
            p: GAMMA_GAMMA.p,
            q: GAMMA_GAMMA.q,
            v: GAMMA_GAMMA.v,
            n_customers: SPEND_CUSTOMERS,
            log_likelihood: 0.0,
            converged: true,
            iterations: 1,
            standard_errors: None,
            log_covariance: None,
        }),
        as_of: NaiveDate::from_ymd_opt(1997, 9, 30).unwrap(),
        crmlens_version: "test".into(),
    }
}
