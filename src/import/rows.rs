//! Canonical rows as [`Value`]s, to and from Arrow: building record batches of a table's
//! canonical schema, and reading the rows of a table already in the dataset (append mode).

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, RecordBatch,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    Date32Type, Decimal128Type, Int64Type, TimestampMicrosecondType,
};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::normalize::Value;
use crate::dataset::schema::{ColumnKind, TableSpec};
use crate::{Error, Result};

/// A record batch of the table's canonical schema from rows of values.
pub fn to_batch(spec: &TableSpec, rows: &[Vec<Value>]) -> Result<RecordBatch> {
    let schema = Arc::new(spec.arrow_schema());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(spec.columns.len());
    for (i, c) in spec.columns.iter().enumerate() {
        let cells = rows.iter().map(|r| &r[i]);
        let array: ArrayRef = match c.kind {
            ColumnKind::Text | ColumnKind::Json => {
                let mut b = StringBuilder::with_capacity(rows.len(), rows.len() * 16);
                cells.for_each(|v| b.append_option(v.as_text()));
                Arc::new(b.finish())
            }
            ColumnKind::Integer => {
                let mut b = Int64Builder::with_capacity(rows.len());
                cells.for_each(|v| b.append_option(matches_int(v)));
                Arc::new(b.finish())
            }
            ColumnKind::Number => {
                let mut b = Decimal128Builder::with_capacity(rows.len());
                cells.for_each(|v| {
                    b.append_option(match v {
                        Value::Dec(d) => Some(*d),
                        _ => None,
                    })
                });
                Arc::new(b.finish().with_data_type(c.kind.canonical()))
            }
            ColumnKind::Boolean => {
                let mut b = BooleanBuilder::with_capacity(rows.len());
                cells.for_each(|v| {
                    b.append_option(match v {
                        Value::Bool(x) => Some(*x),
                        _ => None,
                    })
                });
                Arc::new(b.finish())
            }
            ColumnKind::Timestamp => {
                let mut b = TimestampMicrosecondBuilder::with_capacity(rows.len());
                cells.for_each(|v| {
                    b.append_option(match v {
                        Value::Ts(x) => Some(*x),
                        _ => None,
                    })
                });
                Arc::new(b.finish().with_data_type(c.kind.canonical()))
            }
            ColumnKind::Date => {
                let mut b = Date32Builder::with_capacity(rows.len());
                cells.for_each(|v| {
                    b.append_option(match v {
                        Value::Date(x) => Some(*x),
                        _ => None,
                    })
                });
                Arc::new(b.finish())
            }
        };
        columns.push(array);
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn matches_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(x) => Some(*x),
        _ => None,
    }
}

/// The rows of a batch as canonical values (columns cast to the canonical types; a column
/// the batch lacks is NULL).
pub fn batch_rows(spec: &TableSpec, batch: &RecordBatch) -> Result<Vec<Vec<Value>>> {
    let n = batch.num_rows();
    let mut rows: Vec<Vec<Value>> = (0..n)
        .map(|_| Vec::with_capacity(spec.columns.len()))
        .collect();
    for c in &spec.columns {
        let Some(array) = batch.column_by_name(c.name) else {
            rows.iter_mut().for_each(|r| r.push(Value::Null));
            continue;
        };
        let array = cast(array, &c.kind.canonical())?;
        for (i, row) in rows.iter_mut().enumerate() {
            if array.is_null(i) {
                row.push(Value::Null);
                continue;
            }
            row.push(match c.kind {
                ColumnKind::Text | ColumnKind::Json => {
                    Value::Text(array.as_string::<i32>().value(i).to_string())
                }
                ColumnKind::Integer => Value::Int(array.as_primitive::<Int64Type>().value(i)),
                ColumnKind::Number => Value::Dec(array.as_primitive::<Decimal128Type>().value(i)),
                ColumnKind::Boolean => Value::Bool(array.as_boolean().value(i)),
                ColumnKind::Timestamp => {
                    Value::Ts(array.as_primitive::<TimestampMicrosecondType>().value(i))
                }
                ColumnKind::Date => Value::Date(array.as_primitive::<Date32Type>().value(i)),
            });
        }
    }
    Ok(rows)
}

/// Reads a table file of the dataset batch by batch.
pub fn read_table(path: &Path, mut each: impl FnMut(RecordBatch) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(65_536)
        .build()?;
    for batch in reader {
        each(batch?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::schema::table_spec;

    #[test]
    fn round_trip() {
        let spec = table_spec("orders").unwrap();
        let rows = vec![vec![
            Value::Text("O1".into()),
            Value::Text("C1".into()),
            Value::Ts(1_700_000_000_000_000),
            Value::Dec(12345),
            Value::Null,
            Value::Text("paid".into()),
            Value::Null,
            Value::Null,
        ]];
        let batch = to_batch(spec, &rows).unwrap();
        assert_eq!(batch.schema().as_ref(), &spec.arrow_schema());
        assert_eq!(batch_rows(spec, &batch).unwrap(), rows);
    }
}
