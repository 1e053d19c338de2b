//! The row-level checks of `validate`, each one SQL over the registered tables: nulls in
//! columns that must not have them, duplicate keys, orphan references, values outside an
//! enumeration or range, timestamps after today, after as_of or outside the dates crmlens
//! computes with, NaN and infinite amounts, negative amounts, unknown pipeline stages.

use chrono::{NaiveDate, NaiveTime};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef, TimeUnit};
use datafusion::prelude::SessionContext;

use super::{Finding, Severity, example_strings, keys, usable_column};
use crate::Result;
use crate::config::{Config, FIRST_DATE, LAST_DATE};
use crate::dataset::schema::{ColumnKind, TableSpec};
use crate::engine::tables::{instant, instant_after};

pub(super) struct Checker<'a> {
    pub ctx: &'a SessionContext,
    pub config: &'a Config,
    pub as_of: Option<NaiveDate>,
    /// The date taken as today ([`Config::today`]).
    pub today: NaiveDate,
    pub usable: &'a [(&'static TableSpec, SchemaRef)],
}

fn q(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn in_list(values: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    values
        .into_iter()
        .map(|v| lit(v.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a check's count of faulty rows is computed.
enum Count {
    /// Rows of the table matching a condition: counted for all such checks of a table in one
    /// pass over it (one `sum(case …)` per check), so validating a table reads it once.
    Rows(String),
    /// Rows sharing a key: the query of the key columns (no NULLs) for the hashed count of
    /// [`keys::duplicate_rows`], and the exact SQL count that confirms a count > 0.
    Duplicates { keys: String, exact: String },
    /// Rows whose reference has no target: the queries of both columns (no NULLs) for
    /// [`keys::orphan_rows`], and the exact SQL count that confirms a count > 0.
    Orphans {
        referring: String,
        target: String,
        exact: String,
    },
}

/// One check of a table, in the order its findings are reported.
struct Check {
    severity: Severity,
    column: String,
    check: &'static str,
    message: String,
    count: Count,
    /// The query listing up to five examples, run only when the check finds rows.
    examples: Option<String>,
}

impl Checker<'_> {
    async fn examples(&self, sql: &str) -> Result<Vec<String>> {
        let batches = self.ctx.sql(sql).await?.collect().await?;
        example_strings(&batches)
    }

    /// The first column of the first row of a query, as a count (0 for none or NULL).
    async fn scalar(&self, sql: &str) -> Result<u64> {
        Ok(self.row_counts(sql, 1).await?[0])
    }

    /// The first `n` columns of a query's one row, as counts (0 for none or NULL).
    async fn row_counts(&self, sql: &str, n: usize) -> Result<Vec<u64>> {
        let batches = self.ctx.sql(sql).await?.collect().await?;
        let mut counts = vec![0; n];
        if let Some(b) = batches.iter().find(|b| b.num_rows() > 0) {
            for (i, count) in counts.iter_mut().enumerate() {
                let col = datafusion::arrow::compute::cast(b.column(i), &DataType::Int64)?;
                let col = col.as_primitive::<Int64Type>();
                if !col.is_null(0) {
                    *count = col.value(0).max(0) as u64;
                }
            }
        }
        Ok(counts)
    }

    /// A SQL expression identifying a row for examples: the key columns other than `skip`.
    fn label(&self, spec: &TableSpec, schema: &SchemaRef, skip: &str) -> Option<String> {
        let parts: Vec<String> = spec
            .key
            .iter()
            .filter(|k| **k != skip && usable_column(schema, spec, k))
            .map(|k| format!("cast({} as varchar)", q(k)))
            .collect();
        match parts.len() {
            0 => None,
            1 => parts.into_iter().next(),
            _ => Some(format!("concat_ws('/', {})", parts.join(", "))),
        }
    }

    fn target_usable(&self, table: &str, column: &str) -> Option<bool> {
        self.usable
            .iter()
            .find(|(s, _)| s.name == table)
            .map(|(s, schema)| usable_column(schema, s, column))
    }

    /// Runs every check of one table: one pass over the table for the row conditions, one
    /// aggregation each for duplicate keys and orphan references, then the examples of the
    /// checks that found rows.
    pub async fn table_checks(
        &self,
        spec: &TableSpec,
        schema: &SchemaRef,
        findings: &mut Vec<Finding>,
    ) -> Result<()> {
        let checks = self.checks(spec, schema)?;
        let t = q(spec.name);
        let conditions: Vec<&str> = checks
            .iter()
            .filter_map(|c| match &c.count {
                Count::Rows(cond) => Some(cond.as_str()),
                _ => None,
            })
            .collect();
        let mut row_counts = if conditions.is_empty() {
            vec![]
        } else {
            let sums = conditions
                .iter()
                .map(|cond| format!("sum(case when {cond} then 1 else 0 end)"))
                .collect::<Vec<_>>()
                .join(", ");
            self.row_counts(&format!("select {sums} from {t}"), conditions.len())
                .await?
        }
        .into_iter();
        for check in checks {
            let what = format!("{}.{}", spec.name, check.column);
            let hashed = match &check.count {
                Count::Rows(_) => None,
                Count::Duplicates { keys, exact } => {
                    Some((keys::duplicate_rows(self.ctx, keys, &what).await?, exact))
                }
                Count::Orphans {
                    referring,
                    target,
                    exact,
                } => Some((
                    keys::orphan_rows(self.ctx, referring, target, &what).await?,
                    exact,
                )),
            };
            let count = match hashed {
                None => row_counts.next().unwrap_or(0),
                Some((0, _)) => 0,
                // Hashes found something: the exact count (rare, and the examples need a
                // query of their own anyway).
                Some((_, exact)) => self.scalar(exact).await?,
            };
            if count == 0 {
                continue;
            }
            let examples = match &check.examples {
                Some(sql) => self.examples(sql).await?,
                None => vec![],
            };
            findings.push(Finding {
                severity: check.severity,
                table: spec.name.into(),
                column: Some(check.column),
                check: check.check,
                count,
                examples,
                message: check.message,
            });
        }
        Ok(())
    }

    /// Timestamps before [`FIRST_DATE`] or after [`LAST_DATE`] (errors: no analysis can use
    /// them), after today (errors, except for campaigns, which may be planned ahead), and
    /// after as_of (warnings: analyses as of that date ignore them).
    fn timestamp_checks(
        &self,
        spec: &TableSpec,
        schema: &SchemaRef,
        column: &str,
        unit: TimeUnit,
        zoned: bool,
        checks: &mut Vec<Check>,
    ) -> Result<()> {
        let t = q(spec.name);
        let col = q(column);
        let raw = format!("cast({col} as bigint)");
        let tz = &self.config.timezone;
        let first = instant(FIRST_DATE.and_time(NaiveTime::MIN), tz, unit, zoned)?;
        let last = instant_after(LAST_DATE, tz, unit, zoned)?;
        let label = self.label(spec, schema, column);
        checks.push(rows_check(
            &t,
            Severity::Error,
            column,
            "timestamp_out_of_range",
            format!("({raw} < {first} or {raw} >= {last})"),
            label.as_deref(),
            format!(
                "timestamps outside the dates crmlens computes with ({FIRST_DATE} to {LAST_DATE})"
            ),
        ));
        // Campaigns may be planned ahead: their dates after today are not an error.
        let planned = spec.name == "campaigns";
        let future = instant_after(self.today, tz, unit, zoned)?;
        if !planned {
            checks.push(rows_check(
                &t,
                Severity::Error,
                column,
                "future_timestamp",
                format!("{raw} >= {future} and {raw} < {last}"),
                label.as_deref(),
                format!(
                    "timestamps after today ({}): an export cannot hold what has not happened yet; the default as_of ignores orders after today (set `today` in crmlens.toml when the system clock is not the date to check against)",
                    self.today
                ),
            ));
        }
        if let Some(as_of) = self.as_of {
            let after = instant_after(as_of, tz, unit, zoned)?;
            let end = if planned { last } else { future.min(last) };
            if after < end {
                checks.push(rows_check(
                    &t,
                    Severity::Warning,
                    column,
                    "after_as_of",
                    format!("{raw} >= {after} and {raw} < {end}"),
                    label.as_deref(),
                    format!(
                        "timestamps after as_of {as_of} (analyses as of that date ignore them)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The checks of one table, in the order their findings are reported.
    fn checks(&self, spec: &TableSpec, schema: &SchemaRef) -> Result<Vec<Check>> {
        let t = q(spec.name);
        let has = |c: &str| usable_column(schema, spec, c);
        let mut checks = Vec::new();
        let rows = |severity, column: &str, check, cond: String, example: Option<&str>, message| {
            rows_check(&t, severity, column, check, cond, example, message)
        };

        for c in spec.columns.iter().filter(|c| !c.nullable && has(c.name)) {
            let label = self.label(spec, schema, c.name);
            checks.push(rows(
                Severity::Error,
                c.name,
                "null_value",
                format!("{} is null", q(c.name)),
                label.as_deref(),
                "nulls in a column that must not have them".into(),
            ));
        }

        if !spec.key.is_empty() && spec.key.iter().all(|k| has(k)) {
            let keys = spec.key.iter().map(|k| q(k)).collect::<Vec<_>>().join(", ");
            let not_null = spec
                .key
                .iter()
                .map(|k| format!("{} is not null", q(k)))
                .collect::<Vec<_>>()
                .join(" and ");
            let dups = format!(
                "select {keys}, count(*) as n from {t} where {not_null} group by {keys} having count(*) > 1"
            );
            let label = spec
                .key
                .iter()
                .map(|k| format!("cast({} as varchar)", q(k)))
                .collect::<Vec<_>>()
                .join(", ");
            checks.push(Check {
                severity: Severity::Error,
                column: spec.key.join(", "),
                check: "duplicate_key",
                message: format!(
                    "rows sharing a key ({}) that must be unique",
                    spec.key.join(", ")
                ),
                count: Count::Duplicates {
                    keys: format!("select {keys} from {t} where {not_null}"),
                    exact: format!("select coalesce(sum(n), 0) from ({dups})"),
                },
                examples: Some(format!(
                    "select concat_ws('/', {label}) as k from ({dups}) order by 1 limit 5"
                )),
            });
        }

        for r in spec.references.iter().filter(|r| has(r.column)) {
            let c = q(r.column);
            match self.target_usable(r.table, r.target) {
                Some(true) => {
                    // Each value of the column beside each key of the target, grouped: a
                    // value no target row has is an orphan. An aggregation rather than a
                    // `not in` anti-join, whose build side (every target key) cannot spill.
                    let (tc, tt) = (q(r.target), q(r.table));
                    let keys = format!(
                        "select k, max(target) as target, sum(referring) as referring from (\
                           select {c} as k, 1 as referring, 0 as target from {t} where {c} is not null \
                           union all \
                           select {tc} as k, 0 as referring, 1 as target from {tt} where {tc} is not null\
                         ) group by k"
                    );
                    checks.push(Check {
                        severity: Severity::Error,
                        column: r.column.into(),
                        check: "orphan_reference",
                        message: format!(
                            "rows whose {} is not a {}.{}",
                            r.column, r.table, r.target
                        ),
                        count: Count::Orphans {
                            referring: format!("select {c} from {t} where {c} is not null"),
                            target: format!("select {tc} from {tt} where {tc} is not null"),
                            exact: format!(
                                "select coalesce(sum(referring), 0) from ({keys}) where target = 0"
                            ),
                        },
                        examples: Some(format!(
                            "select cast(k as varchar) as example from ({keys}) where target = 0 order by 1 limit 5"
                        )),
                    });
                }
                Some(false) => {}
                None => checks.push(rows(
                    Severity::Warning,
                    r.column,
                    "unresolvable_reference",
                    format!("{c} is not null"),
                    Some(&c),
                    format!(
                        "rows refer to table {}, which the dataset does not have",
                        r.table
                    ),
                )),
            }
        }

        for c in spec.columns.iter().filter(|c| has(c.name)) {
            let col = q(c.name);
            if !c.values.is_empty() {
                checks.push(rows(
                    Severity::Error,
                    c.name,
                    "unknown_value",
                    format!(
                        "{col} is not null and cast({col} as varchar) not in ({})",
                        in_list(c.values)
                    ),
                    Some(&col),
                    format!("values outside {}", c.values.join(" | ")),
                ));
            }
            if let Some((lo, hi)) = c.range {
                checks.push(rows(
                    Severity::Error,
                    c.name,
                    "out_of_range",
                    format!("{col} < {lo} or {col} > {hi}"),
                    Some(&col),
                    format!("values outside {lo}..={hi}"),
                ));
            }
            // Number columns hold money (amounts, prices, costs, targets).
            if c.kind == ColumnKind::Number {
                let label = self.label(spec, schema, c.name);
                let floating = schema
                    .field_with_name(c.name)
                    .is_ok_and(|f| f.data_type().is_floating());
                let finite = if floating {
                    let not_finite =
                        format!("(isnan({col}) or abs({col}) = cast('inf' as double))");
                    checks.push(rows(
                        Severity::Error,
                        c.name,
                        "not_a_number",
                        not_finite.clone(),
                        label.as_deref(),
                        "NaN or infinite amounts: not money; analyses refuse them".into(),
                    ));
                    format!(" and not {not_finite}")
                } else {
                    String::new()
                };
                checks.push(rows(
                    Severity::Warning,
                    c.name,
                    "negative_amount",
                    format!("{col} < 0{finite}"),
                    label.as_deref(),
                    "negative amounts".into(),
                ));
            }
            if c.kind == ColumnKind::Timestamp
                && let Ok(field) = schema.field_with_name(c.name)
                && let DataType::Timestamp(unit, tz) = field.data_type()
            {
                self.timestamp_checks(spec, schema, c.name, *unit, tz.is_some(), &mut checks)?;
            }
        }

        if spec.name == "deal_stage_history" && has("stage") {
            let pipeline = &self.config.pipeline;
            let known = pipeline
                .stages
                .iter()
                .chain(std::iter::once(&pipeline.lost_stage));
            checks.push(rows(
                Severity::Error,
                "stage",
                "unknown_stage",
                format!("cast(\"stage\" as varchar) not in ({})", in_list(known)),
                Some("\"stage\""),
                format!(
                    "stages not in the configured pipeline ({} | {}); set pipeline.stages in crmlens.toml",
                    pipeline.stages.join(" → "),
                    pipeline.lost_stage
                ),
            ));
        }
        Ok(checks)
    }
}

/// A check counting the rows of table `t` (quoted) matching `cond`, with up to five distinct
/// values of `example` among them.
fn rows_check(
    t: &str,
    severity: Severity,
    column: &str,
    check: &'static str,
    cond: String,
    example: Option<&str>,
    message: String,
) -> Check {
    let examples = example.map(|e| {
        format!(
            "select distinct cast({e} as varchar) as example from {t} where {cond} order by 1 limit 5"
        )
    });
    Check {
        severity,
        column: column.into(),
        check,
        message,
        count: Count::Rows(cond),
        examples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(q("a\"b"), "\"a\"\"b\"");
        assert_eq!(lit("o'clock"), "'o''clock'");
        assert_eq!(in_list(["a", "b"]), "'a', 'b'");
    }
}
