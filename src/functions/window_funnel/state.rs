//! The state of `window_funnel` / `window_funnel_steps` and its two accumulators.
//!
//! A group's state is the list of its events (timestamp, condition index): one per condition a
//! row matches, and in `strict_order` mode one with index 0 per row that matches none; other
//! rows are not kept, but whether the group had a usable row at all is (its result is NULL
//! otherwise). The [`GroupsAccumulator`] keeps every group's events in one flat, append-only
//! arena (three columns: timestamp, condition, group index) instead of a vector per group:
//! appending is a push, there is no per-group allocation, and merging partial states is
//! appending too. When a result (or a partial state) is emitted the arena is bucketed by group
//! with a stable counting sort, each group's events are sorted by (timestamp, condition) and
//! scanned (see `chain`). Since the sort is total, the result does not depend on how the rows
//! were split into batches and partitions. The intermediate state is two list columns, the
//! timestamps and the condition indices of the group's events (NULL for a group without a
//! usable row).
//!
//! Under `strict_once` the scan needs to know which events came from one row: a row's events
//! are stored one after the other, all but the first flagged `SAME_ROW`, and every step above
//! (arena, buckets, state lists, merges) keeps a group's events in the order they came, so that
//! the rows can be put together again before the scan (see `once`).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Date64Array, Int32Array, Int64Array,
    ListArray, PrimitiveArray, UInt8Array,
};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

use super::chain::{self, Event, NoSteps, Recorder, SAME_ROW, Steps};
use super::spec::{Spec, TsKind};
use super::{once, unordered};

/// What the function returns: the level, or the step timestamps of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Output {
    Level,
    Steps,
}

/// The element type of `window_funnel_steps`' list: timestamps in microseconds keeping the
/// input's time zone, dates as they came, integers as Int64.
pub fn steps_item_type(ts_type: &DataType) -> DataType {
    match ts_type {
        DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
        DataType::Date32 => DataType::Date32,
        DataType::Date64 => DataType::Date64,
        _ => DataType::Int64,
    }
}

/// The two state fields: the timestamps and the condition indices of a group's events.
pub fn state_fields(name: &str) -> Vec<FieldRef> {
    vec![
        Arc::new(Field::new(
            format!("{name}[ts]"),
            DataType::List(item_field(DataType::Int64)),
            true,
        )),
        Arc::new(Field::new(
            format!("{name}[cond]"),
            DataType::List(item_field(DataType::UInt8)),
            true,
        )),
    ]
}

fn item_field(data_type: DataType) -> FieldRef {
    Arc::new(Field::new_list_field(data_type, true))
}

/// Reads a batch of arguments and, in row order, calls `f(row, None)` for every usable row
/// and then `f(row, Some(event))` for each of its events. A row is usable when its timestamp
/// and every condition are not NULL and the filter keeps it (ClickHouse skips a row with a
/// NULL argument); other rows give no call at all.
fn for_each_event(
    spec: &Spec,
    values: &[ArrayRef],
    filter: Option<&BooleanArray>,
    masks: &mut Vec<u32>,
    mut f: impl FnMut(usize, Option<Event>),
) -> Result<()> {
    let ts_arg = spec.layout.ts_arg();
    let ts_array = &values[ts_arg];
    let rows = ts_array.len();
    let owned;
    let ts: &[i64] = match (&spec.ts_kind, ts_array.data_type()) {
        (TsKind::Date32, DataType::Date32) => {
            owned = ts_array
                .as_primitive::<datafusion::arrow::datatypes::Date32Type>()
                .values()
                .iter()
                .map(|d| *d as i64 * 86_400)
                .collect::<Vec<i64>>();
            &owned
        }
        (TsKind::Date64, DataType::Date64) => ts_array
            .as_primitive::<datafusion::arrow::datatypes::Date64Type>()
            .values(),
        (TsKind::Int, DataType::Int64) => ts_array.as_primitive::<Int64Type>().values(),
        (TsKind::Timestamp(_), DataType::Timestamp(unit, _)) => match unit {
            TimeUnit::Second => ts_array
                .as_primitive::<datafusion::arrow::datatypes::TimestampSecondType>()
                .values(),
            TimeUnit::Millisecond => ts_array
                .as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>()
                .values(),
            TimeUnit::Microsecond => ts_array.as_primitive::<TimestampMicrosecondType>().values(),
            TimeUnit::Nanosecond => ts_array
                .as_primitive::<datafusion::arrow::datatypes::TimestampNanosecondType>()
                .values(),
        },
        (kind, t) => {
            return exec_err!("window_funnel: timestamp of type {t} where {kind:?} was planned");
        }
    };
    masks.clear();
    masks.resize(rows, 0);
    let mut keep = combined_validity(ts_array.nulls(), filter);
    for (i, cond) in values[ts_arg + 1..].iter().enumerate() {
        let Some(cond) = cond.as_boolean_opt() else {
            return exec_err!(
                "window_funnel: condition {} has type {}; expected boolean",
                i + 1,
                cond.data_type()
            );
        };
        if let Some(nulls) = cond.logical_nulls() {
            keep = Some(match keep {
                Some(k) => &k & nulls.inner(),
                None => nulls.inner().clone(),
            });
        }
        for row in cond.values().set_indices() {
            masks[row] |= 1 << i;
        }
    }
    let strict_order = spec.modes.strict_order;
    let same_row = if spec.modes.strict_once { SAME_ROW } else { 0 };
    for (row, (&t, &mask)) in ts.iter().zip(masks.iter()).enumerate() {
        if keep.as_ref().is_some_and(|k| !k.value(row)) {
            continue;
        }
        f(row, None);
        if mask == 0 {
            if strict_order {
                f(row, Some(Event { ts: t, cond: 0 }));
            }
            continue;
        }
        let mut m = mask;
        let mut flag = 0;
        while m != 0 {
            let bit = m.trailing_zeros();
            f(
                row,
                Some(Event {
                    ts: t,
                    cond: (bit as u8 + 1) | flag,
                }),
            );
            flag = same_row;
            m &= m - 1;
        }
    }
    Ok(())
}

/// The rows to read: timestamp not NULL and filter true.
fn combined_validity(
    nulls: Option<&NullBuffer>,
    filter: Option<&BooleanArray>,
) -> Option<BooleanBuffer> {
    let filter = filter.map(|f| match f.nulls() {
        Some(n) => f.values() & n.inner(),
        None => f.values().clone(),
    });
    match (nulls.map(|n| n.inner().clone()), filter) {
        (None, None) => None,
        (Some(a), None) | (None, Some(a)) => Some(a),
        (Some(a), Some(b)) => Some(&a & &b),
    }
}

/// Events bucketed by group: group g's events are `events[offsets[g]..offsets[g + 1]]`;
/// `seen[g]` says whether the group had a usable row (its result is NULL otherwise).
struct Buckets {
    offsets: Vec<usize>,
    events: Vec<Event>,
    seen: Vec<bool>,
}

/// One group's level from its stored events (in stored order; `rows` is scratch space):
/// sorted and scanned (`chain`, or `unordered`), or under `strict_once` put together into
/// rows first.
fn group_level<R: Recorder>(
    events: &mut [Event],
    spec: &Spec,
    rec: &mut R,
    rows: &mut Vec<once::Row>,
) -> usize {
    if spec.modes.strict_once {
        once::rows(events, rows);
        once::level(rows, spec, rec)
    } else if spec.modes.unordered {
        events.sort_unstable();
        unordered::level(events, spec, rec)
    } else {
        events.sort_unstable();
        chain::level(events, spec, rec)
    }
}

/// The result for every bucket: the level (Int32) or the list of step timestamps; NULL for
/// a group without a usable row.
fn evaluate_buckets(spec: &Spec, output: Output, mut b: Buckets) -> Result<ArrayRef> {
    let groups = b.offsets.len() - 1;
    let nulls = seen_nulls(&b.seen);
    let mut rows = Vec::new();
    match output {
        Output::Level => {
            let mut levels = Vec::with_capacity(groups);
            for g in 0..groups {
                let events = &mut b.events[b.offsets[g]..b.offsets[g + 1]];
                levels.push(group_level(events, spec, &mut NoSteps, &mut rows) as i32);
            }
            Ok(Arc::new(Int32Array::new(levels.into(), nulls)))
        }
        Output::Steps => {
            let mut rec = Steps::default();
            let mut offsets = Vec::with_capacity(groups + 1);
            offsets.push(0i32);
            let mut steps: Vec<i64> = Vec::new();
            for g in 0..groups {
                let events = &mut b.events[b.offsets[g]..b.offsets[g + 1]];
                rec.reset();
                let level = group_level(events, spec, &mut rec, &mut rows);
                debug_assert_eq!(level, rec.best().len());
                steps.extend(rec.best().iter().map(|&t| output_value(&spec.ts_kind, t)));
                let Ok(end) = i32::try_from(steps.len()) else {
                    return exec_err!("window_funnel_steps: more than 2^31 steps in one batch");
                };
                offsets.push(end);
            }
            let item = steps_item_type(&spec.layout.ts_type);
            let values: ArrayRef = match &item {
                DataType::Date32 => Arc::new(Date32Array::from(
                    steps.iter().map(|&d| d as i32).collect::<Vec<i32>>(),
                )),
                DataType::Date64 => Arc::new(Date64Array::from(steps)),
                DataType::Timestamp(_, tz) => Arc::new(
                    PrimitiveArray::<TimestampMicrosecondType>::from(steps)
                        .with_timezone_opt(tz.clone()),
                ),
                _ => Arc::new(Int64Array::from(steps)),
            };
            Ok(Arc::new(ListArray::try_new(
                item_field(item),
                OffsetBuffer::new(offsets.into()),
                values,
                nulls,
            )?))
        }
    }
}

/// An internal timestamp as a value of the steps' element type.
fn output_value(kind: &TsKind, t: i64) -> i64 {
    match kind {
        TsKind::Timestamp(TimeUnit::Second) => t.saturating_mul(1_000_000),
        TsKind::Timestamp(TimeUnit::Millisecond) => t.saturating_mul(1_000),
        TsKind::Timestamp(TimeUnit::Microsecond) => t,
        TsKind::Timestamp(TimeUnit::Nanosecond) => t.div_euclid(1_000),
        TsKind::Date32 => t.div_euclid(86_400),
        TsKind::Date64 | TsKind::Int => t,
    }
}

/// NULL where a group had no usable row (`None`: every group had one).
fn seen_nulls(seen: &[bool]) -> Option<NullBuffer> {
    Some(NullBuffer::from(seen)).filter(|n| n.null_count() > 0)
}

/// The state columns of the buckets: per group, a list of timestamps and one of conditions;
/// both NULL for a group without a usable row.
fn state_of_buckets(b: &Buckets) -> Result<Vec<ArrayRef>> {
    let Ok(offsets) = b
        .offsets
        .iter()
        .map(|&o| i32::try_from(o))
        .collect::<Result<Vec<i32>, _>>()
    else {
        return exec_err!("window_funnel: more than 2^31 events in one partial state batch");
    };
    let offsets = OffsetBuffer::new(offsets.into());
    let nulls = seen_nulls(&b.seen);
    let ts = Int64Array::from_iter_values(b.events.iter().map(|e| e.ts));
    let cond = UInt8Array::from_iter_values(b.events.iter().map(|e| e.cond));
    Ok(vec![
        Arc::new(ListArray::try_new(
            item_field(DataType::Int64),
            offsets.clone(),
            Arc::new(ts),
            nulls.clone(),
        )?),
        Arc::new(ListArray::try_new(
            item_field(DataType::UInt8),
            offsets,
            Arc::new(cond),
            nulls,
        )?),
    ])
}

/// Calls `f(row, None)` for every state of a batch that saw a usable row (row = the state's
/// row), then `f(row, Some(event))` for each of its events.
fn for_each_state_event(
    values: &[ArrayRef],
    mut f: impl FnMut(usize, Option<Event>),
) -> Result<()> {
    let (Some(ts), Some(cond)) = (
        values[0].as_list_opt::<i32>(),
        values[1].as_list_opt::<i32>(),
    ) else {
        return exec_err!(
            "window_funnel: unexpected state types {} / {}",
            values[0].data_type(),
            values[1].data_type()
        );
    };
    if ts.value_offsets() != cond.value_offsets() {
        return exec_err!("window_funnel: state lists of different shapes");
    }
    let (Some(ts_values), Some(cond_values)) = (
        ts.values().as_primitive_opt::<Int64Type>(),
        cond.values()
            .as_primitive_opt::<datafusion::arrow::datatypes::UInt8Type>(),
    ) else {
        return exec_err!("window_funnel: unexpected state item types");
    };
    let ts_values = ts_values.values();
    let cond_values = cond_values.values();
    for (row, w) in ts.value_offsets().windows(2).enumerate() {
        if ts.is_null(row) {
            continue;
        }
        f(row, None);
        for i in w[0] as usize..w[1] as usize {
            f(
                row,
                Some(Event {
                    ts: ts_values[i],
                    cond: cond_values[i],
                }),
            );
        }
    }
    Ok(())
}

/// The `GroupsAccumulator`: every group's events in one flat arena, and per group whether it
/// had a usable row.
pub struct FunnelGroups {
    spec: Arc<Spec>,
    output: Output,
    ts: Vec<i64>,
    cond: Vec<u8>,
    group: Vec<u32>,
    seen: Vec<bool>,
    num_groups: usize,
    masks: Vec<u32>,
}

impl FunnelGroups {
    pub fn new(spec: Arc<Spec>, output: Output) -> Self {
        FunnelGroups {
            spec,
            output,
            ts: Vec::new(),
            cond: Vec::new(),
            group: Vec::new(),
            seen: Vec::new(),
            num_groups: 0,
            masks: Vec::new(),
        }
    }

    /// A usable row of `group` (`None`) or one of its events.
    fn push(&mut self, group: usize, e: Option<Event>) {
        match e {
            None => self.seen[group] = true,
            Some(e) => {
                self.ts.push(e.ts);
                self.cond.push(e.cond);
                self.group.push(group as u32);
            }
        }
    }

    /// Takes the events of the groups `emit_to` names out of the arena, bucketed by group; the
    /// other groups stay, renumbered from 0.
    fn take(&mut self, emit_to: EmitTo) -> Buckets {
        let n = match emit_to {
            EmitTo::All => self.num_groups,
            EmitTo::First(n) => n.min(self.num_groups),
        };
        let mut offsets = vec![0usize; n + 1];
        for &g in &self.group {
            if (g as usize) < n {
                offsets[g as usize + 1] += 1;
            }
        }
        for g in 0..n {
            offsets[g + 1] += offsets[g];
        }
        let mut next = offsets.clone();
        let mut events = vec![Event { ts: 0, cond: 0 }; offsets[n]];
        let mut kept = 0;
        for i in 0..self.group.len() {
            let g = self.group[i] as usize;
            let e = Event {
                ts: self.ts[i],
                cond: self.cond[i],
            };
            if g < n {
                events[next[g]] = e;
                next[g] += 1;
            } else {
                self.ts[kept] = e.ts;
                self.cond[kept] = e.cond;
                self.group[kept] = (g - n) as u32;
                kept += 1;
            }
        }
        self.ts.truncate(kept);
        self.cond.truncate(kept);
        self.group.truncate(kept);
        if kept == 0 {
            // Give the memory back after a full emission.
            self.ts.shrink_to_fit();
            self.cond.shrink_to_fit();
            self.group.shrink_to_fit();
        }
        self.num_groups -= n;
        let seen = self.seen.drain(..n).collect();
        Buckets {
            offsets,
            events,
            seen,
        }
    }

    fn set_num_groups(&mut self, total_num_groups: usize) -> Result<()> {
        if total_num_groups > u32::MAX as usize {
            return exec_err!("window_funnel: more than 2^32 groups in one aggregation");
        }
        self.num_groups = self.num_groups.max(total_num_groups);
        self.seen.resize(self.num_groups, false);
        Ok(())
    }
}

impl GroupsAccumulator for FunnelGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.set_num_groups(total_num_groups)?;
        let spec = Arc::clone(&self.spec);
        let mut masks = std::mem::take(&mut self.masks);
        let result = for_each_event(&spec, values, opt_filter, &mut masks, |row, e| {
            self.push(group_indices[row], e)
        });
        self.masks = masks;
        result
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.set_num_groups(total_num_groups)?;
        for_each_state_event(values, |row, e| self.push(group_indices[row], e))
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let buckets = self.take(emit_to);
        evaluate_buckets(&self.spec, self.output, buckets)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        state_of_buckets(&self.take(emit_to))
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let rows = values[self.spec.layout.ts_arg()].len();
        let mut offsets = vec![0usize; rows + 1];
        let mut events = Vec::with_capacity(rows);
        let mut seen = vec![false; rows];
        let mut masks = Vec::new();
        for_each_event(
            &self.spec,
            values,
            opt_filter,
            &mut masks,
            |row, e| match e {
                None => seen[row] = true,
                Some(e) => {
                    offsets[row + 1] += 1;
                    events.push(e);
                }
            },
        )?;
        for r in 0..rows {
            offsets[r + 1] += offsets[r];
        }
        state_of_buckets(&Buckets {
            offsets,
            events,
            seen,
        })
    }

    fn size(&self) -> usize {
        self.ts.capacity() * 8
            + self.cond.capacity()
            + self.group.capacity() * 4
            + self.seen.capacity()
            + self.masks.capacity() * 4
            + size_of::<Self>()
    }
}

/// The row `Accumulator` (aggregates without GROUP BY, window frames): the same state and
/// evaluation, for one group.
#[derive(Debug)]
pub struct FunnelRow {
    spec: Arc<Spec>,
    output: Output,
    events: Vec<Event>,
    seen: bool,
    masks: Vec<u32>,
}

impl FunnelRow {
    pub fn new(spec: Arc<Spec>, output: Output) -> Self {
        FunnelRow {
            spec,
            output,
            events: Vec::new(),
            seen: false,
            masks: Vec::new(),
        }
    }

    fn buckets(&self) -> Buckets {
        Buckets {
            offsets: vec![0, self.events.len()],
            events: self.events.clone(),
            seen: vec![self.seen],
        }
    }

    /// A usable row (`None`) or one of its events.
    fn push(&mut self, e: Option<Event>) {
        match e {
            None => self.seen = true,
            Some(e) => self.events.push(e),
        }
    }
}

impl Accumulator for FunnelRow {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let spec = Arc::clone(&self.spec);
        let mut masks = std::mem::take(&mut self.masks);
        let result = for_each_event(&spec, values, None, &mut masks, |_, e| self.push(e));
        self.masks = masks;
        result
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for_each_state_event(states, |_, e| self.push(e))
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        state_of_buckets(&self.buckets())?
            .iter()
            .map(|a| ScalarValue::try_from_array(a, 0))
            .collect()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let result = evaluate_buckets(&self.spec, self.output, self.buckets())?;
        ScalarValue::try_from_array(&result, 0)
    }

    fn size(&self) -> usize {
        self.events.capacity() * size_of::<Event>() + self.masks.capacity() * 4 + size_of::<Self>()
    }
}
