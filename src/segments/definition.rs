//! Segment definition files: `queries/segments/**/*.toml`, one segment per file, named after
//! the file. Parsing checks the keys and their values; whether the SQL plans is
//! [`super::plan`]'s job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Where the shipped segments live, relative to the working directory.
pub const DEFAULT_DIR: &str = "queries/segments";

/// Export columns when a definition names none.
pub const DEFAULT_COLUMNS: &[&str] = &["customer_id", "name", "email", "phone"];

/// One segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// From the file name (without `.toml`), lower case.
    pub name: String,
    pub path: PathBuf,
    pub description: String,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub body: Body,
    /// Segments this one builds on, as declared; `in_segment('x')` and `segment.x` in the
    /// SQL add to them (see [`super::plan`]).
    pub depends_on: Vec<String>,
    /// Export columns (from `customer_features`, else `customers`).
    pub columns: Vec<String>,
    /// Whether `columns` are the defaults (then those the dataset lacks are left out
    /// instead of being an error).
    pub default_columns: bool,
    /// Share of the members held out as the control group, in [0, 1).
    pub holdout: f64,
    /// SHA-256 of the file's text, hex.
    pub text_hash: String,
}

/// What selects the members.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A SQL boolean expression over `customer_features`.
    Filter(String),
    /// A SQL query returning a `customer_id` column.
    Sql(String),
}

impl Body {
    pub fn text(&self) -> &str {
        match self {
            Body::Filter(s) | Body::Sql(s) => s,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    description: String,
    owner: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    filter: Option<String>,
    sql: Option<String>,
    #[serde(default)]
    depends_on: Vec<String>,
    columns: Option<Vec<String>>,
    holdout: Option<f64>,
}

/// A problem with one definition file, or with several (a duplicate name, a cycle).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    /// The segment at fault (`None` when the file has no usable name).
    pub segment: Option<String>,
    pub file: PathBuf,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.message)
    }
}

/// Whether a segment name may be used: lower-case letters, digits, `_` and `-`, starting
/// with a letter (it becomes a folder name and `segment.<name>` in SQL).
pub fn check_name(name: &str) -> std::result::Result<(), String> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "segment name {name:?} (from the file name): use lower-case letters, digits, `_` \
             and `-`, starting with a letter"
        ))
    }
}

/// Parses one definition file.
pub fn parse(path: &Path, text: &str) -> std::result::Result<Definition, Problem> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let problem = |segment: Option<&str>, message: String| Problem {
        segment: segment.map(str::to_string),
        file: path.to_path_buf(),
        message,
    };
    check_name(&stem).map_err(|m| problem(None, m))?;
    let name = stem.as_str();
    let file: File = toml::from_str(text).map_err(|e| {
        problem(
            Some(name),
            format!(
                "{}; expected keys: description, owner, tags, filter or sql, depends_on, \
                 columns, holdout",
                e.to_string().trim_end()
            ),
        )
    })?;
    let body = match (file.filter, file.sql) {
        (Some(f), None) if !f.trim().is_empty() => Body::Filter(f.trim().to_string()),
        (None, Some(s)) if !s.trim().is_empty() => {
            Body::Sql(s.trim().trim_end_matches(';').trim().to_string())
        }
        (Some(_), Some(_)) => {
            return Err(problem(
                Some(name),
                "has both `filter` and `sql`; give one".into(),
            ));
        }
        _ => {
            return Err(problem(
                Some(name),
                "needs `filter` (a SQL condition over customer_features) or `sql` (a query \
                 returning customer_id)"
                    .into(),
            ));
        }
    };
    let holdout = file.holdout.unwrap_or(0.0);
    if !(0.0..1.0).contains(&holdout) {
        return Err(problem(
            Some(name),
            format!("holdout = {holdout}: expected a share in [0, 1), e.g. 0.1 for 10%"),
        ));
    }
    let mut depends_on = Vec::new();
    for d in file.depends_on {
        let d = d.trim().to_lowercase();
        check_name(&d).map_err(|m| problem(Some(name), format!("depends_on: {m}")))?;
        if !depends_on.contains(&d) {
            depends_on.push(d);
        }
    }
    let default_columns = file.columns.is_none();
    let columns = match file.columns {
        Some(c) if c.is_empty() => {
            return Err(problem(
                Some(name),
                "columns = []: name at least customer_id".into(),
            ));
        }
        Some(c) => {
            let mut out: Vec<String> = Vec::new();
            for col in c {
                let col = col.trim().to_string();
                if out.contains(&col) {
                    return Err(problem(
                        Some(name),
                        format!("columns: `{col}` is listed twice"),
                    ));
                }
                out.push(col);
            }
            if !out.iter().any(|c| c == "customer_id") {
                out.insert(0, "customer_id".into());
            }
            out
        }
        None => DEFAULT_COLUMNS.iter().map(|s| s.to_string()).collect(),
    };
    Ok(Definition {
        name: name.to_string(),
        path: path.to_path_buf(),
        description: file.description.trim().to_string(),
        owner: file.owner,
        tags: file.tags,
        body,
        depends_on,
        columns,
        default_columns,
        holdout,
        text_hash: hex(&Sha256::digest(text.as_bytes())),
    })
}

/// Every definition under `dir` (sub-folders included), sorted by name, with the problems
/// of the files that could not be used. Two files with the same name are both reported.
pub fn load_dir(dir: &Path) -> Result<(Vec<Definition>, Vec<Problem>)> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "segment folder {} does not exist; pass --segments DIR (default {DEFAULT_DIR})",
            dir.display()
        )));
    }
    let mut files = Vec::new();
    collect_toml(dir, &mut files)?;
    files.sort();
    let mut defs: Vec<Definition> = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        match parse(&path, &text) {
            Ok(d) => defs.push(d),
            Err(p) => problems.push(p),
        }
    }
    let mut by_name: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for d in &defs {
        by_name
            .entry(d.name.clone())
            .or_default()
            .push(d.path.clone());
    }
    for (name, paths) in by_name.iter().filter(|(_, p)| p.len() > 1) {
        for path in paths {
            problems.push(Problem {
                segment: Some(name.clone()),
                file: path.clone(),
                message: format!(
                    "duplicate segment name `{name}`: also defined in {}",
                    paths
                        .iter()
                        .filter(|p| *p != path)
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    defs.retain(|d| by_name.get(&d.name).is_some_and(|p| p.len() == 1));
    defs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((defs, problems))
}

fn collect_toml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            collect_toml(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(name: &str, text: &str) -> std::result::Result<Definition, Problem> {
        parse(Path::new(&format!("q/{name}.toml")), text)
    }

    #[test]
    fn filter_definition_with_defaults() {
        let d = parse_text(
            "vip",
            "description = \"Top\"\nfilter = \"monetary > 1000\"\n",
        )
        .unwrap();
        assert_eq!(d.name, "vip");
        assert_eq!(d.body, Body::Filter("monetary > 1000".into()));
        assert_eq!(d.columns, DEFAULT_COLUMNS);
        assert_eq!(d.holdout, 0.0);
        assert_eq!(d.text_hash.len(), 64);
    }

    #[test]
    fn columns_always_start_with_the_id() {
        let d = parse_text("a", "filter = \"true\"\ncolumns = [\"email\", \"clv\"]").unwrap();
        assert_eq!(d.columns, ["customer_id", "email", "clv"]);
    }

    #[test]
    fn bad_definitions_say_what_is_expected() {
        let cases = [
            ("a", "", "needs `filter`"),
            (
                "a",
                "filter = \"x\"\nsql = \"select 1\"",
                "both `filter` and `sql`",
            ),
            (
                "a",
                "filter = \"x\"\nholdout = 1.0",
                "expected a share in [0, 1)",
            ),
            (
                "a",
                "filter = \"x\"\nholdout = -0.1",
                "expected a share in [0, 1)",
            ),
            (
                "a",
                "filter = \"x\"\nfilters = \"y\"",
                "unknown field `filters`",
            ),
            (
                "a",
                "filter = \"x\"\ncolumns = [\"a\", \"a\"]",
                "listed twice",
            ),
            (
                "a",
                "filter = \"x\"\ndepends_on = [\"Bad Name\"]",
                "depends_on",
            ),
            ("Bad Name", "filter = \"x\"", "lower-case letters"),
        ];
        for (name, text, expected) in cases {
            let p = parse_text(name, text).unwrap_err();
            assert!(p.message.contains(expected), "{text:?}: {}", p.message);
            assert!(p.file.ends_with(format!("{name}.toml")));
        }
    }
}
