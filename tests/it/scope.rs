//! Row-level scope (`--scope`): a hand-made dataset whose visible rows per scope are written
//! out by hand, the refusal of statements that reach files, a property test over generated
//! data (no row outside the scope, in any table or built-in view), and the CLI surface.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crmlens::config::Config;
use crmlens::config::Scope;
use crmlens::engine::Engine;
use datafusion::arrow::array::*;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use proptest::prelude::*;

use crate::common::{crmlens, demo, run, tempdir};
use crate::fixtures::write;

fn text(values: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn ids(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

/// Naive timestamps (so the tables go through the normalising view of `tables::register`).
fn naive(values: &[&str]) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(
        values
            .iter()
            .map(|s| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .unwrap()
                    .and_hms_opt(12, 0, 0)
                    .unwrap()
                    .and_utc()
                    .timestamp_micros()
            })
            .collect::<Vec<_>>(),
    ))
}

/// Managers M1, M2 (department East), M3 (West) and M4 (East, owns no customer); customers
/// C1, C2 of M1, C3 of M2, C4, C5 of M3; rows of every kind hanging off them, an anonymous
/// survey, an activity without a customer, a department-level plan, an extra table with
/// customer_id and one without.
pub(crate) fn small(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let t = |name: &str| dir.join(format!("{name}.parquet"));
    write(
        &t("managers"),
        vec![
            ("manager_id", ids(&["M1", "M2", "M3", "M4"])),
            ("name", ids(&["Ann", "Bob", "Сергей", "דנה"])),
            ("department", ids(&["East", "East", "West", "East"])),
        ],
    );
    // Large utf8 ids here, plain utf8 in the other tables: the semi join must still match.
    write(
        &t("customers"),
        vec![
            (
                "customer_id",
                Arc::new(LargeStringArray::from(vec!["C1", "C2", "C3", "C4", "C5"])),
            ),
            ("kind", ids(&["person"; 5])),
            ("name", ids(&["a", "b", "c", "d", "e"])),
            ("owner_manager_id", ids(&["M1", "M1", "M2", "M3", "M3"])),
            (
                "created_at",
                naive(&[
                    "2024-01-01",
                    "2024-01-02",
                    "2024-01-03",
                    "2024-01-04",
                    "2024-01-05",
                ]),
            ),
        ],
    );
    write(
        &t("contacts"),
        vec![
            ("contact_id", ids(&["P1", "P2", "P3"])),
            ("customer_id", ids(&["C1", "C3", "C4"])),
        ],
    );
    // O1 is credited to M2 but its customer is M1's: it belongs to M1's scope. O5 (of M3's
    // customer) is the latest order of the dataset.
    write(
        &t("orders"),
        vec![
            ("order_id", ids(&["O1", "O2", "O3", "O4", "O5"])),
            ("customer_id", ids(&["C1", "C2", "C3", "C4", "C5"])),
            (
                "ordered_at",
                naive(&[
                    "2024-03-01",
                    "2024-03-02",
                    "2024-03-03",
                    "2024-03-04",
                    "2024-06-30",
                ]),
            ),
            (
                "amount",
                Arc::new(Float64Array::from(vec![10.0, 20.0, 30.0, 40.0, 50.0])),
            ),
            ("status", ids(&["paid"; 5])),
            ("manager_id", ids(&["M2", "M1", "M2", "M3", "M3"])),
        ],
    );
    write(
        &t("order_items"),
        vec![
            ("order_id", ids(&["O1", "O1", "O3", "O4", "O9"])),
            ("product_id", ids(&["PA", "PB", "PA", "PB", "PA"])),
            ("quantity", Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5]))),
        ],
    );
    write(
        &t("products"),
        vec![
            ("product_id", ids(&["PA", "PB"])),
            ("name", ids(&["A", "B"])),
        ],
    );
    write(
        &t("deals"),
        vec![
            ("deal_id", ids(&["D1", "D2", "D3"])),
            ("customer_id", ids(&["C1", "C3", "C4"])),
            ("manager_id", ids(&["M1", "M2", "M1"])),
            ("status", ids(&["won", "open", "open"])),
        ],
    );
    write(
        &t("deal_stage_history"),
        vec![
            ("deal_id", ids(&["D1", "D1", "D2", "D3"])),
            ("stage", ids(&["lead", "won", "lead", "lead"])),
        ],
    );
    write(
        &t("activities"),
        vec![
            ("activity_id", ids(&["A1", "A2", "A3"])),
            ("customer_id", text(&[Some("C1"), Some("C4"), None])),
            ("deal_id", text(&[Some("D1"), None, Some("D1")])),
            ("manager_id", ids(&["M1", "M1", "M1"])),
        ],
    );
    write(
        &t("surveys"),
        vec![
            ("survey_id", ids(&["S1", "S2", "S3"])),
            ("customer_id", text(&[Some("C1"), None, Some("C4")])),
            ("score", Arc::new(Int64Array::from(vec![5, 4, 3]))),
        ],
    );
    write(
        &t("tickets"),
        vec![
            ("ticket_id", ids(&["T1", "T2"])),
            ("customer_id", ids(&["C2", "C5"])),
        ],
    );
    write(
        &t("campaigns"),
        vec![("campaign_id", ids(&["K1"])), ("name", ids(&["Spring"]))],
    );
    write(
        &t("campaign_members"),
        vec![
            ("campaign_id", ids(&["K1", "K1"])),
            ("customer_id", ids(&["C1", "C4"])),
        ],
    );
    write(
        &t("events"),
        vec![
            ("customer_id", ids(&["C2", "C5"])),
            ("event", ids(&["view", "view"])),
        ],
    );
    write(
        &t("plans"),
        vec![
            ("manager_id", text(&[Some("M1"), Some("M3"), None])),
            ("department", ids(&["East", "West", "East"])),
            (
                "target_amount",
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])),
            ),
        ],
    );
    write(
        &t("notes"),
        vec![
            ("note_id", ids(&["N1", "N2"])),
            ("customer_id", ids(&["C1", "C4"])),
        ],
    );
    write(
        &t("fx_rates"),
        vec![
            ("currency", ids(&["EUR"])),
            ("rate", Arc::new(Float64Array::from(vec![1.1]))),
        ],
    );
}

/// The rows each table shows, one identifying text per row.
const ROW_IDS: &[(&str, &str)] = &[
    ("managers", "manager_id"),
    ("customers", "customer_id"),
    ("contacts", "contact_id"),
    ("orders", "order_id"),
    ("order_items", "order_id || '/' || product_id"),
    ("products", "product_id"),
    ("deals", "deal_id"),
    ("deal_stage_history", "deal_id || '/' || stage"),
    ("activities", "activity_id"),
    ("surveys", "survey_id"),
    ("tickets", "ticket_id"),
    ("campaigns", "campaign_id"),
    ("campaign_members", "campaign_id || '/' || customer_id"),
    ("events", "customer_id || '/' || event"),
    ("plans", "coalesce(manager_id, '-') || '/' || department"),
    ("notes", "note_id"),
];

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub(crate) async fn open(dataset: &Path, scope: Option<&str>) -> crmlens::Result<Engine> {
    let mut config = Config::for_dataset(dataset);
    config.scope = scope.map(|s| s.parse::<Scope>()).transpose()?;
    Engine::open(&config).await
}

/// Every value of one result column as text (NULL as None).
fn column(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches {
        let Ok(i) = b.schema().index_of(name) else {
            continue;
        };
        let c = cast(b.column(i), &DataType::Utf8).unwrap();
        let c = c.as_string::<i32>();
        out.extend((0..c.len()).map(|r| c.is_valid(r).then(|| c.value(r).to_string())));
    }
    out
}

async fn rows(engine: &Engine, table: &str, id: &str) -> Vec<String> {
    let batches = engine
        .query(&format!("select {id} as id from {table} order by 1"))
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
    column(&batches, "id").into_iter().flatten().collect()
}

/// Per table of [`ROW_IDS`], in order: the rows a scope sees.
type Expected<'a> = &'a [(&'a str, &'a [&'a str])];

#[test]
fn each_scope_sees_exactly_its_rows() {
    let tmp = tempdir();
    small(tmp.path());
    let expected: &[(&str, Expected)] = &[
        (
            "manager=M1",
            &[
                ("managers", &["M1"]),
                ("customers", &["C1", "C2"]),
                ("contacts", &["P1"]),
                ("orders", &["O1", "O2"]),
                ("order_items", &["O1/PA", "O1/PB"]),
                ("products", &["PA", "PB"]),
                ("deals", &["D1"]),
                ("deal_stage_history", &["D1/lead", "D1/won"]),
                ("activities", &["A1"]),
                ("surveys", &["S1"]),
                ("tickets", &["T1"]),
                ("campaigns", &["K1"]),
                ("campaign_members", &["K1/C1"]),
                ("events", &["C2/view"]),
                ("plans", &["M1/East"]),
                ("notes", &["N1"]),
            ],
        ),
        (
            "department=East",
            &[
                ("managers", &["M1", "M2", "M4"]),
                ("customers", &["C1", "C2", "C3"]),
                ("contacts", &["P1", "P2"]),
                ("orders", &["O1", "O2", "O3"]),
                ("order_items", &["O1/PA", "O1/PB", "O3/PA"]),
                ("products", &["PA", "PB"]),
                ("deals", &["D1", "D2"]),
                ("deal_stage_history", &["D1/lead", "D1/won", "D2/lead"]),
                ("activities", &["A1"]),
                ("surveys", &["S1"]),
                ("tickets", &["T1"]),
                ("campaigns", &["K1"]),
                ("campaign_members", &["K1/C1"]),
                ("events", &["C2/view"]),
                ("plans", &["-/East", "M1/East"]),
                ("notes", &["N1"]),
            ],
        ),
        (
            "manager=M2,M3",
            &[
                ("managers", &["M2", "M3"]),
                ("customers", &["C3", "C4", "C5"]),
                ("contacts", &["P2", "P3"]),
                ("orders", &["O3", "O4", "O5"]),
                ("order_items", &["O3/PA", "O4/PB"]),
                ("products", &["PA", "PB"]),
                ("deals", &["D2", "D3"]),
                ("deal_stage_history", &["D2/lead", "D3/lead"]),
                ("activities", &["A2"]),
                ("surveys", &["S3"]),
                ("tickets", &["T2"]),
                ("campaigns", &["K1"]),
                ("campaign_members", &["K1/C4"]),
                ("events", &["C5/view"]),
                ("plans", &["M3/West"]),
                ("notes", &["N2"]),
            ],
        ),
        (
            "manager=M4",
            &[
                ("managers", &["M4"]),
                ("customers", &[]),
                ("contacts", &[]),
                ("orders", &[]),
                ("order_items", &[]),
                ("products", &["PA", "PB"]),
                ("deals", &[]),
                ("deal_stage_history", &[]),
                ("activities", &[]),
                ("surveys", &[]),
                ("tickets", &[]),
                ("campaigns", &["K1"]),
                ("campaign_members", &[]),
                ("events", &[]),
                ("plans", &[]),
                ("notes", &[]),
            ],
        ),
    ];
    runtime().block_on(async {
        let whole = open(tmp.path(), None).await.unwrap();
        assert_eq!(rows(&whole, "surveys", "survey_id").await.len(), 3);
        assert_eq!(rows(&whole, "fx_rates", "currency").await, ["EUR"]);
        for (scope, tables) in expected {
            let engine = open(tmp.path(), Some(scope)).await.unwrap();
            assert_eq!(ROW_IDS.len(), tables.len());
            for ((table, want), (name, id)) in tables.iter().zip(ROW_IDS) {
                assert_eq!(table, name);
                assert_eq!(rows(&engine, table, id).await, *want, "{scope}: {table}");
            }
            // A table outside the contract without customer_id has no owner: left out.
            let err = engine.query("select * from fx_rates").await.unwrap_err();
            assert!(err.to_string().contains("fx_rates"), "{err}");
            // as_of is the whole dataset's (O5 is M3's), the same for every scope.
            assert_eq!(
                engine.as_of().await.unwrap().to_string(),
                "2024-06-30",
                "{scope}"
            );
        }
    });
}

#[test]
fn unknown_managers_and_departments_name_the_closest() {
    let tmp = tempdir();
    small(tmp.path());
    runtime().block_on(async {
        for (scope, expect) in [
            ("manager=M1,M7", "no manager `M7`"),
            ("manager=m1", "did you mean `M1`?"),
            ("department=Eats", "did you mean `East`?"),
        ] {
            let err = open(tmp.path(), Some(scope)).await.err().unwrap();
            assert_eq!(err.exit_code(), 1, "{scope}");
            assert!(err.to_string().contains(expect), "{scope}: {err}");
        }
    });
}

#[test]
fn statements_past_the_scope_are_refused() {
    let tmp = tempdir();
    small(tmp.path());
    let file = tmp.path().join("orders.parquet");
    let external = format!(
        "create external table o stored as parquet location '{}'",
        file.display()
    );
    let out = tmp.path().join("copy.csv");
    let copy = format!("copy (select 1 as x) to '{}'", out.display());
    runtime().block_on(async {
        let scoped = open(tmp.path(), Some("manager=M1")).await.unwrap();
        for (sql, expect) in [
            ("select * from raw.orders", "unknown table `raw.orders`"),
            (external.as_str(), "CREATE EXTERNAL TABLE is not allowed"),
            (copy.as_str(), "COPY is not allowed"),
            ("create table t as select * from orders", "not allowed"),
            ("insert into orders select * from orders", "not allowed"),
            ("set datafusion.execution.batch_size = 1", "not allowed"),
        ] {
            let err = scoped.sql(sql).await.err().unwrap().to_string();
            assert!(err.contains(expect), "{sql}: {err}");
        }
        assert!(!out.exists());
        let err = scoped
            .sql(&format!("select * from '{}'", file.display()))
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("unknown table"), "{err}");
        // A view over scoped tables is scoped too.
        scoped
            .sql("create view mine as select order_id from orders")
            .await
            .unwrap();
        assert_eq!(rows(&scoped, "mine", "order_id").await, ["O1", "O2"]);

        let whole = open(tmp.path(), None).await.unwrap();
        whole.sql(&external).await.unwrap();
        assert_eq!(rows(&whole, "o", "order_id").await.len(), 5);
        whole.sql(&copy).await.unwrap().collect().await.unwrap();
        assert!(out.exists());
    });
}

/// A generated dataset, made once per test binary run (and kept between runs).
fn generated() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scope-400-s11");
        crmlens::generate::generate(&crmlens::generate::GenerateOptions {
            out: dir.clone(),
            customers: 400,
            seed: 11,
            months: 12,
            ..Default::default()
        })
        .unwrap();
        dir
    })
}

/// Who owns what in the whole dataset, read from an unscoped engine.
struct Owners {
    department: BTreeMap<String, String>,
    customer_owner: HashMap<String, String>,
    order_customer: HashMap<String, String>,
    deal_customer: HashMap<String, String>,
}

/// What one scope may see.
struct Allowed {
    managers: BTreeSet<String>,
    customers: BTreeSet<String>,
    orders: BTreeSet<String>,
    deals: BTreeSet<String>,
}

impl Owners {
    async fn read(engine: &Engine) -> Owners {
        let pairs = |sql: &'static str| async move {
            let b = engine.query(sql).await.unwrap();
            column(&b, "k")
                .into_iter()
                .zip(column(&b, "v"))
                .filter_map(|(k, v)| Some((k?, v?)))
                .collect::<Vec<_>>()
        };
        Owners {
            department: pairs("select manager_id k, department v from managers")
                .await
                .into_iter()
                .collect(),
            customer_owner: pairs("select customer_id k, owner_manager_id v from customers")
                .await
                .into_iter()
                .collect(),
            order_customer: pairs("select order_id k, customer_id v from orders")
                .await
                .into_iter()
                .collect(),
            deal_customer: pairs("select deal_id k, customer_id v from deals")
                .await
                .into_iter()
                .collect(),
        }
    }

    fn allowed(&self, scope: &Scope) -> Allowed {
        let managers: BTreeSet<String> = match scope {
            Scope::Managers(ids) => ids.iter().cloned().collect(),
            Scope::Department(d) => self
                .department
                .iter()
                .filter(|(_, dep)| *dep == d)
                .map(|(m, _)| m.clone())
                .collect(),
        };
        let customers: BTreeSet<String> = self
            .customer_owner
            .iter()
            .filter(|(_, m)| managers.contains(*m))
            .map(|(c, _)| c.clone())
            .collect();
        let owned = |map: &HashMap<String, String>| {
            map.iter()
                .filter(|(_, c)| customers.contains(*c))
                .map(|(k, _)| k.clone())
                .collect::<BTreeSet<String>>()
        };
        Allowed {
            orders: owned(&self.order_customer),
            deals: owned(&self.deal_customer),
            managers,
            customers,
        }
    }
}

/// Query shapes over one table or view; `{t}` is its name, `{c}` one of its id columns and
/// `{v}` a value of that column from the whole dataset.
const TEMPLATES: &[&str] = &[
    "select * from {t}",
    "select * from {t} limit 7",
    "select * from {t} where {c} >= '{v}'",
    "select * from {t} where {c} = '{v}' or {c} is null",
    "select {c}, count(*) as n from {t} group by {c} order by n desc limit 5",
    "select distinct {c} from {t} order by {c} desc",
    "select x.* from {t} x join customers c on true where x.{c} is not null limit 50",
    "select {c} from {t} where {c} < '{v}' union select {c} from {t} where {c} >= '{v}'",
];

/// The id columns the check looks at, and in which tables a `manager_id` is a row's owner
/// (elsewhere it names who handled a fact of an in-scope customer, which may be anyone).
const ID_COLUMNS: &[&str] = &["customer_id", "order_id", "deal_id", "manager_id"];

fn check_rows(
    what: &str,
    table: &str,
    batches: &[RecordBatch],
    allowed: &Allowed,
) -> Result<(), TestCaseError> {
    for name in ID_COLUMNS {
        let set = match *name {
            "customer_id" => &allowed.customers,
            "order_id" => &allowed.orders,
            "deal_id" => &allowed.deals,
            _ if table == "managers" || table == "plans" => &allowed.managers,
            _ => continue,
        };
        for v in column(batches, name) {
            // A row without a customer (an anonymous survey) belongs to no scope; a fact
            // without a deal or a manager may belong to an in-scope customer.
            let Some(v) = v.or_else(|| (*name == "customer_id").then(|| "NULL".into())) else {
                continue;
            };
            prop_assert!(set.contains(&v), "{what}: {name} {v} is outside the scope");
        }
    }
    Ok(())
}

/// Every table and built-in view with an id column, with that column.
async fn targets(whole: &Engine) -> Vec<(String, String)> {
    let names = whole
        .query(
            "select table_name, column_name from information_schema.columns \
             where table_schema = 'public' and column_name in \
             ('customer_id', 'order_id', 'deal_id', 'manager_id') order by 1, 2",
        )
        .await
        .unwrap();
    let targets: Vec<(String, String)> = column(&names, "table_name")
        .into_iter()
        .zip(column(&names, "column_name"))
        .map(|(t, c)| (t.unwrap(), c.unwrap()))
        .collect();
    for must in [
        "customers",
        "orders",
        "deals",
        "plans",
        "customer_features",
        "rfm",
        "pipeline_deals",
        "manager_kpis",
        "campaign_member_outcomes",
        "event_funnel_customers",
        "ticket_facts",
        "lead_sla_misses",
        "departed_manager_customers",
        "ticket_sla",
    ] {
        assert!(
            targets.iter().any(|(t, _)| t == must),
            "{must}: {targets:?}"
        );
    }
    targets
}

/// The sweep behind the random queries: every row of every table and view, for a set of
/// managers and for a department.
#[test]
fn every_table_and_view_is_scoped() {
    let dataset = generated();
    let rt = runtime();
    let whole = rt.block_on(open(dataset, None)).unwrap();
    let owners = rt.block_on(Owners::read(&whole));
    let mut tables: Vec<String> = rt
        .block_on(targets(&whole))
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    tables.dedup();
    let managers: Vec<&String> = owners.department.keys().collect();
    let department = owners.department.values().next().unwrap().clone();
    for scope in [
        Scope::Managers(vec![managers[0].clone(), managers[2].clone()]),
        Scope::Department(department),
    ] {
        let mut config = Config::for_dataset(dataset);
        config.scope = Some(scope.clone());
        let engine = rt.block_on(Engine::open(&config)).unwrap();
        let allowed = owners.allowed(&scope);
        for table in &tables {
            let batches = rt
                .block_on(engine.query(&format!("select * from {table}")))
                .unwrap();
            check_rows(&format!("{scope}: {table}"), table, &batches, &allowed).unwrap();
        }
    }
}

#[test]
fn no_row_outside_the_scope_in_random_queries() {
    let dataset = generated();
    let rt = runtime();
    let whole = rt.block_on(open(dataset, None)).unwrap();
    let owners = rt.block_on(Owners::read(&whole));
    // Values to filter the id columns on.
    let targets = rt.block_on(targets(&whole));
    let mut values: HashMap<String, Vec<String>> = HashMap::new();
    values.insert(
        "customer_id".into(),
        owners.customer_owner.keys().cloned().collect(),
    );
    values.insert(
        "order_id".into(),
        owners.order_customer.keys().cloned().collect(),
    );
    values.insert(
        "deal_id".into(),
        owners.deal_customer.keys().cloned().collect(),
    );
    values.insert(
        "manager_id".into(),
        owners.department.keys().cloned().collect(),
    );
    for v in values.values_mut() {
        v.sort();
    }
    let managers: Vec<String> = owners.department.keys().cloned().collect();
    let departments: Vec<String> = owners
        .department
        .values()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let scopes = prop_oneof![
        proptest::sample::subsequence(managers.clone(), 1..=3).prop_map(Scope::Managers),
        proptest::sample::select(departments).prop_map(Scope::Department),
    ];
    let query = (
        0..targets.len(),
        0..TEMPLATES.len(),
        any::<proptest::sample::Index>(),
    );
    let engines: Mutex<HashMap<String, Arc<Engine>>> = Mutex::new(HashMap::new());
    let config = ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(scope in scopes, queries in proptest::collection::vec(query, 6))| {
        let allowed = owners.allowed(&scope);
        let key = scope.to_string();
        let cached = engines.lock().unwrap().get(&key).cloned();
        let engine = match cached {
            Some(e) => e,
            None => {
                let mut config = Config::for_dataset(dataset);
                config.scope = Some(scope.clone());
                let e = Arc::new(rt.block_on(Engine::open(&config)).unwrap());
                engines.lock().unwrap().insert(key.clone(), e.clone());
                e
            }
        };
        // Whole visibility, not only no leak: the scope's customers, orders and deals are all there.
        for (table, id, set) in [
            ("customers", "customer_id", &allowed.customers),
            ("orders", "order_id", &allowed.orders),
            ("deals", "deal_id", &allowed.deals),
        ] {
            let got: BTreeSet<String> = rt.block_on(rows(&engine, table, id)).into_iter().collect();
            prop_assert_eq!(&got, set, "{}: {}", key, table);
        }
        for (t, template, value) in queries {
            let (table, id) = &targets[t];
            let v = value.get(&values[id.as_str()]);
            let sql = TEMPLATES[template]
                .replace("{t}", table)
                .replace("{c}", id)
                .replace("{v}", v);
            let batches = rt
                .block_on(engine.query(&sql))
                .unwrap_or_else(|e| panic!("{key}: {sql}: {e}"));
            check_rows(&format!("{key}: {sql}"), table, &batches, &allowed)?;
        }
    });
}

#[test]
fn cli_scope_counts_and_errors() {
    let tmp = tempdir();
    let dataset = demo();
    let d = dataset.to_str().unwrap();
    let count = |args: &[&str], sql: &str| {
        let r = run(crmlens(tmp.path())
            .args(["--dataset", d, "--format", "csv"])
            .args(args)
            .args(["sql", sql]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout.lines().nth(1).unwrap().to_string()
    };
    let expected = count(
        &[],
        "select count(*) from customers where owner_manager_id = 'M001'",
    );
    assert_ne!(expected, "0");
    assert_eq!(
        count(
            &["--scope", "manager=M001"],
            "select count(*) from customers"
        ),
        expected
    );
    let orders = count(
        &[],
        "select count(*) from orders o join customers c using (customer_id) where c.owner_manager_id = 'M001'",
    );
    assert_eq!(
        count(&["--scope", "manager=M001"], "select count(*) from orders"),
        orders
    );

    let scoped = |scope: &str, args: &[&str]| {
        run(crmlens(tmp.path())
            .args(["--dataset", d, "--scope", scope])
            .args(args))
    };
    for (scope, args, code, expect) in [
        (
            "owner=M001",
            &["sql", "select 1"][..],
            2,
            "manager, department",
        ),
        (
            "manager=M0001",
            &["sql", "select 1"],
            1,
            "did you mean `M001`?",
        ),
        (
            "manager=M001",
            &["sql", "copy (select * from orders) to 'x.csv'"],
            1,
            "COPY is not allowed under a row-level scope",
        ),
        ("manager=M001", &["validate"], 2, "without --scope"),
    ] {
        let r = scoped(scope, args);
        assert_eq!(r.code, code, "{scope} {args:?}: {}", r.stderr);
        assert!(r.stderr.contains(expect), "{scope} {args:?}: {}", r.stderr);
    }
    assert!(!tmp.path().join("x.csv").exists());

    // The nightly job's queries are scoped too (its validation gate reads the whole dataset).
    std::fs::create_dir(tmp.path().join("q")).unwrap();
    std::fs::write(
        tmp.path().join("q/mine.sql"),
        "select count(*) as n from customers",
    )
    .unwrap();
    let r = scoped("manager=M001", &["run", "--queries", "q", "--out", "o"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv = std::fs::read_to_string(tmp.path().join("o/mine.csv")).unwrap();
    assert_eq!(csv.lines().nth(1), Some(expected.as_str()));

    // Every command takes it: the feature view covers only M001's customers.
    let r = scoped("manager=M001", &["--format", "json", "features"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len().to_string(), expected);
    assert!(rows.iter().all(|r| r["owner_manager_id"] == "M001"));
}
