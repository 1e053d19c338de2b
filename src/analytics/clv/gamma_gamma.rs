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

/// Customers with repeat spend, prepared for repeated likelihood evaluations: per customer
/// only ln(x·m + v) depends on the parameters and the data together; the rest is computed
/// once, and the log-gamma terms once per distinct x.
pub struct SpendSample {
    xs: Vec<f64>,
    /// (index into `xs`, x·m, ln m, x ln x)
    rows: Vec<(usize, f64, f64, f64)>,
}

impl SpendSample {
    /// The customers with x > 0 and m > 0; others carry no spend data and are left out.
    pub fn new(customers: &[(f64, f64)]) -> SpendSample {
        let used: Vec<(f64, f64)> = customers
            .iter()
            .copied()
            .filter(|(x, m)| *x > 0.0 && *m > 0.0)
            .collect();
        let mut xs: Vec<f64> = used.iter().map(|(x, _)| *x).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let rows = used
            .iter()
            .map(|(x, m)| {
                let i = xs.partition_point(|v| v < x);
                (i, x * m, m.ln(), x * x.ln())
            })
            .collect();
        SpendSample { xs, rows }
    }

    /// Customers in the sample.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Total log-likelihood (Fader & Hardie 2013, the Gamma-Gamma likelihood of a customer's
    /// mean repeat spend m over x transactions).
    pub fn log_likelihood(&self, params: &Params) -> f64 {
        let Params { p, q, v } = *params;
        let gamma_terms: Vec<f64> = self
            .xs
            .iter()
            .map(|x| ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * v.ln())
            .collect();
        super::par_sum(&self.rows, |part| {
            part.iter()
                .map(|&(i, xm, ln_m, x_ln_x)| {
                    let x = self.xs[i];
                    gamma_terms[i] + (p * x - 1.0) * ln_m + p * x_ln_x - (p * x + q) * (xm + v).ln()
                })
                .sum::<f64>()
        })
    }
}

/// Fits on customers with x > 0 and m > 0; others are skipped (they carry no spend data).
pub fn fit(customers: &[(f64, f64)]) -> Result<(Params, Fit, usize), String> {
    let sample = SpendSample::new(customers);
    if sample.len() < 2 {
        return Err("Gamma-Gamma cannot be fitted: fewer than two customers with repeat purchases of positive value".into());
    }
    let ll = |v: &[f64]| {
        sample.log_likelihood(&Params {
            p: v[0],
            q: v[1],
            v: v[2],
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
        sample.len(),
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
    fn likelihood_is_the_papers_formula() {
        // ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln m + px ln x
        //        − (px+q) ln(xm+v), summed; customers without repeat spend are left out.
        let params = Params {
            p: 6.25,
            q: 3.74,
            v: 15.4,
        };
        let data = [
            (2.0, 22.35),
            (1.0, 11.77),
            (0.0, 0.0),
            (7.0, 40.5),
            (3.0, 0.0),
        ];
        let by_hand: f64 = [(2.0f64, 22.35f64), (1.0, 11.77), (7.0, 40.5)]
            .iter()
            .map(|&(x, m)| {
                let (p, q, v) = (6.25f64, 3.74f64, 15.4f64);
                ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
                    + q * v.ln()
                    + (p * x - 1.0) * m.ln()
                    + p * x * x.ln()
                    - (p * x + q) * (x * m + v).ln()
            })
            .sum();
        let sample = SpendSample::new(&data);
        assert_eq!(sample.len(), 3);
        assert!((sample.log_likelihood(&params) - by_hand).abs() < 1e-10);
    }

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
