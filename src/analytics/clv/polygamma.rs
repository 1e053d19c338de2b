//! The digamma and trigamma functions ψ(x) = d ln Γ(x)/dx and ψ'(x), for the analytic gradients
//! and Hessians of the models' log-gamma terms.

/// Below this the recurrences move the argument up; above it the asymptotic series are accurate
/// to about 1e-15.
const ASYMPTOTIC_FROM: f64 = 10.0;

/// ψ(x) for x > 0: ψ(x) = ψ(x+1) − 1/x up to x ≥ 10, then the asymptotic series
/// ln x − 1/(2x) − Σ B₂ₖ/(2k x²ᵏ) (to k = 6; the next term is below 1e-15 at x = 10).
pub fn digamma(mut x: f64) -> f64 {
    let mut shift = 0.0;
    while x < ASYMPTOTIC_FROM {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let y = 1.0 / (x * x);
    let series = y
        * (1.0 / 12.0
            - y * (1.0 / 120.0
                - y * (1.0 / 252.0 - y * (1.0 / 240.0 - y * (1.0 / 132.0 - y * 691.0 / 32760.0)))));
    shift + x.ln() - 0.5 / x - series
}

/// ψ'(x) for x > 0: ψ'(x) = ψ'(x+1) + 1/x² up to x ≥ 10, then the asymptotic series
/// 1/x + 1/(2x²) + Σ B₂ₖ/x²ᵏ⁺¹ (to k = 6; the next term is below 1.2e-15 at x = 10).
pub fn trigamma(mut x: f64) -> f64 {
    let mut shift = 0.0;
    while x < ASYMPTOTIC_FROM {
        shift += 1.0 / (x * x);
        x += 1.0;
    }
    let y = 1.0 / (x * x);
    let series = y
        * (1.0 / 6.0
            - y * (1.0 / 30.0
                - y * (1.0 / 42.0 - y * (1.0 / 30.0 - y * (5.0 / 66.0 - y * 691.0 / 2730.0)))));
    shift + 1.0 / x + 0.5 * y + series / x
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::{LN_2, PI};

    /// The Euler–Mascheroni constant.
    const EULER: f64 = 0.577_215_664_901_532_9;

    #[test]
    fn closed_forms() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 ln 2, ψ(n+1) = −γ + H_n; ψ'(1) = π²/6, ψ'(1/2) = π²/2,
        // ψ'(n+1) = π²/6 − Σ 1/k².
        assert!((digamma(1.0) + EULER).abs() < 4e-15);
        assert!((digamma(0.5) + EULER + 2.0 * LN_2).abs() < 4e-15);
        let harmonic: f64 = (1..=30).map(|k| 1.0 / f64::from(k)).sum();
        assert!((digamma(31.0) - (harmonic - EULER)).abs() < 1e-14);
        assert!((trigamma(1.0) - PI * PI / 6.0).abs() < 4e-15);
        assert!((trigamma(0.5) - PI * PI / 2.0).abs() < 4e-15);
        let squares: f64 = (1..=30).map(|k| 1.0 / f64::from(k * k)).sum();
        assert!((trigamma(31.0) - (PI * PI / 6.0 - squares)).abs() < 1e-14);
        // Near 0: ψ(x) = −1/x − γ + O(x), ψ'(x) = 1/x² + π²/6 − 2ζ(3)x + O(x²).
        assert!((digamma(1e-8) - (-1e8 - EULER)).abs() < 1e-7);
        let zeta3 = 1.202_056_903_159_594_3;
        let near = 1e8 + PI * PI / 6.0 - 2.0 * zeta3 * 1e-4;
        assert!((trigamma(1e-4) - near).abs() < 1e-7);
    }

    #[test]
    fn derivatives_of_log_gamma() {
        // Central differences of ln Γ, and of ψ, over many magnitudes.
        use crate::analytics::clv::special::ln_gamma;
        for x in [0.013, 0.3, 0.9, 2.5, 7.7, 9.99, 10.0, 42.0, 1e3, 1e5] {
            let h = 1e-5 * x;
            let d = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!((digamma(x) - d).abs() < 1e-7 * d.abs().max(1.0), "ψ({x})");
            let d2 = (digamma(x + h) - digamma(x - h)) / (2.0 * h);
            assert!(
                (trigamma(x) - d2).abs() < 1e-7 * d2.abs().max(1.0),
                "ψ'({x})"
            );
        }
    }
}
