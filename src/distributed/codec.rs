//! The codecs that carry crmlens's plans to a Ballista cluster: Ballista's own logical and
//! physical extension codecs, plus what they cannot send:
//!
//! - functions with a value of their own: `as_of()` carries its date and the CLV model
//!   functions (`clv_value`, …) their fitted model ([`crate::functions::as_of::encode`],
//!   [`crate::functions::clv::encode`]). Functions without one (`window_funnel`,
//!   `window_funnel_steps`, `json_get_str`) travel by name: the scheduler and executors
//!   register the same [`crate::functions::register_all`] set.
//! - in-memory tables (`MemTable`): the customer ids of a `--scope`, the members of segments
//!   other segments use, cohort cells. Their batches travel as Arrow IPC.
//!
//! Any other table kind cannot be sent; the error names the table.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};

use crate::error::UNSENDABLE;
use crate::functions::as_of;
use crate::functions::clv;

/// Ballista's logical codec with crmlens's functions and in-memory tables.
#[derive(Debug, Default)]
pub struct LogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

/// Ballista's physical codec with crmlens's functions.
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

/// Both codecs, as the scheduler, the executors and the client use them.
pub fn codecs() -> (
    Arc<dyn LogicalExtensionCodec>,
    Arc<dyn PhysicalExtensionCodec>,
) {
    (
        Arc::new(LogicalCodec::default()),
        Arc::new(PhysicalCodec::default()),
    )
}

fn encode_udf(node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
    if let Some(bytes) = as_of::encode(node) {
        buf.extend(bytes);
    } else if let Some(bytes) = clv::encode(node) {
        buf.extend(bytes?);
    }
    Ok(())
}

fn decode_udf(name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
    if name == "as_of" {
        return Ok(Arc::new(as_of::decode(buf)?));
    }
    match clv::decode(name, buf) {
        Some(udf) => Ok(Arc::new(udf?)),
        None => Err(unknown_function("scalar", name)),
    }
}

fn unknown_function(kind: &str, name: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{kind} function `{name}` is not known to this Ballista scheduler or executor; start \
         them with `crmlens scheduler` and `crmlens executor` of the same crmlens version"
    ))
}

/// A MemTable's partitions: a count, then each partition as a length-prefixed Arrow IPC stream.
fn encode_mem_table(table_ref: &TableReference, table: &MemTable, buf: &mut Vec<u8>) -> Result<()> {
    let schema = table.schema();
    buf.extend((table.batches.len() as u32).to_le_bytes());
    for partition in &table.batches {
        let batches = partition.try_read().map_err(|_| {
            DataFusionError::Execution(format!(
                "in-memory table `{table_ref}` is being written while its plan is sent"
            ))
        })?;
        let mut stream = Vec::new();
        let mut writer = StreamWriter::try_new(&mut stream, &schema)?;
        for batch in batches.iter() {
            writer.write(batch)?;
        }
        writer.finish()?;
        drop(writer);
        buf.extend((stream.len() as u64).to_le_bytes());
        buf.extend(stream);
    }
    Ok(())
}

fn decode_mem_table(table_ref: &TableReference, schema: SchemaRef, buf: &[u8]) -> Result<MemTable> {
    let corrupt = || {
        DataFusionError::Internal(format!(
            "in-memory table `{table_ref}`: the plan's bytes are cut short"
        ))
    };
    let (count, mut rest) = buf.split_first_chunk::<4>().ok_or_else(corrupt)?;
    let mut partitions = Vec::new();
    for _ in 0..u32::from_le_bytes(*count) {
        let (len, after) = rest.split_first_chunk::<8>().ok_or_else(corrupt)?;
        let len = usize::try_from(u64::from_le_bytes(*len)).map_err(|_| corrupt())?;
        let stream = after.get(..len).ok_or_else(corrupt)?;
        rest = &after[len..];
        let reader = StreamReader::try_new(Cursor::new(stream), None)?;
        let batches = reader.collect::<std::result::Result<Vec<RecordBatch>, _>>()?;
        partitions.push(batches);
    }
    if partitions.is_empty() {
        partitions.push(Vec::new());
    }
    MemTable::try_new(schema, partitions)
}

/// The function methods both codecs share (their traits are distinct, their logic is one).
macro_rules! function_methods {
    () => {
        fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
            decode_udf(name, buf)
        }

        fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
            encode_udf(node, buf)
        }

        fn try_decode_udaf(&self, name: &str, _buf: &[u8]) -> Result<Arc<AggregateUDF>> {
            Err(unknown_function("aggregate", name))
        }

        fn try_decode_udwf(&self, name: &str, _buf: &[u8]) -> Result<Arc<WindowUDF>> {
            Err(unknown_function("window", name))
        }
    };
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        _ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        Ok(Arc::new(decode_mem_table(table_ref, schema, buf)?))
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        match node.downcast_ref::<MemTable>() {
            Some(table) => encode_mem_table(table_ref, table, buf),
            None => Err(DataFusionError::NotImplemented(format!(
                "table `{table_ref}` {UNSENDABLE}"
            ))),
        }
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    function_methods!();
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    function_methods!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::unsendable_table;
    use datafusion::arrow::array::{AsArray, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn mem_tables_round_trip() {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Utf8, false)]));
        let batch = |ids: &[&str]| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(StringArray::from(ids.to_vec()))],
            )
            .unwrap()
        };
        let table = MemTable::try_new(
            schema.clone(),
            vec![
                vec![batch(&["a", "b"]), batch(&["c"])],
                vec![],
                vec![batch(&["d"])],
            ],
        )
        .unwrap();
        let name = TableReference::bare("ids");
        let mut buf = Vec::new();
        encode_mem_table(&name, &table, &mut buf).unwrap();
        let back = decode_mem_table(&name, schema.clone(), &buf).unwrap();
        let ids: Vec<Vec<String>> = back
            .batches
            .iter()
            .map(|p| {
                p.try_read()
                    .unwrap()
                    .iter()
                    .flat_map(|b| {
                        b.column(0)
                            .as_string::<i32>()
                            .iter()
                            .map(|v| v.unwrap().to_string())
                            .collect::<Vec<_>>()
                    })
                    .collect()
            })
            .collect();
        assert_eq!(ids, vec![vec!["a", "b", "c"], vec![], vec!["d"]]);
        assert!(decode_mem_table(&name, schema, &buf[..buf.len() - 3]).is_err());
    }

    #[test]
    fn a_table_that_cannot_be_sent_is_named() {
        let wrapped = format!(
            "Internal error: failed to serialize logical plan: Context(\"…\", \
             NotImplemented(\"table `generate_series()` {UNSENDABLE}\")). This issue was likely…"
        );
        assert_eq!(
            unsendable_table(&wrapped).as_deref(),
            Some(format!("table `generate_series()` {UNSENDABLE}").as_str())
        );
        assert_eq!(unsendable_table("Internal error: something else"), None);
    }

    #[test]
    fn as_of_carries_its_date() {
        let date = chrono::NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
        let mut buf = Vec::new();
        encode_udf(&as_of::udf(date), &mut buf).unwrap();
        assert_eq!(*decode_udf("as_of", &buf).unwrap(), as_of::udf(date));
        let mut none = Vec::new();
        encode_udf(&crate::functions::json::udf(), &mut none).unwrap();
        assert!(none.is_empty());
        let err = decode_udf("no_such_fn", &[]).unwrap_err().to_string();
        assert!(err.contains("`no_such_fn`"), "{err}");
    }
}
