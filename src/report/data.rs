//! Data preparation: a query result (Arrow batches) and a section's column mapping become a
//! chart's data. Nothing here draws.

use std::collections::BTreeMap;

use datafusion::arrow::array::RecordBatch;

use super::charts::{
    Chart, bars::Bars, funnel::Funnel, heatmap::Heatmap, histogram::Histogram,
    intervals::Intervals, stacked::Stacked, survey::Survey, timeseries::TimeSeries,
};
use super::template::{ChartKind, Section};
use crate::{Error, Result, columns};

/// A column of the result as text (NULL as empty), by name.
pub fn texts(batches: &[RecordBatch], column: &str) -> Result<Vec<String>> {
    match batches.first() {
        Some(b) => columns::displayed(batches, columns::index(&b.schema(), column)?),
        None => Ok(Vec::new()),
    }
}

/// A numeric column of the result as numbers (NULL as None), by name.
pub fn numbers(batches: &[RecordBatch], column: &str) -> Result<Vec<Option<f64>>> {
    match batches.first() {
        Some(b) => columns::numbers(batches, columns::index(&b.schema(), column)?),
        None => Ok(Vec::new()),
    }
}

fn need<'a>(v: &'a Option<String>, what: &str, kind: ChartKind) -> Result<&'a str> {
    v.as_deref().ok_or_else(|| {
        Error::Query(format!(
            "chart {kind:?} needs `{what}` (the column to draw)"
        ))
    })
}

/// Values of `y`'s first column, NULL as 0.
fn first_values(batches: &[RecordBatch], s: &Section, kind: ChartKind) -> Result<Vec<f64>> {
    let y =
        s.y.first()
            .ok_or_else(|| Error::Query(format!("chart {kind:?} needs `y` (the value column)")))?;
    Ok(numbers(batches, y)?
        .into_iter()
        .map(|v| v.unwrap_or(0.0))
        .collect())
}

/// A named series of optional values.
type Series = (String, Vec<Option<f64>>);

/// Pivots long rows (x, series, value) to categories × series, in first-seen order.
fn pivot(
    batches: &[RecordBatch],
    x: &str,
    series: &str,
    y: &str,
) -> Result<(Vec<String>, Vec<Series>)> {
    let xs = texts(batches, x)?;
    let ss = texts(batches, series)?;
    let vs = numbers(batches, y)?;
    let mut categories: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for ((xv, sv), v) in xs.into_iter().zip(ss).zip(vs) {
        let i = categories.iter().position(|c| *c == xv).unwrap_or_else(|| {
            categories.push(xv);
            categories.len() - 1
        });
        let j = names.iter().position(|c| *c == sv).unwrap_or_else(|| {
            names.push(sv);
            names.len() - 1
        });
        if let Some(v) = v {
            *cells.entry((i, j)).or_insert(0.0) += v;
        }
    }
    let series = names
        .iter()
        .enumerate()
        .map(|(j, n)| {
            let vals = (0..categories.len())
                .map(|i| cells.get(&(i, j)).copied())
                .collect();
            (n.clone(), vals)
        })
        .collect();
    Ok((categories, series))
}

/// The chart of a section's result; None for `chart = "none"` or no chart kind.
pub fn chart(batches: &[RecordBatch], s: &Section) -> Result<Option<Chart>> {
    let Some(kind) = s.chart else {
        return Ok(None);
    };
    let title = s.title.clone().unwrap_or_else(|| s.heading.clone());
    let percent = s.percent.unwrap_or(false);
    let labels = || -> Result<Vec<String>> { texts(batches, need(&s.x, "x", kind)?) };
    Ok(Some(match kind {
        ChartKind::None => return Ok(None),
        ChartKind::Funnel => Chart::Funnel(Funnel {
            title,
            steps: labels()?
                .into_iter()
                .zip(first_values(batches, s, kind)?)
                .collect(),
        }),
        ChartKind::Bars => Chart::Bars(Bars {
            title,
            items: labels()?
                .into_iter()
                .zip(first_values(batches, s, kind)?)
                .collect(),
            percent,
        }),
        ChartKind::Histogram => Chart::Histogram(Histogram {
            title,
            bins: labels()?
                .into_iter()
                .zip(first_values(batches, s, kind)?)
                .collect(),
            x_title: s.y.first().cloned().unwrap_or_default(),
        }),
        ChartKind::Survey => {
            let levels: Vec<(String, f64)> = labels()?
                .into_iter()
                .zip(first_values(batches, s, kind)?)
                .collect();
            let total: f64 = levels.iter().map(|(_, v)| v).sum();
            let n = levels.len() as f64;
            // Levels come best first: the best is worth n points, the worst 1.
            let mean = levels
                .iter()
                .enumerate()
                .map(|(i, (_, v))| (n - i as f64) * v)
                .sum::<f64>()
                / total.max(1.0);
            Chart::Survey(Survey {
                title,
                note: format!("mean {mean:.2} of {n:.0} over {total:.0} answers"),
                levels,
            })
        }
        ChartKind::TimeSeries => {
            let x = need(&s.x, "x", kind)?;
            let (periods, series) = match &s.series {
                Some(series) => {
                    let y =
                        s.y.first()
                            .ok_or_else(|| Error::Query("chart TimeSeries needs `y`".into()))?;
                    pivot(batches, x, series, y)?
                }
                None => (
                    texts(batches, x)?,
                    s.y.iter()
                        .map(|y| Ok((y.clone(), numbers(batches, y)?)))
                        .collect::<Result<_>>()?,
                ),
            };
            Chart::TimeSeries(TimeSeries {
                title,
                periods,
                series,
                percent,
            })
        }
        ChartKind::Stacked => {
            let x = need(&s.x, "x", kind)?;
            let series_col = need(&s.series, "series", kind)?;
            let y =
                s.y.first()
                    .ok_or_else(|| Error::Query("chart Stacked needs `y`".into()))?;
            let (categories, series) = pivot(batches, x, series_col, y)?;
            Chart::Stacked(Stacked {
                title,
                categories,
                series: series
                    .into_iter()
                    .map(|(n, v)| (n, v.into_iter().map(|x| x.unwrap_or(0.0)).collect()))
                    .collect(),
            })
        }
        ChartKind::Heatmap => {
            let x = need(&s.x, "x", kind)?;
            let col = need(&s.series, "series", kind)?;
            let y =
                s.y.first()
                    .ok_or_else(|| Error::Query("chart Heatmap needs `y`".into()))?;
            let (rows, columns) = pivot(batches, x, col, y)?;
            let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
            let cells: Vec<Vec<Option<f64>>> = (0..rows.len())
                .map(|i| columns.iter().map(|(_, v)| v[i]).collect())
                .collect();
            let label_of: BTreeMap<(String, String), String> = match &s.label {
                Some(l) => texts(batches, x)?
                    .into_iter()
                    .zip(texts(batches, col)?)
                    .zip(texts(batches, l)?)
                    .collect(),
                None => BTreeMap::new(),
            };
            let labels = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    names
                        .iter()
                        .enumerate()
                        .map(
                            |(j, c)| match (label_of.get(&(r.clone(), c.clone())), cells[i][j]) {
                                (Some(t), _) => t.clone(),
                                (None, Some(v)) if percent => super::charts::percent(v),
                                (None, Some(v)) => super::charts::short_number(v),
                                (None, None) => String::new(),
                            },
                        )
                        .collect()
                })
                .collect();
            Chart::Heatmap(Heatmap {
                title,
                row_title: x.to_string(),
                column_title: col.to_string(),
                rows,
                columns: names,
                cells,
                labels,
            })
        }
        ChartKind::Intervals => {
            let est = first_values(batches, s, kind)?;
            let low = numbers(batches, need(&s.low, "low", kind)?)?;
            let high = numbers(batches, need(&s.high, "high", kind)?)?;
            Chart::Intervals(Intervals {
                title,
                items: labels()?
                    .into_iter()
                    .zip(est)
                    .zip(low.into_iter().zip(high))
                    .filter_map(|((l, e), (lo, hi))| Some((l, e, lo?, hi?)))
                    .collect(),
                percent,
            })
        }
    }))
}
