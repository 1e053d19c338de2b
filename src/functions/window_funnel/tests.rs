//! Property test: on random groups, modes and windows, the GroupsAccumulator (one batch; many
//! batches over several partial accumulators merged in a shuffled order; the skip-partial path
//! through `convert_to_state`; emission in `EmitTo::First` pieces) and the row Accumulator give
//! the same levels and steps as references written independently of `chain` and `once`: a
//! literal transcription of ClickHouse's `getEventLevel`, for the default mode a brute-force
//! search over all subsequences of the sorted events, and under `strict_once` a transcription
//! of ClickHouse's `getEventLevelStrictOnce`, which keeps every chain as its rows (there the
//! steps are checked to be a chain of distinct matching rows within the window); `unordered`
//! (no ClickHouse equivalent) against its definition, window by window.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

use super::spec::Spec;
use super::state::{FunnelGroups, FunnelRow, Output};

/// splitmix64: a seeded generator, so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One input row: group, timestamp (None = NULL) and per condition Some(bool) or NULL.
#[derive(Debug, Clone)]
struct Row {
    group: usize,
    ts: Option<i64>,
    conds: Vec<Option<bool>>,
}

#[derive(Debug, Clone)]
struct Case {
    window: i64,
    modes: String,
    steps: usize,
    groups: usize,
    rows: Vec<Row>,
}

fn random_case(rng: &mut Rng) -> Case {
    let steps = 1 + rng.below(5) as usize;
    let groups = 1 + rng.below(40) as usize;
    let mut modes = Vec::new();
    for m in [
        "strict_order",
        "strict_deduplication",
        "strict_increase",
        "strict_once",
    ] {
        if rng.chance(35) {
            modes.push(m);
        }
    }
    if modes.contains(&"strict_order") && rng.chance(50) {
        modes.push("allow_reentry");
    }
    if rng.chance(15) {
        modes = vec!["unordered"];
    }
    let once = modes.contains(&"strict_once");
    // The strict_once reference keeps every chain: fewer rows, and rows matching several
    // steps more often (the case strict_once is about).
    let n_rows = rng.below(if once { 60 } else { 300 }) as usize;
    let multi = if once { 25 } else { 8 };
    let span = 1 + rng.below(30) as i64;
    let rows = (0..n_rows)
        .map(|_| {
            // An event "type" matches one step mostly; sometimes several or none.
            let kind = rng.below(steps as u64 + 2) as usize;
            let conds = (0..steps)
                .map(|c| {
                    if rng.chance(5) {
                        None
                    } else {
                        Some(c == kind || rng.chance(multi))
                    }
                })
                .collect();
            Row {
                group: rng.below(groups as u64) as usize,
                ts: if rng.chance(5) {
                    None
                } else {
                    Some(rng.below(span as u64) as i64 - 5)
                },
                conds,
            }
        })
        .collect();
    Case {
        window: rng.below(span as u64 + 3) as i64,
        modes: modes.join(", "),
        steps,
        groups,
        rows,
    }
}

fn spec(case: &Case) -> Arc<Spec> {
    let mut types = vec![DataType::Int64, DataType::Utf8, DataType::Int64];
    types.extend(std::iter::repeat_n(DataType::Boolean, case.steps));
    let mut constants = vec![
        Some(ScalarValue::Int64(Some(case.window))),
        Some(ScalarValue::Utf8(Some(case.modes.clone()))),
    ];
    constants.extend(std::iter::repeat_n(None, case.steps + 1));
    Arc::new(Spec::new("window_funnel", &types, &constants).unwrap())
}

/// The argument arrays of some rows, as DataFusion passes them (constants repeated).
fn arrays(case: &Case, rows: &[Row]) -> Vec<ArrayRef> {
    let n = rows.len();
    let mut out: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![case.window; n])),
        Arc::new(datafusion::arrow::array::StringArray::from(vec![
            case.modes
                .as_str(
                );
            n
        ])),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.ts).collect::<Vec<_>>(),
        )),
    ];
    for c in 0..case.steps {
        out.push(Arc::new(BooleanArray::from(
            rows.iter().map(|r| r.conds[c]).collect::<Vec<_>>(),
        )));
    }
    out
}

/// The rows ClickHouse's NULL adapter passes on: timestamp and every condition not NULL.
fn usable(row: &Row) -> bool {
    row.ts.is_some() && row.conds.iter().all(Option::is_some)
}

/// A group's events as ClickHouse stores them: per usable row, conditions added from the last
/// to the first, a 0 for a row matching none in strict_order mode, then a stable sort of the
/// pairs. `None` when the group has no usable row (ClickHouse then returns NULL).
fn clickhouse_events(case: &Case, group: usize) -> Option<Vec<(i64, u8)>> {
    let strict_order = case.modes.contains("strict_order");
    let rows: Vec<&Row> = case
        .rows
        .iter()
        .filter(|r| r.group == group && usable(r))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let mut list = Vec::new();
    for r in rows {
        let ts = r.ts.unwrap();
        let mut any = false;
        for i in (1..=case.steps).rev() {
            if r.conds[i - 1] == Some(true) {
                list.push((ts, i as u8));
                any = true;
            }
        }
        if strict_order && !any {
            list.push((ts, 0));
        }
    }
    list.sort();
    Some(list)
}

/// ClickHouse's getEventLevel (26.x), transcribed, plus the steps of the chain that first
/// reached each level.
fn clickhouse_level(case: &Case, list: &[(i64, u8)]) -> (usize, Vec<i64>) {
    let strict_order = case.modes.contains("strict_order");
    let dedup = case.modes.contains("strict_deduplication");
    let increase = case.modes.contains("strict_increase");
    let reentry = case.modes.contains("allow_reentry");
    let n = case.steps;
    let mut ev: Vec<Option<(i64, i64)>> = vec![None; n];
    let mut path: Vec<Vec<i64>> = vec![Vec::new(); n];
    let mut first_path: Vec<Option<Vec<i64>>> = vec![None; n];
    let max_level = |ev: &Vec<Option<(i64, i64)>>| {
        (1..=ev.len())
            .rev()
            .find(|&e| ev[e - 1].is_some())
            .unwrap_or(0)
    };
    let done = |level: usize, first_path: &Vec<Option<Vec<i64>>>| {
        let steps = if level == 0 {
            Vec::new()
        } else {
            first_path[level - 1].clone().unwrap()
        };
        (level, steps)
    };
    if list.is_empty() {
        return (0, Vec::new());
    }
    let mut first_event = false;
    for &(ts, cond) in list {
        let idx = cond as i64 - 1;
        if strict_order && idx == -1 {
            if first_event {
                break;
            }
            continue;
        } else if idx == 0 {
            ev[0] = Some((ts, ts));
            path[0] = vec![ts];
            first_path[0].get_or_insert_with(|| vec![ts]);
            first_event = true;
        } else if dedup && ev[idx as usize].is_some() {
            return done(max_level(&ev), &first_path);
        } else if strict_order && first_event && ev[idx as usize - 1].is_none() {
            if reentry {
                continue;
            }
            let unset = (0..n).find(|&e| ev[e].is_none()).unwrap();
            return done(unset, &first_path);
        } else if let Some((first, prev)) = ev[idx as usize - 1] {
            let mut ok = ts <= first + case.window;
            if increase {
                ok = ok && prev < ts;
            }
            if ok {
                let i = idx as usize;
                ev[i] = Some((first, ts));
                let mut p = path[i - 1].clone();
                p.push(ts);
                path[i] = p.clone();
                if first_path[i].is_none() {
                    first_path[i] = Some(p);
                }
                if i + 1 == n {
                    return done(n, &first_path);
                }
            }
        }
    }
    done(max_level(&ev), &first_path)
}

/// ClickHouse's getEventLevelStrictOnce (26.x), transcribed: every chain kept with the rows
/// of its steps (a row's id is its index among the group's usable rows), events sorted by
/// (timestamp, condition, row). One deliberate difference, the documented tie rule: the events
/// of one condition at one timestamp are read as a block, and under strict_deduplication the
/// block is a repetition when two or more of its events extend a chain (ClickHouse 26.9 stops
/// at any event of the block that comes after an extending one in input order).
fn clickhouse_once_level(case: &Case, group: usize) -> usize {
    struct Chain {
        first: i64,
        last: i64,
        rows: Vec<usize>,
    }
    let strict_order = case.modes.contains("strict_order");
    let dedup = case.modes.contains("strict_deduplication");
    let increase = case.modes.contains("strict_increase");
    let reentry = case.modes.contains("allow_reentry");
    let n = case.steps;
    let mut list = Vec::new();
    let rows = case.rows.iter().filter(|r| r.group == group && usable(r));
    for (id, r) in rows.enumerate() {
        let ts = r.ts.unwrap();
        let mut any = false;
        for i in 1..=n {
            if r.conds[i - 1] == Some(true) {
                list.push((ts, i, id));
                any = true;
            }
        }
        if strict_order && !any {
            list.push((ts, 0, id));
        }
    }
    list.sort();
    let mut chains: Vec<Vec<Chain>> = (0..n).map(|_| Vec::new()).collect();
    let highest = |chains: &Vec<Vec<Chain>>| {
        (1..=n)
            .rev()
            .find(|&k| !chains[k - 1].is_empty())
            .unwrap_or(0)
    };
    let mut has_first = false;
    let mut i = 0;
    while i < list.len() {
        let (t, c, _) = list[i];
        let end = i + list[i..]
            .iter()
            .take_while(|e| (e.0, e.1) == (t, c))
            .count();
        let block: Vec<usize> = list[i..end].iter().map(|e| e.2).collect();
        i = end;
        if c == 0 {
            if has_first {
                break;
            }
            continue;
        }
        let idx = c - 1;
        if idx == 0 {
            for &id in &block {
                chains[0].push(Chain {
                    first: t,
                    last: t,
                    rows: vec![id],
                });
            }
            has_first = true;
            continue;
        }
        if dedup && !chains[idx].is_empty() {
            return highest(&chains);
        }
        if strict_order && has_first && chains[idx - 1].is_empty() {
            if reentry {
                continue;
            }
            return (0..n).find(|&e| chains[e].is_empty()).unwrap();
        }
        let mut new = Vec::new();
        let mut extending = 0;
        for &id in &block {
            let before = new.len();
            for ch in &chains[idx - 1] {
                if t - ch.first <= case.window
                    && !ch.rows.contains(&id)
                    && (!increase || ch.last < t)
                {
                    let mut rows = ch.rows.clone();
                    rows.push(id);
                    new.push(Chain {
                        first: ch.first,
                        last: t,
                        rows,
                    });
                }
            }
            extending += usize::from(new.len() > before);
        }
        if new.is_empty() {
            continue;
        }
        chains[idx].extend(new);
        if idx + 1 == n {
            return n;
        }
        if dedup && extending > 1 {
            return highest(&chains);
        }
    }
    highest(&chains)
}

/// Whether `steps` can be a chain of the group under `strict_once`: within the window, in
/// order (strictly under strict_increase), step i taken by a usable row at that time matching
/// condition i, no row twice.
fn is_once_chain(case: &Case, group: usize, steps: &[i64]) -> bool {
    fn assign(rows: &[&Row], steps: &[i64], i: usize, used: &mut Vec<bool>) -> bool {
        if i == steps.len() {
            return true;
        }
        for (r, row) in rows.iter().enumerate() {
            if !used[r] && row.ts == Some(steps[i]) && row.conds[i] == Some(true) {
                used[r] = true;
                if assign(rows, steps, i + 1, used) {
                    return true;
                }
                used[r] = false;
            }
        }
        false
    }
    let rows: Vec<&Row> = case
        .rows
        .iter()
        .filter(|r| r.group == group && usable(r))
        .collect();
    let strictly = case.modes.contains("strict_increase");
    let ordered = steps
        .windows(2)
        .all(|w| if strictly { w[0] < w[1] } else { w[0] <= w[1] });
    let within = steps.last().is_none_or(|l| l - steps[0] <= case.window);
    ordered && within && assign(&rows, steps, 0, &mut vec![false; rows.len()])
}

/// `unordered` by definition: for each event taken as the start, the distinct conditions with
/// an event in [start, start + window]; the level is the most, and the steps are those of the
/// earliest start reaching it: each condition's first time in its window, in time order.
fn unordered_level(case: &Case, list: &[(i64, u8)]) -> (usize, Vec<i64>) {
    let mut best: (usize, Vec<i64>) = (0, Vec::new());
    for &(start, _) in list {
        let mut firsts: Vec<(u8, i64)> = Vec::new();
        for &(ts, cond) in list {
            if ts >= start && ts - start <= case.window && firsts.iter().all(|f| f.0 != cond) {
                firsts.push((cond, ts));
            }
        }
        if firsts.len() > best.0 {
            let mut times: Vec<i64> = firsts.iter().map(|f| f.1).collect();
            times.sort();
            best = (firsts.len(), times);
        }
    }
    best
}

/// Default mode by definition: the largest k with events e1 < … < ek in the sorted list,
/// e_i matching condition i, ts(ek) − ts(e1) ≤ window.
fn brute_force_level(case: &Case, list: &[(i64, u8)]) -> usize {
    fn extend(
        list: &[(i64, u8)],
        from: usize,
        step: usize,
        first: i64,
        window: i64,
        n: usize,
    ) -> usize {
        if step == n {
            return n;
        }
        let mut best = step;
        for (j, &(ts, cond)) in list.iter().enumerate().skip(from) {
            if cond as usize == step + 1 && ts - first <= window {
                best = best.max(extend(list, j + 1, step + 1, first, window, n));
            }
        }
        best
    }
    let mut best = 0;
    for (i, &(ts, cond)) in list.iter().enumerate() {
        if cond == 1 {
            best = best.max(extend(list, i + 1, 1, ts, case.window, case.steps));
        }
    }
    best
}

/// Per group the level and steps, `None` where the result is NULL (both must be NULL
/// together).
fn levels_and_steps(level: &ArrayRef, steps: &ArrayRef) -> Vec<Option<(i32, Vec<i64>)>> {
    let level = level.as_primitive::<Int32Type>();
    let steps = steps.as_list::<i32>();
    (0..level.len())
        .map(|g| {
            assert_eq!(level.is_null(g), steps.is_null(g), "group {g}");
            level.is_valid(g).then(|| {
                let s = steps.value(g);
                (
                    level.value(g),
                    s.as_primitive::<Int64Type>().values().to_vec(),
                )
            })
        })
        .collect()
}

/// The GroupsAccumulator fed the rows in random batches over `partitions` partial
/// accumulators (or through convert_to_state), their states merged in a random order into a
/// final one, and emitted in random `EmitTo::First` pieces.
fn run_groups(case: &Case, output: Output, rng: &mut Rng) -> ArrayRef {
    let spec = spec(case);
    let mut rows = case.rows.clone();
    // Shuffle the input: order must not matter.
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let partitions = 1 + rng.below(3) as usize;
    let mut partials: Vec<FunnelGroups> = (0..partitions)
        .map(|_| FunnelGroups::new(Arc::clone(&spec), output))
        .collect();
    let mut states: Vec<(Vec<ArrayRef>, Vec<usize>)> = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let len = 1 + rng.below(64) as usize;
        let batch = &rows[start..(start + len).min(rows.len())];
        start += batch.len();
        let values = arrays(case, batch);
        let groups: Vec<usize> = batch.iter().map(|r| r.group).collect();
        if rng.chance(25) {
            // Skip-partial-aggregation path: every row becomes a state row.
            let p = &partials[0];
            states.push((p.convert_to_state(&values, None).unwrap(), groups));
        } else {
            let p = rng.below(partitions as u64) as usize;
            partials[p]
                .update_batch(&values, &groups, None, case.groups)
                .unwrap();
        }
    }
    for p in &mut partials {
        states.push((p.state(EmitTo::All).unwrap(), (0..case.groups).collect()));
    }
    for i in (1..states.len()).rev() {
        states.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut last = FunnelGroups::new(Arc::clone(&spec), output);
    for (values, groups) in &states {
        last.merge_batch(values, groups, case.groups).unwrap();
    }
    let mut pieces = Vec::new();
    let mut left = case.groups;
    while left > 0 {
        let n = 1 + rng.below(left as u64) as usize;
        let emit = if n == left {
            EmitTo::All
        } else {
            EmitTo::First(n)
        };
        let piece = last.evaluate(emit).unwrap();
        assert_eq!(piece.len(), n);
        pieces.push(piece);
        left -= n;
    }
    let refs: Vec<&dyn Array> = pieces.iter().map(|a| a.as_ref()).collect();
    datafusion::arrow::compute::concat(&refs).unwrap()
}

/// The row Accumulator per group: rows in two halves through two accumulators, merged.
fn run_row(case: &Case, output: Output, group: usize) -> ScalarValue {
    let spec = spec(case);
    let rows: Vec<Row> = case
        .rows
        .iter()
        .filter(|r| r.group == group)
        .cloned()
        .collect();
    let (a, b) = rows.split_at(rows.len() / 2);
    let mut left = FunnelRow::new(Arc::clone(&spec), output);
    let mut right = FunnelRow::new(Arc::clone(&spec), output);
    left.update_batch(&arrays(case, a)).unwrap();
    right.update_batch(&arrays(case, b)).unwrap();
    let state: Vec<ArrayRef> = right
        .state()
        .unwrap()
        .iter()
        .map(|s| s.to_array().unwrap())
        .collect();
    left.merge_batch(&state).unwrap();
    left.evaluate().unwrap()
}

#[test]
fn accumulators_match_references_whatever_the_split() {
    let mut rng = Rng(0x5EED_F00D);
    for case_no in 0..600 {
        let case = random_case(&mut rng);
        let level = run_groups(&case, Output::Level, &mut rng);
        let steps = run_groups(&case, Output::Steps, &mut rng);
        let got = levels_and_steps(&level, &steps);
        for (g, got) in got.iter().enumerate() {
            let ctx = format!("case {case_no} group {g}: {case:?}");
            let Some(list) = clickhouse_events(&case, g) else {
                assert_eq!(got, &None, "no usable row: NULL, {ctx}");
                if g % 4 == 0 {
                    assert_eq!(run_row(&case, Output::Level, g), ScalarValue::Int32(None));
                    assert!(
                        run_row(&case, Output::Steps, g).is_null(),
                        "row steps, {ctx}"
                    );
                }
                continue;
            };
            let Some((level, steps)) = got else {
                panic!("NULL for a group with usable rows, {ctx}");
            };
            let (want, want_steps) = if case.modes == "unordered" {
                unordered_level(&case, &list)
            } else if case.modes.contains("strict_once") {
                let want = clickhouse_once_level(&case, g);
                assert!(is_once_chain(&case, g, steps), "once steps, {ctx}");
                (want, steps.clone())
            } else {
                clickhouse_level(&case, &list)
            };
            assert_eq!(*level as usize, want, "level, {ctx}");
            assert_eq!(steps.len(), want, "steps, {ctx}");
            assert_eq!(steps, &want_steps, "steps, {ctx}");
            assert!(*level as usize <= case.steps, "{ctx}");
            if case.modes.is_empty() {
                assert_eq!(want, brute_force_level(&case, &list), "brute force, {ctx}");
            }
            if let Some(first) = steps.first() {
                assert!(steps.windows(2).all(|w| w[0] <= w[1]), "{ctx}");
                assert!(steps.last().unwrap() - first <= case.window, "{ctx}");
            }
            if g % 4 == 0 {
                let row_level = run_row(&case, Output::Level, g);
                assert_eq!(
                    row_level,
                    ScalarValue::Int32(Some(want as i32)),
                    "row, {ctx}"
                );
                let row_steps = run_row(&case, Output::Steps, g).to_array().unwrap();
                let row_steps = row_steps.as_list::<i32>().value(0);
                assert_eq!(
                    row_steps.as_primitive::<Int64Type>().values().to_vec(),
                    want_steps,
                    "row steps, {ctx}"
                );
            }
        }
    }
}
