//! `json_get_str(json, key)`: one top-level value of a JSON object held as text, as text.
//! The `events.properties` column is JSON text (`{"utm_source":"google","device":"mobile"}`);
//! event funnels break down by such a property. Strings come back unquoted and unescaped,
//! numbers and booleans as their JSON text, nested objects and arrays as compact JSON; a
//! missing key, a JSON null, a NULL argument or text that is not a JSON object give NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::DataFusionError;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

/// The `json_get_str` function.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(JsonGetStr {
        signature: Signature::one_of(
            vec![
                TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8]),
                TypeSignature::Exact(vec![DataType::LargeUtf8, DataType::Utf8]),
                TypeSignature::Exact(vec![DataType::Utf8View, DataType::Utf8]),
            ],
            Volatility::Immutable,
        ),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonGetStr {
    signature: Signature,
}

/// The value of `key` in the JSON object `text`, as text.
pub fn get(text: &str, key: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    match value.as_object()?.get(key)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl ScalarUDFImpl for JsonGetStr {
    fn name(&self) -> &str {
        "json_get_str"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let text = as_utf8(&arrays[0])?;
        let keys = as_utf8(&arrays[1])?;
        let text = text
            .as_any()
            .downcast_ref::<datafusion::arrow::array::StringArray>()
            .ok_or_else(|| DataFusionError::Internal("json_get_str: text".into()))?;
        let keys = keys
            .as_any()
            .downcast_ref::<datafusion::arrow::array::StringArray>()
            .ok_or_else(|| DataFusionError::Internal("json_get_str: key".into()))?;
        let mut out = StringBuilder::with_capacity(args.number_rows, args.number_rows * 8);
        for row in 0..args.number_rows {
            if text.is_null(row) || keys.is_null(row) {
                out.append_null();
            } else {
                out.append_option(get(text.value(row), keys.value(row)));
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

fn as_utf8(array: &ArrayRef) -> datafusion::error::Result<ArrayRef> {
    Ok(cast(array, &DataType::Utf8)?)
}

#[cfg(test)]
mod tests {
    use super::get;

    #[test]
    fn values_as_text() {
        let j = r#"{"utm_source":"news\"letter","n":3,"ok":true,"x":null,"o":{"a":[1]}}"#;
        assert_eq!(get(j, "utm_source").as_deref(), Some("news\"letter"));
        assert_eq!(get(j, "n").as_deref(), Some("3"));
        assert_eq!(get(j, "ok").as_deref(), Some("true"));
        assert_eq!(get(j, "o").as_deref(), Some(r#"{"a":[1]}"#));
        assert_eq!(get(j, "x"), None);
        assert_eq!(get(j, "missing"), None);
        assert_eq!(get("not json", "n"), None);
        assert_eq!(get("[1, 2]", "n"), None);
    }
}
