//! One Arrow cell as a JSON value: numbers as numbers (decimals too), dates `YYYY-MM-DD`,
//! timestamps RFC 3339 in UTC (naive ones as written), lists and structs nested.

use chrono::SecondsFormat;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::*;
use serde_json::{Map, Value};

use super::{display_cell, float, timestamp_micros};
use crate::Result;

/// The JSON value of `array[row]`.
pub fn cell_to_json(array: &ArrayRef, row: usize) -> Result<Value> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    Ok(match array.data_type() {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).into(),
        DataType::Float16 => float(array.as_primitive::<Float16Type>().value(row).to_f64()),
        DataType::Float32 => float(array.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, scale) => {
            let v = array.as_primitive::<Decimal128Type>().value(row);
            decimal(&v.to_string(), *scale)
        }
        DataType::Decimal256(_, scale) => {
            let v = array.as_primitive::<Decimal256Type>().value(row);
            decimal(&v.to_string(), *scale)
        }
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_string()),
        DataType::Date32 | DataType::Date64 => Value::String(display_cell(array, row)?),
        DataType::Timestamp(unit, tz) => {
            let micros = timestamp_micros(array, *unit, row);
            match chrono::DateTime::from_timestamp_micros(micros) {
                Some(t) if tz.is_some() => {
                    Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                }
                // A naive timestamp has no zone to state; it is written as wall-clock time.
                Some(t) => Value::String(t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string()),
                None => Value::Null,
            }
        }
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let key = dict.normalized_keys()[row];
            cell_to_json(dict.values(), key)?
        }
        DataType::List(_) => list(array.as_list::<i32>().value(row))?,
        DataType::LargeList(_) => list(array.as_list::<i64>().value(row))?,
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut obj = Map::new();
            for (f, col) in fields.iter().zip(s.columns()) {
                obj.insert(f.name().clone(), cell_to_json(col, row)?);
            }
            Value::Object(obj)
        }
        _ => Value::String(display_cell(array, row)?),
    })
}

fn list(values: ArrayRef) -> Result<Value> {
    (0..values.len())
        .map(|i| cell_to_json(&values, i))
        .collect::<Result<Vec<_>>>()
        .map(Value::Array)
}

/// A decimal as an exact JSON number: the digits with the point put back.
fn decimal(digits: &str, scale: i8) -> Value {
    let (neg, digits) = match digits.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, digits),
    };
    let text = if scale <= 0 {
        format!("{digits}{}", "0".repeat((-scale) as usize))
    } else {
        let scale = scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{int}.{frac}")
    };
    let text = if neg { format!("-{text}") } else { text };
    serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn decimals_are_exact_numbers() {
        assert_eq!(decimal("12345", 2).to_string(), "123.45");
        assert_eq!(decimal("-5", 2).to_string(), "-0.05");
        assert_eq!(decimal("7", 0).to_string(), "7");
        assert_eq!(decimal("7", -2).to_string(), "700");
    }

    #[test]
    fn temporal_cells() {
        use datafusion::arrow::array::{Date32Array, TimestampMicrosecondArray};
        let d: ArrayRef = Arc::new(Date32Array::from(vec![19_723]));
        assert_eq!(
            cell_to_json(&d, 0).unwrap(),
            Value::String("2024-01-01".into())
        );
        let t: ArrayRef = Arc::new(
            TimestampMicrosecondArray::from(vec![1_704_110_400_000_000]).with_timezone("UTC"),
        );
        assert_eq!(
            cell_to_json(&t, 0).unwrap(),
            Value::String("2024-01-01T12:00:00Z".into())
        );
        let n: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![1_704_110_400_000_000]));
        assert_eq!(
            cell_to_json(&n, 0).unwrap(),
            Value::String("2024-01-01T12:00:00".into())
        );
    }
}
