//! `as_of()`: the session's analysis date (a DATE), so that user SQL (segments, `crmlens sql`)
//! can say "in the 30 days up to as_of" the way the built-in views do, instead of guessing it
//! from the data. Registered by the engine once the date is known; in a distributed plan the
//! date travels with the function ([`encode`], [`decode`]).

use chrono::NaiveDate;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The `as_of()` function for one date.
pub fn udf(as_of: NaiveDate) -> ScalarUDF {
    let days = (as_of - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32;
    from_days(days)
}

fn from_days(days: i32) -> ScalarUDF {
    ScalarUDF::new_from_impl(AsOf {
        days,
        signature: Signature::exact(vec![], Volatility::Immutable),
    })
}

/// The bytes that carry `as_of()` and its date to a Ballista cluster (days since 1970-01-01,
/// little-endian), or `None` when `udf` is another function.
#[cfg(feature = "distributed")]
pub fn encode(udf: &ScalarUDF) -> Option<Vec<u8>> {
    let f = udf.inner().downcast_ref::<AsOf>()?;
    Some(f.days.to_le_bytes().to_vec())
}

/// `as_of()` from the bytes [`encode`] wrote.
#[cfg(feature = "distributed")]
pub fn decode(buf: &[u8]) -> datafusion::error::Result<ScalarUDF> {
    let days: [u8; 4] = buf.try_into().map_err(|_| {
        datafusion::error::DataFusionError::Internal(format!(
            "as_of: expected 4 bytes of date, found {}",
            buf.len()
        ))
    })?;
    Ok(from_days(i32::from_le_bytes(days)))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct AsOf {
    days: i32,
    signature: Signature,
}

impl ScalarUDFImpl for AsOf {
    fn name(&self) -> &str {
        "as_of"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Date32)
    }

    fn invoke_with_args(
        &self,
        _args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Date32(Some(self.days))))
    }
}
