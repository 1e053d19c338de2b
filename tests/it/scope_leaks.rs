//! The scope cannot be read around (issue 18, defects 2 and 3): adversarial queries under a
//! scope over a hand-made dataset whose rows carry unique markers. No marker of a row outside
//! the scope may appear in any result, plan or error, and a query aimed at an out-of-scope row
//! must behave exactly as the same query aimed at a row that does not exist (so errors,
//! divisions by zero and `EXPLAIN ANALYZE` row counts answer no question about other rows).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crmlens::engine::Engine;
use datafusion::arrow::array::*;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use proptest::prelude::*;

use crate::common::tempdir;
use crate::fixtures::write;
use crate::scope::{open, runtime, small};

/// Customer `C{i}`'s marker, in its name, e-mail, phone and order channel.
pub(crate) fn marker(i: usize) -> String {
    format!("Zq{i}x")
}

/// The amount of customer `C{i}`'s one order, as the engine prints it.
pub(crate) fn amount(i: usize) -> String {
    format!("{}.375", 7100 + 1000 * i)
}

/// [`small`] (managers M1, M2 East, M3 West; C1, C2 of M1, C3 of M2, C4, C5 of M3) with
/// customers and orders whose text and amounts carry each customer's markers. The texts are
/// no numbers, dates or valid regular expressions, so every cast or regex over them fails
/// quoting the value.
pub(crate) fn marked(dir: &Path) {
    small(dir);
    order_items(dir);
    products(dir);
    let t = |name: &str| dir.join(format!("{name}.parquet"));
    let each = |f: &dyn Fn(usize) -> String| -> ArrayRef {
        Arc::new(StringArray::from((1..=5).map(f).collect::<Vec<_>>()))
    };
    let day = |d: &str| {
        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros()
    };
    write(
        &t("customers"),
        vec![
            ("customer_id", each(&|i| format!("C{i}"))),
            ("kind", each(&|_| "person".into())),
            ("name", each(&|i| format!("n-{} (", marker(i)))),
            ("email", each(&|i| format!("{}@x.io", marker(i)))),
            ("phone", each(&|i| format!("+1 555 {}", marker(i)))),
            ("country", each(&|_| "US".into())),
            (
                "owner_manager_id",
                Arc::new(StringArray::from(vec!["M1", "M1", "M2", "M3", "M3"])),
            ),
            (
                "created_at",
                Arc::new(TimestampMicrosecondArray::from(
                    (1..=5)
                        .map(|i| day(&format!("2024-01-0{i}")))
                        .collect::<Vec<_>>(),
                )),
            ),
        ],
    );
    write(
        &t("orders"),
        vec![
            ("order_id", each(&|i| format!("O{i}"))),
            ("customer_id", each(&|i| format!("C{i}"))),
            (
                "ordered_at",
                Arc::new(TimestampMicrosecondArray::from(
                    (1..=5)
                        .map(|i| day(&format!("2024-03-0{i}")))
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "amount",
                Arc::new(Float64Array::from(
                    (1..=5)
                        .map(|i| amount(i).parse::<f64>().unwrap())
                        .collect::<Vec<_>>(),
                )),
            ),
            ("status", each(&|_| "paid".into())),
            ("currency", each(&|_| "USD".into())),
            ("channel", each(&|i| format!("web-{}", marker(i)))),
            (
                "manager_id",
                Arc::new(StringArray::from(vec!["M2", "M1", "M2", "M3", "M3"])),
            ),
        ],
    );
}

/// [`small`]'s order lines with prices, which `customer_features` needs.
fn order_items(dir: &Path) {
    let ids = |v: &[&str]| -> ArrayRef { Arc::new(StringArray::from(v.to_vec())) };
    write(
        &dir.join("order_items.parquet"),
        vec![
            ("order_id", ids(&["O1", "O1", "O3", "O4", "O9"])),
            ("product_id", ids(&["PA", "PB", "PA", "PB", "PA"])),
            ("quantity", Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5]))),
            (
                "unit_price",
                Arc::new(Float64Array::from(vec![1.5, 2.5, 3.5, 4.5, 5.5])),
            ),
        ],
    );
}

/// [`small`]'s products with costs, which `customer_features` needs.
fn products(dir: &Path) {
    let ids = |v: &[&str]| -> ArrayRef { Arc::new(StringArray::from(v.to_vec())) };
    write(
        &dir.join("products.parquet"),
        vec![
            ("product_id", ids(&["PA", "PB"])),
            ("name", ids(&["A", "B"])),
            ("category", ids(&["x", "y"])),
            ("unit_cost", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
        ],
    );
}

/// The scopes tried, with the customers (1-based) each one sees.
pub(crate) const SCOPES: &[(&str, &[usize])] = &[
    ("manager=M1", &[1, 2]),
    ("manager=M2,M3", &[3, 4, 5]),
    ("department=West", &[4, 5]),
];

/// A table, the column that names a row's owner there, the target value for customer `i`
/// (`{}` replaced by i; an absent row is 7) and a text expression that carries the marker.
struct Target {
    table: &'static str,
    key: &'static str,
    value: &'static str,
    text: &'static str,
}

const TARGETS: &[Target] = &[
    Target {
        table: "customers",
        key: "customer_id",
        value: "C{}",
        text: "name",
    },
    Target {
        table: "customers",
        key: "customer_id",
        value: "C{}",
        text: "concat(name, ' | ', email, ' | ', phone)",
    },
    Target {
        table: "orders",
        key: "customer_id",
        value: "C{}",
        text: "channel",
    },
    Target {
        table: "orders",
        key: "order_id",
        value: "O{}",
        text: "concat(cast(amount as varchar), 'x')",
    },
    Target {
        table: "order_items",
        key: "order_id",
        value: "O{}",
        text: "product_id",
    },
    Target {
        table: "deals",
        key: "customer_id",
        value: "C{}",
        text: "status",
    },
    Target {
        table: "customer_features",
        key: "customer_id",
        value: "C{}",
        text: "name",
    },
];

/// Expressions over a text `{x}` that fail quoting it, or divide by zero.
const LEAKS: &[&str] = &[
    "cast({x} as int)",
    "arrow_cast({x}, 'Int64')",
    "to_timestamp({x})",
    "cast({x} as date)",
    "regexp_like('a', {x})",
    "1 / (length({x}) - length({x}))",
];

/// Query shapes: `{t}` table, `{k}` key, `{id}` target value, `{leak}` a failing expression
/// over the table's text, `{cleak}` one over the joined customer's e-mail.
const SHAPES: &[&str] = &[
    "select count(*) from {t} where case when {k} = '{id}' then ({leak}) is not null else false end",
    "select {k} from {t} where {k} = '{id}' and ({leak}) is not null",
    "select t.{k} from {t} t join customers c on c.customer_id = t.customer_id where case when t.{k} = '{id}' then ({cleak}) is not null else true end",
    "select count(*) from customers where customer_id in (select customer_id from {t} where case when {k} = '{id}' then ({leak}) is not null else true end)",
    "select {k}, row_number() over (partition by {k} order by case when {k} = '{id}' then ({leak}) is not null end) as r from {t}",
    "select {k}, sum(case when {k} = '{id}' then 1 / 0 else 1 end) as s from {t} group by {k}",
    "select {k} from {t} group by {k} having bool_or(case when {k} = '{id}' then ({leak}) is not null end)",
    "select * from {t} where exists (select 1 from customers c where c.customer_id = 'C{n}' and (cast(c.email as int)) is not null)",
    "select * from {t} order by case when {k} = '{id}' then ({leak}) is not null end, {k} limit 2",
    "select {k} from {t} where {k} = '{id}' union all select {k} from {t} where ({leak}) is null",
    "select count(*) from {t} where {k} = '{id}' and length({text}) > 0",
];

const PREFIXES: &[&str] = &[
    "",
    "explain ",
    "explain verbose ",
    "explain analyze ",
    "explain analyze verbose ",
    "explain format tree ",
];

/// Every cell of a result as text, one row per line.
pub(crate) fn text(batches: &[RecordBatch]) -> String {
    let mut out = String::new();
    for b in batches {
        let columns: Vec<ArrayRef> = b
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            let cells: Vec<&str> = columns
                .iter()
                .map(|c| {
                    let c = c.as_string::<i32>();
                    if c.is_valid(r) { c.value(r) } else { "NULL" }
                })
                .collect();
            out.push_str(&cells.join("\t"));
            out.push('\n');
        }
    }
    out
}

/// `EXPLAIN ANALYZE` metrics but the row counts of each operator (timings, sizes and the
/// order per-partition figures are listed in vary from run to run). A TopK's filter and row
/// count are left out too: how many in-scope rows its partitions pass depends on which one
/// raised the shared bound first.
fn row_counts_only(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.contains("TopK(") {
                let line = keep_in_lists(line, "metrics=[", |_| false);
                keep_in_lists(&line, "filter=[", |_| false)
            } else {
                keep_in_lists(line, "metrics=[", |m| m.starts_with("output_rows="))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` with the items of every `KEY…]` list that `keep` refuses left out (items are split
/// at top-level commas: an item may hold brackets and commas of its own).
fn keep_in_lists(text: &str, key: &str, keep: fn(&str) -> bool) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(key) {
        let start = start + key.len();
        out.push_str(&rest[..start]);
        let (mut depth, mut item, mut items, mut end) =
            (0usize, String::new(), Vec::new(), rest.len());
        for (at, c) in rest[start..].char_indices() {
            match c {
                ']' if depth == 0 => {
                    end = start + at;
                    break;
                }
                '[' | '(' | '{' => depth += 1,
                ']' | ')' | '}' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    items.push(std::mem::take(&mut item));
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
        items.push(item);
        let kept: Vec<&str> = items.iter().map(|m| m.trim()).filter(|m| keep(m)).collect();
        out.push_str(&kept.join(", "));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// What a query shows a user: its result or its error, with the target value and the
/// in-scope customers' own markers made uniform (which in-scope row fails first may vary).
fn outcome(
    rt: &tokio::runtime::Runtime,
    engine: &Engine,
    sql: &str,
    targets: &[String],
    seen: &[usize],
) -> String {
    let shown = match rt.block_on(engine.query(sql)) {
        Ok(batches) => text(&batches),
        Err(e) => format!("error: {e:#}"),
    };
    // EXPLAIN ANALYZE's last row is how long the query took.
    let shown: String = shown
        .lines()
        .map(|l| {
            if l.starts_with("Duration\t") {
                "Duration"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut shown = row_counts_only(&shown);
    for target in targets {
        shown = shown.replace(target.as_str(), "{target}");
    }
    for &i in seen {
        shown = shown
            .replace(&marker(i), "{own}")
            .replace(&amount(i), "{own amount}");
    }
    // Rows come in no set order.
    let mut lines: Vec<&str> = shown.lines().collect();
    lines.sort_unstable();
    lines.join("\n")
}

#[test]
fn adversarial_queries_learn_nothing_outside_the_scope() {
    let tmp = tempdir();
    marked(tmp.path());
    let rt = runtime();
    let mut engines: HashMap<&str, Engine> = HashMap::new();
    for (scope, _) in SCOPES {
        engines.insert(scope, rt.block_on(open(tmp.path(), Some(scope))).unwrap());
    }
    // Every target table exists under every scope (a missing one would make the check empty).
    for t in TARGETS {
        for engine in engines.values() {
            rt.block_on(engine.query(&format!("select {} from {} limit 0", t.text, t.table)))
                .unwrap_or_else(|e| panic!("{}: {e}", t.table));
        }
    }
    let case = (
        0..SCOPES.len(),
        0..TARGETS.len(),
        0..SHAPES.len(),
        0..LEAKS.len(),
        0..LEAKS.len(),
        0..PREFIXES.len(),
        any::<proptest::sample::Index>(),
    );
    let config = ProptestConfig {
        cases: 160,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |((s, t, shape, leak, cleak, prefix, pick) in case)| {
        let (scope, seen) = SCOPES[s];
        let target = &TARGETS[t];
        let outside: Vec<usize> = (1..=5).filter(|i| !seen.contains(i)).collect();
        let i = *pick.get(&outside);
        if SHAPES[shape].contains("{cleak}") && !["orders", "deals", "customer_features", "customers"].contains(&target.table) {
            return Ok(());
        }
        let query = |n: usize| {
            let id = target.value.replace("{}", &n.to_string());
            let sql = format!("{}{}", PREFIXES[prefix], SHAPES[shape])
                .replace("{leak}", &LEAKS[leak].replace("{x}", target.text))
                .replace("{cleak}", &LEAKS[cleak].replace("{x}", "c.email"))
                .replace("{text}", target.text)
                .replace("{t}", target.table)
                .replace("{k}", target.key)
                .replace("{id}", &id)
                .replace("{n}", &n.to_string());
            (sql, vec![id, format!("C{n}")])
        };
        let engine = &engines[scope];
        let (sql, literals) = query(i);
        let aimed = outcome(&rt, engine, &sql, &literals, seen);
        for j in &outside {
            prop_assert!(
                !aimed.contains(&marker(*j)) && !aimed.contains(&amount(*j)),
                "{scope}: {sql}: shows C{j}'s values:\n{aimed}"
            );
        }
        let (absent_sql, absent_literals) = query(7);
        let absent = outcome(&rt, engine, &absent_sql, &absent_literals, seen);
        let differs = aimed
            .lines()
            .zip(absent.lines())
            .find(|(a, b)| a != b)
            .map(|(a, b)| format!("{a}\n  vs\n{b}"))
            .unwrap_or_else(|| format!("{aimed}\n  vs\n{absent}"));
        prop_assert!(
            aimed == absent,
            "{scope}: `{sql}` behaves differently for out-of-scope C{i} than for an absent row:\n{differs}"
        );
    });
}

/// The barrier is what EXPLAIN shows of a scoped table: no file, no statistics of the whole
/// table, no join with the scope's keys.
#[test]
fn explain_shows_the_scoped_scan_only() {
    let tmp = tempdir();
    marked(tmp.path());
    let rt = runtime();
    let engine = rt.block_on(open(tmp.path(), Some("manager=M1"))).unwrap();
    for sql in [
        "explain verbose select * from orders where amount > 1",
        "explain analyze select * from customers where name like 'n%'",
        "explain format tree select * from order_items",
    ] {
        let shown = text(&rt.block_on(engine.query(sql)).unwrap());
        assert!(
            shown.contains("ScopedScan") || shown.contains("table="),
            "{sql}: {shown}"
        );
        for hidden in [
            ".parquet",
            "DataSourceExec",
            "HashJoinExec: mode=CollectLeft, join_type=RightSemi",
            "scope_keys",
            "Exact(5)",
        ] {
            assert!(!shown.contains(hidden), "{sql}: shows {hidden}:\n{shown}");
        }
    }
}
