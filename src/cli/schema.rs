//! `crmlens schema`: the canonical tables and columns, as a table or as JSON.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde::Serialize;

use super::GlobalArgs;
use crate::Result;
use crate::dataset::schema::{TableSpec, tables, type_name};
use crate::output::{Format, write_batches, write_json_object};

/// Print the canonical tables and columns.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens schema
  crmlens schema --table orders
  crmlens schema --format json")]
pub struct Args {
    /// Only this table
    #[arg(long)]
    table: Option<String>,
}

#[derive(Serialize)]
struct SchemaJson<'a> {
    tables: Vec<&'a TableSpec>,
}

pub fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let selected: Vec<&TableSpec> = tables()
        .iter()
        .filter(|t| args.table.as_deref().is_none_or(|n| n == t.name))
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = tables().iter().map(|t| t.name).collect();
        return Err(crate::Error::Usage(format!(
            "unknown table `{}`; the contract's tables are: {}",
            args.table.unwrap_or_default(),
            names.join(", ")
        )));
    }
    let output = global.output(usize::MAX)?;
    if output.format == Format::Json {
        write_json_object(&SchemaJson { tables: selected }, output.output.as_deref())?;
        return Ok(0);
    }
    let mut rows: Vec<[String; 6]> = Vec::new();
    let mut flags: Vec<[bool; 3]> = Vec::new();
    for t in &selected {
        for c in &t.columns {
            let reference = t
                .references
                .iter()
                .find(|r| r.column == c.name)
                .map(|r| format!("{}.{}", r.table, r.target))
                .unwrap_or_default();
            let mut doc = c.doc.to_string();
            if !c.values.is_empty() {
                doc = format!("{doc} [{}]", c.values.join("|"));
            }
            rows.push([
                t.name.to_string(),
                c.name.to_string(),
                format!("{:?}", c.kind).to_lowercase(),
                type_name(&c.kind.canonical()),
                reference,
                doc,
            ]);
            flags.push([t.required, t.key.contains(&c.name), !c.nullable]);
        }
    }
    let text = |i: usize| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r[i].clone()),
        ))
    };
    let flag = |i: usize| -> ArrayRef {
        Arc::new(BooleanArray::from(
            flags.iter().map(|f| f[i]).collect::<Vec<_>>(),
        ))
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("table", DataType::Utf8, false),
        Field::new("column", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("canonical_type", DataType::Utf8, false),
        Field::new("required_table", DataType::Boolean, false),
        Field::new("key", DataType::Boolean, false),
        Field::new("not_null", DataType::Boolean, false),
        Field::new("references", DataType::Utf8, false),
        Field::new("description", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            text(0),
            text(1),
            text(2),
            text(3),
            flag(0),
            flag(1),
            flag(2),
            text(4),
            text(5),
        ],
    )?;
    write_batches(schema, &[batch], &output)?;
    Ok(0)
}
