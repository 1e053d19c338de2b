//! Breakdowns: the dimensions a metric can be grouped by, each naming the column(s) it groups
//! by, and a comma-separated list of their names read into them (checked before any query
//! runs). The customer dimensions ([`CustomerDim`], defined in `views::dimensions`) split the
//! customer-base figures (ARPU, churn, cohorts) through their `*_by` views.

pub use crate::views::dimensions::CustomerDim;
use crate::{Error, Result};

/// A dimension a metric is broken down by.
pub trait Dimension: Copy + PartialEq + 'static {
    /// Every dimension of the metric, in the order they are listed in messages.
    const ALL: &'static [Self];

    /// Its name in a `--by` list.
    fn name(self) -> &'static str;

    /// The column(s) it groups by, e.g. `stage_order, stage`.
    fn columns(self) -> &'static str;
}

impl Dimension for CustomerDim {
    const ALL: &'static [CustomerDim] = CustomerDim::ALL;

    fn name(self) -> &'static str {
        CustomerDim::name(self)
    }

    fn columns(self) -> &'static str {
        "value"
    }
}

/// The dimension called `word`; a usage error lists the valid names.
pub fn one<D: Dimension>(word: &str) -> Result<D> {
    D::ALL
        .iter()
        .copied()
        .find(|d| d.name() == word)
        .ok_or_else(|| {
            Error::Usage(format!(
                "--by {word:?}: expected a comma-separated list of {}",
                names::<D>()
            ))
        })
}

/// The dimensions named in `by`, a comma-separated list (in the order given); a usage error
/// names an unknown or repeated name, or an empty list.
pub fn parse<D: Dimension>(by: &str) -> Result<Vec<D>> {
    let mut out: Vec<D> = Vec::new();
    for word in by.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let d = one::<D>(word)?;
        if out.contains(&d) {
            return Err(Error::Usage(format!("--by: {word} is given twice")));
        }
        out.push(d);
    }
    if out.is_empty() {
        return Err(none_given::<D>());
    }
    Ok(out)
}

/// The group-key columns of `dims`, each once, in order; a usage error when there is none.
pub(crate) fn keys<D: Dimension>(dims: &[D]) -> Result<Vec<&'static str>> {
    let mut keys: Vec<&'static str> = Vec::new();
    for d in dims {
        if !keys.contains(&d.columns()) {
            keys.push(d.columns());
        }
    }
    if keys.is_empty() {
        return Err(none_given::<D>());
    }
    Ok(keys)
}

/// The names of every dimension of `D`, comma-separated.
fn names<D: Dimension>() -> String {
    D::ALL
        .iter()
        .map(|d| d.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn none_given<D: Dimension>() -> Error {
    Error::Usage(format!("--by: expected at least one of {}", names::<D>()))
}

/// `ORDER BY` items for group keys: each column, NULLs last.
pub(crate) fn order_by(keys: &[&str]) -> String {
    keys.iter()
        .flat_map(|k| k.split(','))
        .map(|k| format!("{} nulls last", k.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A `from` item: the rows of the built-in view `whole`, or, split by `by`, those of its
/// `{whole}_by` view for that dimension without the `dimension` column (the rows carry the
/// dimension's `value`).
pub(crate) fn customer_split(whole: &str, by: Option<CustomerDim>) -> String {
    match by {
        None => whole.to_string(),
        Some(d) => format!(
            "(select * exclude (dimension) from {whole}_by where dimension = '{}')",
            d.name()
        ),
    }
}
