//! Reading a query result's columns back into Rust values, whatever Arrow layout the engine
//! chose for them (utf8, utf8 view or dictionary text; any numeric or decimal type): the one
//! place that casts result columns for code that needs plain values.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Schema};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::{Error, Result};

/// The position of a named column, or an error listing the columns there are.
pub fn index(schema: &Schema, column: &str) -> Result<usize> {
    schema.index_of(column).map_err(|_| {
        Error::Query(format!(
            "no column `{column}` in the result; its columns: {}",
            schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Column `i` of every batch as text (NULL as `None`).
pub fn texts(batches: &[RecordBatch], i: usize) -> Result<Vec<Option<String>>> {
    let mut out = Vec::new();
    for b in batches {
        let column = cast(b.column(i), &DataType::Utf8)?;
        let c = column.as_string::<i32>();
        out.extend((0..c.len()).map(|r| c.is_valid(r).then(|| c.value(r).to_string())));
    }
    Ok(out)
}

/// Column `i` of every batch as numbers (NULL as `None`); a column that is not numeric is an
/// error naming it.
pub fn numbers(batches: &[RecordBatch], i: usize) -> Result<Vec<Option<f64>>> {
    let mut out = Vec::new();
    for b in batches {
        let c = cast(b.column(i), &DataType::Float64).map_err(|_| {
            Error::Query(format!(
                "column `{}` is {}, not a number",
                b.schema().field(i).name(),
                b.column(i).data_type()
            ))
        })?;
        let c = c.as_primitive::<Float64Type>();
        out.extend((0..c.len()).map(|r| (!c.is_null(r)).then(|| c.value(r))));
    }
    Ok(out)
}

/// Column `i` of every batch as it is displayed (dates as `YYYY-MM-DD`, NULL as "").
pub fn displayed(batches: &[RecordBatch], i: usize) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let options = FormatOptions::default().with_null("");
    for b in batches {
        let f = ArrayFormatter::try_new(b.column(i).as_ref(), &options)?;
        out.extend((0..b.num_rows()).map(|r| f.value(r).to_string()));
    }
    Ok(out)
}
