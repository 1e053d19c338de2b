//! Member lists for campaign tools: a snapshot's rows, the control or treatment group or
//! both, chosen columns, personal data masked.
//!
//! Masking: `hash` replaces a value with the lower-case hex SHA-256 of its normalised form
//! (e-mail: trimmed, lower case; phone: the E.164 number, `+` and digits, as Google's
//! Customer Match asks; anything else: trimmed), the form ad platforms match hashed
//! audiences on; `redact` replaces it with NULL. NULL stays NULL. Phones are entered in many
//! forms (`8 (812) 626-55-99`, `0221 4940713`): each is normalised as `import` does, with
//! the row's `country` when the snapshot has that column; a phone that cannot be made a
//! valid E.164 number (a local number without a country) hashes to NULL, counted in a
//! warning, since a hash of its digits would match no one.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sha2::{Digest, Sha256};

use super::definition::hex;
use super::plan::closest_names;
use crate::{Error, Result};

/// Which members to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Group {
    /// Everyone, with the is_control column
    All,
    /// The members to contact (is_control false)
    Treatment,
    /// The held-out members (is_control true)
    Control,
}

/// How masked columns are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MaskMode {
    /// SHA-256 hex of the normalised value
    Hash,
    /// NULL
    Redact,
}

/// What to export from a snapshot.
pub struct ExportSpec {
    pub group: Group,
    /// Columns in order; empty = every column of the snapshot.
    pub columns: Vec<String>,
    pub mask: Vec<String>,
    pub mode: MaskMode,
}

/// Applies an export spec to a snapshot's rows. Errors name the unknown column and the
/// snapshot's columns.
pub fn apply(
    batches: &[RecordBatch],
    schema: &Schema,
    spec: &ExportSpec,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let available: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let unknown = |what: &str, c: &str| {
        let close = closest_names(c, &available, 3);
        Error::Usage(format!(
            "{what} `{c}` is not a column of the snapshot{}; its columns: {}",
            if close.is_empty() {
                String::new()
            } else {
                format!(" (closest: {})", close.join(", "))
            },
            available.join(", ")
        ))
    };
    let columns: Vec<String> = if spec.columns.is_empty() {
        available.iter().map(|s| s.to_string()).collect()
    } else {
        spec.columns.clone()
    };
    let mut indices = Vec::new();
    for c in &columns {
        indices.push(schema.index_of(c).map_err(|_| unknown("--columns:", c))?);
    }
    for m in &spec.mask {
        let i = schema.index_of(m).map_err(|_| unknown("--mask:", m))?;
        if !matches!(
            schema.field(i).data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return Err(Error::Usage(format!(
                "--mask {m}: only text columns can be masked; `{m}` is {}",
                schema.field(i).data_type()
            )));
        }
    }
    let out_schema: SchemaRef = Arc::new(Schema::new(
        columns
            .iter()
            .zip(&indices)
            .map(|(c, &i)| {
                if spec.mask.contains(c) {
                    Field::new(c, DataType::Utf8, true)
                } else {
                    schema.field(i).clone()
                }
            })
            .collect::<Vec<_>>(),
    ));
    let control_index = schema.index_of("is_control").ok();
    let country_index = schema.index_of("country").ok();
    let mut unmatched = 0;
    let mut out = Vec::new();
    for batch in batches {
        let batch = match (spec.group, control_index) {
            (Group::All, _) => batch.clone(),
            (_, None) => {
                return Err(Error::Usage(
                    "--group: the snapshot has no is_control column".into(),
                ));
            }
            (group, Some(i)) => {
                let control = batch.column(i).as_boolean();
                let want = group == Group::Control;
                let mask: BooleanArray = control.iter().map(|v| Some(v == Some(want))).collect();
                filter_record_batch(batch, &mask)?
            }
        };
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (c, &i) in columns.iter().zip(&indices) {
            if spec.mask.contains(c) {
                let countries = country_index.map(|k| batch.column(k));
                let (masked, lost) = mask_column(c, batch.column(i), spec.mode, countries)?;
                unmatched += lost;
                arrays.push(masked);
            } else {
                arrays.push(batch.column(i).clone());
            }
        }
        out.push(RecordBatch::try_new(out_schema.clone(), arrays)?);
    }
    if unmatched > 0 {
        log::warn!(
            "--mask: {unmatched} phone(s) could not be made a valid E.164 number{} and are written as NULL",
            if country_index.is_some() {
                ""
            } else {
                " (the snapshot has no `country` column to read local numbers with: add `country` to the segment's columns)"
            }
        );
    }
    Ok((out_schema, out))
}

/// The masked column and the number of phones that could not be normalised (written NULL).
fn mask_column(
    name: &str,
    column: &ArrayRef,
    mode: MaskMode,
    countries: Option<&ArrayRef>,
) -> Result<(ArrayRef, usize)> {
    let text = cast(column, &DataType::Utf8)?;
    let values = text.as_string::<i32>();
    if mode == MaskMode::Redact {
        return Ok((Arc::new(StringArray::new_null(values.len())), 0));
    }
    if !is_phone(name) {
        let masked: StringArray = values
            .iter()
            .map(|v| v.map(|v| hash_value(name, v)))
            .collect();
        return Ok((Arc::new(masked), 0));
    }
    let countries = countries.map(|c| cast(c, &DataType::Utf8)).transpose()?;
    let countries = countries.as_ref().map(|c| c.as_string::<i32>());
    let mut lost = 0;
    let masked: StringArray = values
        .iter()
        .enumerate()
        .map(|(row, v)| {
            let v = v?;
            let country = countries.filter(|c| c.is_valid(row)).map(|c| c.value(row));
            let hash = hash_phone(v, country);
            lost += usize::from(hash.is_none());
            hash
        })
        .collect();
    Ok((Arc::new(masked), lost))
}

fn is_phone(column: &str) -> bool {
    column.contains("phone")
}

/// SHA-256 hex of the normalised value of a column other than a phone (see the module doc).
pub fn hash_value(column: &str, value: &str) -> String {
    let normalised = match column {
        c if c.contains("email") => value.trim().to_lowercase(),
        _ => value.trim().to_string(),
    };
    sha256_hex(&normalised)
}

/// SHA-256 hex of a phone's E.164 form (`+` and digits), read with the ISO country code when
/// it has no country code of its own; None when it is not a valid number.
pub fn hash_phone(value: &str, country: Option<&str>) -> Option<String> {
    let region = country.and_then(|c| c.trim().to_ascii_uppercase().parse().ok());
    let e164 = crate::import::normalize::normalize_phone(value, region).ok()?;
    Some(sha256_hex(&e164))
}

fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_sha256_of_the_normalised_value() {
        // sha256("test@example.com"), computed with `printf %s test@example.com | sha256sum`.
        assert_eq!(
            hash_value("email", "  Test@Example.COM "),
            "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
        );
        // printf %s +74951234567 | sha256sum
        assert_eq!(
            hash_phone("+7 (495) 123-45-67", None).as_deref(),
            Some("39cae6bb4e77fcd8ca8d244a9d724a620157b2ff34dadcc6565586f3a6005fbc")
        );
        // A national form with the row's country hashes the same E.164 number (issue 18,
        // item 12: the digits 84951234567 were hashed before); without a country it cannot
        // be read, and hashes to nothing rather than to a hash that matches no one.
        assert_eq!(
            hash_phone("8 (495) 123-45-67", Some("RU")).as_deref(),
            Some("39cae6bb4e77fcd8ca8d244a9d724a620157b2ff34dadcc6565586f3a6005fbc")
        );
        assert_eq!(hash_phone("8 (495) 123-45-67", None), None);
        assert_eq!(hash_phone("12", Some("RU")), None);
    }

    fn snapshot() -> (Schema, RecordBatch) {
        let schema = Schema::new(vec![
            Field::new("customer_id", DataType::Utf8, false),
            Field::new("email", DataType::Utf8, true),
            Field::new("monetary", DataType::Float64, true),
            Field::new("is_control", DataType::Boolean, false),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema.clone()),
            vec![
                Arc::new(StringArray::from(vec!["C1", "C2", "C3"])),
                Arc::new(StringArray::from(vec![
                    Some("a@x.io"),
                    None,
                    Some("c@x.io"),
                ])),
                Arc::new(datafusion::arrow::array::Float64Array::from(vec![
                    1.0, 2.0, 3.0,
                ])),
                Arc::new(BooleanArray::from(vec![false, true, false])),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    #[test]
    fn groups_columns_and_masks() {
        let (schema, batch) = snapshot();
        let spec = ExportSpec {
            group: Group::Treatment,
            columns: vec!["customer_id".into(), "email".into()],
            mask: vec!["email".into()],
            mode: MaskMode::Redact,
        };
        let (_, out) = apply(std::slice::from_ref(&batch), &schema, &spec).unwrap();
        assert_eq!(out[0].num_rows(), 2);
        assert_eq!(out[0].num_columns(), 2);
        assert_eq!(out[0].column(1).null_count(), 2);
        let spec = ExportSpec {
            group: Group::Control,
            columns: vec![],
            mask: vec![],
            mode: MaskMode::Hash,
        };
        let (_, out) = apply(std::slice::from_ref(&batch), &schema, &spec).unwrap();
        assert_eq!(out[0].num_rows(), 1);
        assert_eq!(out[0].column(0).as_string::<i32>().value(0), "C2");
        let bad = ExportSpec {
            group: Group::All,
            columns: vec![],
            mask: vec!["emial".into()],
            mode: MaskMode::Hash,
        };
        let e = apply(std::slice::from_ref(&batch), &schema, &bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`emial` is not a column") && e.contains("closest: email"),
            "{e}"
        );
        let bad = ExportSpec {
            group: Group::All,
            columns: vec![],
            mask: vec!["monetary".into()],
            mode: MaskMode::Hash,
        };
        let e = apply(&[batch], &schema, &bad).unwrap_err().to_string();
        assert!(e.contains("only text columns"), "{e}");
    }
}
