//! polars interop (feature `polars`): any result as a `polars::DataFrame`, and a DataFrame back
//! as Arrow record batches, through the [Arrow C data interface] — the column buffers are
//! handed over, not copied row by row. DataFusion stays the one engine: polars is only where a
//! library user's results go (or come from).
//!
//! The frame is `polars_core::frame::DataFrame`, the type `polars::prelude::DataFrame`
//! re-exports: a program that depends on `polars` 0.55 uses it as its own. crmlens depends on
//! polars-core alone (not the whole `polars` crate with its IO and lazy engine) to keep the
//! build small.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> crmlens::Result<()> {
//! let config = crmlens::config::Config::for_dataset("datasets/demo");
//! let engine = crmlens::engine::Engine::open(&config).await?;
//! let df = engine
//!     .query_polars("select customer_id, frequency, monetary from customer_features")
//!     .await?;
//! assert_eq!(df.width(), 3);
//! println!("{}", df.head(Some(5)));
//! # Ok(()) }
//! ```
//!
//! [Arrow C data interface]: https://arrow.apache.org/docs/format/CDataInterface.html

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, make_array};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi, to_ffi};
use polars_arrow::ffi as pffi;
use polars_core::frame::DataFrame;
use polars_core::prelude::{Column, CompatLevel, PlSmallStr};
use polars_core::series::Series;

use crate::engine::Engine;
use crate::{Error, Result};

fn polars_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("polars interop: {what}: {e}"))
}

/// One Arrow array → one polars array, through the C data interface.
fn array_to_polars(array: &dyn Array) -> Result<Box<dyn polars_arrow::array::Array>> {
    let (ffi_array, ffi_schema) = to_ffi(&array.to_data())?;
    // SAFETY: FFI_ArrowArray/FFI_ArrowSchema (arrow-rs) and ArrowArray/ArrowSchema
    // (polars-arrow) are both the #[repr(C)] structs of the Arrow C data interface, so one
    // can be read as the other. The array moves (polars calls its release callback); the
    // schema stays ours and is released when `ffi_schema` drops, after polars has read it.
    unsafe {
        let schema = &*(&ffi_schema as *const FFI_ArrowSchema).cast::<pffi::ArrowSchema>();
        let field = pffi::import_field_from_c(schema).map_err(|e| polars_error("schema", e))?;
        let moved =
            std::ptr::read((&ffi_array as *const FFI_ArrowArray).cast::<pffi::ArrowArray>());
        std::mem::forget(ffi_array);
        pffi::import_array_from_c(moved, field.dtype).map_err(|e| polars_error("array", e))
    }
}

/// One polars array → one Arrow array, through the C data interface.
fn array_from_polars(
    array: Box<dyn polars_arrow::array::Array>,
    field: &polars_arrow::datatypes::Field,
) -> Result<ArrayRef> {
    let p_array = pffi::export_array_to_c(array);
    let p_schema = pffi::export_field_to_c(field);
    // SAFETY: as in `array_to_polars`, the other way round: `from_ffi` takes the array (its
    // release callback runs when the Arrow array drops) and only reads the schema.
    unsafe {
        let moved = std::ptr::read((&p_array as *const pffi::ArrowArray).cast::<FFI_ArrowArray>());
        std::mem::forget(p_array);
        let schema = &*(&p_schema as *const pffi::ArrowSchema).cast::<FFI_ArrowSchema>();
        let data = from_ffi(moved, schema)?;
        Ok(make_array(data))
    }
}

/// Record batches (one schema) as a polars DataFrame: one column per field, one chunk per
/// batch, names kept. Types map as polars maps Arrow's: utf8 → String, decimal128 →
/// Decimal, timestamp with a zone → Datetime with that zone, date32 → Date, lists → List.
pub fn to_polars(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<DataFrame> {
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        let chunks = batches
            .iter()
            .map(|b| array_to_polars(b.column(i).as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let name = PlSmallStr::from_str(field.name());
        let series = if chunks.is_empty() {
            let empty = array_to_polars(
                datafusion::arrow::array::new_empty_array(field.data_type()).as_ref(),
            )?;
            Series::try_from((name, empty))
        } else {
            Series::try_from((name, chunks))
        }
        .map_err(|e| polars_error(&format!("column {:?}", field.name()), e))?;
        columns.push(Column::from(series));
    }
    let height = batches.iter().map(RecordBatch::num_rows).sum();
    DataFrame::new(height, columns).map_err(|e| polars_error("frame", e))
}

/// A polars DataFrame as Arrow record batches, one per chunk of the frame (rechunked so
/// that all columns split alike). Strings come back as utf8_view, polars' own layout; cast
/// with [`datafusion::arrow::compute::cast`] where an older type is wanted.
pub fn from_polars(df: &DataFrame) -> Result<Vec<RecordBatch>> {
    let mut df = df.clone();
    df.align_chunks_par();
    let fields: Vec<polars_arrow::datatypes::Field> = df
        .columns()
        .iter()
        .map(|c| c.field().to_arrow(CompatLevel::newest()))
        .collect();
    let mut schema: Option<SchemaRef> = None;
    let mut batches = Vec::new();
    for chunk in df.iter_chunks(CompatLevel::newest(), false) {
        let arrays = chunk
            .into_arrays()
            .into_iter()
            .zip(&fields)
            .map(|(a, f)| array_from_polars(a, f))
            .collect::<Result<Vec<_>>>()?;
        let schema = schema.get_or_insert_with(|| {
            Arc::new(Schema::new(
                arrays
                    .iter()
                    .zip(&fields)
                    .map(|(a, f)| Field::new(f.name.as_str(), a.data_type().clone(), true))
                    .collect::<Vec<_>>(),
            ))
        });
        batches.push(RecordBatch::try_new(schema.clone(), arrays)?);
    }
    Ok(batches)
}

impl Engine {
    /// Runs a query and returns its result as a polars DataFrame (feature `polars`).
    pub async fn query_polars(&self, query: &str) -> Result<DataFrame> {
        let df = self.sql(query).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(|e| self.explain_sql_error(e))?;
        to_polars(&schema, &batches)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::compute::{cast, concat_batches};
    use polars_core::prelude::{AnyValue, DataType as PlType, TimeUnit, TimeZone};

    use super::*;

    /// Every column type of the dataset contract (text, JSON text, integer, decimal amount,
    /// boolean, UTC timestamp, date) plus a view's decimal money, a float, a count, a list and NULLs: to polars
    /// and back gives the same values, and polars sees the types and values Arrow holds.
    #[tokio::test]
    async fn round_trip_with_every_column_type() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/demo");
        let engine = Engine::open(&crate::config::Config::for_dataset(dir))
            .await
            .unwrap();
        let query = "select o.customer_id, c.name, c.email, o.amount, o.ordered_at, \
             m.active, p.period, e.properties, i.quantity, f.monetary, \
             cast(f.monetary as double) / 7 as ratio, \
             count(*) over (partition by o.customer_id) as n, \
             make_array(o.order_id, o.status) as tags \
             from orders o join customers c using (customer_id) \
             left join managers m on m.manager_id = o.manager_id \
             left join (select distinct period from plans) p on p.period = date_trunc('month', o.ordered_at)::date \
             left join (select customer_id, min(properties) as properties from events group by 1) e on e.customer_id = o.customer_id \
             left join (select order_id, sum(quantity) as quantity from order_items group by 1) i on i.order_id = o.order_id \
             join customer_features f on f.customer_id = o.customer_id \
             order by o.order_id";
        let df = engine.sql(query).await.unwrap();
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.unwrap();
        assert!(batches.len() > 1, "several chunks");
        let arrow = concat_batches(&schema, &batches).unwrap();

        let frame = to_polars(&schema, &batches).unwrap();
        assert_eq!(frame.height(), arrow.num_rows());
        let dtype = |name: &str| frame.column(name).unwrap().dtype().clone();
        assert_eq!(dtype("customer_id"), PlType::String);
        assert_eq!(dtype("amount"), PlType::Decimal(14, 2));
        assert_eq!(
            dtype("ordered_at"),
            PlType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        );
        assert_eq!(dtype("active"), PlType::Boolean);
        assert_eq!(dtype("period"), PlType::Date);
        assert_eq!(dtype("quantity"), PlType::Int64);
        // Money in the views is an exact decimal at currency precision (issue 18, item 13).
        assert_eq!(dtype("monetary"), PlType::Decimal(38, 2));
        assert_eq!(dtype("ratio"), PlType::Float64);
        assert_eq!(dtype("tags"), PlType::List(Box::new(PlType::String)));
        // Values cell by cell against Arrow's, on a row with NULLs and one without.
        for row in [0, arrow.num_rows() - 1] {
            for (i, field) in schema.fields().iter().enumerate() {
                let a = arrow.column(i);
                let p = frame.column(field.name()).unwrap().get(row).unwrap();
                assert_eq!(
                    a.is_null(row),
                    matches!(p, AnyValue::Null),
                    "{}",
                    field.name()
                );
            }
        }
        let nulls = |name: &str| frame.column(name).unwrap().null_count();
        let col = |name: &str| arrow.column(schema.index_of(name).unwrap()).null_count();
        for name in ["email", "active", "period", "properties", "quantity"] {
            assert_eq!(nulls(name), col(name), "{name}");
        }
        let with_nulls = ["email", "active", "period", "properties", "quantity"]
            .iter()
            .filter(|n| col(n) > 0)
            .count();
        assert!(with_nulls >= 3, "NULLs are exercised: {with_nulls}");

        let back = from_polars(&frame).unwrap();
        let back = concat_batches(&back[0].schema(), &back).unwrap();
        assert_eq!(back.num_columns(), arrow.num_columns());
        for (i, field) in schema.fields().iter().enumerate() {
            let restored = cast(back.column(i), field.data_type()).unwrap();
            assert_eq!(
                restored.to_data(),
                arrow.column(i).to_data(),
                "column {}",
                field.name()
            );
        }
    }

    #[test]
    fn an_empty_result_keeps_its_columns() {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("id", datafusion::arrow::datatypes::DataType::Utf8, true),
            Field::new("n", datafusion::arrow::datatypes::DataType::Int64, true),
        ]));
        let frame = to_polars(&schema, &[]).unwrap();
        assert_eq!((frame.height(), frame.width()), (0, 2));
    }
}
