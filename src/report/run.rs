//! Running a report template: the key figures and each section's query and chart, timed
//! apart from the rendering.

use std::path::Path;
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;

use super::analysis;
use super::charts::{Chart, bars::Bars};
use super::data;
use super::template::{KeyFigure, Section, Template, ValueFormat};
use crate::Result;
use crate::engine::Engine;

/// A key figure's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyValue {
    pub label: String,
    pub value: Option<f64>,
    pub previous: Option<f64>,
    #[serde(skip)]
    pub format: ValueFormat,
    #[serde(skip)]
    pub lower_is_better: bool,
    pub error: Option<String>,
}

/// A section's result: chart, table, or what went wrong.
#[derive(Debug, Clone)]
pub struct SectionOut {
    pub heading: String,
    pub text: String,
    pub chart: Option<Chart>,
    pub table: Option<Table>,
    pub error: Option<String>,
}

/// A result table, formatted for reading.
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Rows in the result (more than shown when cut).
    pub total: usize,
}

/// Everything a report shows.
pub struct ReportData {
    pub keys: Vec<KeyValue>,
    pub sections: Vec<SectionOut>,
    pub query_ms: u64,
}

/// Whether a template needs the CLV model's columns.
pub fn needs_model(t: &Template) -> bool {
    t.sections.iter().any(|s| {
        s.analysis
            .as_deref()
            .is_some_and(|a| analysis::NEEDS_MODEL.contains(&a))
    })
}

/// Runs every query of a template. Errors of one key figure or section are kept in it (the
/// report still renders, the caller decides the exit code); `segments_dir` holds the segment
/// definitions for `segment_sizes`.
pub async fn run(engine: &Engine, t: &Template, segments_dir: &Path) -> Result<ReportData> {
    let start = Instant::now();
    let mut keys = Vec::new();
    for k in &t.keys {
        let started = Instant::now();
        keys.push(key_figure(engine, k).await);
        log::info!(
            "report {}: key {:?} in {:.1} s",
            t.name,
            k.label,
            started.elapsed().as_secs_f64()
        );
    }
    let mut sections = Vec::new();
    for s in &t.sections {
        let model_error = engine.model_error().filter(|_| {
            s.analysis
                .as_deref()
                .is_some_and(|a| analysis::NEEDS_MODEL.contains(&a))
        });
        let s = analysis::resolve(s);
        let started = Instant::now();
        let result = match model_error {
            Some(why) => Err(crate::Error::Query(why.to_string())),
            None => section(engine, &s, segments_dir).await,
        };
        log::info!(
            "report {}: section {:?} in {:.1} s",
            t.name,
            s.heading,
            started.elapsed().as_secs_f64()
        );
        let out = match result {
            Ok((chart, table)) => SectionOut {
                heading: s.heading.clone(),
                text: s.text.clone(),
                chart,
                table,
                error: None,
            },
            Err(e) => SectionOut {
                heading: s.heading.clone(),
                text: s.text.clone(),
                chart: None,
                table: None,
                error: Some(e.to_string()),
            },
        };
        sections.push(out);
    }
    Ok(ReportData {
        keys,
        sections,
        query_ms: start.elapsed().as_millis() as u64,
    })
}

async fn key_figure(engine: &Engine, k: &KeyFigure) -> KeyValue {
    let result = async {
        let batches = engine.query(&k.sql).await?;
        let value = data::numbers(&batches, "value")?.first().copied().flatten();
        let previous = if batches
            .first()
            .is_some_and(|b| b.schema().index_of("previous").is_ok())
        {
            data::numbers(&batches, "previous")?
                .first()
                .copied()
                .flatten()
        } else {
            None
        };
        Ok::<_, crate::Error>((value, previous))
    }
    .await;
    let (value, previous, error) = match result {
        Ok((v, p)) => (v, p, None),
        Err(e) => (None, None, Some(e.to_string())),
    };
    KeyValue {
        label: k.label.clone(),
        value,
        previous,
        format: k.format,
        lower_is_better: k.lower_is_better,
        error,
    }
}

async fn section(
    engine: &Engine,
    s: &Section,
    segments_dir: &Path,
) -> Result<(Option<Chart>, Option<Table>)> {
    let Some(sql) = s.sql.as_deref() else {
        // Only `segment_sizes` has no SQL: templates need `analysis` or `sql`.
        return segment_sizes(engine, s, segments_dir).await;
    };
    let batches = engine.query(sql).await?;
    let chart = data::chart(&batches, s)?;
    let table = if s.table.unwrap_or(true) {
        Some(table(&batches, s.max_rows.unwrap_or(15))?)
    } else {
        None
    };
    Ok((chart, table))
}

async fn segment_sizes(
    engine: &Engine,
    s: &Section,
    dir: &Path,
) -> Result<(Option<Chart>, Option<Table>)> {
    let catalog = crate::segments::run::Catalog::load(dir)?;
    let sizes = crate::segments::run::sizes(engine, &catalog).await?;
    let mut ok: Vec<(String, f64)> = sizes
        .iter()
        .filter_map(|(n, r)| r.as_ref().ok().map(|c| (n.clone(), *c as f64)))
        .collect();
    ok.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let rows: Vec<Vec<String>> = sizes
        .iter()
        .map(|(n, r)| match r {
            Ok(c) => vec![n.clone(), c.to_string()],
            Err(e) => vec![n.clone(), format!("failed: {e}")],
        })
        .collect();
    let chart = Chart::Bars(Bars {
        title: s.title.clone().unwrap_or_else(|| s.heading.clone()),
        items: ok,
        percent: false,
    });
    let total = rows.len();
    Ok((
        Some(chart),
        s.table.unwrap_or(true).then(|| Table {
            header: vec!["segment".into(), "members".into()],
            rows,
            total,
        }),
    ))
}

/// Whether a column holds shares (shown as percentages).
fn is_share(name: &str) -> bool {
    [
        "rate",
        "share",
        "conversion",
        "probability",
        "attainment",
        "roi",
        "uplift",
        "retention",
        "lead_to",
    ]
    .iter()
    .any(|k| name.contains(k))
}

/// The result as text cells: shares as percentages, other numbers rounded for reading.
pub fn table(batches: &[RecordBatch], max_rows: usize) -> Result<Table> {
    let Some(schema) = batches.first().map(|b| b.schema()) else {
        return Ok(Table {
            header: vec![],
            rows: vec![],
            total: 0,
        });
    };
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut columns: Vec<Vec<String>> = Vec::new();
    for f in schema.fields() {
        let name = f.name();
        let cells = match f.data_type() {
            DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(..) => data::numbers(batches, name)?
                .into_iter()
                .map(|v| match v {
                    None => String::new(),
                    Some(v) if is_share(name) => format!("{:.1}%", v * 100.0),
                    Some(v) => format_number(v, 2),
                })
                .collect(),
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => data::numbers(batches, name)?
                .into_iter()
                .map(|v| v.map(|v| format_number(v, 0)).unwrap_or_default())
                .collect(),
            _ => data::texts(batches, name)?,
        };
        columns.push(cells);
    }
    let rows = (0..total.min(max_rows))
        .map(|r| columns.iter().map(|c| c[r].clone()).collect())
        .collect();
    Ok(Table {
        header: schema.fields().iter().map(|f| f.name().clone()).collect(),
        rows,
        total,
    })
}

/// 1234567.891 → "1,234,567.89" (at most `decimals`, trailing zeros dropped).
pub fn format_number(v: f64, decimals: usize) -> String {
    let decimals = if v.abs() >= 1000.0 { 0 } else { decimals };
    let text = format!("{:.*}", decimals, v.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let frac = frac.trim_end_matches('0');
    let sign = if v < 0.0 && (grouped != "0" || !frac.is_empty()) {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(format_number(1_234_567.891, 2), "1,234,568");
        assert_eq!(format_number(999.5, 2), "999.5");
        assert_eq!(format_number(-1234.0, 0), "-1,234");
        assert_eq!(format_number(0.004, 2), "0");
        assert_eq!(format_number(12.0, 2), "12");
    }
}
