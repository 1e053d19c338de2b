//! sqllogictest over the crmlens session: every `tests/slt/*.slt` file runs against a fresh
//! engine. The first line `# dataset: NAME` picks the dataset: `demo` (default, the committed
//! demo), `variants` (the hand-made fixture of accepted type variants) or `csv:NAME`, a small
//! hand-computed dataset written as `tests/slt/data/NAME/<table>.csv` (types inferred by the
//! CSV reader, naive timestamps) and converted to Parquet for the run. A line
//! `# csv_timestamps: utc` makes the CSV's timestamps UTC instants instead of wall-clock time,
//! `# timezone: ZONE` sets the dataset time zone, `# as_of: YYYY-MM-DD` the analysis date, and
//! each `# config: KEY = VALUE` line is one line of `crmlens.toml` (e.g.
//! `# config: churn.inactive_days = 30`).
//! `COMPLETE=1 cargo test slt` rewrites the expected results: check the diff by hand.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

use crmlens::config::Config;
use crmlens::engine::Engine;

struct CrmDb {
    engine: Engine,
}

#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

fn column_type(dt: &DataType) -> DefaultColumnType {
    match dt {
        d if d.is_integer() => DefaultColumnType::Integer,
        d if d.is_floating() => DefaultColumnType::FloatingPoint,
        DataType::Decimal128(..) | DataType::Decimal256(..) => DefaultColumnType::FloatingPoint,
        _ => DefaultColumnType::Text,
    }
}

/// Cells as text: NULL for null, (empty) for the empty string, floats rounded to 10
/// significant digits so results do not depend on summation order. Decimals (money, summed
/// exactly) are written as the same numbers as floats, so an expected `350.0` holds whether
/// the column is a float or a decimal.
fn cell(array: &ArrayRef, row: usize, fmt: &ArrayFormatter) -> String {
    if array.is_null(row) {
        return "NULL".into();
    }
    if matches!(
        array.data_type(),
        DataType::Decimal128(..) | DataType::Decimal256(..)
    ) {
        let floats = datafusion::arrow::compute::cast(array, &DataType::Float64).unwrap();
        let opts = FormatOptions::default();
        let fmt = ArrayFormatter::try_new(floats.as_ref(), &opts).unwrap();
        return cell(&floats, row, &fmt);
    }
    if let Some(f) = array
        .as_any()
        .downcast_ref::<datafusion::arrow::array::Float64Array>()
    {
        let v = f.value(row);
        return if v == v.trunc() && v.abs() < 1e15 {
            format!("{v:.1}")
        } else {
            format!("{}", format!("{v:.10e}").parse::<f64>().unwrap_or(v))
        };
    }
    let s = fmt.value(row).to_string();
    if s.is_empty() { "(empty)".into() } else { s }
}

#[async_trait]
impl AsyncDB for CrmDb {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Self::ColumnType>, Self::Error> {
        let df = self
            .engine
            .sql(sql)
            .await
            .map_err(|e| SltError(e.to_string()))?;
        let types = df
            .schema()
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        // As the library reports it (crmlens::Error), not as DataFusion words it.
        let batches = df
            .collect()
            .await
            .map_err(|e| SltError(crmlens::Error::from(e).to_string()))?;
        let opts = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        for b in &batches {
            let formatters: Vec<ArrayFormatter> = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
                .collect();
            for r in 0..b.num_rows() {
                rows.push(
                    b.columns()
                        .iter()
                        .zip(&formatters)
                        .map(|(c, f)| cell(c, r, f))
                        .collect(),
                );
            }
        }
        if sql.trim_start().to_lowercase().starts_with("create") {
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "crmlens"
    }
}

/// The value of a `# key: value` line in the comment block that opens an .slt file.
fn header(file: &Path, key: &str) -> Option<String> {
    headers(file, key).pop()
}

/// Every `# key: value` line of the opening comment block with that key.
fn headers(file: &Path, key: &str) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let prefix = format!("# {key}:");
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .filter_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().to_string()))
        .collect()
}

/// Converts `tests/slt/data/NAME/*.csv` into a Parquet dataset under `out`. The CSV reader
/// reads timestamps as naive (wall-clock time in the dataset zone); with `utc`, they are
/// written as UTC instants instead.
pub async fn csv_dataset(name: &str, out: &Path, utc: bool) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/slt/data")
        .join(name);
    std::fs::create_dir_all(out).unwrap();
    let ctx = datafusion::prelude::SessionContext::new();
    let mut found = false;
    for entry in std::fs::read_dir(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        found = true;
        let table = path.file_stem().unwrap().to_str().unwrap().to_string();
        let df = ctx
            .read_csv(
                path.to_str().unwrap(),
                datafusion::prelude::CsvReadOptions::new().file_extension(".csv"),
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let df = if utc {
            let exprs: Vec<datafusion::prelude::Expr> = df
                .schema()
                .fields()
                .iter()
                .map(|f| {
                    let c =
                        datafusion::prelude::col(datafusion::common::Column::from_name(f.name()));
                    match f.data_type() {
                        DataType::Timestamp(_, None) => datafusion::logical_expr::cast(
                            c,
                            DataType::Timestamp(
                                datafusion::arrow::datatypes::TimeUnit::Microsecond,
                                Some("UTC".into()),
                            ),
                        )
                        .alias(f.name()),
                        _ => c,
                    }
                })
                .collect();
            df.select(exprs).unwrap()
        } else {
            df
        };
        let target = out.join(format!("{table}.parquet"));
        df.write_parquet(
            target.to_str().unwrap(),
            datafusion::dataframe::DataFrameWriteOptions::new().with_single_file_output(true),
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    assert!(found, "{}: no .csv files", src.display());
}

async fn dataset_for(file: &Path, scratch: &Path) -> PathBuf {
    let name = header(file, "dataset").unwrap_or_else(|| "demo".into());
    match name.as_str() {
        "demo" => crate::common::demo(),
        "variants" => {
            let dir = scratch.join("variants");
            crate::fixtures::variants(&dir);
            dir
        }
        other if other.starts_with("csv:") => {
            let dir = scratch.join("csv");
            let utc = header(file, "csv_timestamps").is_some_and(|v| v == "utc");
            csv_dataset(&other["csv:".len()..], &dir, utc).await;
            dir
        }
        other => panic!("{}: unknown dataset {other}", file.display()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictest_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .slt files in {}", dir.display());
    let complete = std::env::var_os("COMPLETE").is_some();
    let mut failures = Vec::new();
    for file in &files {
        let scratch = crate::common::tempdir();
        let dataset = dataset_for(file, scratch.path()).await;
        let mut toml = headers(file, "config").join("\n");
        if let Some(zone) = header(file, "timezone") {
            toml.push_str(&format!("\ntimezone = {zone:?}"));
        }
        if let Some(date) = header(file, "as_of") {
            toml.push_str(&format!("\nas_of = {date:?}"));
        }
        let mut config = Config::parse(&toml)
            .unwrap_or_else(|e| panic!("{}: bad # config: lines: {e}", file.display()));
        config.dataset = Some(dataset);
        let mut runner = sqllogictest::Runner::new(|| {
            let config = config.clone();
            async move {
                let engine = Engine::open(&config)
                    .await
                    .map_err(|e| SltError(e.to_string()))?;
                Ok::<_, SltError>(CrmDb { engine })
            }
        });
        if complete {
            runner
                .update_test_file(
                    file,
                    " ",
                    sqllogictest::default_validator,
                    sqllogictest::default_normalizer,
                    sqllogictest::default_column_validator,
                )
                .await
                .unwrap();
        } else if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} slt file(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
