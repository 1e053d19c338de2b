//! `crmlens validate`: every check of a dataset against the contract. Each finding names the
//! table, column and check, counts the rows at fault and gives up to five example keys. A file
//! that cannot be read is a finding naming the file, never a crash.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::Result;
use crate::config::Config;
use crate::dataset::discover::{Dataset, check_parquet_file};
use crate::dataset::schema::{TableSpec, tables};
use crate::engine::{dataset_path, session_context, tables as engine_tables};
use crate::output::display_cell;

mod checks;
mod keys;

/// How bad a finding is: errors fail validation (exit code 1), warnings and notes do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One problem found in the dataset.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub table: String,
    pub column: Option<String>,
    /// A stable name for the kind of check, e.g. `orphan_reference`.
    pub check: &'static str,
    /// Rows (or files) at fault.
    pub count: u64,
    /// Up to five example keys (or values, or file paths).
    pub examples: Vec<String>,
    pub message: String,
}

/// What was found for one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableStatus {
    pub table: String,
    /// `ok`, `absent`, `unreadable`, or `extra` (a Parquet table outside the contract).
    pub status: &'static str,
    pub required: bool,
    pub files: usize,
    pub rows: Option<u64>,
    pub path: Option<PathBuf>,
}

/// The whole validation result (`--format json` prints it as one object).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dataset: PathBuf,
    pub as_of: Option<NaiveDate>,
    /// The date taken as today: timestamps after it are errors.
    pub today: NaiveDate,
    pub tables: Vec<TableStatus>,
    pub findings: Vec<Finding>,
    pub errors: usize,
    pub warnings: usize,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.errors == 0
    }

    /// The findings as a table (for the `table` and `csv` outputs).
    pub fn findings_batch(&self) -> Result<RecordBatch> {
        let text = |f: fn(&Finding) -> String| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(self.findings.iter().map(f)))
        };
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("severity", DataType::Utf8, false),
            Field::new("table", DataType::Utf8, false),
            Field::new("column", DataType::Utf8, false),
            Field::new("check", DataType::Utf8, false),
            Field::new("count", DataType::UInt64, false),
            Field::new("examples", DataType::Utf8, false),
            Field::new("message", DataType::Utf8, false),
        ]));
        Ok(RecordBatch::try_new(
            schema,
            vec![
                text(|f| f.severity.as_str().to_string()),
                text(|f| f.table.clone()),
                text(|f| f.column.clone().unwrap_or_default()),
                text(|f| f.check.to_string()),
                Arc::new(UInt64Array::from_iter_values(
                    self.findings.iter().map(|f| f.count),
                )),
                text(|f| f.examples.join(", ")),
                text(|f| f.message.clone()),
            ],
        )?)
    }

    /// The table overview as a table.
    pub fn tables_batch(&self) -> Result<RecordBatch> {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("table", DataType::Utf8, false),
            Field::new("status", DataType::Utf8, false),
            Field::new("files", DataType::UInt64, false),
            Field::new("rows", DataType::UInt64, true),
        ]));
        Ok(RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(
                    self.tables.iter().map(|t| t.table.clone()),
                )),
                Arc::new(StringArray::from_iter_values(
                    self.tables.iter().map(|t| t.status),
                )),
                Arc::new(UInt64Array::from_iter_values(
                    self.tables.iter().map(|t| t.files as u64),
                )),
                Arc::new(UInt64Array::from(
                    self.tables.iter().map(|t| t.rows).collect::<Vec<_>>(),
                )),
            ],
        )?)
    }
}

/// Validates the configured dataset. Only a missing or unreadable dataset directory is an
/// `Err`; everything wrong inside it is a finding. Validation reads the whole dataset and its
/// findings quote rows, so it is refused under a row-level scope.
pub async fn validate(config: &Config) -> Result<Report> {
    if let Some(scope) = &config.scope {
        return Err(crate::Error::Usage(format!(
            "--scope {scope}: validation checks the whole dataset and quotes its rows, so it is not available under a row-level scope; run it without --scope"
        )));
    }
    let root = dataset_path(config)?;
    let dataset = Dataset::open(&root)?;
    let ctx = session_context(config)?;
    let mut findings = Vec::new();
    let mut statuses = Vec::new();
    let mut usable: Vec<(&'static TableSpec, SchemaRef)> = Vec::new();

    for spec in tables() {
        let Some(source) = dataset.table(spec.name) else {
            statuses.push(TableStatus {
                table: spec.name.into(),
                status: "absent",
                required: spec.required,
                files: 0,
                rows: None,
                path: None,
            });
            if spec.required {
                findings.push(Finding {
                    severity: Severity::Error,
                    table: spec.name.into(),
                    column: None,
                    check: "missing_table",
                    count: 0,
                    examples: vec![],
                    message: format!(
                        "required table missing: expected {0}.parquet or a folder {0}/",
                        spec.name
                    ),
                });
            }
            continue;
        };
        let (status, rows) = register_checked(&ctx, source, &config.timezone, &mut findings).await;
        statuses.push(TableStatus {
            table: spec.name.into(),
            status,
            required: spec.required,
            files: source.files.len(),
            rows,
            path: Some(source.path.clone()),
        });
        if status == "ok"
            && let Ok(provider) = ctx.table_provider(spec.name).await
        {
            let schema = provider.schema();
            column_findings(spec, &schema, &mut findings);
            usable.push((spec, schema));
        }
    }
    for source in dataset.tables.values().filter(|s| !s.canonical) {
        let (status, rows) = register_checked(&ctx, source, &config.timezone, &mut findings).await;
        statuses.push(TableStatus {
            table: source.name.clone(),
            status: if status == "ok" { "extra" } else { status },
            required: false,
            files: source.files.len(),
            rows,
            path: Some(source.path.clone()),
        });
    }

    let today = config.today();
    let as_of = match config.as_of {
        Some(d) => Some(d),
        None if usable
            .iter()
            .any(|(s, schema)| s.name == "orders" && usable_column(schema, s, "ordered_at")) =>
        {
            engine_tables::latest_date(&ctx, "orders", "ordered_at", &config.timezone, today)
                .await
                .ok()
        }
        None => None,
    };
    let checker = checks::Checker {
        ctx: &ctx,
        config,
        as_of,
        today,
        usable: &usable,
    };
    for (spec, schema) in &usable {
        checker.table_checks(spec, schema, &mut findings).await?;
    }

    findings.sort_by_key(|f| f.severity);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    Ok(Report {
        dataset: root,
        as_of,
        today,
        tables: statuses,
        findings,
        errors,
        warnings,
    })
}

/// Checks every file's footer, then registers the table. Returns its status and row count.
async fn register_checked(
    ctx: &SessionContext,
    source: &crate::dataset::TableSource,
    timezone: &str,
    findings: &mut Vec<Finding>,
) -> (&'static str, Option<u64>) {
    let mut rows = 0u64;
    let mut bad = Vec::new();
    for file in &source.files {
        match check_parquet_file(file) {
            Ok(info) => rows += info.rows.max(0) as u64,
            Err(problem) => bad.push((file.clone(), problem)),
        }
    }
    for (file, problem) in &bad {
        findings.push(Finding {
            severity: Severity::Error,
            table: source.name.clone(),
            column: None,
            check: "unreadable_file",
            count: 1,
            examples: vec![file.display().to_string()],
            message: format!("{}: {problem}", file.display()),
        });
    }
    if !bad.is_empty() {
        return ("unreadable", None);
    }
    if !source.ignored_files.is_empty() {
        findings.push(Finding {
            severity: Severity::Info,
            table: source.name.clone(),
            column: None,
            check: "ignored_files",
            count: source.ignored_files.len() as u64,
            examples: source
                .ignored_files
                .iter()
                .take(5)
                .map(|p| p.display().to_string())
                .collect(),
            message: "files in the table folder that are not read (not .parquet, or hidden)".into(),
        });
    }
    if let Err(e) = engine_tables::register(ctx, source, false, timezone).await {
        findings.push(Finding {
            severity: Severity::Error,
            table: source.name.clone(),
            column: None,
            check: "unreadable_table",
            count: source.files.len() as u64,
            examples: vec![],
            message: e.to_string(),
        });
        return ("unreadable", None);
    }
    ("ok", Some(rows))
}

/// Missing columns and columns of a type the contract does not accept.
fn column_findings(spec: &TableSpec, schema: &SchemaRef, findings: &mut Vec<Finding>) {
    for column in &spec.columns {
        match schema.field_with_name(column.name) {
            Err(_) => findings.push(Finding {
                severity: if column.required {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                table: spec.name.into(),
                column: Some(column.name.into()),
                check: "missing_column",
                count: 0,
                examples: vec![],
                message: format!(
                    "{} {} column missing ({}){}",
                    if column.required {
                        "required"
                    } else {
                        "optional"
                    },
                    format!("{:?}", column.kind).to_lowercase(),
                    column.doc,
                    if column.required {
                        ""
                    } else {
                        "; analyses that use it will fail"
                    }
                ),
            }),
            Ok(field) => {
                if let Some(problem) = column.type_problem(field.data_type()) {
                    findings.push(Finding {
                        severity: Severity::Error,
                        table: spec.name.into(),
                        column: Some(column.name.into()),
                        check: "wrong_type",
                        count: 0,
                        examples: vec![],
                        message: problem,
                    });
                }
            }
        }
    }
}

/// Whether a column exists with an accepted type (so SQL checks on it make sense).
fn usable_column(schema: &SchemaRef, spec: &TableSpec, name: &str) -> bool {
    match (schema.field_with_name(name), spec.column(name)) {
        (Ok(field), Some(c)) => c.kind.accepts(field.data_type()),
        _ => false,
    }
}

/// Renders example values of a result column as short strings.
fn example_strings(batches: &[RecordBatch]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for b in batches {
        for row in 0..b.num_rows() {
            let parts: Vec<String> = b
                .columns()
                .iter()
                .map(|c| match c.is_null(row) {
                    true => Ok("NULL".to_string()),
                    false => display_cell(c, row),
                })
                .collect::<Result<_>>()?;
            out.push(parts.join("/"));
        }
    }
    Ok(out)
}
