//! `crmlens scheduler` and `crmlens executor` (the `distributed` feature): the processes of a
//! Ballista cluster that knows crmlens's SQL functions, and `--engine standalone`, a scheduler
//! and an executor inside the client process.

use std::path::PathBuf;

use super::GlobalArgs;
use crate::config::engine_url::{DEFAULT_SCHEDULER_PORT, EngineUrl};
use crate::config::parse_size;
use crate::distributed::auth::Secret;
use crate::distributed::guard::DataRoots;
use crate::distributed::server::{
    ExecutorOptions, SchedulerOptions, run_executor, run_scheduler, start_standalone,
};
use crate::{Error, Result};

/// Start a Ballista scheduler that knows crmlens's SQL functions.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Clients send their jobs here with `--engine df://HOST:PORT`; executors
register here with `crmlens executor --scheduler HOST:PORT`. It runs until stopped (Ctrl-C or
SIGTERM). Every executor must read the dataset at the same absolute path as the client.

It listens on 127.0.0.1 unless told otherwise. Bound to any other address it needs the
cluster's shared secret (--secret-file, or CRMLENS_CLUSTER_SECRET) and refuses every client and
executor that does not present it; clients give it with CRMLENS_CLUSTER_SECRET or
`[engine] cluster_secret_file`, executors with --secret-file. See docs/cluster.md.

Examples:
  crmlens scheduler                                   # 127.0.0.1:50050, this machine only
  crmlens scheduler --port 50050
  openssl rand -hex 32 > /etc/crmlens/cluster.secret && chmod 600 /etc/crmlens/cluster.secret
  crmlens scheduler --bind-host 0.0.0.0 --external-host sched1.example.com \\
      --secret-file /etc/crmlens/cluster.secret"
)]
pub struct SchedulerArgs {
    /// Address to bind: 127.0.0.1 for this machine only; any other (0.0.0.0: every
    /// interface) needs --secret-file or CRMLENS_CLUSTER_SECRET
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    bind_host: String,
    /// gRPC port for clients and executors
    #[arg(long, default_value_t = DEFAULT_SCHEDULER_PORT, value_name = "PORT")]
    port: u16,
    /// Host name executors and clients reach this scheduler by
    #[arg(long, default_value = "localhost", value_name = "HOST")]
    external_host: String,
    /// File holding the cluster's shared secret (at least 16 characters), demanded of every
    /// client and executor [default: CRMLENS_CLUSTER_SECRET, else none]
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// Seconds an executor may stay silent before it counts as lost: its tasks move to
    /// another executor or, with none left, its jobs fail and their clients say so
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    executor_timeout: u64,
}

/// Start a Ballista executor that knows crmlens's SQL functions.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The executor registers with the scheduler and runs the tasks of every job
until stopped (Ctrl-C or SIGTERM). It asks the scheduler for work, so it opens one port only:
--port, the Arrow Flight service others fetch its results from. It reads the dataset's Parquet
files at the paths the client registered, so the dataset must be at the same absolute path here
(a shared filesystem). Several executors on one machine need their own --port.

It reads files only under its --data-root folders (give the datasets' folder) and runs no plan
that writes files (COPY … TO, INSERT), whoever sends it.

It presents the cluster's shared secret (--secret-file, or CRMLENS_CLUSTER_SECRET) to the
scheduler and demands it of whoever fetches data; bound to an address other than 127.0.0.1 it
needs one. A scheduler that refuses the secret stops the executor with an error.

Examples:
  crmlens executor --scheduler localhost:50050 --data-root /srv/crm
  crmlens executor --scheduler localhost:50050 --data-root /srv/crm --port 50061 --concurrent-tasks 2
  crmlens executor --scheduler sched1.example.com:50050 --bind-host 0.0.0.0 \\
      --external-host worker3.example.com --secret-file /etc/crmlens/cluster.secret \\
      --data-root /shared/crm --work-dir /scratch/ballista --memory-limit 24GB"
)]
pub struct ExecutorArgs {
    /// The scheduler, HOST:PORT
    #[arg(long, default_value = "localhost:50050", value_name = "HOST:PORT")]
    scheduler: String,
    /// Address to bind: 127.0.0.1 for this machine only; any other (0.0.0.0: every
    /// interface) needs --secret-file or CRMLENS_CLUSTER_SECRET
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    bind_host: String,
    /// Arrow Flight port others fetch shuffle and result data from
    #[arg(long, default_value_t = 50051, value_name = "PORT")]
    port: u16,
    /// Host name the scheduler and other executors reach this executor by [default: the
    /// address it connects from]
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Tasks run at the same time [default: one per core]
    #[arg(long, value_name = "N")]
    concurrent_tasks: Option<usize>,
    /// Directory for shuffle files [default: a new temporary directory]
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Memory for all running tasks together, e.g. 8GB; beyond it operators spill to the work
    /// directory [default: a share of the machine's memory]
    #[arg(long, value_name = "SIZE")]
    memory_limit: Option<String>,
    /// File holding the cluster's shared secret, the scheduler's [default:
    /// CRMLENS_CLUSTER_SECRET, else none]
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// A folder whose files tasks may read: the datasets' folder (repeat for several).
    /// Without one the executor reads no file; a file outside them fails the query
    #[arg(long = "data-root", value_name = "DIR")]
    data_roots: Vec<PathBuf>,
}

/// `--engine` is a client's option; a cluster process has no use for it.
fn refuse_engine(global: &GlobalArgs, command: &str) -> Result<()> {
    match &global.engine {
        Some(url) => Err(Error::Usage(format!(
            "--engine {url}: `crmlens {command}` is part of a cluster, not a client of one; \
             leave out --engine"
        ))),
        None => Ok(()),
    }
}

pub async fn scheduler(global: &GlobalArgs, args: SchedulerArgs) -> Result<u8> {
    refuse_engine(global, "scheduler")?;
    let options = SchedulerOptions {
        bind_host: args.bind_host,
        port: args.port,
        external_host: args.external_host,
        secret: Secret::resolve(args.secret_file.as_deref())?,
        executor_timeout: std::time::Duration::from_secs(args.executor_timeout),
    };
    eprintln!(
        "crmlens scheduler: listening on {}:{} (clients: --engine df://{}:{}){}",
        options.bind_host,
        options.port,
        options.external_host,
        options.port,
        match options.secret {
            Some(_) => ", cluster secret required",
            None => "",
        }
    );
    run_scheduler(&options).await?;
    Ok(0)
}

pub async fn executor(global: &GlobalArgs, args: ExecutorArgs) -> Result<u8> {
    refuse_engine(global, "executor")?;
    let (host, port) = EngineUrl::scheduler_address(&args.scheduler).ok_or_else(|| {
        Error::Usage(format!(
            "--scheduler {}: expected HOST:PORT, e.g. localhost:50050",
            args.scheduler
        ))
    })?;
    let memory_limit = args
        .memory_limit
        .as_deref()
        .map(|s| parse_size(s).map_err(|e| Error::Usage(format!("--memory-limit: {e}"))))
        .transpose()?
        .map(|b| b as u64);
    let options = ExecutorOptions {
        scheduler_host: host,
        scheduler_port: port,
        bind_host: args.bind_host,
        port: args.port,
        external_host: args.external_host,
        concurrent_tasks: args.concurrent_tasks.unwrap_or(0),
        work_dir: args.work_dir,
        memory_limit,
        secret: Secret::resolve(args.secret_file.as_deref())?,
        data_roots: DataRoots::new(&args.data_roots)?,
    };
    eprintln!(
        "crmlens executor: flight {}:{}, scheduler {}:{}",
        options.bind_host, options.port, options.scheduler_host, options.scheduler_port
    );
    run_executor(&options).await?;
    Ok(0)
}

/// For `--engine standalone` (or `[engine] url = "standalone"`): starts the in-process
/// scheduler and executor, with one task slot per core, and points the command at them.
pub async fn start_standalone_if_asked(global: &mut GlobalArgs) -> Result<()> {
    let asked = match &global.engine {
        Some(url) => url == "standalone",
        None => global.config()?.engine.url == Some(EngineUrl::Standalone),
    };
    if asked {
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        global.engine = Some(start_standalone(cores).await?);
    }
    Ok(())
}
