//! Reports: charts drawn with plotters ([`charts`]), the data behind them ([`data`]), report
//! templates in `queries/reports/*.toml` ([`template`]) and their rendering into one
//! self-contained HTML file, Markdown and chart files ([`render`]).

pub mod analysis;
pub mod charts;
pub mod data;
pub mod render;
pub mod run;
pub mod template;
