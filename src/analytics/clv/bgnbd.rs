//! BG/NBD (Fader, Hardie & Lee 2005): purchases follow a Poisson process with rate
//! λ ~ Gamma(r, α); after each purchase the customer drops out with probability p ~ Beta(a, b).

use super::Summary;
use super::fit::{Derivatives, Fit, maximise};
use super::polygamma::{digamma, trigamma};
use super::special::{hyp2f1, ln_gamma, log_sum_exp};

/// BG/NBD parameters.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// Log-likelihood of one customer (equation 6 of the paper, in log space).
pub fn log_likelihood(p: &Params, c: &Summary) -> f64 {
    let Params { r, alpha, a, b } = *p;
    let x = c.x;
    let gammas = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b) + ln_gamma(b + x)
        - ln_gamma(b)
        - ln_gamma(a + b + x);
    let alive = -(r + x) * (alpha + c.t).ln();
    let dropped = if x > 0.0 {
        a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + c.t_x).ln()
    } else {
        f64::NEG_INFINITY
    };
    gammas + log_sum_exp(alive, dropped)
}

/// Total log-likelihood of a sample.
pub fn total_log_likelihood(p: &Params, customers: &[Summary]) -> f64 {
    customers.iter().map(|c| log_likelihood(p, c)).sum()
}

/// A sample prepared for the fit's repeated evaluations of the likelihood and its derivatives:
/// customers with the same (x, t_x, T) are one row weighted by their count (see
/// [`super::distinct`]), and t_x and T are indices into the distinct times, so that
/// ln(α + t) is computed once per distinct time (a few hundred with daily data) instead of
/// twice per customer. A row then costs one exponential and one logarithm.
pub struct Sample {
    times: Vec<f64>,
    rows: Vec<Row>,
    /// Distinct x with their numbers of customers, for the log-gamma terms.
    xs: Vec<(f64, f64)>,
    customers: f64,
}

struct Row {
    x: f64,
    n: f64,
    t_x: usize,
    t: usize,
}

impl Sample {
    pub fn new(customers: &[Summary]) -> Sample {
        let distinct = super::distinct(customers);
        let mut times: Vec<f64> = distinct.iter().flat_map(|(c, _)| [c.t_x, c.t]).collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        let index = |t: f64| times.partition_point(|v| *v < t);
        let rows = distinct
            .iter()
            .map(|(c, n)| Row {
                x: c.x,
                n: *n,
                t_x: index(c.t_x),
                t: index(c.t),
            })
            .collect();
        let mut xs: Vec<(f64, f64)> = Vec::new();
        for (c, n) in &distinct {
            match xs.last_mut() {
                Some((x, total)) if *x == c.x => *total += n,
                _ => xs.push((c.x, *n)),
            }
        }
        Sample {
            times,
            rows,
            xs,
            customers: customers.len() as f64,
        }
    }

    /// The total log-likelihood with its gradient and Hessian in (r, α, a, b).
    ///
    /// Per customer ℓ = G(x) + ln(e^A + e^D), with the log-gamma part
    /// G = ln Γ(r+x) − ln Γ(r) + r ln α + ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x), the
    /// "alive" term A = −(r+x) ln(α+T) and the "dropped out" term
    /// D = ln a − ln(b+x−1) − (r+x) ln(α+t_x) (x > 0 only). With w = e^D/(e^A + e^D) the
    /// log-sum-exp has gradient (1−w)∇A + w∇D and Hessian
    /// (1−w)∇²A + w∇²D + w(1−w)(∇D − ∇A)(∇D − ∇A)ᵀ.
    pub fn derivatives(&self, p: &Params) -> Derivatives<4> {
        let logs: Vec<(f64, f64)> = self
            .times
            .iter()
            .map(|t| ((p.alpha + t).ln(), 1.0 / (p.alpha + t)))
            .collect();
        let rows = super::par_sum(&self.rows, |part| rows_part(p, &logs, part));
        rows + self.gamma_terms(p)
    }

    /// The log-gamma part G summed over customers: the terms in x once per distinct x.
    fn gamma_terms(&self, p: &Params) -> Derivatives<4> {
        let Params { r, alpha, a, b } = *p;
        let n = self.customers;
        let mut d = Derivatives::ZERO;
        d.value = n * (-ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b) - ln_gamma(b));
        d.gradient = [
            n * (-digamma(r) + alpha.ln()),
            n * r / alpha,
            n * digamma(a + b),
            n * (digamma(a + b) - digamma(b)),
        ];
        let h = &mut d.hessian;
        h[0][0] = -n * trigamma(r);
        h[0][1] = n / alpha;
        h[1][1] = -n * r / (alpha * alpha);
        h[2][2] = n * trigamma(a + b);
        h[2][3] = h[2][2];
        h[3][3] = n * (trigamma(a + b) - trigamma(b));
        for &(x, n) in &self.xs {
            d.value += n * (ln_gamma(r + x) + ln_gamma(b + x) - ln_gamma(a + b + x));
            let (rx, bx, abx) = (digamma(r + x), digamma(b + x), digamma(a + b + x));
            d.gradient[0] += n * rx;
            d.gradient[2] -= n * abx;
            d.gradient[3] += n * (bx - abx);
            let (rx, bx, abx) = (trigamma(r + x), trigamma(b + x), trigamma(a + b + x));
            h[0][0] += n * rx;
            h[2][2] -= n * abx;
            h[2][3] -= n * abx;
            h[3][3] += n * (bx - abx);
        }
        d.symmetrised()
    }
}

/// The log-sum-exp part of the likelihood over some rows; `logs` holds (ln(α+t), 1/(α+t)) per
/// distinct time.
fn rows_part(p: &Params, logs: &[(f64, f64)], rows: &[Row]) -> Derivatives<4> {
    let Params { r, a, b, .. } = *p;
    let ln_a = a.ln();
    let mut d = Derivatives::ZERO;
    let (g, h) = (&mut d.gradient, &mut d.hessian);
    let mut value = 0.0;
    for row in rows {
        let (x, n) = (row.x, row.n);
        let rx = r + x;
        let (ln_t, inv_t) = logs[row.t];
        let alive = -rx * ln_t;
        if x == 0.0 {
            value += n * alive;
            g[0] -= n * ln_t;
            g[1] -= n * rx * inv_t;
            h[0][1] -= n * inv_t;
            h[1][1] += n * rx * inv_t * inv_t;
            continue;
        }
        let (ln_tx, inv_tx) = logs[row.t_x];
        let inv_b = 1.0 / (b + x - 1.0);
        let dropped = ln_a + inv_b.ln() - rx * ln_tx;
        // w = e^D / (e^A + e^D), from e^(−|D−A|) to stay in range.
        let gap = dropped - alive;
        let e = (-gap.abs()).exp();
        let (top, w) = if gap > 0.0 {
            (dropped, 1.0 / (1.0 + e))
        } else {
            (alive, e / (1.0 + e))
        };
        value += n * (top + e.ln_1p());
        let v = 1.0 - w;
        // ∇A = (−ln(α+T), −(r+x)/(α+T), 0, 0), ∇D = (−ln(α+t_x), −(r+x)/(α+t_x), 1/a, −1/(b+x−1)).
        g[0] -= n * (v * ln_t + w * ln_tx);
        g[1] -= n * rx * (v * inv_t + w * inv_tx);
        g[2] += n * w / a;
        g[3] -= n * w * inv_b;
        h[0][1] -= n * (v * inv_t + w * inv_tx);
        h[1][1] += n * rx * (v * inv_t * inv_t + w * inv_tx * inv_tx);
        h[2][2] -= n * w / (a * a);
        h[3][3] += n * w * inv_b * inv_b;
        let delta = [ln_t - ln_tx, rx * (inv_t - inv_tx), 1.0 / a, -inv_b];
        let k = n * w * v;
        for i in 0..4 {
            for j in i..4 {
                h[i][j] += k * delta[i] * delta[j];
            }
        }
    }
    d.value = value;
    d.symmetrised()
}

/// Fits by maximum likelihood. Needs at least one repeat purchase.
pub fn fit(customers: &[Summary]) -> Result<(Params, Fit), String> {
    for c in customers {
        c.check()?;
    }
    if !customers.iter().any(|c| c.x > 0.0) {
        return Err("BG/NBD cannot be fitted: no customer made a repeat purchase".into());
    }
    let sample = Sample::new(customers);
    let params = |v: &[f64; 4]| Params {
        r: v[0],
        alpha: v[1],
        a: v[2],
        b: v[3],
    };
    let fit = maximise(
        |v| sample.derivatives(&params(v)),
        [1.0, 1.0, 1.0, 1.0],
        "BG/NBD",
    )?;
    let v = &fit.params;
    Ok((params(&[v[0], v[1], v[2], v[3]]), fit))
}

/// P(alive | x, t_x, T).
pub fn p_alive(p: &Params, c: &Summary) -> f64 {
    if c.x == 0.0 {
        return 1.0;
    }
    let Params { r, alpha, a, b } = *p;
    let log_ratio =
        (a.ln() - (b + c.x - 1.0).ln()) + (r + c.x) * ((alpha + c.t).ln() - (alpha + c.t_x).ln());
    1.0 / (1.0 + log_ratio.exp())
}

/// E[X(t) | x, t_x, T]: expected purchases in the next `t` time units (equation 10).
pub fn expected_purchases(p: &Params, c: &Summary, t: f64) -> Result<f64, String> {
    let Params { r, alpha, a, b } = *p;
    let x = c.x;
    let z = t / (alpha + c.t + t);
    let h = hyp2f1(r + x, b + x, a + b + x - 1.0, z)?;
    let first = (a + b + x - 1.0) / (a - 1.0);
    let bracket = 1.0 - ((alpha + c.t) / (alpha + c.t + t)).powf(r + x) * h;
    let denom = if x > 0.0 {
        1.0 + a / (b + x - 1.0) * ((alpha + c.t) / (alpha + c.t_x)).powf(r + x)
    } else {
        1.0
    };
    Ok(first * bracket / denom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::clv::fixtures::{
        BGNBD as PUBLISHED, BGNBD_LOG_LIKELIHOOD, CUSTOMERS, close, summaries as cdnow,
    };

    #[test]
    fn grouping_by_x_gives_the_per_customer_sum() {
        let data = cdnow();
        let fast = Sample::new(&data).derivatives(&PUBLISHED).value;
        let direct = total_log_likelihood(&PUBLISHED, &data);
        assert!(
            (fast - direct).abs() < 1e-9 * direct.abs(),
            "{fast} vs {direct}"
        );
    }

    #[test]
    fn published_likelihood_on_cdnow_summary() {
        let ll = total_log_likelihood(&PUBLISHED, &cdnow());
        assert!(close(ll, BGNBD_LOG_LIKELIHOOD, 5e-5), "{ll}");
    }

    #[test]
    fn fit_reproduces_published_parameters() {
        let data = cdnow();
        assert_eq!(data.len(), CUSTOMERS);
        let (p, fit) = fit(&data).unwrap();
        eprintln!("BG/NBD on CDNOW: {p:?}, {fit:?}");
        // Three significant digits: within half a unit of the third digit.
        for (got, want, name) in [
            (p.r, PUBLISHED.r, "r"),
            (p.alpha, PUBLISHED.alpha, "alpha"),
            (p.a, PUBLISHED.a, "a"),
            (p.b, PUBLISHED.b, "b"),
        ] {
            assert!(close(got, want, 5e-3), "{name}: {got} vs {want} ({fit:?})");
        }
        assert!(
            close(fit.log_likelihood, BGNBD_LOG_LIKELIHOOD, 1e-5),
            "{fit:?}"
        );
        assert!(fit.converged, "{fit:?}");
    }

    #[test]
    fn conditional_expectation_of_the_paper() {
        let c = Summary {
            x: 2.0,
            t_x: 30.43,
            t: 38.86,
        };
        let e = expected_purchases(&PUBLISHED, &c, 39.0).unwrap();
        assert!((e - 1.226).abs() < 5e-4, "{e}");
        let alive = p_alive(&PUBLISHED, &c);
        assert!((0.0..=1.0).contains(&alive));
    }

    #[test]
    fn no_repeat_buyers_is_a_clear_error() {
        let data = vec![
            Summary {
                x: 0.0,
                t_x: 0.0,
                t: 10.0
            };
            5
        ];
        assert!(
            fit(&data)
                .unwrap_err()
                .contains("no customer made a repeat purchase")
        );
    }

    /// Properties over a wide grid of parameters and customers: the likelihood is finite,
    /// P(alive) is a probability, and expected purchases grow with the horizon.
    #[test]
    fn model_math_holds_over_a_wide_range() {
        let values = [1e-3, 0.05, 0.5, 1.5, 10.0, 200.0];
        // E[X(t)] exists for a > 1 only.
        crate::analytics::clv::check_model_properties(
            [&values, &values, &values[1..], &values],
            |[r, alpha, a, b]| Params { r, alpha, a, b },
            log_likelihood,
            p_alive,
            |p, c, t| (p.a > 1.0).then(|| expected_purchases(p, c, t)),
            1e-9,
        );
    }

    fn params(v: &[f64; 4]) -> Params {
        Params {
            r: v[0],
            alpha: v[1],
            a: v[2],
            b: v[3],
        }
    }

    /// Every tenth CDNOW customer, plus a first-day buyer, one whose last purchase is at T and
    /// one with 60 repeat purchases.
    fn small_sample() -> Vec<Summary> {
        let mut data: Vec<Summary> = cdnow().into_iter().step_by(10).collect();
        data.extend(
            [(0.0, 0.0, 5.0), (3.0, 20.0, 20.0), (60.0, 99.0, 100.0)].map(|(x, t_x, t)| Summary {
                x,
                t_x,
                t,
            }),
        );
        data
    }

    /// The analytic gradient and Hessian against central differences of the per-customer
    /// likelihood, at the published optimum and far from it.
    #[test]
    fn derivatives_match_finite_differences() {
        let data = small_sample();
        let sample = Sample::new(&data);
        for point in [
            [PUBLISHED.r, PUBLISHED.alpha, PUBLISHED.a, PUBLISHED.b],
            [1.0, 1.0, 1.0, 1.0],
            [0.05, 40.0, 3.0, 0.7],
            [5.0, 0.3, 0.2, 15.0],
        ] {
            crate::analytics::clv::fit::check_derivatives(
                |v| sample.derivatives(&params(v)),
                |v| total_log_likelihood(&params(v), &data),
                point,
            );
        }
    }

    /// Grouping changes nothing: the grouped derivatives of a sample with every customer three
    /// times equal three times the sum of each customer's own.
    #[test]
    fn grouped_derivatives_are_the_sum_over_customers() {
        let data = small_sample();
        let tripled: Vec<Summary> = [&data[..], &data[..], &data[..]].concat();
        let p = Params {
            r: 0.7,
            alpha: 3.0,
            a: 1.2,
            b: 4.0,
        };
        let grouped = Sample::new(&tripled).derivatives(&p);
        let single: Derivatives<4> = data
            .iter()
            .map(|c| Sample::new(&[*c]).derivatives(&p))
            .sum();
        let close = |a: f64, b: f64| (a - 3.0 * b).abs() <= 1e-10 * a.abs().max(1.0);
        assert!(close(grouped.value, single.value));
        for i in 0..4 {
            assert!(close(grouped.gradient[i], single.gradient[i]), "{i}");
            for j in 0..4 {
                assert!(
                    close(grouped.hessian[i][j], single.hessian[i][j]),
                    "{i} {j}"
                );
            }
        }
        let direct = total_log_likelihood(&p, &tripled);
        assert!((grouped.value - direct).abs() <= 1e-10 * direct.abs());
    }

    /// Newton on the grouped likelihood reaches the optimum the simplex finds on the
    /// per-customer likelihood, to 5 significant digits, in a few dozen iterations.
    #[test]
    fn newton_reaches_the_nelder_mead_optimum_on_cdnow() {
        let data = cdnow();
        let (p, fit) = fit(&data).unwrap();
        let reference = crate::analytics::clv::fit::nelder_mead(
            |v| total_log_likelihood(&params(v), &data),
            [1.0; 4],
        );
        for (got, want) in [p.r, p.alpha, p.a, p.b].into_iter().zip(reference) {
            assert!(close(got, want, 1e-5), "{p:?} vs {reference:?}");
        }
        assert!(fit.converged && fit.iterations < 50, "{fit:?}");
    }
}
