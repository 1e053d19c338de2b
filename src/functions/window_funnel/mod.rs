//! `window_funnel` and `window_funnel_steps`: ClickHouse's `windowFunnel` as DataFusion
//! aggregate functions (PRODUCT.md, "Event funnel").
//!
//! ```sql
//! window_funnel(window, [modes,] ts, cond1, …, condN)        -- Int32 level, 0 to N
//! window_funnel_steps(window, [modes,] ts, cond1, …, condN)  -- List of step timestamps
//! ```
//!
//! - `window`: a constant interval (`interval '7 days'`) or a whole number of seconds; with an
//!   integer `ts` a whole number in the unit of `ts` (as in ClickHouse). Inclusive: a step
//!   exactly `window` after the chain's first step counts.
//! - `modes`: an optional constant string, several comma-separated, ClickHouse's options:
//!   `'strict_order'` (no other row between steps once the chain started),
//!   `'strict_deduplication'` (a repeated step event stops the scan), `'strict_increase'`
//!   (strictly increasing step times), `'strict_once'` (a row is at most one step of a chain,
//!   even if it matches several conditions) and `'allow_reentry'` (with `strict_order` only: a
//!   step event before its previous step was reached is ignored instead of stopping the scan);
//!   and crmlens's own `'unordered'`, alone: the steps in any order, the level being the most
//!   distinct steps done within one window from the first of them (see `unordered`).
//! - `ts`: a timestamp of any unit and time zone (instants are compared), a date, or an integer.
//! - `cond1` … `condN`: 1 to 32 boolean expressions.
//!
//! The level is the largest k such that events matching cond1, …, condk occur in this order
//! within the window of the chain's first step, computed exactly as ClickHouse's
//! `windowFunnel` (source `AggregateFunctionWindowFunnel.cpp`, version 26.x; see `chain`).
//!
//! `window_funnel_steps` runs the same chain and returns the timestamps of the steps of the
//! chain that first reached the returned level, in the scan order (timestamp, then condition
//! index): its length is the level; element i is when step i + 1 happened. When all N steps
//! are reached this is the first chain to complete the funnel (the scan stops there); below N
//! it is the first chain that reached that level, even if a later chain reached it again.
//! Element 1 is that chain's entry (its step 1). Timestamps come back in microseconds with the
//! input's time zone, dates as dates, integers as Int64. A group with level 0 gets an empty list.
//!
//! NULLs, as ClickHouse 26 (checked on chdb 4.4, ClickHouse 26.9): a row whose timestamp or any
//! condition is NULL is skipped, as if it were not there (so under `strict_order` it does not
//! stop the chain, and a row matching step 2 whose step-3 condition is NULL is not step 2
//! either); a group without a usable row (every row skipped, or no row at all) gets NULL from
//! both functions. A group with usable rows but no step 1 gets 0 and an empty list.
//!
//! Choices the definitions leave open:
//! - The level is an Int32 (ClickHouse returns UInt8).
//! - ClickHouse returns 0 rather than NULL for an input without rows when no argument has a
//!   Nullable type; DataFusion columns are nullable as a rule, so here it is always NULL.
//! - A row matching several conditions is one event per condition, sorted by condition index
//!   within the same timestamp, as in ClickHouse: one row can be steps 1 and 2 of a chain
//!   (except under `strict_increase`, where steps need strictly increasing timestamps).
//! - Ties: events are ordered by (timestamp, condition index); rows with the same timestamp
//!   and condition are interchangeable, so the result does not depend on input order.
//! - `strict_deduplication` returns the highest level reached when a step's event repeats
//!   (ClickHouse since the fix of its issue 37177; older versions returned the condition index
//!   of the event just before, which could be lower).
//! - Intervals are fixed lengths (a day is 86,400 s, not a calendar day in the dataset time
//!   zone); intervals with months are refused, as months have no fixed length. A date `ts` is
//!   its midnight (UTC), so with dates a 1-day window reaches the next day inclusive.
//! - Timestamps are compared in their own unit: a nanosecond input keeps its precision; only
//!   the steps' output is truncated to microseconds.

mod chain;
mod once;
mod spec;
mod state;
#[cfg(test)]
mod tests;
mod unordered;

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::function::{
    AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs,
};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, DocSection, Documentation, Expr,
    GroupsAccumulator, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;

use spec::{Layout, Spec};
pub use spec::{MODES, Modes};
use state::{FunnelGroups, FunnelRow, Output};

/// `window_funnel`: the level reached.
pub fn window_funnel() -> AggregateUDF {
    AggregateUDF::new_from_impl(WindowFunnel::new(Output::Level))
}

/// `window_funnel_steps`: the timestamps of the steps of the chain that produced the level.
pub fn window_funnel_steps() -> AggregateUDF {
    AggregateUDF::new_from_impl(WindowFunnel::new(Output::Steps))
}

/// Both functions: one state and one chain, two evaluations.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WindowFunnel {
    output: Output,
    signature: Signature,
}

impl WindowFunnel {
    fn new(output: Output) -> Self {
        WindowFunnel {
            output,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    fn spec(&self, args: &AccumulatorArgs) -> Result<Arc<Spec>> {
        let types: Vec<DataType> = args
            .expr_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let constants: Vec<Option<ScalarValue>> = args
            .exprs
            .iter()
            .map(|e| e.downcast_ref::<Literal>().map(|l| l.value().clone()))
            .collect();
        Ok(Arc::new(Spec::new(self.name(), &types, &constants)?))
    }
}

static LEVEL_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DocSection::default(),
        "The level a group reaches in a funnel of steps cond1 … condN within a window from its \
         first step (ClickHouse windowFunnel semantics): an Int32 from 0 to N.",
        "window_funnel(window, [modes,] ts, cond1, ..., condN)",
    )
    .with_sql_example(
        "select customer_id, window_funnel(interval '7 days', occurred_at, event = 'visit', \
         event = 'cart', event = 'purchase') as level from events group by customer_id",
    )
    .with_argument(
        "window",
        "an interval or a whole number of seconds (unit of ts for an integer ts); inclusive",
    )
    .with_argument(
        "modes",
        "optional string: strict_order, strict_deduplication, strict_increase, strict_once, \
         allow_reentry (with strict_order), comma-separated; or unordered (steps in any order)",
    )
    .with_argument("ts", "timestamp (any unit, any time zone), date or integer")
    .with_argument("cond", "1 to 32 boolean expressions, the steps in order")
    .with_related_udf("window_funnel_steps")
    .build()
});

static STEPS_DOC: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DocSection::default(),
        "The timestamps of the steps of the chain that first reached window_funnel's level \
         (in the order of (timestamp, condition index)): a list as long as the level, element i \
         is when step i+1 happened; microsecond timestamps with the input's time zone, dates as \
         dates, integers as Int64.",
        "window_funnel_steps(window, [modes,] ts, cond1, ..., condN)",
    )
    .with_argument("window", "as for window_funnel")
    .with_argument("modes", "as for window_funnel")
    .with_argument("ts", "as for window_funnel")
    .with_argument("cond", "as for window_funnel")
    .with_related_udf("window_funnel")
    .build()
});

impl AggregateUDFImpl for WindowFunnel {
    fn name(&self) -> &str {
        match self.output {
            Output::Level => "window_funnel",
            Output::Steps => "window_funnel_steps",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        Ok(Layout::from_types(self.name(), arg_types)?.coerced_types(arg_types))
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let layout = Layout::from_types(self.name(), arg_types)?;
        Ok(match self.output {
            Output::Level => DataType::Int32,
            Output::Steps => DataType::new_list(state::steps_item_type(&layout.ts_type), true),
        })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state::state_fields(args.name))
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(FunnelRow::new(self.spec(&acc_args)?, self.output)))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(FunnelGroups::new(self.spec(&args)?, self.output)))
    }

    /// Checks the constant window and modes while the query is planned, so that an unknown
    /// mode is a planning error even before an accumulator is made. The expression is returned
    /// unchanged.
    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        let name = self.name().to_string();
        Some(Box::new(
            move |function: AggregateFunction, info: &SimplifyContext| {
                let args = &function.params.args;
                let types: Option<Vec<DataType>> =
                    args.iter().map(|a| info.get_data_type(a).ok()).collect();
                if let Some(types) = types {
                    let constants: Vec<Option<ScalarValue>> = args
                        .iter()
                        .map(|a| match a {
                            Expr::Literal(v, _) => Some(v.clone()),
                            _ => None,
                        })
                        .collect();
                    Spec::new(&name, &types, &constants)?;
                }
                Ok(Expr::AggregateFunction(function))
            },
        ))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(match self.output {
            Output::Level => &LEVEL_DOC,
            Output::Steps => &STEPS_DOC,
        })
    }
}
