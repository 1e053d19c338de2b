//! Customer lifetime value models ("buy till you die"): BG/NBD, Pareto/NBD and Gamma-Gamma,
//! fitted by maximum likelihood in log space. Pure math over per-customer summaries; building
//! the summaries from orders and the CLI are separate (see the customer-value issue).

pub mod bgnbd;
pub mod fit;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod gamma_gamma;
pub mod model;
pub mod pareto_nbd;
pub mod polygamma;
pub mod special;
pub mod uncertainty;

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

/// The distinct summaries of a sample with how often each occurs. Customers with the same
/// (x, t_x, T) contribute the same likelihood term, and with daily or weekly data most of a
/// large sample repeats, so fitting on the distinct ones with weights is much cheaper.
pub fn distinct(customers: &[Summary]) -> Vec<(Summary, f64)> {
    let mut keyed: Vec<([u64; 3], Summary)> = customers
        .iter()
        .map(|c| ([c.x.to_bits(), c.t_x.to_bits(), c.t.to_bits()], *c))
        .collect();
    keyed.sort_unstable_by_key(|(k, _)| *k);
    let mut out: Vec<(Summary, f64)> = Vec::new();
    let mut last: Option<[u64; 3]> = None;
    for (k, c) in keyed {
        match out.last_mut() {
            Some((_, n)) if last == Some(k) => *n += 1.0,
            _ => out.push((c, 1.0)),
        }
        last = Some(k);
    }
    out
}

/// Σ f(chunk) over `items` split across the machine's cores (one chunk per core, summed in
/// order), for the likelihoods of large samples and their derivatives; small inputs are summed
/// on the caller's thread.
pub fn par_sum<T: Sync, R: Send + std::iter::Sum>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> R {
    par_chunks(items, 20_000, f).into_iter().sum()
}

/// f(chunk) for `items` split into one chunk per core, in order; fewer than `parallel_from`
/// items are one chunk on the caller's thread.
pub fn par_chunks<T: Sync, R: Send>(
    items: &[T],
    parallel_from: usize,
    f: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1);
    if threads < 2 || items.len() < parallel_from.max(2) {
        return vec![f(items)];
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| f(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The property sweep both purchase models' tests run: over every combination of the given
/// values for the four parameters and a set of customers from a first-day buyer to one with
/// 60 repeat purchases the day before T, the likelihood is finite, P(alive) is in [0, 1],
/// and E[X(t)] (where `expected` gives one) is finite and does not decrease over t = 1, 10,
/// 52 beyond `slack`.
#[cfg(test)]
pub(crate) fn check_model_properties<P: std::fmt::Debug>(
    values: [&[f64]; 4],
    params: impl Fn([f64; 4]) -> P,
    ll: impl Fn(&P, &Summary) -> f64,
    p_alive: impl Fn(&P, &Summary) -> f64,
    expected: impl Fn(&P, &Summary, f64) -> Option<Result<f64, String>>,
    slack: f64,
) {
    let customers = [
        (0.0, 0.0, 5.0),
        (1.0, 0.5, 40.0),
        (7.0, 30.0, 38.0),
        (60.0, 100.0, 100.0),
    ]
    .map(|(x, t_x, t)| Summary { x, t_x, t });
    for &v0 in values[0] {
        for &v1 in values[1] {
            for &v2 in values[2] {
                for &v3 in values[3] {
                    let p = params([v0, v1, v2, v3]);
                    for c in &customers {
                        let l = ll(&p, c);
                        assert!(l.is_finite(), "{p:?} {c:?}: {l}");
                        let alive = p_alive(&p, c);
                        assert!((0.0..=1.0).contains(&alive), "{p:?} {c:?}: {alive}");
                        let mut last = 0.0;
                        for horizon in [1.0, 10.0, 52.0] {
                            let Some(e) = expected(&p, c, horizon) else {
                                break;
                            };
                            let e =
                                e.unwrap_or_else(|err| panic!("{p:?} {c:?} t={horizon}: {err}"));
                            assert!(
                                e.is_finite() && e >= last - slack,
                                "{p:?} {c:?} t={horizon}: {e} < {last}"
                            );
                            last = e;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_counts_repeats() {
        let a = Summary {
            x: 1.0,
            t_x: 2.0,
            t: 3.0,
        };
        let b = Summary {
            x: 0.0,
            t_x: 0.0,
            t: 3.0,
        };
        let d = distinct(&[a, b, a, a]);
        assert_eq!(d, vec![(b, 1.0), (a, 3.0)]);
    }
}
