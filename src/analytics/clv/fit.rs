//! Maximum-likelihood fitting shared by the models: Nelder–Mead (argmin) on the logarithms
//! of the parameters, so every parameter stays positive without constraints. A likelihood that
//! is not finite at the optimum is an error, never NaN parameters.

use argmin::core::{
    CostFunction, Error as ArgminError, Executor, State, TerminationReason, TerminationStatus,
};
use argmin::solver::neldermead::NelderMead;
use serde::Serialize;

/// The outcome of a fit.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    /// Fitted parameters, in the model's order.
    pub params: Vec<f64>,
    pub log_likelihood: f64,
    pub iterations: u64,
    pub converged: bool,
}

/// The cost argmin minimises: the negative log-likelihood divided by `scale`, the magnitude
/// of the likelihood at the start, so the simplex's stopping rule means the same relative
/// precision for 2,000 customers as for a million (an absolute tolerance is out of reach when
/// the total is 1e7).
struct NegLogLik<'a, F> {
    ll: &'a F,
    scale: f64,
}

impl<F: Fn(&[f64]) -> f64> CostFunction for NegLogLik<'_, F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Self::Param) -> Result<f64, ArgminError> {
        let params: Vec<f64> = log_params.iter().map(|p| p.exp()).collect();
        let ll = (self.ll)(&params);
        // Outside the region where the likelihood is finite the simplex is pushed back.
        Ok(if ll.is_finite() {
            -ll / self.scale
        } else {
            f64::MAX
        })
    }
}

/// Maximises `ll` over positive parameters from `start`; restarts from the optimum (at most
/// three runs) until a run converges without moving, so the simplex does not stop early on a
/// flat ridge.
pub fn maximise(ll: impl Fn(&[f64]) -> f64, start: &[f64], what: &str) -> Result<Fit, String> {
    let mut point: Vec<f64> = start.iter().map(|p| p.ln()).collect();
    let at_start = ll(start);
    let scale = if at_start.is_finite() {
        at_start.abs().max(1.0)
    } else {
        1.0
    };
    let mut iterations = 0;
    let mut converged = false;
    for _ in 0..3 {
        let before = point.clone();
        let mut simplex = vec![point.clone()];
        for i in 0..point.len() {
            let mut v = point.clone();
            v[i] += 0.5;
            simplex.push(v);
        }
        let solver = NelderMead::new(simplex)
            // The spread of the simplex's scaled negative log-likelihoods: 1e-12 of the
            // likelihood's size (1e-8 nats on CDNOW), far below what changes the third
            // significant digit of any parameter.
            .with_sd_tolerance(1e-12)
            .map_err(|e| format!("{what}: {e}"))?;
        let result = Executor::new(NegLogLik { ll: &ll, scale }, solver)
            .configure(|s| s.max_iters(5_000))
            .run()
            .map_err(|e| format!("{what}: the optimiser failed: {e}"))?;
        let state = result.state();
        iterations += state.get_iter();
        converged = matches!(
            state.get_termination_status(),
            TerminationStatus::Terminated(TerminationReason::SolverConverged)
        );
        point = state
            .get_best_param()
            .cloned()
            .ok_or_else(|| format!("{what}: the optimiser returned no parameters"))?;
        let moved = point
            .iter()
            .zip(&before)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        if converged && moved < 1e-6 {
            break;
        }
    }
    let params: Vec<f64> = point.iter().map(|p| p.exp()).collect();
    let log_likelihood = ll(&params);
    if !log_likelihood.is_finite() || params.iter().any(|p| !p.is_finite()) {
        return Err(format!(
            "{what}: the model cannot be fitted to these data (the likelihood is not finite at {params:?})"
        ));
    }
    Ok(Fit {
        params,
        log_likelihood,
        iterations,
        converged,
    })
}
