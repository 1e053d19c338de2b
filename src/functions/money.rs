//! `money(amount, 'table.column', scale)`: an amount column as an exact decimal, so that sums
//! of money do not depend on the order rows are added in. A float sum does: DataFusion adds
//! partitions in the order they finish, and `rfm` printed `5921.949999999999` on one run and
//! `5921.95` on the next (issue 18, item 13). Decimal sums are exact, hence the same on every
//! run, and print at currency precision.
//!
//! The result is `decimal128(38, s)`: `s` is the column's own scale when it is a decimal (the
//! contract's canonical `decimal128(14, 2)` keeps its cents), else `scale`, the currency's
//! minor units (floats are rounded half away from zero to them). NaN and ±infinity are not
//! money: they fail the query with an error naming the column, where they used to make every
//! customer an ABC class C and empty the `vip` segment.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

/// The `money` function.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Money {
        signature: Signature::any(3, Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Money {
    signature: Signature,
}

/// The decimal type of `money` over a column of `input` with `scale` decimals asked for.
fn money_type(input: &DataType, scale: i64) -> datafusion::error::Result<DataType> {
    let Ok(scale) = i8::try_from(scale) else {
        return plan_err!("money: scale {scale} out of range");
    };
    if !(0..=18).contains(&scale) {
        return plan_err!("money: scale {scale} out of range (0 to 18)");
    }
    let scale = match input {
        DataType::Decimal128(_, s) | DataType::Decimal256(_, s) => (*s).max(scale),
        DataType::Null => scale,
        t if t.is_numeric() => scale,
        other => return plan_err!("money: expected a number, found {other}"),
    };
    Ok(DataType::Decimal128(38, scale))
}

impl ScalarUDFImpl for Money {
    fn name(&self) -> &str {
        "money"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::error::Result<DataType> {
        // The scale is the literal third argument: see return_field_from_args.
        plan_err!("money: the return type comes from its arguments")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> datafusion::error::Result<FieldRef> {
        let scale = match args.scalar_arguments.get(2) {
            Some(Some(ScalarValue::Int64(Some(s)))) => *s,
            Some(Some(v)) => match v.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(s)) => s,
                _ => return plan_err!("money: the scale must be a whole number"),
            },
            _ => return plan_err!("money(amount, 'table.column', scale): scale must be a literal"),
        };
        let input = args.arg_fields[0].data_type();
        Ok(Arc::new(Field::new(
            self.name(),
            money_type(input, scale)?,
            true,
        )))
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let name = match &args.args[1] {
            ColumnarValue::Scalar(v) => v.to_string(),
            ColumnarValue::Array(_) => "amount".to_string(),
        };
        let values = args.args[0].to_array(args.number_rows)?;
        if values.data_type().is_floating() {
            let floats = cast(&values, &DataType::Float64)?;
            let floats = floats.as_primitive::<Float64Type>();
            let bad = (0..floats.len())
                .find(|&i| floats.is_valid(i) && !floats.value(i).is_finite())
                .map(|i| floats.value(i));
            if let Some(bad) = bad {
                return exec_err!(
                    "{name}: {bad} is not an amount (NaN and infinities are not money); `crmlens validate` lists the rows"
                );
            }
        }
        let options = CastOptions {
            safe: false,
            ..Default::default()
        };
        let target = args.return_field.data_type();
        let out = cast_with_options(&values, target, &options)
            .or_else(|e| exec_err!("{name}: an amount does not fit {target} ({e})"))?;
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;

    use super::*;

    async fn one(sql: &str) -> datafusion::error::Result<String> {
        let ctx = SessionContext::new();
        ctx.register_udf(udf());
        let batches = ctx.sql(sql).await?.collect().await?;
        let c = batches[0].column(0);
        Ok(format!(
            "{} {}",
            c.data_type(),
            crate::output::display_cell(c, 0).unwrap()
        ))
    }

    #[tokio::test]
    async fn decimals_keep_their_scale_and_floats_round_to_the_currency() {
        assert_eq!(
            one("select money(cast(19.99 as decimal(14, 2)), 'orders.amount', 2)")
                .await
                .unwrap(),
            "Decimal128(38, 2) 19.99"
        );
        assert_eq!(
            one("select money(cast(1.2345 as decimal(10, 4)), 'orders.amount', 2)")
                .await
                .unwrap(),
            "Decimal128(38, 4) 1.2345"
        );
        assert_eq!(
            one("select money(0.125, 'orders.amount', 2)")
                .await
                .unwrap(),
            "Decimal128(38, 2) 0.13"
        );
        assert_eq!(
            one("select money(7, 'orders.amount', 0)").await.unwrap(),
            "Decimal128(38, 0) 7"
        );
        // A float sum depends on the order of its terms; the decimal one does not.
        let floats = [0.1, 0.2, 0.3];
        assert_ne!(floats.iter().sum::<f64>(), floats.iter().rev().sum::<f64>());
        assert_eq!(
            one("select sum(money(x, 't.x', 2)) from (values (0.1), (0.2), (0.3)) as t(x)")
                .await
                .unwrap(),
            "Decimal128(38, 2) 0.60"
        );
    }

    #[tokio::test]
    async fn nan_and_infinity_are_not_money() {
        for v in ["'NaN'", "'inf'", "'-inf'"] {
            let e = one(&format!(
                "select money(cast({v} as double), 'orders.amount', 2)"
            ))
            .await
            .unwrap_err()
            .to_string();
            assert!(
                e.contains("orders.amount: ") && e.contains("is not an amount"),
                "{e}"
            );
        }
    }
}
