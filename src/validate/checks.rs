//! The row-level checks of `validate`, each one SQL over the registered tables: nulls in
//! columns that must not have them, duplicate keys, orphan references, values outside an
//! enumeration or range, timestamps after as_of, negative amounts, unknown pipeline stages.

use chrono::NaiveDate;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef};
use datafusion::prelude::SessionContext;

use super::{Finding, Severity, example_strings, usable_column};
use crate::Result;
use crate::config::Config;
use crate::dataset::schema::{ColumnKind, TableSpec};

pub(super) struct Checker<'a> {
    pub ctx: &'a SessionContext,
    pub config: &'a Config,
    pub as_of: Option<NaiveDate>,
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

impl Checker<'_> {
    async fn scalar(&self, sql: &str) -> Result<u64> {
        let batches = self.ctx.sql(sql).await?.collect().await?;
        let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else {
            return Ok(0);
        };
        let col = datafusion::arrow::compute::cast(b.column(0), &DataType::Int64)?;
        let col = col.as_primitive::<Int64Type>();
        Ok(if col.is_null(0) {
            0
        } else {
            col.value(0).max(0) as u64
        })
    }

    async fn examples(&self, sql: &str) -> Result<Vec<String>> {
        let batches = self.ctx.sql(sql).await?.collect().await?;
        example_strings(&batches)
    }

    /// Rows of `table` matching `cond`, with up to five distinct values of `example`.
    async fn count_where(
        &self,
        table: &str,
        cond: &str,
        example: Option<&str>,
    ) -> Result<(u64, Vec<String>)> {
        let t = q(table);
        let n = self
            .scalar(&format!("select count(*) from {t} where {cond}"))
            .await?;
        let examples = match example {
            Some(e) if n > 0 => {
                self.examples(&format!(
                    "select distinct cast({e} as varchar) as example from {t} where {cond} order by 1 limit 5"
                ))
                .await?
            }
            _ => vec![],
        };
        Ok((n, examples))
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

    pub async fn table_checks(
        &self,
        spec: &TableSpec,
        schema: &SchemaRef,
        findings: &mut Vec<Finding>,
    ) -> Result<()> {
        let t = spec.name;
        let has = |c: &str| usable_column(schema, spec, c);
        let mut add = |severity, column: &str, check, count: u64, examples, message: String| {
            if count > 0 {
                findings.push(Finding {
                    severity,
                    table: t.into(),
                    column: Some(column.into()),
                    check,
                    count,
                    examples,
                    message,
                });
            }
        };

        for c in spec.columns.iter().filter(|c| !c.nullable && has(c.name)) {
            let label = self.label(spec, schema, c.name);
            let (n, ex) = self
                .count_where(t, &format!("{} is null", q(c.name)), label.as_deref())
                .await?;
            add(
                Severity::Error,
                c.name,
                "null_value",
                n,
                ex,
                "nulls in a column that must not have them".into(),
            );
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
                "select {keys}, count(*) as n from {} where {not_null} group by {keys} having count(*) > 1",
                q(t)
            );
            let n = self
                .scalar(&format!("select coalesce(sum(n), 0) from ({dups})"))
                .await?;
            let ex = if n > 0 {
                let label = spec
                    .key
                    .iter()
                    .map(|k| format!("cast({} as varchar)", q(k)))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.examples(&format!(
                    "select concat_ws('/', {label}) as k from ({dups}) order by 1 limit 5"
                ))
                .await?
            } else {
                vec![]
            };
            add(
                Severity::Error,
                &spec.key.join(", "),
                "duplicate_key",
                n,
                ex,
                format!(
                    "rows sharing a key ({}) that must be unique",
                    spec.key.join(", ")
                ),
            );
        }

        for r in spec.references.iter().filter(|r| has(r.column)) {
            let c = q(r.column);
            match self.target_usable(r.table, r.target) {
                Some(true) => {
                    let cond = format!(
                        "{c} is not null and {c} not in (select {tc} from {tt} where {tc} is not null)",
                        tc = q(r.target),
                        tt = q(r.table)
                    );
                    let (n, ex) = self.count_where(t, &cond, Some(&c)).await?;
                    add(
                        Severity::Error,
                        r.column,
                        "orphan_reference",
                        n,
                        ex,
                        format!("rows whose {} is not a {}.{}", r.column, r.table, r.target),
                    );
                }
                Some(false) => {}
                None => {
                    let (n, ex) = self
                        .count_where(t, &format!("{c} is not null"), Some(&c))
                        .await?;
                    add(
                        Severity::Warning,
                        r.column,
                        "unresolvable_reference",
                        n,
                        ex,
                        format!(
                            "rows refer to table {}, which the dataset does not have",
                            r.table
                        ),
                    );
                }
            }
        }

        for c in spec.columns.iter().filter(|c| has(c.name)) {
            let col = q(c.name);
            if !c.values.is_empty() {
                let cond = format!(
                    "{col} is not null and cast({col} as varchar) not in ({})",
                    in_list(c.values)
                );
                let (n, ex) = self.count_where(t, &cond, Some(&col)).await?;
                add(
                    Severity::Error,
                    c.name,
                    "unknown_value",
                    n,
                    ex,
                    format!("values outside {}", c.values.join(" | ")),
                );
            }
            if let Some((lo, hi)) = c.range {
                let cond = format!("{col} < {lo} or {col} > {hi}");
                let (n, ex) = self.count_where(t, &cond, Some(&col)).await?;
                add(
                    Severity::Error,
                    c.name,
                    "out_of_range",
                    n,
                    ex,
                    format!("values outside {lo}..={hi}"),
                );
            }
            // Number columns hold money (amounts, prices, costs, targets).
            if c.kind == ColumnKind::Number {
                let label = self.label(spec, schema, c.name);
                let (n, ex) = self
                    .count_where(t, &format!("{col} < 0"), label.as_deref())
                    .await?;
                add(
                    Severity::Warning,
                    c.name,
                    "negative_amount",
                    n,
                    ex,
                    "negative amounts".into(),
                );
            }
            if c.kind == ColumnKind::Timestamp
                && let Some(as_of) = self.as_of
                && let Ok(field) = schema.field_with_name(c.name)
                && let DataType::Timestamp(unit, tz) = field.data_type()
            {
                let raw =
                    super::after_as_of_raw(as_of, &self.config.timezone, *unit, tz.is_some())?;
                let label = self.label(spec, schema, c.name);
                let cond = format!("cast({col} as bigint) >= {raw}");
                let (n, ex) = self.count_where(t, &cond, label.as_deref()).await?;
                add(
                    Severity::Warning,
                    c.name,
                    "after_as_of",
                    n,
                    ex,
                    format!(
                        "timestamps after as_of {as_of} (analyses as of that date ignore them)"
                    ),
                );
            }
        }

        if t == "deal_stage_history" && has("stage") {
            let pipeline = &self.config.pipeline;
            let known = pipeline
                .stages
                .iter()
                .chain(std::iter::once(&pipeline.lost_stage));
            let cond = format!("cast(\"stage\" as varchar) not in ({})", in_list(known));
            let (n, ex) = self.count_where(t, &cond, Some("\"stage\"")).await?;
            add(
                Severity::Error,
                "stage",
                "unknown_stage",
                n,
                ex,
                format!(
                    "stages not in the configured pipeline ({} | {}); set pipeline.stages in crmlens.toml",
                    pipeline.stages.join(" → "),
                    pipeline.lost_stage
                ),
            );
        }
        Ok(())
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
