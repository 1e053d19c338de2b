//! Maximum-likelihood fitting shared by the models: Newton's method with Levenberg–Marquardt
//! damping on the logarithms of the parameters (so every parameter stays positive without
//! constraints), from the likelihood's gradient and Hessian. Near the optimum Newton converges
//! quadratically: a dozen passes over the data where the simplex it replaces needed hundreds
//! (issue 16). A likelihood that is not finite at the optimum is an error, never NaN parameters.

use std::iter::Sum;
use std::ops::Add;

use serde::Serialize;

/// The outcome of a fit.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    /// Fitted parameters, in the model's order.
    pub params: Vec<f64>,
    pub log_likelihood: f64,
    pub iterations: u64,
    pub converged: bool,
    /// The asymptotic covariance of the logarithms of the parameters from the observed
    /// information: the inverse of the negative Hessian of the log-likelihood in ln θ at the
    /// optimum. None when that Hessian is not negative definite (no proper maximum).
    pub log_covariance: Option<Vec<Vec<f64>>>,
}

impl Fit {
    /// Standard errors of the parameters by the delta method, θᵢ √Cov(ln θ)ᵢᵢ: at the optimum
    /// the same as the square roots of the diagonal of the inverse observed information in
    /// θ, as the gradient term of the change of variables vanishes there.
    pub fn standard_errors(&self) -> Option<Vec<f64>> {
        let cov = self.log_covariance.as_ref()?;
        Some(
            self.params
                .iter()
                .enumerate()
                .map(|(i, p)| p * cov[i][i].sqrt())
                .collect(),
        )
    }
}

/// A log-likelihood with its gradient and Hessian at one point, with respect to the model's
/// parameters in the model's order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Derivatives<const N: usize> {
    pub value: f64,
    pub gradient: [f64; N],
    pub hessian: [[f64; N]; N],
}

impl<const N: usize> Derivatives<N> {
    pub const ZERO: Self = Derivatives {
        value: 0.0,
        gradient: [0.0; N],
        hessian: [[0.0; N]; N],
    };

    /// With respect to u = ln θ (chain rule): ∂ℓ/∂uᵢ = θᵢ gᵢ and
    /// ∂²ℓ/∂uᵢ∂uⱼ = θᵢ θⱼ hᵢⱼ + [i = j] θᵢ gᵢ.
    fn in_log_space(&self, theta: &[f64; N]) -> Self {
        let mut out = *self;
        for i in 0..N {
            out.gradient[i] = theta[i] * self.gradient[i];
            for j in 0..N {
                out.hessian[i][j] = theta[i] * theta[j] * self.hessian[i][j];
            }
            out.hessian[i][i] += out.gradient[i];
        }
        out
    }

    /// The same with the lower triangle of the Hessian copied from the upper one, where the
    /// models accumulate it.
    #[allow(clippy::needless_range_loop)] // a triangle of a matrix reads best by index
    pub fn symmetrised(mut self) -> Self {
        for i in 0..N {
            for j in 0..i {
                self.hessian[i][j] = self.hessian[j][i];
            }
        }
        self
    }

    fn is_finite(&self) -> bool {
        self.value.is_finite()
            && self.gradient.iter().all(|g| g.is_finite())
            && self.hessian.iter().flatten().all(|h| h.is_finite())
    }
}

impl<const N: usize> Add for Derivatives<N> {
    type Output = Self;

    fn add(mut self, other: Self) -> Self {
        self.value += other.value;
        for i in 0..N {
            self.gradient[i] += other.gradient[i];
            for j in 0..N {
                self.hessian[i][j] += other.hessian[i][j];
            }
        }
        self
    }
}

impl<const N: usize> Sum for Derivatives<N> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

/// Newton steps stop when the undamped step moves no log-parameter by more than this: the
/// parameters are then settled to about 1e-8 relative (quadratic convergence makes the next
/// step far smaller still), well beyond the 4 significant digits the models report.
const STEP_TOLERANCE: f64 = 1e-8;
/// The largest step in any log-parameter (a factor e³ ≈ 20), so a far-off start cannot jump into
/// overflow.
const MAX_STEP: f64 = 3.0;
const MAX_ITERATIONS: u64 = 200;

/// Maximises a log-likelihood over positive parameters from `start`. `derivatives` gives the
/// value, gradient and Hessian at θ (the value −∞ or NaN where the likelihood cannot be
/// computed: such a step is refused and a shorter one tried).
///
/// Each iteration solves (−H + λI) Δ = g in log space. λ = 0 is the Newton step; λ grows while
/// −H is not positive definite or a step does not increase the likelihood as the quadratic
/// model predicts, and shrinks back to 0 when steps succeed (Levenberg–Marquardt), so a start
/// far from the optimum, where the likelihood is not concave, still converges.
pub fn maximise<const N: usize>(
    derivatives: impl Fn(&[f64; N]) -> Derivatives<N>,
    start: [f64; N],
    what: &str,
) -> Result<Fit, String> {
    let at = |u: &[f64; N]| {
        let theta = u.map(f64::exp);
        derivatives(&theta).in_log_space(&theta)
    };
    let mut u = start.map(f64::ln);
    let mut here = at(&u);
    if !here.is_finite() {
        return Err(format!(
            "{what}: the likelihood cannot be computed at the start {start:?}"
        ));
    }
    let mut lambda = 0.0;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        // The smallest useful damping: a thousandth of the largest curvature.
        let floor = 1e-3
            * (0..N)
                .map(|i| here.hessian[i][i].abs())
                .fold(f64::MIN_POSITIVE, f64::max);
        let mut system = here.hessian.map(|row| row.map(|h| -h));
        for (i, row) in system.iter_mut().enumerate() {
            row[i] += lambda;
        }
        let Some(mut step) = solve_positive_definite(system, here.gradient) else {
            lambda = (4.0 * lambda).max(floor);
            continue;
        };
        let longest = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        let predicted = quadratic_gain(&here, &step);
        // A gain lost in rounding of the likelihood's sum counts as none.
        let noise = 1e-14 * here.value.abs();
        if lambda == 0.0 && (longest <= STEP_TOLERANCE || predicted <= noise) {
            // Converged: the Newton step is tiny, or would gain less than the likelihood's
            // rounding (where finite-difference derivatives stop improving), so it is taken
            // without asking for an increase.
            let next: [f64; N] = std::array::from_fn(|i| u[i] + step[i]);
            let there = at(&next);
            if there.value.is_finite() {
                u = next;
                here = there;
            }
            converged = true;
            break;
        }
        if predicted <= 1e-3 * noise {
            // Damped into steps that cannot change the likelihood: stuck, not converged.
            break;
        }
        let predicted = if longest > MAX_STEP {
            step = step.map(|s| s * MAX_STEP / longest);
            quadratic_gain(&here, &step)
        } else {
            predicted
        };
        let next: [f64; N] = std::array::from_fn(|i| u[i] + step[i]);
        let there = at(&next);
        let gained = there.value - here.value;
        if there.is_finite() && gained >= -noise {
            let ratio = gained / predicted.max(f64::MIN_POSITIVE);
            if ratio > 0.75 {
                lambda = if lambda / 4.0 < floor {
                    0.0
                } else {
                    lambda / 4.0
                };
            } else if ratio < 0.25 {
                lambda = (4.0 * lambda).max(floor);
            }
            u = next;
            here = there;
        } else {
            lambda = (4.0 * lambda).max(floor);
        }
    }
    let params: Vec<f64> = u.iter().map(|v| v.exp()).collect();
    if !here.value.is_finite() || params.iter().any(|p| !p.is_finite()) {
        return Err(format!(
            "{what}: the model cannot be fitted to these data (the likelihood is not finite at {params:?})"
        ));
    }
    let information = here.hessian.map(|row| row.map(|h| -h));
    Ok(Fit {
        params,
        log_likelihood: here.value,
        iterations,
        converged,
        log_covariance: inverse_positive_definite(information)
            .map(|inv| inv.iter().map(|row| row.to_vec()).collect()),
    })
}

/// The increase of the quadratic model gᵀΔ + ½ ΔᵀHΔ for a step Δ.
fn quadratic_gain<const N: usize>(d: &Derivatives<N>, step: &[f64; N]) -> f64 {
    (0..N)
        .map(|i| {
            step[i] * d.gradient[i]
                + 0.5 * step[i] * (0..N).map(|j| d.hessian[i][j] * step[j]).sum::<f64>()
        })
        .sum()
}

/// The lower-triangular L with L Lᵀ = A (Cholesky); None when A is not positive definite.
pub fn cholesky<const N: usize>(a: [[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let mut l = [[0.0; N]; N];
    for i in 0..N {
        for j in 0..=i {
            let s = a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            if i == j {
                if s.is_nan() || s <= 0.0 {
                    return None;
                }
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    Some(l)
}

/// A⁻¹ column by column, made exactly symmetric (the columns' rounding differs in the last
/// bits); None when A is not positive definite.
fn inverse_positive_definite<const N: usize>(a: [[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let mut columns = [[0.0; N]; N];
    for (j, column) in columns.iter_mut().enumerate() {
        let mut unit = [0.0; N];
        unit[j] = 1.0;
        *column = solve_positive_definite(a, unit)?;
    }
    Some(std::array::from_fn(|i| {
        std::array::from_fn(|j| 0.5 * (columns[i][j] + columns[j][i]))
    }))
}

/// Solves A x = b by Cholesky decomposition; None when A is not positive definite.
fn solve_positive_definite<const N: usize>(a: [[f64; N]; N], b: [f64; N]) -> Option<[f64; N]> {
    let l = cholesky(a)?;
    let mut y = [0.0; N];
    for i in 0..N {
        y[i] = (b[i] - (0..i).map(|k| l[i][k] * y[k]).sum::<f64>()) / l[i][i];
    }
    let mut x = [0.0; N];
    for i in (0..N).rev() {
        x[i] = (y[i] - (i + 1..N).map(|k| l[k][i] * x[k]).sum::<f64>()) / l[i][i];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Derivatives of `ll` by central finite differences in log space (step 1e-4, where the
/// truncation error of about 1e-9 relative and the rounding error of the likelihood's sum are
/// balanced for the Hessian), for a model without analytic derivatives; 1 + 2N² evaluations.
pub fn finite_differences<const N: usize>(
    ll: impl Fn(&[f64; N]) -> f64,
) -> impl Fn(&[f64; N]) -> Derivatives<N> {
    const H: f64 = 1e-4;
    move |theta: &[f64; N]| {
        let u = theta.map(f64::ln);
        let f = |moves: &[(usize, f64)]| {
            let mut v = u;
            for &(i, d) in moves {
                v[i] += d;
            }
            ll(&v.map(f64::exp))
        };
        let mut d = Derivatives::<N>::ZERO;
        d.value = f(&[]);
        for i in 0..N {
            let (up, down) = (f(&[(i, H)]), f(&[(i, -H)]));
            d.gradient[i] = (up - down) / (2.0 * H);
            d.hessian[i][i] = (up - 2.0 * d.value + down) / (H * H);
            for j in 0..i {
                let cross = f(&[(i, H), (j, H)]) - f(&[(i, H), (j, -H)]) - f(&[(i, -H), (j, H)])
                    + f(&[(i, -H), (j, -H)]);
                d.hessian[i][j] = cross / (4.0 * H * H);
                d.hessian[j][i] = d.hessian[i][j];
            }
        }
        // Back from log space to θ: the inverse of `in_log_space`.
        for i in 0..N {
            d.hessian[i][i] -= d.gradient[i];
        }
        for i in 0..N {
            d.gradient[i] /= theta[i];
            for j in 0..N {
                d.hessian[i][j] /= theta[i] * theta[j];
            }
        }
        d
    }
}

/// Checks `derivatives` against central finite differences at θ: the gradient against those of
/// `ll` (an independent per-customer implementation of the value), the Hessian against those of
/// the analytic gradient, each to 1e-6 relative (absolute below 1).
#[cfg(test)]
pub(crate) fn check_derivatives<const N: usize>(
    derivatives: impl Fn(&[f64; N]) -> Derivatives<N>,
    ll: impl Fn(&[f64; N]) -> f64,
    theta: [f64; N],
) {
    let d = derivatives(&theta);
    let direct = ll(&theta);
    assert!(
        (d.value - direct).abs() <= 1e-10 * direct.abs().max(1.0),
        "{theta:?}: value {} vs {direct}",
        d.value
    );
    let close = |got: f64, want: f64| (got - want).abs() <= 1e-6 * want.abs().max(1.0);
    for i in 0..N {
        // The five-point stencil, error O(h⁴): a step large enough that the rounding of sums
        // over thousands of customers stays far below the tolerance.
        let h = 1e-3 * theta[i];
        let stencil = |f: &dyn Fn(f64) -> f64| {
            (8.0 * (f(h) - f(-h)) - (f(2.0 * h) - f(-2.0 * h))) / (12.0 * h)
        };
        let moved = |by: f64| {
            let mut t = theta;
            t[i] += by;
            t
        };
        let fd = stencil(&|by| ll(&moved(by)));
        assert!(
            close(d.gradient[i], fd),
            "{theta:?}: gradient[{i}] {} vs {fd}",
            d.gradient[i]
        );
        for j in 0..N {
            let fd = stencil(&|by| derivatives(&moved(by)).gradient[j]);
            assert!(
                close(d.hessian[i][j], fd),
                "{theta:?}: hessian[{i}][{j}] {} vs {fd}",
                d.hessian[i][j]
            );
        }
    }
}

/// The Nelder–Mead simplex (argmin) on the logarithms of the parameters, run to a spread of
/// 1e-14 of the likelihood and restarted until it no longer moves: the reference optimum the
/// Newton fits are compared with.
#[cfg(test)]
pub(crate) fn nelder_mead<const N: usize>(
    ll: impl Fn(&[f64; N]) -> f64,
    start: [f64; N],
) -> [f64; N] {
    use argmin::core::{CostFunction, Error, Executor, State};
    use argmin::solver::neldermead::NelderMead;

    struct Cost<F>(F, f64);
    impl<F: Fn(&[f64]) -> f64> CostFunction for Cost<F> {
        type Param = Vec<f64>;
        type Output = f64;
        fn cost(&self, u: &Vec<f64>) -> Result<f64, Error> {
            let ll = (self.0)(u);
            Ok(if ll.is_finite() {
                -ll / self.1
            } else {
                f64::MAX
            })
        }
    }
    let scale = ll(&start).abs();
    let ll = |u: &[f64]| ll(&std::array::from_fn(|i| u[i].exp()));
    let mut point: Vec<f64> = start.iter().map(|p| p.ln()).collect();
    for _ in 0..10 {
        let before = point.clone();
        let mut simplex = vec![point.clone()];
        for i in 0..N {
            let mut v = point.clone();
            v[i] += 0.1;
            simplex.push(v);
        }
        let solver = NelderMead::new(simplex).with_sd_tolerance(1e-14).unwrap();
        let result = Executor::new(Cost(&ll, scale), solver)
            .configure(|s| s.max_iters(20_000))
            .run()
            .unwrap();
        point = result.state().get_best_param().unwrap().clone();
        if point.iter().zip(&before).all(|(a, b)| (a - b).abs() < 1e-9) {
            break;
        }
    }
    std::array::from_fn(|i| point[i].exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_and_refuses_indefinite_systems() {
        // [[4, 2], [2, 3]] x = [2, 1] ⇒ x = [0.5, 0].
        let x = solve_positive_definite([[4.0, 2.0], [2.0, 3.0]], [2.0, 1.0]).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-15 && x[1].abs() < 1e-15, "{x:?}");
        assert!(solve_positive_definite([[1.0, 2.0], [2.0, 1.0]], [1.0, 1.0]).is_none());
        assert!(solve_positive_definite([[0.0]], [1.0]).is_none());
    }

    /// The gamma likelihood of a sample, in (shape k, rate β): its maximum has β = k / mean and
    /// ln k − ψ(k) = ln(mean) − mean(ln x), solved here by bisection.
    #[test]
    fn newton_finds_the_gamma_distribution_maximum_from_far_away() {
        use crate::analytics::clv::polygamma::{digamma, trigamma};
        use crate::analytics::clv::special::ln_gamma;
        let data = [0.3, 1.2, 2.5, 0.8, 4.1, 1.9, 0.05, 3.3];
        let n = data.len() as f64;
        let sum: f64 = data.iter().sum();
        let sum_ln: f64 = data.iter().map(|x: &f64| x.ln()).sum();
        let ll = |&[k, b]: &[f64; 2]| n * (k * b.ln() - ln_gamma(k)) + (k - 1.0) * sum_ln - b * sum;
        let derivatives = |t: &[f64; 2]| {
            let [k, b] = *t;
            Derivatives {
                value: ll(t),
                gradient: [n * (b.ln() - digamma(k)) + sum_ln, n * k / b - sum],
                hessian: [[-n * trigamma(k), n / b], [n / b, -n * k / (b * b)]],
            }
        };
        check_derivatives(derivatives, ll, [0.7, 2.0]);
        let target = (sum / n).ln() - sum_ln / n;
        let (mut lo, mut hi) = (1e-3f64, 1e3f64);
        for _ in 0..200 {
            let mid = (lo * hi).sqrt();
            if mid.ln() - digamma(mid) > target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        for start in [[1.0, 1.0], [1e-3, 50.0], [300.0, 1e-2]] {
            let fit = maximise(derivatives, start, "gamma").unwrap();
            assert!(fit.converged, "{start:?}: {fit:?}");
            let k = fit.params[0];
            assert!(
                (k / lo - 1.0).abs() < 1e-10,
                "{start:?}: {fit:?} vs k = {lo}"
            );
            assert!(
                (fit.params[1] / (lo * n / sum) - 1.0).abs() < 1e-10,
                "{fit:?}"
            );
            // The same point by finite differences.
            let fd = maximise(finite_differences(ll), start, "gamma").unwrap();
            assert!(
                fd.converged && (fd.params[0] / lo - 1.0).abs() < 1e-7,
                "{fd:?}"
            );
        }
    }

    #[test]
    fn a_likelihood_not_finite_at_the_start_is_an_error() {
        let err = maximise(
            |_: &[f64; 1]| Derivatives {
                value: f64::NEG_INFINITY,
                ..Derivatives::ZERO
            },
            [1.0],
            "test",
        )
        .unwrap_err();
        assert!(err.contains("cannot be computed at the start"), "{err}");
    }
}
