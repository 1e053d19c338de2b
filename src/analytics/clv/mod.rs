//! Customer lifetime value models ("buy till you die"): BG/NBD and Gamma-Gamma, fitted by
//! maximum likelihood in log space. Pure math over per-customer summaries; building the
//! summaries from orders and the CLI are separate (see the customer-value issue).

pub mod bgnbd;
pub mod fit;
pub mod gamma_gamma;
pub mod special;

/// One customer's purchase summary, in the chosen time unit: `x` repeat purchases (distinct
/// purchase periods − 1), `t_x` time from the first to the last purchase, `t` time from the
/// first purchase to the end of the calibration period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub x: f64,
    pub t_x: f64,
    pub t: f64,
}

impl Summary {
    /// Checks the summary is one a model can use: 0 ≤ t_x ≤ T, x ≥ 0, x = 0 ⇒ t_x = 0.
    pub fn check(&self) -> Result<(), String> {
        let ok = self.x >= 0.0
            && self.t_x >= 0.0
            && self.t >= self.t_x
            && self.x.is_finite()
            && self.t.is_finite()
            && (self.x > 0.0 || self.t_x == 0.0);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "invalid purchase summary x={}, t_x={}, T={} (expected 0 ≤ t_x ≤ T, and t_x = 0 when x = 0)",
                self.x, self.t_x, self.t
            ))
        }
    }
}
