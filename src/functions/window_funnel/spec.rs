//! The arguments of `window_funnel` / `window_funnel_steps`: their layout by type (checked at
//! type coercion, so a wrong type is a planning error) and the constant window and modes
//! (checked when the expression is simplified and again when an accumulator is made, so an
//! unknown mode is an error before any row is read).

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, ScalarValue, plan_datafusion_err, plan_err};

use crate::hint::closest;

/// Most conditions a funnel may have (as in ClickHouse: the step index fits the state's byte).
pub const MAX_STEPS: usize = 32;

/// The valid modes, in the order the error message lists them.
pub const MODES: [&str; 6] = [
    "strict_order",
    "strict_deduplication",
    "strict_increase",
    "strict_once",
    "allow_reentry",
    "unordered",
];

/// How the timestamp argument is read into the `i64` the chain compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsKind {
    /// A timestamp: its value in its own unit (time zones do not change the instant).
    Timestamp(TimeUnit),
    /// A `Date32`: days, read as seconds (midnight UTC of the day) so that the window is in
    /// seconds as for timestamps.
    Date32,
    /// A `Date64`: milliseconds.
    Date64,
    /// An integer, cast to `Int64`: the window is in the same unit.
    Int,
}

impl TsKind {
    /// Units of the internal value per second (`None` for integers: no time unit).
    fn units_per_second(&self) -> Option<i64> {
        match self {
            TsKind::Timestamp(TimeUnit::Second) | TsKind::Date32 => Some(1),
            TsKind::Timestamp(TimeUnit::Millisecond) | TsKind::Date64 => Some(1_000),
            TsKind::Timestamp(TimeUnit::Microsecond) => Some(1_000_000),
            TsKind::Timestamp(TimeUnit::Nanosecond) => Some(1_000_000_000),
            TsKind::Int => None,
        }
    }
}

/// Where the arguments are: `window, [modes], ts, cond1, …, condN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Whether the second argument is the modes string.
    pub has_modes: bool,
    /// Number of conditions (1 to [`MAX_STEPS`]).
    pub steps: usize,
    /// The type of the timestamp argument as given (before coercion of integers to Int64).
    pub ts_type: DataType,
}

impl Layout {
    /// Index of the timestamp argument; the conditions follow it.
    pub fn ts_arg(&self) -> usize {
        if self.has_modes { 2 } else { 1 }
    }

    /// The layout of a call with these argument types; a clear planning error when the types
    /// do not fit the signature.
    pub fn from_types(name: &str, types: &[DataType]) -> Result<Layout> {
        let usage = format!(
            "{name}(window, [modes,] ts, cond1, …, condN): window an interval or a number of seconds, modes a string such as 'strict_order', ts a timestamp, date or integer, each cond a boolean"
        );
        let has_modes = types.get(1).is_some_and(is_string);
        let ts_arg = if has_modes { 2 } else { 1 };
        if types.len() < ts_arg + 2 {
            return plan_err!(
                "{name} needs a window, a timestamp and at least one condition; {usage}"
            );
        }
        let steps = types.len() - ts_arg - 1;
        if steps > MAX_STEPS {
            return plan_err!("{name} takes at most {MAX_STEPS} conditions, got {steps}");
        }
        match &types[0] {
            DataType::Interval(_) | DataType::Null => {}
            t if t.is_integer() => {}
            t => {
                return plan_err!(
                    "{name}: the window (argument 1) has type {t}; expected an interval such as interval '7 days' or a whole number of seconds"
                );
            }
        }
        let ts_type = types[ts_arg].clone();
        match &ts_type {
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 | DataType::Null => {}
            t if t.is_integer() => {}
            t => {
                return plan_err!(
                    "{name}: the timestamp (argument {}) has type {t}; expected a timestamp, a date or an integer",
                    ts_arg + 1
                );
            }
        }
        for (i, t) in types.iter().enumerate().skip(ts_arg + 1) {
            if !matches!(t, DataType::Boolean | DataType::Null) {
                return plan_err!(
                    "{name}: condition {} (argument {}) has type {t}; expected a boolean expression such as event = 'signup'",
                    i - ts_arg,
                    i + 1
                );
            }
        }
        Ok(Layout {
            has_modes,
            steps,
            ts_type,
        })
    }

    /// The types the arguments are coerced to: integer windows and timestamps to Int64, NULL
    /// conditions to Boolean (false), a NULL timestamp column to Int64 (every row ignored).
    pub fn coerced_types(&self, types: &[DataType]) -> Vec<DataType> {
        let ts_arg = self.ts_arg();
        types
            .iter()
            .enumerate()
            .map(|(i, t)| match t {
                t if i == 0 && t.is_integer() => DataType::Int64,
                t if i == ts_arg && (t.is_integer() || *t == DataType::Null) => DataType::Int64,
                DataType::Null if i > ts_arg => DataType::Boolean,
                t => t.clone(),
            })
            .collect()
    }

    /// How the (coerced) timestamp is read.
    pub fn ts_kind(&self) -> TsKind {
        match &self.ts_type {
            DataType::Timestamp(unit, _) => TsKind::Timestamp(*unit),
            DataType::Date32 => TsKind::Date32,
            DataType::Date64 => TsKind::Date64,
            _ => TsKind::Int,
        }
    }
}

/// The modes of the chain (ClickHouse `windowFunnel` options, same names and meaning).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Modes {
    /// No other row may come between steps once the chain started.
    pub strict_order: bool,
    /// A repeated step event stops the scan.
    pub strict_deduplication: bool,
    /// Steps need strictly increasing timestamps.
    pub strict_increase: bool,
    /// A row is at most one step of a chain, even when it matches several conditions.
    pub strict_once: bool,
    /// With `strict_order`: a step event that comes too early (its previous step not yet
    /// reached) is ignored instead of stopping the scan.
    pub allow_reentry: bool,
    /// crmlens's own, alone: the steps in any order (see `unordered`).
    pub unordered: bool,
}

impl Modes {
    /// Parses a comma-separated list of modes for function `name`; empty items are ignored.
    /// The message for an unknown mode starts with the mode and lists the valid ones;
    /// `allow_reentry` needs `strict_order`, as in ClickHouse; `unordered` stands alone.
    pub fn parse(name: &str, text: &str) -> std::result::Result<Modes, String> {
        let mut modes = Modes::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "strict_order" => modes.strict_order = true,
                "strict_deduplication" => modes.strict_deduplication = true,
                "strict_increase" => modes.strict_increase = true,
                "strict_once" => modes.strict_once = true,
                "allow_reentry" => modes.allow_reentry = true,
                "unordered" => modes.unordered = true,
                other => {
                    let hint = match other {
                        "strict" => {
                            " (ClickHouse's former name of strict_deduplication)".to_string()
                        }
                        _ => closest(other, MODES)
                            .map(|m| format!(" (did you mean {m}?)"))
                            .unwrap_or_default(),
                    };
                    return Err(format!(
                        "'{other}' is not a {name} mode{hint}; valid modes: {} (several, comma-separated)",
                        MODES.join(", ")
                    ));
                }
            }
        }
        if modes.unordered
            && modes
                != (Modes {
                    unordered: true,
                    ..Modes::default()
                })
        {
            return Err(format!(
                "{name}: the mode unordered is not combined with others (they are about the order of the steps)"
            ));
        }
        if modes.allow_reentry && !modes.strict_order {
            return Err(format!(
                "{name}: the mode allow_reentry only applies with strict_order; write 'strict_order, allow_reentry'"
            ));
        }
        Ok(modes)
    }
}

/// Everything the chain needs: the window in the unit of the internal timestamps, the modes
/// and the number of steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub window: i64,
    pub modes: Modes,
    pub steps: usize,
    pub ts_kind: TsKind,
    pub layout: Layout,
}

impl Spec {
    /// The spec of a call: `types` are the argument types, `constants` the values of the
    /// arguments that are constants (`None` for the others).
    pub fn new(name: &str, types: &[DataType], constants: &[Option<ScalarValue>]) -> Result<Spec> {
        let layout = Layout::from_types(name, types)?;
        let ts_kind = layout.ts_kind();
        let Some(window) = constants.first().and_then(Option::as_ref) else {
            return plan_err!(
                "{name}: the window (argument 1) must be a constant: an interval such as interval '7 days' or a number of seconds"
            );
        };
        let window = window_units(name, window, &ts_kind)?;
        let modes = if layout.has_modes {
            match constants.get(1).and_then(Option::as_ref) {
                Some(
                    ScalarValue::Utf8(Some(s))
                    | ScalarValue::LargeUtf8(Some(s))
                    | ScalarValue::Utf8View(Some(s)),
                ) => Modes::parse(name, s).map_err(|m| plan_datafusion_err!("{m}"))?,
                _ => {
                    return plan_err!(
                        "{name}: the modes (argument 2) must be a constant string such as 'strict_order'; valid modes: {}",
                        MODES.join(", ")
                    );
                }
            }
        } else {
            Modes::default()
        };
        Ok(Spec {
            window,
            modes,
            steps: layout.steps,
            ts_kind,
            layout,
        })
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The window in the unit of the internal timestamps. An interval is a fixed length (a day is
/// 86,400 s; months have no fixed length and are refused); a number is seconds, or the unit of
/// an integer timestamp. Fractions of a unit are dropped: with integer timestamps
/// `t − first ≤ w` and `t − first ≤ floor(w)` are the same test.
fn window_units(name: &str, window: &ScalarValue, kind: &TsKind) -> Result<i64> {
    let nanos: Option<i128> = match window {
        ScalarValue::IntervalMonthDayNano(Some(v)) => {
            if v.months != 0 {
                return plan_err!(
                    "{name}: the window interval has months, which have no fixed length; give it in days (e.g. interval '30 days')"
                );
            }
            Some(v.days as i128 * 86_400_000_000_000 + v.nanoseconds as i128)
        }
        ScalarValue::IntervalDayTime(Some(v)) => {
            Some(v.days as i128 * 86_400_000_000_000 + v.milliseconds as i128 * 1_000_000)
        }
        ScalarValue::IntervalYearMonth(Some(m)) => {
            if *m != 0 {
                return plan_err!(
                    "{name}: the window interval has months, which have no fixed length; give it in days (e.g. interval '30 days')"
                );
            }
            Some(0)
        }
        _ => None,
    };
    let units: i128 = match (nanos, kind.units_per_second()) {
        (Some(_), None) => {
            return plan_err!(
                "{name}: an interval window needs a timestamp or date ts; with an integer ts give the window as an integer in the unit of ts"
            );
        }
        (Some(n), Some(per_second)) => n * per_second as i128 / 1_000_000_000,
        (None, per_second) => {
            let Some(n) = integer(window) else {
                return plan_err!(
                    "{name}: the window must be a non-NULL interval such as interval '7 days' or a whole number of seconds, got {window}"
                );
            };
            n * per_second.unwrap_or(1) as i128
        }
    };
    if units < 0 {
        return plan_err!("{name}: the window must not be negative, got {window}");
    }
    Ok(i64::try_from(units).unwrap_or(i64::MAX))
}

fn integer(v: &ScalarValue) -> Option<i128> {
    Some(match v {
        ScalarValue::Int8(Some(x)) => *x as i128,
        ScalarValue::Int16(Some(x)) => *x as i128,
        ScalarValue::Int32(Some(x)) => *x as i128,
        ScalarValue::Int64(Some(x)) => *x as i128,
        ScalarValue::UInt8(Some(x)) => *x as i128,
        ScalarValue::UInt16(Some(x)) => *x as i128,
        ScalarValue::UInt32(Some(x)) => *x as i128,
        ScalarValue::UInt64(Some(x)) => *x as i128,
        _ => return None,
    })
}
