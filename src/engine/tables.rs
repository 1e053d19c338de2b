//! Registering a dataset's tables in a session, checking them against the contract, and
//! turning DataFusion's SQL errors into messages that list the names a user can use.

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::catalog::MemorySchemaProvider;
use datafusion::common::Column;
use datafusion::common::TableReference;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, cast};
use datafusion::prelude::{ParquetReadOptions, SessionContext, col};

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};

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
        _ => Error::from(e),
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

/// The default as_of: the calendar date, in the dataset time zone, of the latest value of a
/// timestamp column that is not after `today`. Values after today (an order dated 2031 in
/// an export of 2026) are ignored with a warning saying how many there are, so that they do
/// not move the analysis date into the future; `crmlens validate` reports them as errors.
pub async fn latest_date(
    ctx: &SessionContext,
    table: &str,
    column: &str,
    timezone: &str,
    today: NaiveDate,
) -> Result<NaiveDate> {
    let provider = ctx.table_provider(table).await?;
    let schema = provider.schema();
    let Ok(field) = schema.field_with_name(column) else {
        return Err(Error::Query(format!("{table} has no column {column}")));
    };
    let DataType::Timestamp(unit, tz) = field.data_type() else {
        return Err(Error::Query(format!("{table}.{column} is not a timestamp")));
    };
    let after = instant_after(today, timezone, *unit, tz.is_some())?;
    let c = format!("\"{column}\"");
    let sql = format!(
        "select max({c}) filter (where cast({c} as bigint) < {after}), \
         count({c}) filter (where cast({c} as bigint) >= {after}) from \"{table}\""
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| Error::Query(format!("{table}.{column}: no rows")))?;
    let (array, later) = (batch.column(0).clone(), batch.column(1).clone());
    let later = datafusion::arrow::compute::cast(&later, &DataType::Int64)?;
    let later = later
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .map_or(0, |a| a.value(0));
    if array.is_null(0) {
        return Err(Error::Query(if later > 0 {
            format!(
                "cannot take as_of from {table}.{column}: all {later} values are after today ({today}); pass --as-of DATE, or set `today` in crmlens.toml"
            )
        } else {
            format!(
                "cannot take as_of from {table}.{column}: the table has no rows; pass --as-of DATE"
            )
        }));
    }
    let raw = timestamp_micros(&array, *unit, 0);
    let utc = chrono::DateTime::from_timestamp_micros(raw)
        .ok_or_else(|| Error::Query(format!("{table}.{column}: timestamp {raw} out of range")))?;
    // A zoned timestamp is an instant: its calendar date is the one in the dataset zone.
    // A naive one is already wall-clock time in the dataset zone.
    let date = if tz.is_none() {
        utc.naive_utc().date()
    } else {
        let zone: datafusion::arrow::array::timezone::Tz = timezone
            .parse()
            .map_err(|e| Error::Usage(format!("timezone {timezone:?}: {e}")))?;
        utc.with_timezone(&zone).date_naive()
    };
    if later > 0 {
        log::warn!(
            "as_of {date}: the latest {table}.{column} not after today ({today}); {later} row(s) dated after today are ignored (`crmlens validate` lists them; --as-of DATE sets the date)"
        );
    }
    Ok(date)
}

/// The first instant after `date` (midnight of the next day in the dataset zone) as a raw
/// value of a timestamp column of that unit: zoned columns hold instants, naive ones
/// wall-clock time.
pub fn instant_after(date: NaiveDate, timezone: &str, unit: TimeUnit, zoned: bool) -> Result<i64> {
    let next = date
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| Error::Usage(format!("date {date} is out of range")))?;
    instant(next, timezone, unit, zoned)
}

/// A wall-clock time of the dataset zone as a raw value of a timestamp column of that unit.
pub fn instant(local: NaiveDateTime, timezone: &str, unit: TimeUnit, zoned: bool) -> Result<i64> {
    let micros = if zoned {
        let zone: datafusion::arrow::array::timezone::Tz = timezone
            .parse()
            .map_err(|e| Error::Usage(format!("timezone {timezone:?}: {e}")))?;
        zone.from_local_datetime(&local)
            .earliest()
            .ok_or_else(|| Error::Usage(format!("{local} does not exist in {timezone}")))?
            .timestamp_micros()
    } else {
        local.and_utc().timestamp_micros()
    };
    Ok(match unit {
        TimeUnit::Second => micros.div_euclid(1_000_000),
        TimeUnit::Millisecond => micros.div_euclid(1_000),
        TimeUnit::Microsecond => micros,
        TimeUnit::Nanosecond => micros.saturating_mul(1_000),
    })
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
