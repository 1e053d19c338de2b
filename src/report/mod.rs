//! Reports: charts drawn with plotters ([`charts`]), the data behind them ([`data`]), report
//! templates in `queries/reports/*.toml` ([`template`], read and checked against the built-in
//! analyses by [`load`]) and their rendering into one
//! self-contained HTML file, Markdown and chart files ([`render`]).

pub mod analysis;
pub mod charts;
pub mod data;
pub mod render;
pub mod run;
pub mod template;

use std::path::{Path, PathBuf};

use crate::{Error, Result};
use template::Template;

/// Reads every template of a folder, sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<Template>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::Usage(format!(
            "report folder {}: {e}; pass --reports DIR (default {})",
            dir.display(),
            template::DEFAULT_DIR
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| load(p)).collect()
}

/// Reads one template file.
pub fn load(path: &Path) -> Result<Template> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut t: Template = toml::from_str(&text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: format!(
            "{}; a report has title, description, [[key]] (label, sql, format) and \
             [[section]] (heading, text, analysis or sql, chart, x, y, series, …)",
            e.to_string().trim_end()
        ),
    })?;
    t.name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    t.path = path.to_path_buf();
    // Key figures and sections only read: the same check as a segment's SQL.
    let queries = t
        .keys
        .iter()
        .map(|k| (format!("key {:?}", k.label), Some(&k.sql)))
        .chain(
            t.sections
                .iter()
                .map(|s| (format!("section {:?}", s.heading), s.sql.as_ref())),
        );
    for (what, sql) in queries {
        if let Some(sql) = sql
            && let Err(e) = crate::engine::statement::one_query(sql)
        {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!("{what}: sql: {e}"),
            });
        }
    }
    for (i, s) in t.sections.iter().enumerate() {
        if s.analysis.is_none() && s.sql.is_none() {
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "section {} ({:?}) needs `analysis` (one of: {}) or `sql`",
                    i + 1,
                    s.heading,
                    analysis::NAMES.join(", ")
                ),
            });
        }
        if let Some(a) = &s.analysis
            && analysis::builtin(a).is_none()
        {
            let hint = crate::hint::closest(a, analysis::NAMES.iter().copied())
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            return Err(Error::Config {
                path: path.to_path_buf(),
                message: format!(
                    "section {:?}: unknown analysis `{a}`; {hint}built-in analyses: {}",
                    s.heading,
                    analysis::NAMES.join(", ")
                ),
            });
        }
    }
    Ok(t)
}
