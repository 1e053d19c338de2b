//! BG/NBD (Fader, Hardie & Lee 2005): purchases follow a Poisson process with rate
//! λ ~ Gamma(r, α); after each purchase the customer drops out with probability p ~ Beta(a, b).

use super::Summary;
use super::fit::{Fit, maximise};
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
    weighted_part(p, &[(*c, 1.0)])
}

/// Total log-likelihood of a sample.
pub fn total_log_likelihood(p: &Params, customers: &[Summary]) -> f64 {
    customers.iter().map(|c| log_likelihood(p, c)).sum()
}

/// Total log-likelihood of distinct summaries with their counts (see [`super::distinct`]),
/// equation 6 of the paper in log space. The log-gamma terms depend on x alone; they are computed once per run of equal x (the
/// output of `distinct` is sorted by x), so a customer costs two logarithms and a
/// log-sum-exp.
pub fn weighted_log_likelihood(p: &Params, customers: &[(Summary, f64)]) -> f64 {
    super::par_sum(customers, |part| weighted_part(p, part))
}

fn weighted_part(p: &Params, customers: &[(Summary, f64)]) -> f64 {
    let Params { r, alpha, a, b } = *p;
    let base = -ln_gamma(r) + r * alpha.ln() + ln_gamma(a + b) - ln_gamma(b);
    let ln_a = a.ln();
    let mut current = f64::NAN;
    let mut x_terms = 0.0;
    let mut x_drop = f64::NEG_INFINITY;
    let mut total = 0.0;
    for (c, n) in customers {
        let x = c.x;
        if x != current {
            current = x;
            x_terms = base + ln_gamma(r + x) + ln_gamma(b + x) - ln_gamma(a + b + x);
            x_drop = if x > 0.0 {
                ln_a - (b + x - 1.0).ln()
            } else {
                f64::NEG_INFINITY
            };
        }
        let a3 = -(r + x) * (alpha + c.t).ln();
        let a4 = if x > 0.0 {
            x_drop - (r + x) * (alpha + c.t_x).ln()
        } else {
            f64::NEG_INFINITY
        };
        total += n * (x_terms + log_sum_exp(a3, a4));
    }
    total
}

/// Fits by maximum likelihood. Needs at least one repeat purchase.
pub fn fit(customers: &[Summary]) -> Result<(Params, Fit), String> {
    for c in customers {
        c.check()?;
    }
    if !customers.iter().any(|c| c.x > 0.0) {
        return Err("BG/NBD cannot be fitted: no customer made a repeat purchase".into());
    }
    let customers = super::distinct(customers);
    let ll = |v: &[f64]| {
        let p = Params {
            r: v[0],
            alpha: v[1],
            a: v[2],
            b: v[3],
        };
        weighted_log_likelihood(&p, &customers)
    };
    let fit = maximise(ll, &[1.0, 1.0, 1.0, 1.0], "BG/NBD")?;
    let v = &fit.params;
    Ok((
        Params {
            r: v[0],
            alpha: v[1],
            a: v[2],
            b: v[3],
        },
        fit,
    ))
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

    pub(crate) fn cdnow() -> Vec<Summary> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/datasets/cdnow/cdnow_customers_summary.csv"
        );
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<f64> = l.split(',').map(|v| v.trim().parse().unwrap()).collect();
                Summary {
                    x: f[1],
                    t_x: f[2],
                    t: f[3],
                }
            })
            .collect()
    }

    const PUBLISHED: Params = Params {
        r: 0.2426,
        alpha: 4.4135,
        a: 0.7929,
        b: 2.4258,
    };

    fn close(got: f64, want: f64, rel: f64) -> bool {
        ((got - want) / want).abs() <= rel
    }

    #[test]
    fn grouping_by_x_gives_the_per_customer_sum() {
        let data = cdnow();
        let fast = weighted_log_likelihood(&PUBLISHED, &crate::analytics::clv::distinct(&data));
        let direct = total_log_likelihood(&PUBLISHED, &data);
        assert!(
            (fast - direct).abs() < 1e-9 * direct.abs(),
            "{fast} vs {direct}"
        );
    }

    #[test]
    fn published_likelihood_on_cdnow_summary() {
        let ll = total_log_likelihood(&PUBLISHED, &cdnow());
        assert!(close(ll, -9582.4, 5e-5), "{ll}");
    }

    #[test]
    fn fit_reproduces_published_parameters() {
        let data = cdnow();
        assert_eq!(data.len(), 2357);
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
        assert!(close(fit.log_likelihood, -9582.4, 1e-5), "{fit:?}");
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
}
