//! The same queries on a Ballista cluster and locally (feature `distributed`): an in-process
//! scheduler and executor (real gRPC on loopback) run customer_features, RFM, window_funnel
//! per customer, the pipeline funnel, a scoped query and a segment run on the demo dataset;
//! every result must equal local execution row for row.

use std::path::Path;

use crmlens::config::Config;
use crmlens::engine::Engine;
use crmlens::segments::run::{Catalog, RunOptions, open_engine, run};
use crmlens::segments::snapshot::Store;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::ArrayFormatter;

use crate::common::{demo, tempdir};

/// One value of a result: floats apart, so that they compare with a tolerance (a distributed
/// sum adds in another order).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Float(f64),
    Text(String),
}

/// The rows of a result, sorted, with every value as a [`Cell`].
pub fn rows(batches: &[RecordBatch]) -> Vec<Vec<Cell>> {
    let mut out = Vec::new();
    for b in batches {
        let columns: Vec<Box<dyn Fn(usize) -> Cell + '_>> = b
            .columns()
            .iter()
            .map(|c| -> Box<dyn Fn(usize) -> Cell + '_> {
                if matches!(c.data_type(), DataType::Float32 | DataType::Float64) {
                    let a = cast(c, &DataType::Float64).unwrap();
                    Box::new(move |i| match a.is_null(i) {
                        true => Cell::Null,
                        false => Cell::Float(a.as_primitive::<Float64Type>().value(i)),
                    })
                } else {
                    let f = ArrayFormatter::try_new(c.as_ref(), &Default::default()).unwrap();
                    Box::new(move |i| match c.is_null(i) {
                        true => Cell::Null,
                        false => Cell::Text(f.value(i).to_string()),
                    })
                }
            })
            .collect();
        for i in 0..b.num_rows() {
            out.push(columns.iter().map(|f| f(i)).collect::<Vec<Cell>>());
        }
    }
    sorted(out)
}

/// Rows sorted by the text of each row, floats to 6 significant digits: close enough to put
/// equal rows side by side; rows are compared exactly (floats within a tolerance) after.
pub fn sorted(mut rows: Vec<Vec<Cell>>) -> Vec<Vec<Cell>> {
    rows.sort_by_cached_key(|r| {
        r.iter()
            .map(|c| match c {
                Cell::Null => "\u{0}".to_string(),
                Cell::Float(x) => format!("{x:.5e}"),
                Cell::Text(t) => t.clone(),
            })
            .collect::<Vec<_>>()
    });
    rows
}

/// Fails naming the first row and column that differ; floats may differ by 1e-9 relative.
pub fn assert_same(what: &str, local: &[Vec<Cell>], remote: &[Vec<Cell>]) {
    assert_same_within(what, local, remote, 1e-9);
}

/// [`assert_same`] with floats within `tolerance` (relative).
pub fn assert_same_within(what: &str, local: &[Vec<Cell>], remote: &[Vec<Cell>], tolerance: f64) {
    assert_eq!(local.len(), remote.len(), "{what}: row counts differ");
    for (i, (l, r)) in local.iter().zip(remote).enumerate() {
        assert_eq!(l.len(), r.len(), "{what}: row {i} widths differ");
        for (j, (a, b)) in l.iter().zip(r).enumerate() {
            let same = match (a, b) {
                (Cell::Float(x), Cell::Float(y)) => {
                    x == y || (x - y).abs() <= tolerance * x.abs().max(y.abs()).max(1.0)
                }
                _ => a == b,
            };
            assert!(
                same,
                "{what}: row {i} column {j}: local {a:?}, cluster {b:?}\nlocal row {l:?}\ncluster row {r:?}"
            );
        }
    }
}

const QUERIES: &[(&str, &str)] = &[
    ("customer_features", "select * from customer_features"),
    ("rfm", "select * from rfm"),
    (
        "window_funnel per customer",
        "select customer_id, \
           window_funnel(interval '7 days', occurred_at, event = 'visit', event = 'signup', \
             event = 'cart', event = 'purchase') as level, \
           window_funnel_steps(interval '7 days', 'strict_order', occurred_at, event = 'visit', \
             event = 'cart') as steps, \
           count(*) filter (where json_get_str(properties, 'device') = 'mobile') as mobile \
         from events where occurred_at < cast(as_of() as timestamp) + interval '1 day' group by customer_id",
    ),
    ("pipeline_funnel", "select * from pipeline_funnel"),
    // A left join whose right side is empty when it runs (no member is pending): Ballista's
    // adaptive planner replanned it into empty stages without end.
    (
        "left join to a CTE empty at run time",
        "with g as (select campaign_id, count(*) as measured from campaign_member_outcomes \
           group by campaign_id), \
         pending as (select cm.campaign_id, count(*) as pending from campaign_members cm \
           left join campaigns c on c.campaign_id = cm.campaign_id \
           where coalesce(cm.sent_at, c.started_at) is null \
             or coalesce(cm.sent_at, c.started_at) > c.started_at + interval '100 years' \
           group by cm.campaign_id) \
         select g.campaign_id, g.measured, p.pending from g \
         left join pending p on p.campaign_id = g.campaign_id",
    ),
    (
        "campaign_effectiveness",
        "select * from campaign_effectiveness",
    ),
];

/// Longer than any of [`QUERIES`] takes on the demo dataset: a job that never ends fails.
const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(180);

async fn results(config: &Config) -> Vec<Vec<Vec<Cell>>> {
    let engine = Engine::open(config).await.unwrap();
    let mut out = Vec::new();
    for (what, sql) in QUERIES {
        let batches = tokio::time::timeout(QUERY_TIMEOUT, engine.query(sql))
            .await
            .unwrap_or_else(|_| panic!("{what} on {:?}: no answer", config.engine.url))
            .unwrap_or_else(|e| panic!("{what} on {:?}: {e:#}", config.engine.url));
        assert!(
            batches.iter().map(|b| b.num_rows()).sum::<usize>() > 0,
            "{what}: no rows"
        );
        out.push(rows(&batches));
    }
    out
}

/// Runs every shipped segment (some use other segments, one needs a CLV model fitted on the
/// dataset) and returns each one's sorted member ids.
async fn segment_members(config: &Config, out: &Path) -> Vec<(String, Vec<String>)> {
    let segments = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/segments");
    let catalog = Catalog::load(&segments).unwrap();
    let names = catalog.all_names();
    let (engine, clv_model) = open_engine(config, &catalog, &names).await.unwrap();
    let options = RunOptions {
        names: names.clone(),
        store: Store::new(out),
        wait: std::time::Duration::from_secs(5),
        scope: None,
        clv_model,
    };
    let summary = run(&engine, &catalog, options).await.unwrap();
    assert!(
        summary.failures.is_empty(),
        "{:?}: {:?}",
        config.engine.url,
        summary.failures
    );
    summary
        .segments
        .iter()
        .map(|s| {
            let ids = crate::cli_segment::ids(&s.path.join("members.parquet"));
            (s.name.clone(), ids.into_iter().collect())
        })
        .collect()
}

/// Fails naming each segment whose members differ, with their counts and a few ids.
pub fn assert_same_members(local: &[(String, Vec<String>)], remote: &[(String, Vec<String>)]) {
    let names = |s: &[(String, Vec<String>)]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(local), names(remote), "segments run");
    let mut differ = Vec::new();
    for ((name, l), (_, r)) in local.iter().zip(remote) {
        if l != r {
            let only_l: Vec<&String> = l.iter().filter(|x| !r.contains(x)).take(3).collect();
            let only_r: Vec<&String> = r.iter().filter(|x| !l.contains(x)).take(3).collect();
            differ.push(format!(
                "{name}: {} local, {} on the cluster; only local {only_l:?}, only cluster {only_r:?}",
                l.len(),
                r.len()
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "segment members differ:\n{}",
        differ.join("\n")
    );
}

#[test]
fn standalone_cluster_gives_the_local_results() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .thread_stack_size(crmlens::distributed::THREAD_STACK_SIZE)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = crmlens::distributed::server::start_standalone(2)
            .await
            .unwrap();
        let local = Config::for_dataset(demo());
        let mut remote = local.clone();
        remote.engine.url = Some(url.parse().unwrap());

        let expected = results(&local).await;
        let got = results(&remote).await;
        for (((what, _), l), r) in QUERIES.iter().zip(&expected).zip(&got) {
            assert_same(what, l, r);
        }

        // A table that cannot travel in a plan is named, not run locally.
        let engine = Engine::open(&remote).await.unwrap();
        let err = match engine
            .query("select count(*) from generate_series(1, 10)")
            .await
        {
            Ok(_) => panic!("generate_series ran although it cannot be sent to the cluster"),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(
            text.starts_with("table `generate_series()` cannot be sent to a Ballista cluster"),
            "{text}"
        );
        assert_eq!(err.exit_code(), 2);

        // A scope's customer ids travel to the cluster as an in-memory table.
        let mut scoped_local = local.clone();
        scoped_local.scope = Some("manager=M001".parse().unwrap());
        let mut scoped_remote = remote.clone();
        scoped_remote.scope = scoped_local.scope.clone();
        let sql = "select customer_id, count(*), sum(amount) from orders group by 1";
        let l = Engine::open(&scoped_local)
            .await
            .unwrap()
            .query(sql)
            .await
            .unwrap();
        let r = Engine::open(&scoped_remote)
            .await
            .unwrap()
            .query(sql)
            .await
            .unwrap();
        let (l, r) = (rows(&l), rows(&r));
        assert!(!l.is_empty());
        assert_same("scoped orders", &l, &r);

        let tmp = tempdir();
        let l = segment_members(&local, &tmp.path().join("local")).await;
        let r = segment_members(&remote, &tmp.path().join("cluster")).await;
        assert!(
            l.iter().any(|(_, ids)| !ids.is_empty()),
            "no segment has members"
        );
        assert_same_members(&l, &r);
    });
}

#[test]
fn a_scheduler_that_is_not_there_is_named() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = Config::for_dataset(demo());
    config.engine.url = Some(format!("df://127.0.0.1:{port}").parse().unwrap());
    let err = match runtime.block_on(Engine::open(&config)) {
        Ok(_) => panic!("opened an engine on a scheduler that is not there"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(&format!(
            "cannot reach the Ballista scheduler at df://127.0.0.1:{port}"
        )),
        "{err}"
    );
}
