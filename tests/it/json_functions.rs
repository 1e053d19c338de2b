//! `json_get_str` (the contrib crate's `json_as_text` under crmlens's name, src/functions/json.rs)
//! against serde_json on every key of every event of the demo dataset, and the crate's other
//! functions and operators reachable from SQL.

use std::collections::BTreeSet;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;

use crmlens::config::Config;
use crmlens::engine::Engine;

use crate::common::demo;

/// One text column of a query's result, row by row.
async fn texts(engine: &Engine, sql: &str) -> Vec<Option<String>> {
    let batches = engine.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for batch in batches {
        let column = cast(batch.column(0), &DataType::Utf8).unwrap();
        let column = column.as_string::<i32>();
        out.extend(
            (0..column.len()).map(|i| (!column.is_null(i)).then(|| column.value(i).to_string())),
        );
    }
    out
}

/// What json_get_str gives by its definition: a string unquoted, a missing key or JSON null
/// nothing, any other value its JSON text (compared as JSON, so `3` and `3.0` stay apart only
/// where serde_json keeps them apart).
fn expected(properties: Option<&str>, key: &str) -> Option<serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(properties?).ok()?;
    match value.as_object()?.get(key)? {
        serde_json::Value::Null => None,
        other => Some(other.clone()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_get_str_agrees_with_serde_json_on_every_demo_event() {
    let engine = Engine::open(&Config::for_dataset(demo())).await.unwrap();
    // Rows in one order for both queries (ties are whole-row equal, so they agree too).
    let order = "order by customer_id, occurred_at, event, properties";
    let properties = texts(&engine, &format!("select properties from events {order}")).await;
    let mut keys = BTreeSet::new();
    for p in properties.iter().flatten() {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(p) {
            keys.extend(map.keys().cloned());
        }
    }
    assert!(keys.len() >= 2, "demo events have properties: {keys:?}");
    keys.insert("no_such_key".into());
    let mut compared = 0;
    for key in &keys {
        let got = texts(
            &engine,
            &format!("select json_get_str(properties, '{key}') from events {order}"),
        )
        .await;
        assert_eq!(got.len(), properties.len());
        for (row, (p, got)) in properties.iter().zip(&got).enumerate() {
            let want = expected(p.as_deref(), key);
            match (&want, got) {
                (None, None) => {}
                (Some(serde_json::Value::String(s)), Some(g)) => {
                    assert_eq!(s, g, "row {row} {key}")
                }
                (Some(v), Some(g)) => assert_eq!(
                    Some(v),
                    serde_json::from_str::<serde_json::Value>(g).ok().as_ref(),
                    "row {row} {key}: {g}"
                ),
                _ => panic!("row {row} key {key}: {p:?} gave {got:?}, expected {want:?}"),
            }
            compared += 1;
        }
    }
    assert!(compared > 1000, "{compared}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_functions_of_the_contrib_crate_are_registered() {
    let engine = Engine::open(&Config::for_dataset(demo())).await.unwrap();
    let j = r#"'{"s":"a\"b","n":1.50,"t":true,"x":null,"o":{"k":[1, 2]}}'"#;
    let one = |sql: String| {
        let engine = &engine;
        async move { texts(engine, &sql).await.remove(0) }
    };
    // crmlens's json_get_str: numbers and nested values as written, strings unescaped.
    assert_eq!(
        one(format!("select json_get_str({j}, 's')"))
            .await
            .as_deref(),
        Some("a\"b")
    );
    assert_eq!(
        one(format!("select json_get_str({j}, 'n')"))
            .await
            .as_deref(),
        Some("1.50")
    );
    assert_eq!(
        one(format!("select json_get_str({j}, 't')"))
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        one(format!("select json_get_str({j}, 'o')"))
            .await
            .as_deref(),
        Some("{\"k\":[1, 2]}")
    );
    assert_eq!(one(format!("select json_get_str({j}, 'x')")).await, None);
    assert_eq!(
        one(format!("select json_get_str({j}, 'o', 'k', 1)"))
            .await
            .as_deref(),
        Some("2")
    );
    assert_eq!(
        one("select json_get_str('not json', 'n')".into()).await,
        None
    );
    // The crate's own functions and operators.
    assert_eq!(
        one(format!("select json_get_int({j}, 'o', 'k', 0)"))
            .await
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        one(format!("select json_get_float({j}, 'n')"))
            .await
            .as_deref(),
        Some("1.5")
    );
    assert_eq!(
        one(format!("select json_length({j})")).await.as_deref(),
        Some("5")
    );
    assert_eq!(
        one(format!("select json_contains({j}, 'x')"))
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        one(format!("select {j} ->> 's'")).await.as_deref(),
        Some("a\"b")
    );
}
