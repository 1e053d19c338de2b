//! Report templates: `queries/reports/<name>.toml`, a title, key figures and sections. A
//! section is a built-in analysis (`analysis = "pipeline_funnel"`, see [`super::analysis`])
//! or a SQL query with a chart kind and the columns to draw, and/or its table.
//!
//! ```toml
//! title = "Weekly sales"
//! [[key]]
//! label = "Revenue, last 30 days"
//! sql = "select 1200.0 as value, 1000.0 as previous"   # previous: the period before
//! format = "money"                                      # number | money | percent | days
//! [[section]]
//! heading = "Pipeline"
//! analysis = "pipeline_funnel"
//! [[section]]
//! heading = "Top customers"
//! sql = "select name, monetary from customer_features order by monetary desc limit 10"
//! chart = "bars"
//! x = "name"
//! y = ["monetary"]
//! ```

use std::path::PathBuf;

use serde::Deserialize;

/// Where the shipped reports live, relative to the working directory.
pub const DEFAULT_DIR: &str = "queries/reports";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, rename = "key")]
    pub keys: Vec<KeyFigure>,
    #[serde(default, rename = "section")]
    pub sections: Vec<Section>,
    /// Set by the loader: the file name without `.toml`.
    #[serde(skip)]
    pub name: String,
    #[serde(skip)]
    pub path: PathBuf,
}

/// A figure at the top of the report with its change against the previous period.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFigure {
    pub label: String,
    /// Returns one row with `value` and optionally `previous`.
    pub sql: String,
    #[serde(default)]
    pub format: ValueFormat,
    /// Whether a lower value is the better one (churn rate): colours the change.
    #[serde(default)]
    pub lower_is_better: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueFormat {
    #[default]
    Number,
    Money,
    Percent,
    Days,
}

/// The chart kinds a section can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    Funnel,
    Heatmap,
    TimeSeries,
    Histogram,
    Bars,
    Stacked,
    Intervals,
    Survey,
    /// No chart (table only).
    None,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub heading: String,
    #[serde(default)]
    pub text: String,
    /// A built-in analysis; its SQL and chart, unless overridden here.
    pub analysis: Option<String>,
    pub sql: Option<String>,
    pub chart: Option<ChartKind>,
    /// Chart title [default: the heading].
    pub title: Option<String>,
    /// Column of labels / periods / rows.
    pub x: Option<String>,
    /// Value column(s).
    #[serde(default)]
    pub y: Vec<String>,
    /// Column naming the series (long format: time series, stacked bars) or, for a heatmap,
    /// the column labels.
    pub series: Option<String>,
    /// Interval ends (intervals).
    pub low: Option<String>,
    pub high: Option<String>,
    /// Cell text (heatmap).
    pub label: Option<String>,
    /// Values are shares (0.25 = 25%).
    pub percent: Option<bool>,
    /// Show the result table [default: true].
    pub table: Option<bool>,
    /// Rows of the table shown [default: 15].
    pub max_rows: Option<usize>,
}
