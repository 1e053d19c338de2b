//! `--by DIM,DIM…` flags: a comma-separated list of dimension names, each mapped to the
//! column(s) it groups by, checked before any query runs.

use crate::{Error, Result};

/// The columns of the dimensions named in `by` (in the order given), from `valid`: pairs of a
/// dimension name and its column list (e.g. `("stage", "stage_order, stage")`).
pub(super) fn dimensions(by: &str, valid: &[(&str, &'static str)]) -> Result<Vec<&'static str>> {
    let names = || valid.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let mut keys = Vec::new();
    for word in by.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let Some((_, column)) = valid.iter().find(|(name, _)| *name == word) else {
            return Err(Error::Usage(format!(
                "--by {word:?}: expected a comma-separated list of {}",
                names()
            )));
        };
        if keys.contains(column) {
            return Err(Error::Usage(format!("--by: {word} is given twice")));
        }
        keys.push(*column);
    }
    if keys.is_empty() {
        return Err(Error::Usage(format!(
            "--by: expected at least one of {}",
            names()
        )));
    }
    Ok(keys)
}

/// `ORDER BY` items for group keys: each column, NULLs last.
pub(super) fn order_by(keys: &[&str]) -> String {
    keys.iter()
        .flat_map(|k| k.split(','))
        .map(|k| format!("{} nulls last", k.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}
