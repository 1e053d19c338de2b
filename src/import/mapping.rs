//! The mapping file (TOML) that tells `crmlens import` how a raw export becomes the canonical
//! dataset: which input files feed which table (a file-name glob and, for workbooks, a sheet),
//! source column → canonical column, value maps for enumerations written in the source's
//! language, date formats tried in order, the decimal separator, the default country for
//! phones, constant columns, the dataset time zone and the duplicate-card rules.
//!
//! Unknown keys and unknown canonical columns are errors naming the closest valid one: a
//! typo'd mapping silently ignored would load the wrong data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::dedup::ROLE_ADDRESSES;
use super::normalize::DateFormats;
use crate::dataset::schema::{TableSpec, tables};
use crate::hint::closest;
use crate::{Error, Result};

/// Date/timestamp formats tried when a table names none (after the configured ones, ISO 8601
/// forms are always tried: they cannot be misread).
pub const DEFAULT_DATE_FORMATS: &[&str] = &["%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"];

/// The whole mapping file.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// IANA time zone the export's local dates and times are in (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Defaults for every table (each table may override them).
    #[serde(flatten)]
    pub defaults: Parsing,
    /// A table fails (exit 1) when more than this share of its input rows is quarantined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_quarantined_share: Option<f64>,
    /// Duplicate customer cards.
    #[serde(default)]
    pub dedup: Dedup,
    /// Canonical table name → how to load it.
    #[serde(default)]
    pub tables: BTreeMap<String, TableMapping>,
}

/// How values are read; set at the top level or per table.
#[derive(Debug, Clone, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Parsing {
    /// chrono formats (`%d.%m.%Y %H:%M`), tried in order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_formats: Option<Vec<String>>,
    /// "," or "." (default: auto, see `normalize::parse_amount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal_separator: Option<String>,
    /// ISO 3166-1 alpha-2 country of phones written without a country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_country: Option<String>,
}

/// Duplicate customer cards.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dedup {
    /// Merge duplicate cards at all.
    pub enabled: bool,
    /// Jaro-Winkler similarity of normalised names (same city) for a likely match.
    pub name_threshold: f64,
    /// Pairs of customer ids never to merge (the undo of a merge from merges.csv).
    pub never: Vec<[String; 2]>,
    /// Local parts of role addresses (`info`, `office`, …): weak identifiers that merge two
    /// cards only when their names match too. Default: [`ROLE_ADDRESSES`].
    pub role_addresses: Vec<String>,
}

impl Default for Dedup {
    fn default() -> Self {
        Dedup {
            enabled: true,
            name_threshold: 0.92,
            never: vec![],
            role_addresses: ROLE_ADDRESSES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// How one canonical table is loaded.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TableMapping {
    /// Input file name or glob (`clients*.csv`) matched against the --input file names;
    /// omitted: the table takes every input no other table claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Worksheet of a workbook (default: the first sheet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Source column → canonical column.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Canonical column → a value for every row.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub constants: BTreeMap<String, String>,
    /// Canonical column → (source value → canonical value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(flatten)]
    pub parsing: Parsing,
}

/// A mapping checked against the schema.
#[derive(Debug, Clone)]
pub struct Plan {
    pub path: PathBuf,
    pub timezone: String,
    pub max_quarantined_share: f64,
    pub dedup: Dedup,
    /// In the schema's dependency order.
    pub tables: Vec<TablePlan>,
}

/// One table's checked mapping.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub spec: &'static TableSpec,
    pub file: Option<String>,
    pub sheet: Option<String>,
    /// (source column, canonical column index).
    pub columns: Vec<(String, usize)>,
    /// (canonical column index, raw value).
    pub constants: Vec<(usize, String)>,
    /// Per canonical column index: source value → canonical value.
    pub values: BTreeMap<usize, BTreeMap<String, String>>,
    /// The date formats, read once (the table's, else the defaults', else the built-in ones).
    pub date_formats: DateFormats,
    pub decimal_separator: Option<char>,
    pub default_country: Option<String>,
}

impl Mapping {
    pub fn parse(text: &str) -> std::result::Result<Mapping, String> {
        let mut raw: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        // Table sections sit at the top level (`[customers]`); gather them under `tables`.
        let mut tables_part = toml::Table::new();
        for spec in tables() {
            if let Some(v) = raw.remove(spec.name) {
                tables_part.insert(spec.name.to_string(), v);
            }
        }
        const TOP: &[&str] = &[
            "timezone",
            "date_formats",
            "decimal_separator",
            "default_country",
            "max_quarantined_share",
            "dedup",
        ];
        if let Some(key) = raw.keys().find(|k| !TOP.contains(&k.as_str())) {
            let all = TOP.iter().copied().chain(tables().iter().map(|t| t.name));
            return Err(match closest(key, all) {
                Some(best) => format!("unknown key or table `{key}`, did you mean `{best}`?"),
                None => format!("unknown key or table `{key}`"),
            });
        }
        raw.insert("tables".into(), toml::Value::Table(tables_part));
        raw.try_into::<Mapping>().map_err(|e| e.to_string())
    }

    pub fn load(path: &Path) -> Result<Mapping> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Mapping::parse(&text).map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Checks every name and value against the schema.
    pub fn plan(&self, path: &Path) -> Result<Plan> {
        let err = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        let timezone = self.timezone.clone().unwrap_or_else(|| "UTC".into());
        if timezone.parse::<super::normalize::Tz>().is_err() {
            return Err(err(format!(
                "timezone: {timezone:?} is not an IANA time zone name (e.g. \"Europe/Moscow\")"
            )));
        }
        let share = self.max_quarantined_share.unwrap_or(0.5);
        if !(0.0..=1.0).contains(&share) {
            return Err(err(format!(
                "max_quarantined_share: {share} is not between 0 and 1"
            )));
        }
        if !(0.0..=1.0).contains(&self.dedup.name_threshold) {
            return Err(err(format!(
                "dedup.name_threshold: {} is not between 0 and 1",
                self.dedup.name_threshold
            )));
        }
        let mut plans = Vec::new();
        for spec in tables() {
            let Some(t) = self.tables.get(spec.name) else {
                continue;
            };
            plans.push(
                table_plan(spec, t, &self.defaults)
                    .map_err(|m| err(format!("[{}] {m}", spec.name)))?,
            );
        }
        if plans.is_empty() {
            return Err(err(
                "maps no table: add a section such as [customers] with columns = { … }".into(),
            ));
        }
        Ok(Plan {
            path: path.to_path_buf(),
            timezone,
            max_quarantined_share: share,
            dedup: self.dedup.clone(),
            tables: plans,
        })
    }
}

fn column_index(spec: &TableSpec, name: &str) -> std::result::Result<usize, String> {
    spec.columns
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| {
            let hint = closest(name, spec.columns.iter().map(|c| c.name))
                .map(|b| format!(", did you mean `{b}`?"))
                .unwrap_or_default();
            format!("`{name}` is not a column of {}{hint}", spec.name)
        })
}

fn table_plan(
    spec: &'static TableSpec,
    t: &TableMapping,
    defaults: &Parsing,
) -> std::result::Result<TablePlan, String> {
    let mut columns = Vec::new();
    let mut seen = BTreeMap::new();
    for (source, target) in &t.columns {
        let i = column_index(spec, target)?;
        if let Some(other) = seen.insert(i, source) {
            return Err(format!(
                "columns: both `{other}` and `{source}` map to `{target}`"
            ));
        }
        columns.push((source.clone(), i));
    }
    let mut constants = Vec::new();
    for (target, value) in &t.constants {
        let i = column_index(spec, target)?;
        if seen.contains_key(&i) {
            return Err(format!(
                "`{target}` is both mapped from a column and a constant"
            ));
        }
        constants.push((i, value.clone()));
    }
    let provided = |i: usize| seen.contains_key(&i) || constants.iter().any(|(c, _)| *c == i);
    let missing: Vec<&str> = spec
        .columns
        .iter()
        .enumerate()
        .filter(|(i, c)| !c.nullable && !provided(*i))
        .map(|(_, c)| c.name)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "no source for required column(s) {}: map a source column in `columns` or set `constants`",
            missing.join(", ")
        ));
    }
    let mut values = BTreeMap::new();
    for (target, map) in &t.values {
        values.insert(column_index(spec, target)?, map.clone());
    }
    let date_formats = t
        .parsing
        .date_formats
        .clone()
        .or_else(|| defaults.date_formats.clone())
        .unwrap_or_else(|| DEFAULT_DATE_FORMATS.iter().map(|s| s.to_string()).collect());
    let date_formats = DateFormats::new(&date_formats)?;
    let decimal_separator = match t
        .parsing
        .decimal_separator
        .as_deref()
        .or(defaults.decimal_separator.as_deref())
    {
        None | Some("auto") => None,
        Some(",") => Some(','),
        Some(".") => Some('.'),
        Some(other) => {
            return Err(format!(
                "decimal_separator: {other:?} (expected \",\", \".\" or \"auto\")"
            ));
        }
    };
    let default_country = t
        .parsing
        .default_country
        .clone()
        .or_else(|| defaults.default_country.clone());
    if let Some(c) = &default_country
        && c.parse::<phonenumber::country::Id>().is_err()
    {
        return Err(format!(
            "default_country: {c:?} is not an ISO 3166-1 alpha-2 code (e.g. \"RU\")"
        ));
    }
    Ok(TablePlan {
        spec,
        file: t.file.clone(),
        sheet: t.sheet.clone(),
        columns,
        constants,
        values,
        date_formats,
        decimal_separator,
        default_country,
    })
}

/// Whether a file name matches a glob with `*` and `?` (case-insensitive).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let n: Vec<char> = name.to_lowercase().chars().collect();
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("clients*.csv", "Clients_2024.CSV"));
        assert!(glob_match("*.xlsx", "export.xlsx"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "abbc"));
        assert!(!glob_match("orders.csv", "orders.csv.bak"));
    }

    #[test]
    fn parses_and_checks() {
        let text = r#"
timezone = "Europe/Moscow"
default_country = "RU"
date_formats = ["%d.%m.%Y"]
[customers]
file = "clients*.csv"
columns = { "Код" = "customer_id", "Телефон" = "phone", "Тип" = "kind" }
constants = { country = "RU" }
[customers.values.kind]
"Юр. лицо" = "organization"
"#;
        let m = Mapping::parse(text).unwrap();
        let plan = m.plan(Path::new("m.toml")).unwrap();
        assert_eq!(plan.tables.len(), 1);
        assert_eq!(plan.tables[0].values.len(), 1);
        assert_eq!(plan.timezone, "Europe/Moscow");

        let e = Mapping::parse("[custmers]\ncolumns = {}").unwrap_err();
        assert!(e.contains("did you mean `customers`"), "{e}");
        let m = Mapping::parse("[orders]\ncolumns = { a = \"order_id\" }").unwrap();
        let e = m.plan(Path::new("m.toml")).unwrap_err().to_string();
        assert!(e.contains("customer_id, ordered_at, amount, status"), "{e}");
        let m = Mapping::parse("[customers]\ncolumns = { a = \"customer_idd\" }").unwrap();
        let e = m.plan(Path::new("m.toml")).unwrap_err().to_string();
        assert!(e.contains("did you mean `customer_id`"), "{e}");
    }
}
