//! The chain: ClickHouse `windowFunnel`'s scan over one group's events sorted by (timestamp,
//! condition index), returning the level, and for `window_funnel_steps` the timestamps of the
//! steps of the chain that first reached that level. (`strict_once` has its own scan, in
//! `once`.)

use super::spec::{MAX_STEPS, Spec};

/// Under `strict_once` a row's events are stored one after the other and all but the first
/// carry this bit on their condition index, so that the row can be put together again (a row
/// is at most one step of a chain there). Condition indices are at most 32: the bit is free.
pub const SAME_ROW: u8 = 0x80;

/// One stored event: a row's timestamp and the 1-based index of a condition it matches, or 0
/// for a row that matches none (kept only in `strict_order` mode, where such a row stops the
/// chain). A row matching several conditions is one event per condition. Sorting by
/// (ts, cond) is ClickHouse's order (it sorts its (timestamp, condition) pairs the same way),
/// and a total order: equal events are identical, so the result does not depend on the order
/// in which rows arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Event {
    pub ts: i64,
    pub cond: u8,
}

/// What the scan records besides the level. The level-only recorder does nothing and compiles
/// away; the steps recorder keeps the timestamps of every level's current chain.
pub trait Recorder {
    /// Whether anything is recorded (the `strict_once` scan skips choosing a chain if not).
    const RECORDS: bool;
    /// A chain starts at `ts` (level 1).
    fn start(&mut self, ts: i64);
    /// The chain at level `level` (0-based, ≥ 1) is the one at `level − 1` extended by `ts`.
    fn extend(&mut self, level: usize, ts: i64);
    /// `strict_once`: the chain at level `to` (1-based) becomes the one at level `from`
    /// (`from < to`; 0: none) followed by `to − from` steps at `ts`.
    fn graft(&mut self, to: usize, from: usize, ts: i64);
    /// `strict_once`: level `to` is reached by that chain; the first chain to reach a level
    /// is the one returned.
    fn reach(&mut self, to: usize, from: usize, ts: i64);
}

/// The level-only recorder.
pub struct NoSteps;

impl Recorder for NoSteps {
    const RECORDS: bool = false;
    #[inline]
    fn start(&mut self, _ts: i64) {}
    #[inline]
    fn extend(&mut self, _level: usize, _ts: i64) {}
    #[inline]
    fn graft(&mut self, _to: usize, _from: usize, _ts: i64) {}
    #[inline]
    fn reach(&mut self, _to: usize, _from: usize, _ts: i64) {}
}

/// The steps recorder: `chains[k]` holds the step timestamps of the current chain at level
/// k + 1; `best` the chain that first reached the highest level so far.
pub struct Steps {
    chains: Box<[[i64; MAX_STEPS]; MAX_STEPS]>,
    best: [i64; MAX_STEPS],
    best_len: usize,
}

impl Default for Steps {
    fn default() -> Self {
        Steps {
            chains: Box::new([[0; MAX_STEPS]; MAX_STEPS]),
            best: [0; MAX_STEPS],
            best_len: 0,
        }
    }
}

impl Steps {
    /// Forgets the previous group.
    pub fn reset(&mut self) {
        self.best_len = 0;
    }

    /// The steps of the chain that first reached the highest level.
    pub fn best(&self) -> &[i64] {
        &self.best[..self.best_len]
    }
}

impl Recorder for Steps {
    const RECORDS: bool = true;

    fn start(&mut self, ts: i64) {
        self.chains[0][0] = ts;
        if self.best_len == 0 {
            self.best[0] = ts;
            self.best_len = 1;
        }
    }

    fn extend(&mut self, level: usize, ts: i64) {
        let (lower, upper) = self.chains.split_at_mut(level);
        upper[0][..level].copy_from_slice(&lower[level - 1][..level]);
        upper[0][level] = ts;
        if level + 1 > self.best_len {
            self.best[..=level].copy_from_slice(&upper[0][..=level]);
            self.best_len = level + 1;
        }
    }

    fn graft(&mut self, to: usize, from: usize, ts: i64) {
        if from > 0 {
            let (lower, upper) = self.chains.split_at_mut(to - 1);
            upper[0][..from].copy_from_slice(&lower[from - 1][..from]);
        }
        self.chains[to - 1][from..to].fill(ts);
    }

    fn reach(&mut self, to: usize, from: usize, ts: i64) {
        if to > self.best_len {
            if from > 0 {
                self.best[..from].copy_from_slice(&self.chains[from - 1][..from]);
            }
            self.best[from..to].fill(ts);
            self.best_len = to;
        }
    }
}

/// The level of one group, `events` sorted. This is ClickHouse's `getEventLevel` (version
/// 26.x, after the fix of issue 37177 for `strict_deduplication`), step by step:
/// - per level, the (first, previous) timestamps of the latest chain that reached it;
/// - an event of condition 1 starts a new chain (a later start replaces an earlier one);
/// - an event of condition k > 1 extends the chain at level k − 1 when
///   ts − first ≤ window (and, under `strict_increase`, previous < ts);
/// - `strict_deduplication`: an event of condition k > 1 whose level k was already reached
///   ends the scan with the highest level reached;
/// - `strict_order`: after the first start, a row matching no condition ends the scan, and so
///   does an event of condition k whose level k − 1 was never reached (with `allow_reentry`
///   that event is skipped instead);
/// - the scan ends as soon as the last level is reached.
pub fn level<R: Recorder>(events: &[Event], spec: &Spec, rec: &mut R) -> usize {
    let steps = spec.steps;
    let modes = spec.modes;
    let window = spec.window as i128;
    // first/previous timestamps per level; `reached` counts the levels ever reached (a level
    // is reached only after the one below it, so they form a prefix).
    let mut first = [0i64; MAX_STEPS];
    let mut previous = [0i64; MAX_STEPS];
    let mut reached = 0usize;
    let mut started = false;
    for e in events {
        let ts = e.ts;
        if e.cond == 0 {
            // Only stored in strict_order mode.
            if started {
                break;
            }
            continue;
        }
        let k = (e.cond - 1) as usize;
        if k == 0 {
            first[0] = ts;
            previous[0] = ts;
            reached = reached.max(1);
            started = true;
            rec.start(ts);
        } else if modes.strict_deduplication && reached > k {
            // A repeated step: stop with the highest level reached.
            return reached;
        } else if modes.strict_order && started && reached < k {
            // A step out of order: skipped under allow_reentry, else stop with the highest
            // level reached (ClickHouse's "first level not reached" is the same, the reached
            // levels being a prefix).
            if modes.allow_reentry {
                continue;
            }
            return reached;
        } else if reached >= k {
            let f = first[k - 1];
            let mut matched = ts as i128 - f as i128 <= window;
            if modes.strict_increase {
                matched &= previous[k - 1] < ts;
            }
            if matched {
                first[k] = f;
                previous[k] = ts;
                reached = reached.max(k + 1);
                rec.extend(k, ts);
                if k + 1 == steps {
                    return steps;
                }
            }
        }
    }
    reached
}
