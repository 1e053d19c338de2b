//! Registering a dataset's tables in a session, checking them against the contract, and
//! turning DataFusion's SQL errors into messages that list the names a user can use.

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::MemorySchemaProvider;
use datafusion::common::Column;
use datafusion::common::TableReference;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, cast};
use datafusion::prelude::{ParquetReadOptions, SessionContext, col};

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::dataset::TableSource;
use crate::dataset::discover::{check_parquet_file, check_parquet_marks};
use crate::dataset::schema::table_spec;
use crate::hint::closest;
use crate::output::timestamp_micros;
use crate::{Error, Result};

/// The schema holding tables as read from their files when the public table is a view that
/// normalises them (see [`register`]).
pub const RAW_SCHEMA: &str = "raw";

/// Registers one table. A file that cannot be read is named in the error; with `check`, a
/// canonical column of a type the contract does not accept is an error too.
///
/// Naive timestamps are wall-clock time in the dataset's zone (PRODUCT.md). DataFusion would
/// read a naive value compared with a zoned one as wall-clock time in *that* zone, so such a
/// table is registered as `raw.<table>` and the public name is a view that turns each naive
/// timestamp into a UTC instant. Tables without naive timestamps are registered directly.
pub async fn register(
    ctx: &SessionContext,
    source: &TableSource,
    check: bool,
    timezone: &str,
) -> Result<()> {
    let path = source.path.to_str().ok_or_else(|| {
        Error::dataset(
            &source.path,
            "the path is not valid UTF-8; rename the file or folder",
        )
    })?;
    let options = ParquetReadOptions {
        // Hive partition values are read as text: the contract never partitions on a
        // column whose type matters, and text is what every partition value can be.
        table_partition_cols: source
            .partition_columns
            .iter()
            .map(|c| (c.clone(), DataType::Utf8))
            .collect(),
        ..Default::default()
    };
    let name = TableReference::bare(source.name.as_str());
    let raw_name = TableReference::partial(RAW_SCHEMA, source.name.as_str());
    ensure_raw_schema(ctx)?;
    let bad_file = |file: &std::path::Path, problem: String| {
        Error::dataset(
            file,
            format!(
                "table `{}`: {problem}; run `crmlens validate` for every finding",
                source.name
            ),
        )
    };
    // DataFusion skips a zero-byte file: the table would read as empty.
    for file in &source.files {
        check_parquet_marks(file).map_err(|p| bad_file(file, p))?;
    }
    if let Err(e) = ctx.register_parquet(raw_name.clone(), path, options).await {
        for file in &source.files {
            check_parquet_file(file).map_err(|p| bad_file(file, p))?;
        }
        return Err(Error::dataset(
            &source.path,
            format!("table `{}` cannot be read: {e}", source.name),
        ));
    }
    let raw = ctx.table(raw_name.clone()).await?;
    let naive: Vec<&str> = raw
        .schema()
        .fields()
        .iter()
        .filter(|f| matches!(f.data_type(), DataType::Timestamp(_, None)))
        .map(|f| f.name().as_str())
        .collect();
    if naive.is_empty() {
        if let Some(provider) = ctx.deregister_table(raw_name)? {
            ctx.register_table(name.clone(), provider)?;
        }
    } else {
        let exprs: Vec<Expr> = raw
            .schema()
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Timestamp(unit, None) => {
                    let local = DataType::Timestamp(*unit, Some(timezone.into()));
                    let utc = DataType::Timestamp(*unit, Some("UTC".into()));
                    cast(cast(col(Column::from_name(f.name())), local), utc).alias(f.name())
                }
                _ => col(Column::from_name(f.name())),
            })
            .collect();
        log::debug!(
            "table {}: naive timestamps {naive:?} read as {timezone} time",
            source.name
        );
        ctx.register_table(name.clone(), raw.select(exprs)?.into_view())?;
    }
    if check && let Some(spec) = table_spec(&source.name) {
        let provider = ctx.table_provider(name).await?;
        let schema = provider.schema();
        for column in &spec.columns {
            if let Ok(field) = schema.field_with_name(column.name)
                && let Some(problem) = column.type_problem(field.data_type())
            {
                return Err(Error::dataset(
                    &source.path,
                    format!(
                        "table `{}`, column `{}`: {problem}",
                        source.name, column.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn ensure_raw_schema(ctx: &SessionContext) -> Result<()> {
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| Error::Internal("the session has no default catalog".into()))?;
    if catalog.schema(RAW_SCHEMA).is_none() {
        catalog.register_schema(RAW_SCHEMA, Arc::new(MemorySchemaProvider::new()))?;
    }
    Ok(())
}

/// Adds what DataFusion's message lacks: for an unknown table, the tables there are and the
/// closest one, or, for a built-in view left out on this dataset (`unavailable`: name →
/// reason), why. (For an unknown column DataFusion already lists the valid fields.)
pub fn explain_sql_error(
    ctx: &SessionContext,
    e: DataFusionError,
    unavailable: &HashMap<String, String>,
) -> Error {
    let root = e.find_root();
    match root {
        DataFusionError::Plan(msg)
            if msg.starts_with("table '") && msg.ends_with("' not found") =>
        {
            let wanted = msg["table '".len()..msg.len() - "' not found".len()].to_string();
            let short = wanted.rsplit('.').next().unwrap_or(&wanted).to_string();
            if let Some(why) = unavailable.get(&short) {
                return Error::Query(format!("built-in view `{short}` {why}"));
            }
            let names = table_names(ctx);
            let named = wanted
                .strip_prefix("datafusion.public.")
                .or_else(|| wanted.strip_prefix("datafusion."))
                .unwrap_or(&wanted);
            if named != short && names.contains(&short) {
                // `raw.orders` under a scope, where only the scoped `orders` exists.
                return Error::Query(format!(
                    "unknown table `{named}`: there is no such schema here; `{short}` is a table of the default schema"
                ));
            }
            let mut out = format!("unknown table `{short}`");
            if let Some(best) = closest(&short, names.iter().map(String::as_str)) {
                out.push_str(&format!(", did you mean `{best}`?"));
            }
            out.push_str(&format!("\navailable tables: {}", names.join(", ")));
            Error::Query(out)
        }
        DataFusionError::SQL(..) | DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => {
            Error::Query(root.to_string())
        }
        _ => Error::DataFusion(e),
    }
}

/// The tables and views a query can name, sorted.
pub fn table_names(ctx: &SessionContext) -> Vec<String> {
    let mut names: Vec<String> = ctx
        .catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names())
        .unwrap_or_default();
    names.sort();
    names
}

/// The calendar date, in the dataset time zone, of the latest value of a timestamp column.
pub async fn latest_date(
    ctx: &SessionContext,
    table: &str,
    column: &str,
    timezone: &str,
) -> Result<NaiveDate> {
    let sql = format!("select max(\"{column}\") from \"{table}\"");
    let batches = ctx.sql(&sql).await?.collect().await?;
    let array = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .map(|b| b.column(0).clone())
        .ok_or_else(|| Error::Query(format!("{table}.{column}: no rows")))?;
    if array.is_null(0) {
        return Err(Error::Query(format!(
            "cannot take as_of from {table}.{column}: the table has no rows; pass --as-of DATE"
        )));
    }
    let DataType::Timestamp(unit, tz) = array.data_type() else {
        return Err(Error::Query(format!("{table}.{column} is not a timestamp")));
    };
    let raw = timestamp_micros(&array, *unit, 0);
    let utc = chrono::DateTime::from_timestamp_micros(raw)
        .ok_or_else(|| Error::Query(format!("{table}.{column}: timestamp {raw} out of range")))?;
    // A zoned timestamp is an instant: its calendar date is the one in the dataset zone.
    // A naive one is already wall-clock time in the dataset zone.
    if tz.is_none() {
        return Ok(utc.naive_utc().date());
    }
    let zone: datafusion::arrow::array::timezone::Tz = timezone
        .parse()
        .map_err(|e| Error::Usage(format!("timezone {timezone:?}: {e}")))?;
    Ok(utc.with_timezone(&zone).date_naive())
}

/// The columns of every table registered in the session's public schema.
pub async fn table_columns(ctx: &SessionContext) -> Result<HashMap<String, Vec<String>>> {
    let mut out = HashMap::new();
    for name in table_names(ctx) {
        let provider = ctx.table_provider(name.as_str()).await?;
        let columns = provider
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        out.insert(name, columns);
    }
    Ok(out)
}
