//! The `strict_once` scan: ClickHouse's `getEventLevelStrictOnce` (version 26.x), where a row
//! that matches several conditions is still at most one step of a chain.
//!
//! ClickHouse keeps every chain (as lists of row ids) and extends each one by each event, which
//! grows with the product of the events per step. Here the same levels come from two facts:
//! - a chain that ended before the timestamp being read matters only by its entry time (the
//!   latest entry is the best for the window; under `strict_increase` any earlier end is
//!   before the current timestamp), so per level only the latest entry is kept;
//! - the rows of one timestamp can be steps j+1 … k of a chain entering at level j exactly
//!   when those steps can be given distinct rows that match them: a small bipartite matching
//!   (steps to rows), needed only when some row at that timestamp matches several steps.
//!
//! The one tie ClickHouse 26.9 leaves to the order of the input (its row ids follow the input,
//! so a parallel or merged aggregation may differ; its issue 124071) is settled without it:
//! under `strict_deduplication`, the events of one step at one timestamp are a repetition when
//! two or more of them extend a chain. An event that cannot be that step because its row is
//! already a step of every chain it could continue does not count (26.9 counts it when it
//! comes after an extending event in input order). This is the reading of ClickHouse's own
//! test for that issue (R1 step 2, R2 steps 1–3 at one time, R3 step 3 later: "strict_once"
//! reaches 3 in every order; a second row of step 2 at that time is a genuine duplicate and
//! stops at 2).

use super::chain::{Event, Recorder, SAME_ROW};
use super::spec::{MAX_STEPS, Spec};

/// One row of a group: its timestamp and the conditions it matches (bit i for condition
/// i + 1; 0 for a row matching none, stored under `strict_order` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub ts: i64,
    pub mask: u32,
}

/// The rows of a group's stored events (in the order they were stored: an event carrying
/// [`SAME_ROW`] belongs to the row of the event before it), sorted by (timestamp, mask).
pub fn rows(events: &[Event], out: &mut Vec<Row>) {
    out.clear();
    for e in events {
        let cond = e.cond & !SAME_ROW;
        let bit = if cond == 0 { 0 } else { 1u32 << (cond - 1) };
        match out.last_mut() {
            Some(last) if e.cond & SAME_ROW != 0 => last.mask |= bit,
            _ => out.push(Row {
                ts: e.ts,
                mask: bit,
            }),
        }
    }
    out.sort_unstable();
}

/// The rows of one timestamp: the distinct masks with how many rows have each (capped at
/// [`MAX_STEPS`], as no matching uses more rows of one mask than there are steps).
struct Moment {
    masks: Vec<(u32, usize)>,
    /// The union of the masks.
    present: u32,
    /// Whether a row matches two conditions or more (else every matching is trivial).
    shared: bool,
}

impl Moment {
    fn new(rows: &[Row]) -> Moment {
        let mut masks: Vec<(u32, usize)> = Vec::new();
        for r in rows {
            match masks.last_mut() {
                Some((m, n)) if *m == r.mask => *n = (*n + 1).min(MAX_STEPS),
                _ => masks.push((r.mask, 1)),
            }
        }
        Moment {
            present: masks.iter().fold(0, |a, (m, _)| a | m),
            shared: masks.iter().any(|(m, _)| m.count_ones() > 1),
            masks,
        }
    }

    /// Whether steps `lo ..= hi` (1-based; empty when lo > hi) can be given distinct rows,
    /// one row of mask `without` being taken already.
    fn matchable(&self, lo: usize, hi: usize, without: Option<u32>) -> bool {
        if lo > hi {
            return true;
        }
        let wanted = steps_mask(lo, hi);
        if self.present & wanted != wanted {
            return false;
        }
        if !self.shared {
            return true;
        }
        let capacity: Vec<usize> = self
            .masks
            .iter()
            .map(|&(m, n)| if Some(m) == without { n - 1 } else { n })
            .collect();
        // Kuhn's augmenting paths, rows of one mask being one vertex of that capacity.
        let mut holder: Vec<Vec<usize>> = vec![Vec::new(); self.masks.len()];
        for step in lo..=hi {
            let mut visited = vec![false; self.masks.len()];
            if !self.augment(step, &capacity, &mut holder, &mut visited) {
                return false;
            }
        }
        true
    }

    fn augment(
        &self,
        step: usize,
        capacity: &[usize],
        holder: &mut [Vec<usize>],
        visited: &mut [bool],
    ) -> bool {
        let bit = 1u32 << (step - 1);
        for (i, &(mask, _)) in self.masks.iter().enumerate() {
            if mask & bit == 0 || visited[i] || capacity[i] == 0 {
                continue;
            }
            visited[i] = true;
            if holder[i].len() < capacity[i] {
                holder[i].push(step);
                return true;
            }
            for h in 0..holder[i].len() {
                let other = holder[i][h];
                if self.augment(other, capacity, holder, visited) {
                    holder[i][h] = step;
                    return true;
                }
            }
        }
        false
    }
}

/// Bits of steps `lo ..= hi` (1-based).
fn steps_mask(lo: usize, hi: usize) -> u32 {
    let upper = if hi >= 32 { u32::MAX } else { (1u32 << hi) - 1 };
    upper & !((1u32 << (lo - 1)) - 1)
}

/// The scan over one group's rows, sorted by (timestamp, mask).
pub fn level<R: Recorder>(rows: &[Row], spec: &Spec, rec: &mut R) -> usize {
    let steps = spec.steps;
    let modes = spec.modes;
    let window = spec.window as i128;
    // entry[k - 1]: the latest entry of the chains that reached level k before the current
    // timestamp. It never increases with k (a chain's prefix has its entry), and every level
    // at or below a reached one is reached.
    let mut entry: [Option<i64>; MAX_STEPS] = [None; MAX_STEPS];
    let mut started = false;
    let mut i = 0;
    while i < rows.len() {
        let t = rows[i].ts;
        let end = i + rows[i..].partition_point(|r| r.ts == t);
        let here = &rows[i..end];
        i = end;
        let moment = Moment::new(here);
        // The entry of a chain that enters this timestamp at level j (0: a new chain), if it
        // is still within the window here; by the order of `entry` these are a prefix.
        let source = |j: usize| -> Option<i64> {
            if j == 0 {
                return Some(t);
            }
            entry[j - 1].filter(|&f| t as i128 - f as i128 <= window)
        };
        let deepest = (1..steps)
            .take_while(|&j| source(j).is_some())
            .last()
            .unwrap_or(0);
        // Whether a chain entering at level j can be continued here up to level k, its step
        // k by a row of mask `by` (else by any row).
        let feasible = |j: usize, k: usize, by: Option<u32>| -> bool {
            let last = if by.is_some() { k - 1 } else { k };
            if modes.strict_increase {
                // No two steps at one timestamp.
                return j + 1 > last
                    || (j + 1 == k && by.is_none() && moment.matchable(k, k, None));
            }
            moment.matchable(j + 1, last, by)
        };
        // The best chain to reach level k here: the latest entry, then the most steps taken
        // before this timestamp.
        let best = |k: usize, by: Option<u32>| -> Option<usize> {
            let top = deepest.min(k - 1);
            let first = (0..=top).find(|&j| feasible(j, k, by))?;
            let at = source(first);
            Some(
                (first..=top)
                    .take_while(|&j| source(j) == at)
                    .last()
                    .unwrap_or(first),
            )
        };
        let mut now = [false; MAX_STEPS];
        let reached = |now: &[bool; MAX_STEPS], k: usize| entry[k - 1].is_some() || now[k - 1];
        let highest =
            |now: &[bool; MAX_STEPS]| (1..=steps).rev().find(|&k| reached(now, k)).unwrap_or(0);
        if modes.strict_order && here[0].mask == 0 && started {
            // A row matching no step after the chain started (these rows sort first).
            return highest(&now);
        }
        for c in 1..=steps {
            let bit = 1u32 << (c - 1);
            if moment.present & bit == 0 {
                continue;
            }
            if c == 1 {
                now[0] = true;
                started = true;
                rec.reach(1, 0, t);
                continue;
            }
            if modes.strict_deduplication && reached(&now, c) {
                return highest(&now);
            }
            if modes.strict_order && started && !reached(&now, c - 1) {
                if modes.allow_reentry {
                    continue;
                }
                return highest(&now);
            }
            if !reached(&now, c - 1) {
                continue;
            }
            let extending: Vec<(u32, usize)> = moment
                .masks
                .iter()
                .copied()
                .filter(|&(m, _)| m & bit != 0 && feasible(deepest.min(c - 1), c, Some(m)))
                .collect();
            if extending.is_empty() {
                continue;
            }
            now[c - 1] = true;
            if R::RECORDS {
                let from = extending
                    .iter()
                    .filter_map(|&(m, _)| best(c, Some(m)))
                    .max_by_key(|&j| (source(j), j));
                if let Some(from) = from {
                    rec.reach(c, from, t);
                }
            }
            if c == steps {
                return steps;
            }
            if modes.strict_deduplication && extending.iter().map(|(_, n)| n).sum::<usize>() > 1 {
                return highest(&now);
            }
        }
        // The chains that end here: each level keeps the latest entry. Chosen from the levels
        // as they were before this timestamp, then applied deepest level first, so that a
        // level's chain is copied before it changes.
        let ending: Vec<(usize, usize, Option<i64>)> = (1..=steps)
            .rev()
            .filter(|&k| now[k - 1])
            .filter_map(|k| best(k, None).map(|from| (k, from, source(from))))
            .collect();
        for (k, from, f) in ending {
            if entry[k - 1] <= f {
                entry[k - 1] = f;
                rec.graft(k, from, t);
            }
        }
    }
    (1..=steps)
        .rev()
        .find(|&k| entry[k - 1].is_some())
        .unwrap_or(0)
}
