//! A cluster that only serves whom it should (feature `distributed`, issue 18): the shared
//! secret is demanded of clients and executors, servers open to the network need one.

use std::path::Path;
use std::time::Duration;

use arrow_flight::Ticket;
use arrow_flight::flight_service_client::FlightServiceClient;
use crmlens::distributed::auth::Secret;
use tonic::transport::Endpoint;

use crate::cluster::{Cluster, Spec, free_port};
use crate::common::{crmlens, demo, run, tempdir};
use crate::distributed_cli::csv;

const SECRET: &str = "3f9a1c0e5b7d2f4a6c8e0b1d3f5a7c9e";

fn write_secret(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, format!("{text}\n")).unwrap();
    file
}

/// `crmlens --engine URL sql QUERY` on the demo dataset with `CRMLENS_CLUSTER_SECRET` set to
/// `secret` (unset with None).
fn sql_with(dir: &Path, url: &str, secret: Option<&str>, query: &str) -> crate::common::Run {
    let mut cmd = crmlens(dir);
    cmd.env_remove("CRMLENS_CLUSTER_SECRET");
    if let Some(secret) = secret {
        cmd.env("CRMLENS_CLUSTER_SECRET", secret);
    }
    run(cmd.args([
        "--dataset",
        demo().to_str().unwrap(),
        "--format",
        "csv",
        "--engine",
        url,
        "sql",
        query,
    ]))
}

/// The status of a Flight `do_get` on the executor at `port`, with `secret` or none.
fn flight_get(port: u16, secret: Option<&Secret>) -> tonic::Status {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{port}")).unwrap();
        if let Some(secret) = secret {
            endpoint = (secret.endpoint_override())(endpoint).unwrap();
        }
        let mut client = FlightServiceClient::new(endpoint.connect().await.unwrap());
        client
            .do_get(Ticket {
                ticket: b"not a ticket".to_vec().into(),
            })
            .await
            .expect_err("a made-up ticket is never served")
    })
}

#[test]
fn distributed_cluster_demands_the_secret_of_clients_and_executors() {
    let tmp = tempdir();
    let secret_file = write_secret(tmp.path(), "cluster.secret", SECRET);
    let mut cluster = Cluster::with(
        tmp.path(),
        Spec {
            executors: 1,
            secret_file: Some(secret_file.clone()),
            ..Spec::default()
        },
    );
    let query = "select count(*) as orders, sum(amount) as amount from orders";
    let local = csv(tmp.path(), None, &["sql", query]);

    // With the secret, from the environment or from `[engine] cluster_secret_file`.
    let r = sql_with(tmp.path(), &cluster.url, Some(SECRET), query);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, local.as_str()),
        "{}",
        r.stderr
    );
    let configured = tmp.path().join("configured");
    std::fs::create_dir_all(&configured).unwrap();
    std::fs::write(
        configured.join("crmlens.toml"),
        format!(
            "[engine]\nurl = \"{}\"\ncluster_secret_file = \"../cluster.secret\"\n",
            cluster.url
        ),
    )
    .unwrap();
    let r = run(crmlens(&configured)
        .env_remove("CRMLENS_CLUSTER_SECRET")
        .args([
            "--dataset",
            demo().to_str().unwrap(),
            "--format",
            "csv",
            "sql",
            query,
        ]));
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, local.as_str()),
        "{}",
        r.stderr
    );

    // Without it, or with another one: refused, naming the secret.
    for secret in [None, Some("another secret of enough length")] {
        let r = sql_with(tmp.path(), &cluster.url, secret, query);
        r.assert_error(2, "missing or wrong cluster secret");
        assert!(r.stderr.contains("CRMLENS_CLUSTER_SECRET"), "{}", r.stderr);
    }

    // An executor without the secret, or with another one, is refused and stops.
    let wrong = write_secret(
        tmp.path(),
        "wrong.secret",
        "not the cluster's secret at all",
    );
    for (name, file) in [("intruder-1", None), ("intruder-2", Some(wrong.as_path()))] {
        let args = cluster.executor_args(name, free_port(), file);
        let (code, log) =
            cluster.run_process(&args, &format!("{name}.log"), Duration::from_secs(60));
        assert_eq!(code, Some(2), "{name}: {log}");
        assert!(
            log.contains("missing or wrong cluster secret"),
            "{name}: {log}"
        );
    }

    // The executor's Flight service (results and shuffle data) demands it too.
    let port = cluster.executor_ports[0];
    assert_eq!(flight_get(port, None).code(), tonic::Code::Unauthenticated);
    let other = Secret::new("another secret of enough length", "test").unwrap();
    assert_eq!(
        flight_get(port, Some(&other)).code(),
        tonic::Code::Unauthenticated
    );
    let secret = Secret::new(SECRET, "test").unwrap();
    assert_ne!(
        flight_get(port, Some(&secret)).code(),
        tonic::Code::Unauthenticated
    );

    cluster.check_running();
    assert!(
        cluster
            .log("scheduler.log")
            .contains("missing or wrong cluster secret")
    );
}

#[test]
fn distributed_open_bind_without_a_secret_is_refused() {
    let tmp = tempdir();
    for (process, mut args) in [
        ("scheduler", vec!["scheduler"]),
        ("executor", vec!["executor", "--scheduler", "127.0.0.1:1"]),
    ] {
        let port = free_port().to_string();
        args.extend(["--bind-host", "0.0.0.0", "--port", &port]);
        let r = run(crmlens(tmp.path())
            .env_remove("CRMLENS_CLUSTER_SECRET")
            .args(&args)
            .timeout(Duration::from_secs(30)));
        r.assert_error(2, "needs the cluster's shared secret");
        assert!(
            r.stderr.contains("--secret-file"),
            "{process}: {}",
            r.stderr
        );
    }
    // A short secret is refused too.
    let short = write_secret(tmp.path(), "short.secret", "password");
    let r = run(crmlens(tmp.path()).args([
        "scheduler",
        "--bind-host",
        "0.0.0.0",
        "--port",
        &free_port().to_string(),
        "--secret-file",
        short.to_str().unwrap(),
    ]));
    r.assert_error(2, "at least 16 characters");
}

/// What a plain Ballista client (not crmlens's) gets from the cluster at `url` for each
/// statement, run in order in one session: the error's text, or the result's rows.
fn raw_ballista(url: &str, statements: &[String]) -> Vec<Result<usize, String>> {
    use ballista::prelude::SessionContextExt;
    use datafusion::prelude::SessionContext;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(crmlens::distributed::THREAD_STACK_SIZE)
        .build()
        .unwrap()
        .block_on(async {
            let ctx = SessionContext::remote(url).await.unwrap();
            let mut results = Vec::new();
            for sql in statements {
                let result = match ctx.sql(sql).await {
                    Ok(df) => df
                        .collect()
                        .await
                        .map(|b| b.iter().map(|b| b.num_rows()).sum()),
                    Err(e) => Err(e),
                };
                results.push(result.map_err(|e| e.to_string()));
            }
            results
        })
}

#[test]
fn distributed_cluster_refuses_plans_that_write_or_read_other_files() {
    let tmp = tempdir();
    let cluster = Cluster::with(
        tmp.path(),
        Spec {
            executors: 1,
            ..Spec::default()
        },
    );
    let url = cluster.url.clone();
    let stolen = tmp.path().join("stolen");
    let customers = demo().join("customers.parquet");
    let secret_place = tmp.path().join("elsewhere.csv");
    std::fs::write(&secret_place, "line\nnot the dataset's\n").unwrap();
    let results = raw_ballista(
        &url,
        &[
            format!(
                "create external table customers stored as parquet location '{}'",
                customers.display()
            ),
            // Allowed: the dataset, under the executor's --data-root.
            "select count(*) from customers".into(),
            format!(
                "copy (select email, phone from customers) to '{}' stored as csv",
                stolen.display()
            ),
            "create external table host (line varchar) stored as csv location '/etc/hostname'"
                .into(),
            "select * from host".into(),
            format!(
                "create external table elsewhere stored as csv location '{}'",
                secret_place.display()
            ),
            "select * from elsewhere".into(),
        ],
    );
    assert_eq!(results[1], Ok(1), "{results:?}");
    for (i, what) in [(2, "writes"), (4, "reads"), (6, "reads")] {
        let error = results[i].as_ref().expect_err("refused");
        assert!(
            error.contains("refused by the crmlens cluster"),
            "{i}: {error}"
        );
        assert!(error.contains(what), "{i}: {error}");
    }
    assert!(results[4].as_ref().unwrap_err().contains("/etc/hostname"));
    assert!(!stolen.exists(), "COPY wrote {}", stolen.display());

    // crmlens's own client gets the same answer.
    let r = run(crmlens(tmp.path()).args([
        "--dataset",
        demo().to_str().unwrap(),
        "--engine",
        &cluster.url,
        "sql",
        &format!(
            "copy (select email from customers) to '{}' stored as csv",
            stolen.display()
        ),
    ]));
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("refused by the crmlens cluster"),
        "{}",
        r.stderr
    );
    assert!(!stolen.exists());
}

/// Waits for `child` up to `limit`: its exit code and stderr, or None (then it is killed).
fn wait_for(mut child: std::process::Child, limit: Duration) -> Option<(i32, String)> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return Some((status.code().unwrap_or(-1), stderr));
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn distributed_client_reports_a_lost_executor_in_bounded_time() {
    let tmp = tempdir();
    let mut cluster = Cluster::with(
        tmp.path(),
        Spec {
            executors: 1,
            scheduler_args: vec!["--executor-timeout".into(), "6".into()],
            ..Spec::default()
        },
    );
    // A query that keeps the executor busy far longer than the test waits.
    let slow =
        "select count(*) from order_items a join order_items b on a.quantity + b.quantity > 0";
    let client = std::process::Command::new(assert_cmd::cargo::cargo_bin("crmlens"))
        .current_dir(tmp.path())
        .env_remove("CRMLENS_CLUSTER_SECRET")
        .args([
            "--dataset",
            demo().to_str().unwrap(),
            "--engine",
            &cluster.url,
            "sql",
            slow,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(5));
    cluster.kill("executor 1");
    let killed = std::time::Instant::now();
    let (code, stderr) =
        wait_for(client, Duration::from_secs(120)).expect("the client still waits after 120 s");
    let took = killed.elapsed();
    eprintln!("the client reported the lost executor {took:?} after the kill");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the cluster lost the executors running the query"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(30), "{took:?}: {stderr}");

    // A new executor takes the next query at once.
    cluster.add_executor("executor 2", None, &[]);
    let started = std::time::Instant::now();
    let r = sql_with(
        tmp.path(),
        &cluster.url,
        None,
        "select count(*) from orders",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
