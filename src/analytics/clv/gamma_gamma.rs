//! Gamma-Gamma spend model (Fader & Hardie 2013): a customer's transaction values are
//! Gamma(p, ν) with ν ~ Gamma(q, γ), independent of the purchase process.

use super::fit::{Fit, maximise};
use super::special::ln_gamma;

/// Gamma-Gamma parameters (`v` is γ).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Params {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

/// Log-likelihood of one customer with `x` repeat transactions of mean value `m`.
pub fn log_likelihood(params: &Params, x: f64, m: f64) -> f64 {
    let Params { p, q, v } = *params;
    ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
        + q * v.ln()
        + (p * x - 1.0) * m.ln()
        + p * x * x.ln()
        - (p * x + q) * (x * m + v).ln()
}

/// Fits on customers with x > 0 and m > 0; others are skipped (they carry no spend data).
pub fn fit(customers: &[(f64, f64)]) -> Result<(Params, Fit, usize), String> {
    let used: Vec<(f64, f64)> = customers
        .iter()
        .copied()
        .filter(|(x, m)| *x > 0.0 && *m > 0.0)
        .collect();
    if used.len() < 2 {
        return Err("Gamma-Gamma cannot be fitted: fewer than two customers with repeat purchases of positive value".into());
    }
    // Per customer only ln(x·m + v) depends on the parameters and the data together; the
    // rest is precomputed, and the log-gamma terms are taken once per distinct x.
    let mut xs: Vec<f64> = used.iter().map(|(x, _)| *x).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let rows: Vec<(usize, f64, f64, f64)> = used
        .iter()
        .map(|(x, m)| {
            let i = xs.partition_point(|v| v < x);
            (i, x * m, m.ln(), x * x.ln())
        })
        .collect();
    let ll = |v: &[f64]| {
        let (p, q, g) = (v[0], v[1], v[2]);
        let gamma_terms: Vec<f64> = xs
            .iter()
            .map(|x| ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * g.ln())
            .collect();
        super::par_sum(&rows, |part| {
            part.iter()
                .map(|&(i, xm, ln_m, x_ln_x)| {
                    let x = xs[i];
                    gamma_terms[i] + (p * x - 1.0) * ln_m + p * x_ln_x - (p * x + q) * (xm + g).ln()
                })
                .sum::<f64>()
        })
    };
    let fit = maximise(ll, &[1.0, 1.0, 1.0], "Gamma-Gamma")?;
    let v = &fit.params;
    Ok((
        Params {
            p: v[0],
            q: v[1],
            v: v[2],
        },
        fit,
        used.len(),
    ))
}

/// E[M | x, m]: the expected average transaction value of a customer.
pub fn expected_average_value(params: &Params, x: f64, m: f64) -> f64 {
    let Params { p, q, v } = *params;
    p * (v + x * m) / (p * x + q - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_reproduces_published_parameters_on_cdnow() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/datasets/cdnow/cdnow_customers_summary_with_transactions.csv"
        );
        let data: Vec<(f64, f64)> = std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<f64> = l.split(',').map(|v| v.trim().parse().unwrap()).collect();
                (f[1], f[4])
            })
            .collect();
        let (p, fit, n) = fit(&data).unwrap();
        eprintln!("Gamma-Gamma on CDNOW: {p:?}, {fit:?}");
        assert_eq!(n, 946);
        for (got, want, name) in [(p.p, 6.2488, "p"), (p.q, 3.7446, "q"), (p.v, 15.4477, "v")] {
            assert!(
                ((got - want) / want).abs() <= 5e-3,
                "{name}: {got} vs {want} ({fit:?})"
            );
        }
    }
}
