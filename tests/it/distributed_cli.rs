//! A cluster of processes (feature `distributed`, [`crate::cluster`]): the built `crmlens
//! scheduler` and two `crmlens executor`s on free loopback ports; `crmlens sql` and `crmlens
//! segment run` with `--engine` must print and write what they do locally.

use std::net::TcpStream;
use std::path::Path;

use crate::cluster::Cluster;
use crate::common::{crmlens, demo, run, tempdir};
use crate::distributed::{Cell, assert_same_members, assert_same_within, sorted};

/// `crmlens --format csv ARGS` on the demo dataset, locally or through `engine`.
pub fn csv(dir: &Path, engine: Option<&str>, args: &[&str]) -> String {
    let mut cmd = crmlens(dir);
    cmd.args(["--dataset", demo().to_str().unwrap(), "--format", "csv"]);
    if let Some(url) = engine {
        cmd.args(["--engine", url]);
    }
    let r = run(cmd.args(args));
    assert_eq!(r.code, 0, "{engine:?} {args:?}: {}", r.stderr);
    r.stdout
}

/// Members of every segment written under `out`, by segment.
fn members(out: &Path) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for segment in std::fs::read_dir(out).unwrap() {
        let segment = segment.unwrap().path();
        if !segment.is_dir() {
            continue;
        }
        for snapshot in std::fs::read_dir(&segment).unwrap() {
            let file = snapshot.unwrap().path().join("members.parquet");
            if file.exists() {
                let ids = crate::cli_segment::ids(&file).into_iter().collect();
                found.push((segment.file_name().unwrap().to_string_lossy().into(), ids));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn scheduler_and_two_executors_give_the_local_results() {
    let tmp = tempdir();
    let mut cluster = Cluster::start(tmp.path());
    let url = cluster.url.clone();

    for sql in [
        "select rfm_segment, count(*) as customers, round(sum(monetary), 4) as monetary \
         from rfm group by rfm_segment order by rfm_segment",
        "select customer_id, frequency, round(monetary, 6) as monetary, r_score, abc_class \
         from customer_features order by customer_id",
        "select level, count(*) as customers from ( \
           select customer_id, window_funnel(interval '7 days', occurred_at, \
             event = 'visit', event = 'signup', event = 'purchase') as level \
           from events group by customer_id) group by level order by level",
    ] {
        let local = csv(tmp.path(), None, &["sql", sql]);
        let remote = csv(tmp.path(), Some(&url), &["sql", sql]);
        assert!(local.lines().count() > 1, "{sql}: {local}");
        let first_difference = local.lines().zip(remote.lines()).position(|(l, r)| l != r);
        assert!(
            first_difference.is_none() && local.lines().count() == remote.lines().count(),
            "{sql}: {} lines locally, {} on the cluster; first different line {first_difference:?}",
            local.lines().count(),
            remote.lines().count()
        );
    }

    let segments = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/segments");
    for (engine, out) in [(None, "out-local"), (Some(url.as_str()), "out-cluster")] {
        let out = tmp.path().join(out);
        csv(
            tmp.path(),
            engine,
            &[
                "segment",
                "run",
                "--all",
                "--segments",
                segments.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
    }
    let local = members(&tmp.path().join("out-local"));
    let remote = members(&tmp.path().join("out-cluster"));
    assert!(local.len() >= 5, "{local:?}");
    assert_same_members(&local, &remote);

    // `[engine] url` in crmlens.toml instead of --engine: the same answer while the cluster
    // runs, and once it is stopped an error naming the scheduler, not a local run.
    let configured = tmp.path().join("configured");
    std::fs::create_dir_all(&configured).unwrap();
    std::fs::write(
        configured.join("crmlens.toml"),
        format!("[engine]\nurl = \"{url}\"\n"),
    )
    .unwrap();
    let count = "select count(*) as orders, sum(amount) as amount from orders";
    assert_eq!(
        csv(&configured, None, &["sql", count]),
        csv(tmp.path(), None, &["sql", count])
    );

    cluster.check_running();
    let killed = cluster.stop();
    assert!(
        killed.is_empty(),
        "not stopped by SIGTERM within 15 s: {killed:?}"
    );
    // Nothing listens any more.
    assert!(TcpStream::connect(url.trim_start_matches("df://")).is_err());
    let r = run(crmlens(&configured).args(["--dataset", demo().to_str().unwrap(), "sql", count]));
    r.assert_error(2, &format!("cannot reach the Ballista scheduler at {url}"));
}

#[test]
fn engine_flag_on_a_command_without_queries_is_refused() {
    let tmp = tempdir();
    let r = run(crmlens(tmp.path()).args([
        "--engine",
        "df://127.0.0.1:1",
        "generate",
        "--out",
        "x",
        "--customers",
        "10",
    ]));
    r.assert_error(2, "`crmlens generate` runs on this machine only");
}

/// A CSV result as its header and its sorted rows of [`Cell`]s (numbers as floats, so that
/// sums added in another order compare within a tolerance).
fn csv_cells(text: &str) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| {
            r.unwrap()
                .iter()
                .map(|c| match c.parse::<f64>() {
                    Ok(x) => Cell::Float(x),
                    Err(_) if c.is_empty() => Cell::Null,
                    Err(_) => Cell::Text(c.to_string()),
                })
                .collect()
        })
        .collect();
    (header, sorted(rows))
}

#[test]
fn every_analysis_command_gives_the_local_answer_on_the_cluster() {
    let tmp = tempdir();
    let cluster = Cluster::start(tmp.path());
    let commands: &[(&[&str], f64)] = &[
        (&["features"], 1e-9),
        (&["rfm"], 1e-9),
        (&["rfm", "--grid"], 1e-9),
        (&["churn"], 1e-9),
        (&["cohorts"], 1e-9),
        (&["cohorts", "--metric", "revenue"], 1e-9),
        (&["funnel", "pipeline"], 1e-9),
        (&["funnel", "pipeline", "--by", "manager"], 1e-9),
        (
            &["funnel", "events", "--steps", "visit,signup,cart,purchase"],
            1e-9,
        ),
        (&["managers"], 1e-9),
        (&["plan"], 1e-9),
        (&["forecast"], 1e-9),
        (&["sources"], 1e-9),
        (&["campaigns"], 1e-9),
        (&["service"], 1e-9),
        // The model is fitted in the client from per-customer sums whose last bits depend on
        // the order of addition; the optimiser stops within its tolerance either way.
        (&["clv", "predict"], 1e-5),
        // Not here: `abc-xyz`, whose running revenue share gives tied revenues one value, and
        // revenues that tie locally may differ in the last bit on a cluster (float sums).
    ];
    for (args, tolerance) in commands {
        let what = args.join(" ");
        let (local_header, local) = csv_cells(&csv(tmp.path(), None, args));
        let (remote_header, remote) = csv_cells(&csv(tmp.path(), Some(&cluster.url), args));
        assert_eq!(local_header, remote_header, "{what}: headers differ");
        assert!(!local.is_empty(), "{what}: no rows locally");
        assert_same_within(&what, &local, &remote, *tolerance);
    }
}

/// The nightly job (its queries and the campaigns report) on the cluster writes what it
/// writes locally: `campaigns.sql` reads `campaign_effectiveness`, whose left join to its
/// members pending (none on the demo dataset) once sent Ballista's adaptive planner into
/// empty stages without end.
#[test]
fn nightly_run_on_the_cluster_writes_the_local_results() {
    let tmp = tempdir();
    let cluster = Cluster::start(tmp.path());
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let reports = tmp.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    std::fs::copy(
        shipped.join("reports/campaigns.toml"),
        reports.join("campaigns.toml"),
    )
    .unwrap();
    for (engine, out) in [(None, "local"), (Some(cluster.url.as_str()), "cluster")] {
        let mut cmd = crmlens(tmp.path());
        if let Some(url) = engine {
            cmd.args(["--engine", url]);
        }
        let r = run(cmd
            .args(["run", "--dataset", demo().to_str().unwrap(), "--out", out])
            .arg("--queries")
            .arg(shipped.join("nightly"))
            .arg("--reports")
            .arg(&reports));
        assert_eq!(r.code, 0, "{engine:?}: {}", r.stderr);
    }
    let mut written: Vec<_> = std::fs::read_dir(tmp.path().join("local"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".csv"))
        .collect();
    written.sort();
    assert!(
        written.contains(&"campaigns.csv".to_string()),
        "{written:?}"
    );
    for name in &written {
        let read = |out: &str| std::fs::read_to_string(tmp.path().join(out).join(name)).unwrap();
        let (local_header, local) = csv_cells(&read("local"));
        let (remote_header, remote) = csv_cells(&read("cluster"));
        assert_eq!(local_header, remote_header, "{name}: headers differ");
        assert_same_within(name, &local, &remote, 1e-9);
    }
    assert!(tmp.path().join("cluster/reports/campaigns.html").is_file());
}
