//! Property test: on random groups, modes and windows, the GroupsAccumulator (one batch; many
//! batches over several partial accumulators merged in a shuffled order; the skip-partial path
//! through `convert_to_state`; emission in `EmitTo::First` pieces) and the row Accumulator give
//! the same levels and steps as two references written independently of `chain`: a literal
//! transcription of ClickHouse's `getEventLevel` and, for the default mode, a brute-force
//! search over all subsequences of the sorted events.

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
    let n_rows = rng.below(300) as usize;
    let span = 1 + rng.below(30) as i64;
    let mut modes = Vec::new();
    for m in ["strict_order", "strict_deduplication", "strict_increase"] {
        if rng.chance(35) {
            modes.push(m);
        }
    }
    let rows = (0..n_rows)
        .map(|_| {
            // An event "type" matches one step mostly; sometimes several or none.
            let kind = rng.below(steps as u64 + 2) as usize;
            let conds = (0..steps)
                .map(|c| {
                    if rng.chance(5) {
                        None
                    } else {
                        Some(c == kind || rng.chance(8))
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
    for case_no in 0..400 {
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
            let (want, want_steps) = clickhouse_level(&case, &list);
            assert_eq!(*level as usize, want, "level, {ctx}");
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
