//! Seeded random numbers: SplitMix64 for seeding, xoshiro256** for the streams, and the
//! handful of distributions the generator's simulation and the CLV bootstrap need.
//! Hand-rolled on purpose: a generated dataset must be byte-identical for a seed forever, and
//! a CLV interval the same for the same model, which a crate's sampling code does not promise
//! across versions.

/// One SplitMix64 step: the standard way to spread a seed over xoshiro's 256-bit state.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A xoshiro256** stream.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    /// Box–Muller yields normals in pairs; the second one waits here.
    spare: Option<f64>,
}

impl Rng {
    /// The stream `stream` of `seed`. Distinct streams are independent for all practical
    /// purposes, so a customer's data depends only on (seed, customer index).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut mix = seed;
        let a = splitmix(&mut mix);
        let mut st = a ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03).rotate_left(17);
        let mut s = [0u64; 4];
        for x in &mut s {
            *x = splitmix(&mut st);
        }
        if s == [0; 4] {
            s[0] = 1; // the one state xoshiro cannot leave
        }
        Rng { s, spare: None }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1], safe for logarithms.
    pub fn f64_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform integer in [0, n); 0 when n is 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift; the tiny bias is irrelevant for simulation.
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform index into a slice of length `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// A uniformly chosen element; `None` only for an empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.index(items.len()))
        }
    }

    /// An index drawn with the given (non-negative) weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = self.f64_open();
        let u2 = self.f64();
        let r = (-2.0 * libm::log(u1)).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare = Some(r * libm::sin(theta));
        r * libm::cos(theta)
    }

    /// Lognormal with the given median and log-scale sigma.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * libm::exp(sigma * self.normal())
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * libm::log(self.f64_open())
    }

    /// Poisson: Knuth's product method for small means, a rounded normal for large ones
    /// (where the difference does not matter to a synthetic dataset).
    pub fn poisson(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        if mean < 30.0 {
            let limit = libm::exp(-mean);
            let mut k = 0;
            let mut p = self.f64_open();
            while p > limit {
                k += 1;
                p *= self.f64_open();
            }
            k
        } else {
            (mean + mean.sqrt() * self.normal()).round().max(0.0) as u64
        }
    }

    /// Gamma with shape `k` and scale `theta` (Marsaglia–Tsang; shape < 1 by the usual boost).
    pub fn gamma(&mut self, k: f64, theta: f64) -> f64 {
        if k <= 0.0 || theta <= 0.0 {
            return 0.0;
        }
        if k < 1.0 {
            let u = self.f64_open();
            return self.gamma(k + 1.0, theta) * libm::pow(u, 1.0 / k);
        }
        let d = k - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.f64_open();
            if u < 1.0 - 0.0331 * x * x * x * x
                || libm::log(u) < 0.5 * x * x + d * (1.0 - v + libm::log(v))
            {
                return d * v * theta;
            }
        }
    }

    /// Beta(a, b) from two gammas.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a, 1.0);
        let y = self.gamma(b, 1.0);
        if x + y <= 0.0 { 0.5 } else { x / (x + y) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(n: usize, mut f: impl FnMut() -> f64) -> f64 {
        (0..n).map(|_| f()).sum::<f64>() / n as f64
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(42, 7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(42, 7).next_u64(), Rng::new(42, 8).next_u64());
        assert_ne!(Rng::new(42, 7).next_u64(), Rng::new(43, 7).next_u64());
    }

    #[test]
    fn distributions_have_their_means() {
        let mut r = Rng::new(1, 1);
        let n = 200_000;
        assert!((mean(n, || r.f64()) - 0.5).abs() < 0.01);
        assert!(mean(n, || r.normal()).abs() < 0.01);
        assert!((mean(n, || r.exp(3.0)) - 3.0).abs() < 0.05);
        assert!((mean(n, || r.poisson(2.5) as f64) - 2.5).abs() < 0.03);
        assert!((mean(n, || r.poisson(50.0) as f64) - 50.0).abs() < 0.2);
        assert!((mean(n, || r.gamma(0.5, 2.0)) - 1.0).abs() < 0.03);
        assert!((mean(n, || r.gamma(6.0, 0.5)) - 3.0).abs() < 0.03);
        assert!((mean(n, || r.beta(2.0, 6.0)) - 0.25).abs() < 0.01);
        assert!((mean(n, || r.below(10) as f64) - 4.5).abs() < 0.05);
        let w = [1.0, 3.0];
        assert!((mean(n, || r.weighted(&w) as f64) - 0.75).abs() < 0.01);
    }
}
