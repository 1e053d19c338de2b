//! Special functions in log space: log-gamma, log-beta, log-sum-exp and the Gauss
//! hypergeometric function 2F1, including the incomplete-beta case 2F1(a, b; a + 1; z) for
//! arguments arbitrarily close to 1.

/// ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; relative error ~1e-15), with the
/// reflection formula below 0.5.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x)Γ(1−x) = π / sin(πx)
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ln B(a, b).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln(e^a + e^b) without overflow.
pub fn log_sum_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

/// Gauss hypergeometric 2F1(a, b; c; z) for z < 1. For z < 0 the Pfaff transformation
/// 2F1(a,b;c;z) = (1−z)^(−a) 2F1(a, c−b; c; z/(z−1)) maps the argument into [0, 1) where the
/// power series converges; the series is summed until terms fall below 1e-15 relative.
/// Arguments too close to 1 for the series are an error, never a wrong number.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64, String> {
    if z >= 1.0 || !z.is_finite() {
        return Err(format!("2F1 argument z = {z} outside (−∞, 1)"));
    }
    if z < 0.0 {
        let w = z / (z - 1.0);
        return Ok((1.0 - z).powf(-a) * hyp2f1(a, c - b, c, w)?);
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..100_000 {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-15 * sum.abs() {
            return Ok(sum);
        }
        if !sum.is_finite() {
            break;
        }
    }
    Err(format!("2F1({a}, {b}; {c}; {z}) did not converge"))
}

/// ln 2F1(a, b; a + 1; z) for a > 0, 0 ≤ b ≤ a + 1 and 0 ≤ z < 1, accurate (relative error
/// ~1e-13) however close z is to 1, including b at or near an integer, where the textbook 1 − z
/// transformation has cancelling poles. `zc` must be 1 − z computed by the caller without
/// cancellation (e.g. (β + t)/(α + t) next to z = (α − β)/(α + t)): near z = 1 it is `zc`, not
/// `z`, that carries the information.
///
/// This is the incomplete beta function: with J = ∫₀¹ u^(a−1) (1 − zu)^(−b) du, 2F1 = a·J. Two
/// representations, both summing positive (or boundedly cancelling) terms:
/// * zc ≥ w, with w = min(1/2, 1/a): Euler's transformation 2F1 = (1 − z)^(1−b) 2F1(1, a + 1 − b;
///   a + 1; z), a series of positive, decreasing terms.
/// * zc < w: substituting v = zu, J = z^(−a) [∫₀^(1−w) v^(a−1)(1−v)^(−b) dv + ∫_zc^w (1−y)^(a−1)
///   y^(−b) dy]. The first integral is the series above at 1 − w; in the second, (1 − y)^(a−1) is
///   expanded in powers of y (at most a factor e² of cancellation, since y ≤ 1/a) and each power
///   integrated exactly: ∫_zc^w y^(k−b) dy = w^(k+1−b)·(1 − (zc/w)^δ)/δ with δ = k + 1 − b,
///   evaluated as −expm1(−δΛ)/δ (Λ = ln(w/zc)), which is smooth through δ = 0 (= Λ there), so
///   integer b needs no special case.
pub fn ln_hyp2f1_incbeta(a: f64, b: f64, z: f64, zc: f64) -> Result<f64, String> {
    let domain = a > 0.0
        && a.is_finite()
        && (0.0..=a + 1.0).contains(&b)
        && (0.0..1.0).contains(&z)
        && zc > 0.0
        && zc <= 1.0
        && (z + zc - 1.0).abs() <= 1e-9;
    if !domain {
        return Err(format!(
            "2F1(a, b; a+1; z) needs a > 0, 0 ≤ b ≤ a + 1, 0 ≤ z < 1 and zc = 1 − z; got a={a}, b={b}, z={z}, zc={zc}"
        ));
    }
    if z == 0.0 {
        return Ok(0.0);
    }
    let w = if a > 2.0 { 1.0 / a } else { 0.5 };
    if zc >= w {
        return Ok((1.0 - b) * zc.ln() + ln_euler_series(a, b, z, zc)?);
    }
    // ∫₀^(1−w) v^(a−1)(1−v)^(−b) dv · a = (1−w)^a w^(1−b) · 2F1(1, a+1−b; a+1; 1−w).
    let ln_first = a * (-w).ln_1p() + (1.0 - b) * w.ln() + ln_euler_series(a, b, 1.0 - w, w)?;
    // ∫_zc^w (1−y)^(a−1) y^(−b) dy = w^(1−b) e^(b₊Λ) Σ c_k w^k ĥ_k, with c_k the binomial
    // coefficients of (1 − y)^(a−1) and ĥ_k = e^(−b₊Λ)(1 − e^(−δΛ))/δ, scaled by b₊ = max(b − 1, 0)
    // so that nothing overflows when zc ≪ w and b is large.
    let lam = (w / zc).ln();
    let bp = (b - 1.0).max(0.0);
    let scale = (-bp * lam).exp();
    let mut sum = 0.0;
    let mut coef = 1.0; // c_k w^k
    let mut k = 0.0_f64;
    loop {
        let delta = k + 1.0 - b;
        let h = if delta == 0.0 {
            lam * scale
        } else if delta > 0.0 {
            scale * (-(-delta * lam).exp_m1() / delta)
        } else {
            // (e^(|δ|Λ) − 1)/|δ| · e^(−b₊Λ) = e^(−kΛ) (1 − e^(−|δ|Λ))/|δ|
            (-k * lam).exp() * ((delta * lam).exp_m1() / delta)
        };
        sum += coef * h;
        // Past k ≥ a − 1 and k ≥ b − 1 the |c_k w^k| shrink by a factor ≤ w ≤ 1/2 per step and
        // ĥ_k decreases, so the rest of the series is below twice this envelope.
        if k >= a - 1.0 && delta > 0.0 {
            let envelope = coef.abs() * scale * lam.min(1.0 / delta);
            if envelope <= 1e-17 * sum.abs() {
                break;
            }
        }
        coef *= (k + 1.0 - a) / (k + 1.0) * w;
        k += 1.0;
        if k > 1e7 || !sum.is_finite() {
            return Err(format!("2F1({a}, {b}; {}; {z}) did not converge", a + 1.0));
        }
    }
    if sum <= 0.0 {
        return Err(format!(
            "2F1({a}, {b}; {}; {z}): the near-1 expansion lost all precision",
            a + 1.0
        ));
    }
    let ln_second = a.ln() + (1.0 - b) * w.ln() + bp * lam + sum.ln();
    Ok(-a * (-zc).ln_1p() + log_sum_exp(ln_first, ln_second))
}

/// ln 2F1(1, a + 1 − b; a + 1; z) for 0 ≤ b ≤ a + 1: positive terms whose ratio
/// (a + 1 − b + n)/(a + 1 + n)·z rises towards z, so the tail after a term is at most
/// term·z/(1 − z).
fn ln_euler_series(a: f64, b: f64, z: f64, zc: f64) -> Result<f64, String> {
    let c = a + 1.0;
    let e = c - b;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut n = 0.0;
    while term > 1e-17 * zc * sum {
        term *= (e + n) / (c + n) * z;
        sum += term;
        n += 1.0;
        if n > 1e7 {
            return Err(format!("2F1(1, {e}; {c}; {z}) did not converge"));
        }
    }
    Ok(sum.ln())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_gamma_matches_factorials_and_half_integers() {
        let mut fact = 1.0_f64;
        for n in 1..30 {
            assert!(
                (ln_gamma(n as f64) - fact.ln()).abs() < 1e-12 * fact.ln().abs().max(1.0),
                "n={n}"
            );
            fact *= n as f64;
        }
        // Γ(1/2) = √π
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
        assert!((ln_gamma(1e-3) - 6.907_178_885_383_853).abs() < 1e-12);
    }

    #[test]
    fn hypergeometric_against_closed_forms() {
        // 2F1(1, 1; 2; z) = −ln(1 − z) / z
        for z in [-3.0_f64, -0.5, 0.1, 0.5, 0.9] {
            let exact = -(1.0 - z).ln() / z;
            assert!(
                (hyp2f1(1.0, 1.0, 2.0, z).unwrap() - exact).abs() < 1e-12 * exact.abs(),
                "z={z}"
            );
        }
        // 2F1(a, b; b; z) = (1 − z)^(−a)
        assert!((hyp2f1(2.5, 3.0, 3.0, 0.3).unwrap() - 0.7_f64.powf(-2.5)).abs() < 1e-12);
        assert!(hyp2f1(1.0, 1.0, 2.0, 1.0).is_err());
    }

    #[test]
    fn log_sum_exp_is_stable() {
        assert!((log_sum_exp(1000.0, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(log_sum_exp(f64::NEG_INFINITY, -3.0), -3.0);
    }

    /// ln 2F1(a, b; a + 1; 1 − zc) computed with mpmath 1.4.1 (`mp.dps = 50`,
    /// `mp.log(mp.hyp2f1(a, b, a + 1, 1 - zc))`): near-integer and integer b, z within 1e-12 of
    /// 1, large a and b, and points either side of the switch between the two representations.
    const INCBETA_REFERENCE: [(f64, f64, f64, f64); 25] = [
        (1.0, 1.0, 0.01, 1.5372299616614026),
        (1.0, 1.0, 1.0e-6, 2.6257929144765108),
        (0.5, 0.5, 1.0e-10, 0.45157633912146676),
        (0.5, 1.0, 0.3, 0.36890421140985717),
        (2.5, 2.0, 1.0e-8, 19.336971218721854),
        (2.5, 2.0, 0.4, 1.2531027879530204),
        (3.0, 1.000000001, 1.0e-12, 4.3617354602798324),
        (3.0, 1.0, 1.0e-12, 4.3617354457382398),
        (3.0, 0.999999999, 1.0e-12, 4.3617354311966472),
        (200.001, 1.001, 5.0e-6, 7.1541720522592189),
        (400.001, 201.0, 5.0e-6, 2441.9076737614537),
        (400.001, 201.0, 0.2, 322.39785360701603),
        (200.6, 200.55, 0.004, 1101.8127530507368),
        (60.6, 60.55, 0.3, 71.708721440179691),
        (86.6, 26.55, 0.01, 118.85823217768698),
        (0.002, 0.001, 1.0e-9, 3.2874682990561647e-6),
        (0.002, 1.001, 1.0e-9, 0.041022627136176545),
        (10.0, 11.0, 1.0e-7, 161.1809565095832),
        (26.5, 1.6, 0.9, 0.16215626549676046),
        (26.5, 1.6, 0.02, 5.1923841888239026),
        (5.0, 3.0, 0.2, 3.8024174744314645),
        (5.0, 3.0, 0.19999999, 3.8024175862811265),
        (0.001, 0.001, 0.5, 5.8179838739453137e-7),
        (1.2, 0.7, 0.5000001, 0.24512616448508808),
        (1.2, 0.7, 0.4999999, 0.2451262947315434),
    ];

    #[test]
    fn incomplete_beta_hypergeometric_against_mpmath() {
        for (a, b, zc, want) in INCBETA_REFERENCE {
            let got = ln_hyp2f1_incbeta(a, b, 1.0 - zc, zc).unwrap();
            let err = (got - want).abs() / want.abs().max(1.0);
            eprintln!("a={a} b={b} zc={zc}: {got} vs {want} ({err:.1e})");
            assert!(err < 1e-12, "a={a} b={b} zc={zc}: {got} vs {want}");
        }
    }

    #[test]
    fn incomplete_beta_hypergeometric_against_closed_forms() {
        let close = |got: f64, want: f64, what: &str| {
            assert!(
                (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                "{what}: {got} vs {want}"
            );
        };
        // 2F1(1, 1; 2; z) = −ln(1 − z)/z, including the arguments the plain series cannot do.
        for zc in [0.9_f64, 0.5, 0.01, 1e-6, 1e-12] {
            let z = 1.0 - zc;
            let exact = (-zc.ln() / z).ln();
            close(
                ln_hyp2f1_incbeta(1.0, 1.0, z, zc).unwrap(),
                exact,
                &format!("zc={zc}"),
            );
        }
        // 2F1(1, b; 2; z) = (1 − (1 − z)^(1−b)) / ((1 − b) z), at and next to integer b.
        for b in [0.5, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 2.0 - 1e-7, 2.0] {
            for zc in [0.3_f64, 1e-3, 1e-9] {
                let z = 1.0 - zc;
                let exact = if b == 1.0 {
                    (-zc.ln() / z).ln()
                } else {
                    (-((1.0 - b) * zc.ln()).exp_m1() / ((1.0 - b) * z)).ln()
                };
                let got = ln_hyp2f1_incbeta(1.0, b, z, zc).unwrap();
                close(got, exact, &format!("b={b} zc={zc}"));
            }
        }
        // 2F1(1/2, 1; 3/2; z) = atanh(√z)/√z, with atanh(√z) = ½ ln((1 + √z)²/(1 − z)).
        for zc in [0.7_f64, 0.2, 1e-5, 1e-14] {
            let z: f64 = 1.0 - zc;
            let atanh = 0.5 * ((1.0 + z.sqrt()).powi(2) / zc).ln();
            let exact = (atanh / z.sqrt()).ln();
            close(
                ln_hyp2f1_incbeta(0.5, 1.0, z, zc).unwrap(),
                exact,
                &format!("zc={zc}"),
            );
        }
        // 2F1(a, a + 1; a + 1; z) = (1 − z)^(−a) and 2F1(a, 0; a + 1; z) = 1
        for a in [0.3, 4.0, 150.0] {
            for zc in [0.6, 1e-4] {
                close(
                    ln_hyp2f1_incbeta(a, a + 1.0, 1.0 - zc, zc).unwrap(),
                    -a * zc.ln(),
                    &format!("a={a} zc={zc}"),
                );
                close(ln_hyp2f1_incbeta(a, 0.0, 1.0 - zc, zc).unwrap(), 0.0, "b=0");
            }
        }
        // Agrees with the plain series where that converges.
        for (a, b) in [(0.7, 0.2), (3.3, 2.0), (12.0, 1.5), (40.0, 30.0)] {
            for z in [0.0, 0.2, 0.6, 0.95] {
                let plain = hyp2f1(a, b, a + 1.0, z).unwrap().ln();
                close(
                    ln_hyp2f1_incbeta(a, b, z, 1.0 - z).unwrap(),
                    plain,
                    &format!("{a} {b} {z}"),
                );
            }
        }
        assert!(ln_hyp2f1_incbeta(1.0, 3.0, 0.5, 0.5).is_err());
        assert!(ln_hyp2f1_incbeta(1.0, 1.0, 1.0, 0.0).is_err());
        assert!(ln_hyp2f1_incbeta(1.0, 1.0, 0.5, 0.4).is_err());
    }
}
