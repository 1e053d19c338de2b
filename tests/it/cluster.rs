//! A cluster of processes for the `distributed*` tests: the built `crmlens scheduler` and
//! `crmlens executor`s on free loopback ports. The processes are stopped with SIGTERM and,
//! past a bounded wait, killed, also when an assertion fails.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port free right now on loopback.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    pub executors: usize,
    /// `--secret-file` of the scheduler and of every executor.
    pub secret_file: Option<PathBuf>,
    /// More arguments for the scheduler and for every executor.
    pub scheduler_args: Vec<String>,
    pub executor_args: Vec<String>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            executors: 2,
            secret_file: None,
            scheduler_args: Vec::new(),
            executor_args: Vec::new(),
        }
    }
}

/// The cluster's processes; dropping it stops them.
pub struct Cluster {
    dir: PathBuf,
    spec: Spec,
    children: Vec<(String, Child)>,
    pub scheduler_port: u16,
    /// The Flight ports of the executors started so far.
    pub executor_ports: Vec<u16>,
    pub url: String,
}

impl Cluster {
    /// A scheduler and two executors, no secret.
    pub fn start(dir: &Path) -> Cluster {
        Cluster::with(dir, Spec::default())
    }

    pub fn with(dir: &Path, spec: Spec) -> Cluster {
        let scheduler_port = free_port();
        let mut cluster = Cluster {
            dir: dir.to_path_buf(),
            spec: spec.clone(),
            children: Vec::new(),
            scheduler_port,
            executor_ports: Vec::new(),
            url: format!("df://127.0.0.1:{scheduler_port}"),
        };
        let mut args: Vec<String> = [
            "scheduler",
            "--bind-host",
            "127.0.0.1",
            "--external-host",
            "127.0.0.1",
            "--port",
            &scheduler_port.to_string(),
        ]
        .map(String::from)
        .to_vec();
        if let Some(file) = &spec.secret_file {
            args.extend(["--secret-file".into(), file.to_str().unwrap().into()]);
        }
        args.extend(spec.scheduler_args.iter().cloned());
        let child = cluster.spawn(&args, "scheduler.log");
        cluster.children.push(("scheduler".into(), child));
        cluster.wait_for_port(scheduler_port, "the scheduler");
        for n in 1..=spec.executors {
            cluster.add_executor(&format!("executor {n}"), spec.secret_file.as_deref(), &[]);
        }
        cluster
    }

    fn spawn(&self, args: &[String], log: &str) -> Child {
        Command::new(assert_cmd::cargo::cargo_bin("crmlens"))
            .args(args)
            .current_dir(&self.dir)
            .env_remove("CRMLENS_CLUSTER_SECRET")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join(log)).unwrap())
            .spawn()
            .unwrap()
    }

    /// The arguments of an executor of this cluster (with `secret_file`, if any) that
    /// listens on `port`, with the spec's extra arguments.
    pub fn executor_args(&self, name: &str, port: u16, secret_file: Option<&Path>) -> Vec<String> {
        let work = self.dir.join(format!("work-{}", name.replace(' ', "-")));
        let mut args: Vec<String> = vec![
            "executor".into(),
            "--scheduler".into(),
            format!("127.0.0.1:{}", self.scheduler_port),
            "--bind-host".into(),
            "127.0.0.1".into(),
            "--external-host".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--concurrent-tasks".into(),
            "2".into(),
            "--work-dir".into(),
            work.to_str().unwrap().into(),
            "--data-root".into(),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("datasets")
                .to_str()
                .unwrap()
                .into(),
        ];
        if let Some(file) = secret_file {
            args.extend(["--secret-file".into(), file.to_str().unwrap().into()]);
        }
        args.extend(self.spec.executor_args.iter().cloned());
        args
    }

    /// Starts one more executor and waits for its Flight port.
    pub fn add_executor(&mut self, name: &str, secret_file: Option<&Path>, extra: &[&str]) {
        let port = free_port();
        let mut args = self.executor_args(name, port, secret_file);
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = self.spawn(&args, &format!("{}.log", name.replace(' ', "-")));
        self.children.push((name.to_string(), child));
        self.wait_for_port(port, name);
        self.executor_ports.push(port);
    }

    /// Runs `crmlens ARGS` as a process of the cluster's kind (logging to `log`) and waits for
    /// it to exit, up to `timeout`: its exit code (None when it had to be killed) and stderr.
    pub fn run_process(
        &self,
        args: &[String],
        log: &str,
        timeout: Duration,
    ) -> (Option<i32>, String) {
        let mut child = self.spawn(args, log);
        let deadline = Instant::now() + timeout;
        let code = loop {
            match child.try_wait().unwrap() {
                Some(status) => break status.code(),
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                None => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        (code, self.log(log))
    }

    /// What a process of the cluster wrote to its log so far.
    pub fn log(&self, log: &str) -> String {
        std::fs::read_to_string(self.dir.join(log)).unwrap_or_default()
    }

    fn wait_for_port(&mut self, port: u16, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            self.check_running();
            assert!(
                Instant::now() < deadline,
                "{what} did not listen on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Fails when a process has already exited.
    pub fn check_running(&mut self) {
        for (name, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(
                    self.dir.join(format!("{}.log", name.replace(' ', "-"))),
                )
                .unwrap_or_default();
                panic!("{name} exited early: {status}\n{log}");
            }
        }
    }

    /// SIGKILL to the process `name`, as a crash would stop it.
    pub fn kill(&mut self, name: &str) {
        let at = self
            .children
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no process {name}"));
        let (_, mut child) = self.children.remove(at);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM to every process, then up to 15 s for them to exit; the rest are killed.
    /// Returns the processes that had to be killed.
    pub fn stop(&mut self) -> Vec<String> {
        for (_, child) in &self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut killed = Vec::new();
        for (name, mut child) in self.children.drain(..) {
            loop {
                match child.try_wait() {
                    Ok(Some(_)) => break,
                    _ if Instant::now() >= deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        killed.push(name);
                        break;
                    }
                    _ => std::thread::sleep(Duration::from_millis(100)),
                }
            }
        }
        killed
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}
