//! Fuzzing the row-level scope from every door a user can write (issue 18): random SQL, and
//! mutated segment and report definitions, run under a scope over the marked dataset of
//! [`crate::scope_leaks`] (each customer's name, e-mail, phone, order channel and amount carry
//! a marker of its own). Time per target: `CRMLENS_FUZZ_SECONDS` (default 1; a campaign:
//! `CRMLENS_FUZZ_SECONDS=600 cargo test --test it scope_fuzz -- --test-threads 1`).
//! Properties, for every input:
//!
//! - nothing panics;
//! - no marker or amount of a customer outside the scope appears in a result, a plan, an error,
//!   a segment snapshot or a rendered report (HTML, Markdown, SVG).
//!
//! Inputs with a new outcome are kept under `target/tmp/fuzz-corpus/<target>/`, inputs that
//! fail under `target/tmp/fuzz-findings/<target>/` (see [`crate::import_fuzz`]).

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use crmlens::engine::Engine;
use crmlens::segments::run::{Catalog, RunOptions, run, validate};
use crmlens::segments::snapshot::Store;
use proptest::prelude::*;

use crate::common::tempdir;
use crate::import_fuzz::{fuzz, fuzz_edits, shape};
use crate::scope::{open, runtime};
use crate::scope_leaks::{SCOPES, amount, marked, marker, text as cells};

/// The scope every target runs under, M1's (customers 1 and 2), and the engine over the marked
/// dataset, opened once.
const SCOPE: usize = 0;

struct Fixture {
    rt: tokio::runtime::Runtime,
    engine: Engine,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempdir();
        marked(dir.path());
        let rt = runtime();
        let engine = rt
            .block_on(open(dir.path(), Some(SCOPES[SCOPE].0)))
            .unwrap();
        Fixture {
            rt,
            engine,
            _dir: dir,
        }
    })
}

/// Panics (a finding) when `shown` quotes a customer outside the scope.
fn assert_no_leak(shown: &str, input: &str) {
    let seen = SCOPES[SCOPE].1;
    for i in (1..=5).filter(|i| !seen.contains(i)) {
        assert!(
            !shown.contains(&marker(i)) && !shown.contains(&amount(i)),
            "C{i}'s values shown under --scope {}:\n--- input\n{input}\n--- shown\n{shown}",
            SCOPES[SCOPE].0
        );
    }
}

/// Tables with the key naming a row's customer and a text column carrying its marker.
const TABLES: &[(&str, &str, &str)] = &[
    ("customers", "customer_id", "email"),
    ("customers", "customer_id", "name"),
    ("orders", "customer_id", "channel"),
    ("orders", "order_id", "cast(amount as varchar)"),
    ("order_items", "order_id", "product_id"),
    ("deals", "customer_id", "status"),
    ("customer_features", "customer_id", "phone"),
    ("purchase_days", "customer_id", "cast(amount as varchar)"),
];

/// A random scalar expression over `{k}` (key) and `{x}` (marked text): casts that fail
/// quoting a value, divisions, comparisons with other customers' keys, nesting.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("{x}".to_string()),
        Just("{k}".to_string()),
        Just("'C3'".to_string()),
        Just("'C4'".to_string()),
        Just("'O5'".to_string()),
        Just("1".to_string()),
        Just("0".to_string()),
        Just("null".to_string()),
        Just("length({x})".to_string()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| format!("cast({a} as int)")),
            inner.clone().prop_map(|a| format!("cast({a} as date)")),
            inner.clone().prop_map(|a| format!("to_timestamp({a})")),
            inner.clone().prop_map(|a| format!("regexp_like('a', {a})")),
            inner.clone().prop_map(|a| format!("upper({a})")),
            inner
                .clone()
                .prop_map(|a| format!("1 / (length({a}) - length({a}))")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("concat({a}, ' ', {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("coalesce({a}, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("nullif({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("case when {a} = {b} then {c} end")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} = {b})")),
        ]
    })
}

/// A random query over one table: a shape around random expressions, maybe under EXPLAIN.
fn query() -> impl Strategy<Value = String> {
    let shapes = prop_oneof![
        Just("select {e1} from {t}"),
        Just("select count(*) from {t} where {e1} is not null"),
        Just("select {k}, {e1} from {t} where {e2} is null or true"),
        Just("select {k}, count(*) from {t} group by {k} having max({e1}) is not null"),
        Just("select {k}, row_number() over (partition by {k} order by {e1}) from {t}"),
        Just("select * from {t} order by {e1} limit 3"),
        Just(
            "select t.{k} from {t} t join customers c on c.customer_id = t.customer_id where {e1} is not null"
        ),
        Just(
            "select count(*) from customers where customer_id in (select customer_id from {t} where {e1} is not null)"
        ),
        Just("with w as (select {k}, {e1} as v from {t}) select * from w where v is not null"),
        Just("select {e1} from {t} union all select {e2} from {t}"),
        Just("select {e1} from (select * from {t} where {k} <> 'C3') s"),
        Just("select min({x}), max({x}), approx_distinct({k}) from {t}"),
    ];
    let prefixes = prop_oneof![
        4 => Just(""),
        1 => Just("explain "),
        1 => Just("explain verbose "),
        1 => Just("explain analyze "),
        1 => Just("explain analyze verbose "),
    ];
    (
        prefixes,
        shapes,
        0..TABLES.len(),
        expression(),
        expression(),
    )
        .prop_map(|(prefix, shape, t, e1, e2)| {
            let (table, key, text) = TABLES[t];
            let uses_customer = ["orders", "deals", "customer_features", "purchase_days"];
            let shape = if shape.contains("customer_id = t.customer_id")
                && !uses_customer.contains(&table)
            {
                "select {e1} from {t}"
            } else {
                shape
            };
            format!("{prefix}{shape}")
                .replace("{e1}", &e1)
                .replace("{e2}", &e2)
                .replace("{x}", text)
                .replace("{k}", key)
                .replace("{t}", table)
        })
}

#[test]
fn sql_under_scope() {
    let f = fixture();
    let (_, _, panics) = fuzz(
        "sql-scope",
        query(),
        |sql| sql.clone().into_bytes(),
        |sql| {
            let shown = match f.rt.block_on(f.engine.query(sql)) {
                Ok(batches) => format!("ok {}", cells(&batches)),
                Err(e) => format!("error {e:#}"),
            };
            assert_no_leak(&shown, sql);
            vec![shape(shown.lines().next().unwrap_or(""))]
        },
    );
    assert_eq!(panics, 0);
}

fn shipped(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// A TOML string holding `sql` (a literal string, so that quotes need no escaping).
fn toml_sql(key: &str) -> impl Strategy<Value = String> {
    let key = key.to_string();
    (query(), expression(), 0..TABLES.len()).prop_map(move |(q, e, t)| {
        let (_, k, x) = TABLES[t];
        let e = e.replace("{x}", x).replace("{k}", k);
        match key.as_str() {
            "filter" => format!("filter = '''{e} is not null'''"),
            _ => format!("{key} = '''{}'''", q.trim_start_matches("explain ")),
        }
    })
}

#[test]
fn segment_definitions_under_scope() {
    let f = fixture();
    let seeds = shipped("queries/segments");
    let line = prop_oneof![
        3 => toml_sql("filter"),
        1 => Just(String::new()),
        1 => Just("columns = [\"customer_id\", \"name\", \"email\", \"phone\"]".to_string()),
        1 => Just("columns = [\"customer_id\", \"nope\"]".to_string()),
        1 => Just("filter = \"in_segment('vip') or in_segment('x')\"".to_string()),
        1 => Just("filter = \"customer_id in (select customer_id from customers)\"".to_string()),
        1 => Just("base = \"select * from customers\"".to_string()),
        1 => Just("tags = 3".to_string()),
        1 => "[a-z_]{1,10} = \"[^\"\\\\]{0,12}\"",
        1 => "\\PC{0,20}",
    ];
    let (_, _, panics) = fuzz_edits("segment-toml", &seeds, line, 4, |seed, text| {
        let tmp = tempdir();
        let dir = tmp.path().join("segments");
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in seeds.iter().enumerate().filter(|(i, _)| *i != seed) {
            std::fs::write(dir.join(format!("s{i}.toml")), s).unwrap();
        }
        std::fs::write(dir.join("fuzzed.toml"), text).unwrap();
        let mut shown = String::new();
        let mut features = Vec::new();
        let outcome = f.rt.block_on(async {
            let catalog = Catalog::load(&dir)?;
            for p in validate(&f.engine, &catalog).await? {
                shown.push_str(&format!("problem: {}\n", p.message));
            }
            let store = || Store::new(tmp.path().join("out"));
            let summary = run(
                &f.engine,
                &catalog,
                RunOptions {
                    names: vec!["fuzzed".into()],
                    store: store(),
                    wait: Duration::from_secs(5),
                    scope: Some(SCOPES[SCOPE].0.into()),
                    clv_model: None,
                },
            )
            .await?;
            shown.push_str(&format!("{summary:?}\n"));
            features.extend(summary.failures.iter().map(|x| shape(&x.error)));
            features.extend(
                summary
                    .segments
                    .iter()
                    .map(|x| format!("{} members", x.count)),
            );
            if let Ok(as_of) = store().pick("fuzzed", None) {
                let (_, batches) = store().read("fuzzed", as_of, "members.parquet")?;
                shown.push_str(&cells(&batches));
            }
            crmlens::Result::<()>::Ok(())
        });
        let first = match outcome {
            Ok(()) => "ok".to_string(),
            Err(e) => {
                let e = format!("error {e:#}");
                shown.push_str(&e);
                e
            }
        };
        assert_no_leak(&shown, text);
        features.push(shape(&first));
        features
    });
    assert_eq!(panics, 0);
}

#[test]
fn report_templates_under_scope() {
    let f = fixture();
    let seeds = shipped("queries/reports");
    let line = prop_oneof![
        3 => toml_sql("sql"),
        1 => Just(String::new()),
        1 => Just("[[section]]".to_string()),
        1 => Just("heading = \"h\"".to_string()),
        1 => Just("[[key]]".to_string()),
        1 => Just("label = \"k\"".to_string()),
        1 => Just("analysis = \"rfm_grid\"".to_string()),
        1 => Just("analysis = \"nope\"".to_string()),
        1 => Just("chart = \"bar\"".to_string()),
        1 => Just("chart = \"line\"".to_string()),
        1 => Just("x = \"customer_id\"".to_string()),
        1 => Just("y = [\"v\"]".to_string()),
        1 => Just("format = \"money\"".to_string()),
        1 => "[a-z_]{1,10} = \"[^\"\\\\]{0,12}\"",
        1 => "\\PC{0,20}",
    ];
    let (_, _, panics) = fuzz_edits("report-toml", &seeds, line, 4, |_, text| {
        let tmp = tempdir();
        let path = tmp.path().join("fuzzed.toml");
        std::fs::write(&path, text).unwrap();
        let out = tmp.path().join("out");
        let segments = tmp.path().join("segments");
        let mut shown = String::new();
        let outcome = f.rt.block_on(async {
            let t = crmlens::report::load(&path)?;
            let data = crmlens::report::run::run(&f.engine, &t, &segments).await?;
            let meta = crmlens::report::render::Meta::of(&f.engine).await?;
            let written = crmlens::report::render::write(&t, &data, &meta, &out)?;
            shown.push_str(&format!("{:?}\n", written.failed_sections));
            for file in [&written.html, &written.markdown].into_iter().chain(
                written
                    .charts
                    .iter()
                    .filter(|p| p.extension().is_some_and(|e| e == "svg")),
            ) {
                shown.push_str(&std::fs::read_to_string(file).unwrap());
            }
            crmlens::Result::<usize>::Ok(written.failed_sections.len())
        });
        let first = match outcome {
            Ok(failed) => format!("ok, {failed} failed section(s)"),
            Err(e) => {
                let e = format!("error {e:#}");
                shown.push_str(&e);
                e
            }
        };
        assert_no_leak(&shown, text);
        vec![shape(&first)]
    });
    assert_eq!(panics, 0);
}
