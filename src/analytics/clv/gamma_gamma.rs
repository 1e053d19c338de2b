//! Gamma-Gamma spend model (Fader & Hardie 2013): a customer's transaction values are
//! Gamma(p, ν) with ν ~ Gamma(q, γ), independent of the purchase process.

use super::fit::{Derivatives, Fit, maximise};
use super::polygamma::{digamma, trigamma};
use super::special::ln_gamma;

/// Gamma-Gamma parameters (`v` is γ).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Params {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

/// Customers with repeat spend, prepared for repeated evaluations of the likelihood and its
/// derivatives. Per customer only ln(x·m + v) depends on the parameters and the data together:
/// a customer costs one logarithm and one division, the terms in x alone are computed once per
/// distinct x, and those in the data alone once.
pub struct SpendSample {
    /// (x, x·m) per customer.
    rows: Vec<(f64, f64)>,
    /// Distinct x with their numbers of customers.
    xs: Vec<(f64, f64)>,
    /// Σ x (ln m + ln x) and Σ ln m over the customers.
    sum_x_ln_xm: f64,
    sum_ln_m: f64,
}

impl SpendSample {
    /// The customers with x > 0 and m > 0; others carry no spend data and are left out.
    pub fn new(customers: &[(f64, f64)]) -> SpendSample {
        let used: Vec<(f64, f64)> = customers
            .iter()
            .copied()
            .filter(|(x, m)| *x > 0.0 && *m > 0.0)
            .collect();
        let mut all_x: Vec<f64> = used.iter().map(|(x, _)| *x).collect();
        all_x.sort_by(f64::total_cmp);
        let mut xs: Vec<(f64, f64)> = Vec::new();
        for x in all_x {
            match xs.last_mut() {
                Some((last, n)) if *last == x => *n += 1.0,
                _ => xs.push((x, 1.0)),
            }
        }
        SpendSample {
            rows: used.iter().map(|(x, m)| (*x, x * m)).collect(),
            xs,
            sum_x_ln_xm: used.iter().map(|(x, m)| x * (m.ln() + x.ln())).sum(),
            sum_ln_m: used.iter().map(|(_, m)| m.ln()).sum(),
        }
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
        self.derivatives(params).value
    }

    /// The total log-likelihood with its gradient and Hessian in (p, q, v). Per customer
    /// ℓ = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + (px−1) ln m + px ln x − (px+q) ln(xm+v):
    /// the last term is summed over the customers as Σ L, Σ xL, Σ I, Σ xI, Σ I², Σ xI² with
    /// L = ln(xm+v) and I = 1/(xm+v), from which its derivatives follow linearly.
    pub fn derivatives(&self, params: &Params) -> Derivatives<3> {
        let Params { p, q, v } = *params;
        let [l, xl, i, xi, i2, xi2] = super::par_sum(&self.rows, |part| {
            let mut s = Sums([0.0; 6]);
            for &(x, xm) in part {
                let (ln, inv) = ((xm + v).ln(), 1.0 / (xm + v));
                let terms = [ln, x * ln, inv, x * inv, inv * inv, x * inv * inv];
                for (acc, term) in s.0.iter_mut().zip(terms) {
                    *acc += term;
                }
            }
            s
        })
        .0;
        let mut d = Derivatives::ZERO;
        d.value = p * self.sum_x_ln_xm - self.sum_ln_m - p * xl - q * l;
        d.gradient = [self.sum_x_ln_xm - xl, -l, -(p * xi + q * i)];
        let h = &mut d.hessian;
        h[0][2] = -xi;
        h[1][2] = -i;
        h[2][2] = p * xi2 + q * i2;
        for &(x, n) in &self.xs {
            let (px, pxq) = (p * x, p * x + q);
            d.value += n * (ln_gamma(pxq) - ln_gamma(px) - ln_gamma(q) + q * v.ln());
            let both = digamma(pxq);
            d.gradient[0] += n * x * (both - digamma(px));
            d.gradient[1] += n * (both - digamma(q) + v.ln());
            d.gradient[2] += n * q / v;
            let both = trigamma(pxq);
            h[0][0] += n * x * x * (both - trigamma(px));
            h[0][1] += n * x * both;
            h[1][1] += n * (both - trigamma(q));
            h[1][2] += n / v;
            h[2][2] -= n * q / (v * v);
        }
        d.symmetrised()
    }
}

/// Per-customer sums added across threads.
struct Sums([f64; 6]);

impl std::iter::Sum for Sums {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Sums([0.0; 6]), |mut a, b| {
            for (x, y) in a.0.iter_mut().zip(b.0) {
                *x += y;
            }
            a
        })
    }
}

/// Fits on customers with x > 0 and m > 0; others are skipped (they carry no spend data).
pub fn fit(customers: &[(f64, f64)]) -> Result<(Params, Fit, usize), String> {
    let sample = SpendSample::new(customers);
    if sample.len() < 2 {
        return Err("Gamma-Gamma cannot be fitted: fewer than two customers with repeat purchases of positive value".into());
    }
    let params = |v: &[f64; 3]| Params {
        p: v[0],
        q: v[1],
        v: v[2],
    };
    let fit = maximise(
        |v| sample.derivatives(&params(v)),
        [1.0, 1.0, 1.0],
        "Gamma-Gamma",
    )?;
    let v = &fit.params;
    Ok((params(&[v[0], v[1], v[2]]), fit, sample.len()))
}

/// E[M | x, m]: the expected average transaction value of a customer.
pub fn expected_average_value(params: &Params, x: f64, m: f64) -> f64 {
    let Params { p, q, v } = *params;
    p * (v + x * m) / (p * x + q - 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::clv::fixtures::{GAMMA_GAMMA, SPEND_CUSTOMERS, spend as cdnow};

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
        let data = cdnow();
        let (p, fit, n) = fit(&data).unwrap();
        eprintln!("Gamma-Gamma on CDNOW: {p:?}, {fit:?}");
        assert_eq!(n, SPEND_CUSTOMERS);
        for (got, want, name) in [
            (p.p, GAMMA_GAMMA.p, "p"),
            (p.q, GAMMA_GAMMA.q, "q"),
            (p.v, GAMMA_GAMMA.v, "v"),
        ] {
            assert!(
                ((got - want) / want).abs() <= 5e-3,
                "{name}: {got} vs {want} ({fit:?})"
            );
        }
    }

    /// The paper's formula customer by customer, independent of [`SpendSample`]'s sums.
    fn per_customer(v: &[f64; 3], data: &[(f64, f64)]) -> f64 {
        let [p, q, g] = *v;
        data.iter()
            .filter(|(x, m)| *x > 0.0 && *m > 0.0)
            .map(|&(x, m)| {
                ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q)
                    + q * g.ln()
                    + (p * x - 1.0) * m.ln()
                    + p * x * x.ln()
                    - (p * x + q) * (x * m + g).ln()
            })
            .sum()
    }

    fn params(v: &[f64; 3]) -> Params {
        Params {
            p: v[0],
            q: v[1],
            v: v[2],
        }
    }

    /// The analytic gradient and Hessian against central differences of the per-customer
    /// likelihood, at the published optimum and far from it.
    #[test]
    fn derivatives_match_finite_differences() {
        let data = cdnow();
        let sample = SpendSample::new(&data);
        for point in [
            [GAMMA_GAMMA.p, GAMMA_GAMMA.q, GAMMA_GAMMA.v],
            [1.0, 1.0, 1.0],
            [0.2, 30.0, 400.0],
            [40.0, 0.5, 0.05],
        ] {
            crate::analytics::clv::fit::check_derivatives(
                |v| sample.derivatives(&params(v)),
                |v| per_customer(v, &data),
                point,
            );
        }
    }

    /// Newton reaches the optimum the simplex finds on the per-customer likelihood, to 5
    /// significant digits, in a few dozen iterations.
    #[test]
    fn newton_reaches_the_nelder_mead_optimum_on_cdnow() {
        let data = cdnow();
        let (p, fit, _) = fit(&data).unwrap();
        let reference =
            crate::analytics::clv::fit::nelder_mead(|v| per_customer(v, &data), [1.0; 3]);
        for (got, want) in [p.p, p.q, p.v].into_iter().zip(reference) {
            assert!(
                ((got - want) / want).abs() <= 1e-5,
                "{p:?} vs {reference:?}"
            );
        }
        assert!(fit.converged && fit.iterations < 50, "{fit:?}");
    }
}
