//! The `unordered` mode (crmlens's own; ClickHouse's `windowFunnel` has no such mode): the
//! steps may happen in any order. The level is the largest number of distinct steps that all
//! have an event within one window, the window starting at the earliest of those events:
//! max over events e of the number of conditions with an event in [ts(e), ts(e) + window].
//! (A window may as well start at an event: moving its start forward to the first event it
//! holds loses nothing.) A row matching several conditions counts for each, as in the
//! ordered default mode.

use super::chain::{Event, Recorder};
use super::spec::{MAX_STEPS, Spec};

/// The level of one group, `events` sorted by (timestamp, condition). The steps recorded are
/// those of the first window (by start) that reaches the level: for each step done in it, the
/// time it was first done there, in time order.
pub fn level<R: Recorder>(events: &[Event], spec: &Spec, rec: &mut R) -> usize {
    let window = spec.window as i128;
    let within = |start: i64, t: i64| t as i128 - start as i128 <= window;
    // Events in [events[start].ts, … + window]: counts per condition, distinct conditions.
    let mut count = [0usize; MAX_STEPS];
    let mut distinct = 0;
    let (mut left, mut end) = (0, 0);
    let mut best = (0, 0);
    for start in 0..events.len() {
        if start > 0 && events[start].ts == events[start - 1].ts {
            continue;
        }
        // Leave the events before the new start.
        for e in &events[left..start] {
            let c = e.cond as usize - 1;
            count[c] -= 1;
            distinct -= usize::from(count[c] == 0);
        }
        left = start;
        while end < events.len() && within(events[start].ts, events[end].ts) {
            let c = events[end].cond as usize - 1;
            distinct += usize::from(count[c] == 0);
            count[c] += 1;
            end += 1;
        }
        if distinct > best.0 {
            best = (distinct, start);
            if distinct == spec.steps {
                break;
            }
        }
    }
    let (level, start) = best;
    if R::RECORDS && level > 0 {
        let mut firsts: Vec<i64> = Vec::with_capacity(level);
        let mut seen = [false; MAX_STEPS];
        for e in events[start..]
            .iter()
            .take_while(|e| within(events[start].ts, e.ts))
        {
            let c = e.cond as usize - 1;
            if !seen[c] {
                seen[c] = true;
                firsts.push(e.ts);
            }
        }
        rec.start(firsts[0]);
        for (i, &t) in firsts.iter().enumerate().skip(1) {
            rec.extend(i, t);
        }
    }
    level
}
