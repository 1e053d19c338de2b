//! JSON functions. The set of [datafusion-functions-json] (`json_get`, `json_get_int`,
//! `json_get_float`, `json_get_bool`, `json_get_json`, `json_as_text`, `json_contains`,
//! `json_length`, `json_object_keys`, and the `->`, `->>` and `?` operators) is registered
//! as it is, plus `json_get_str` with the meaning crmlens has always documented for it.
//!
//! `json_get_str(json, key, …)`: a value of a JSON object held as text, as text. The
//! `events.properties` column is JSON text (`{"utm_source":"google","device":"mobile"}`);
//! event funnels break down by such a property. Strings come back unquoted and unescaped,
//! numbers, booleans, nested objects and arrays as their JSON text as written; a missing key,
//! a JSON null, a NULL argument or text that is not a JSON object give NULL. That is the
//! crate's `json_as_text` under crmlens's name: the crate's own `json_get_str` gives NULL for
//! a number, and a funnel broken down by a numeric property (`"plan": 3`) relies on getting
//! `3`, so crmlens's name keeps its meaning.
//!
//! [datafusion-functions-json]: https://github.com/datafusion-contrib/datafusion-functions-json

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

use crate::Result;

/// The name crmlens gives the crate's `json_as_text`.
const NAME: &str = "json_get_str";

/// Registers the crate's JSON functions, then `json_get_str` over its own of that name.
pub fn register(registry: &mut dyn FunctionRegistry) -> Result<()> {
    datafusion_functions_json::register_all(registry)?;
    registry.register_udf(Arc::new(udf()))?;
    Ok(())
}

/// The `json_get_str` function: the crate's `json_as_text` under crmlens's name.
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(Renamed {
        inner: datafusion_functions_json::udfs::json_as_text_udf(),
    })
}

/// A function of the crate under another name; everything else is the crate's.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Renamed {
    inner: Arc<ScalarUDF>,
}

impl ScalarUDFImpl for Renamed {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, args: &[DataType]) -> datafusion::error::Result<DataType> {
        self.inner.return_type(args)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> datafusion::error::Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }

    fn coerce_types(&self, args: &[DataType]) -> datafusion::error::Result<Vec<DataType>> {
        self.inner.coerce_types(args)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, StringArray};
    use datafusion::prelude::SessionContext;

    /// The value of `key` in `json`, through SQL.
    async fn get(json: &str, key: &str) -> Option<String> {
        let mut state = SessionContext::new().state();
        super::register(&mut state).unwrap();
        let ctx = SessionContext::new_with_state(state);
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let sql = format!("select json_get_str({}, {}) as v", quote(json), quote(key));
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let v = batches[0]
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        (!v.is_null(0)).then(|| v.value(0).to_string())
    }

    #[tokio::test]
    async fn values_as_text() {
        let j = r#"{"utm_source":"news\"letter","n":3,"ok":true,"x":null,"o":{"a":[1]}}"#;
        assert_eq!(get(j, "utm_source").await.as_deref(), Some("news\"letter"));
        assert_eq!(get(j, "n").await.as_deref(), Some("3"));
        assert_eq!(get(j, "ok").await.as_deref(), Some("true"));
        assert_eq!(get(j, "o").await.as_deref(), Some(r#"{"a":[1]}"#));
        assert_eq!(get(j, "x").await, None);
        assert_eq!(get(j, "missing").await, None);
        assert_eq!(get("not json", "n").await, None);
        assert_eq!(get("[1, 2]", "n").await, None);
    }
}
