//! The Ballista scheduler and executor with crmlens's functions and codecs: as processes
//! (`crmlens scheduler`, `crmlens executor`) and as an in-process pair
//! ([`start_standalone`]) for tests and for `--engine standalone`.
//!
//! The scheduler decodes each client's logical plan, so it needs the functions by name too; it
//! plans with the client's session options (time zone, partitions, `datafusion.*`) over
//! Ballista's defaults. Executors decode the physical plans of their tasks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::BallistaCodec;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::utils::{default_config_producer, default_session_builder};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::SessionConfig;

use super::codec::codecs;
use crate::{Error, Result, functions};

/// The scheduler's session for a client's configuration: Ballista's (its optimizer rules and
/// DataFusion's functions) with crmlens's functions.
fn scheduler_session(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let mut state = default_session_builder(config)?;
    functions::register_all(&mut state)?;
    Ok(state)
}

/// The functions executors know by name: DataFusion's and crmlens's.
fn function_registry() -> Result<BallistaFunctionRegistry> {
    Ok(BallistaFunctionRegistry::from(&scheduler_session(
        default_config_producer(),
    )?))
}

fn cluster_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Cluster(format!("{what}: {e}"))
}

/// Where a scheduler listens.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Address to bind, e.g. 0.0.0.0 for every interface or 127.0.0.1 for this machine only.
    pub bind_host: String,
    /// gRPC port clients and executors connect to.
    pub port: u16,
    /// Host name executors and clients use to reach this scheduler.
    pub external_host: String,
}

/// Runs a scheduler until the process is stopped.
pub async fn run_scheduler(options: &SchedulerOptions) -> Result<()> {
    let address: SocketAddr = format!("{}:{}", options.bind_host, options.port)
        .parse()
        .map_err(|e| {
            Error::Usage(format!(
                "--bind-host {} --port {}: {e}",
                options.bind_host, options.port
            ))
        })?;
    let (logical, physical) = codecs();
    let mut config = SchedulerConfig {
        bind_host: options.bind_host.clone(),
        bind_port: options.port,
        external_host: options.external_host.clone(),
        ..SchedulerConfig::default()
    };
    config.override_session_builder = Some(Arc::new(scheduler_session));
    config.override_logical_codec = Some(logical);
    config.override_physical_codec = Some(physical);
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| cluster_error("scheduler", e))?;
    log::info!("scheduler listening on {address}");
    start_server(cluster, address, Arc::new(config))
        .await
        .map_err(|e| cluster_error(&format!("scheduler on {address}"), e))
}

/// What an executor connects to and how much work it takes.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host and port.
    pub scheduler_host: String,
    pub scheduler_port: u16,
    /// Address to bind, e.g. 0.0.0.0 for every interface or 127.0.0.1 for this machine only.
    pub bind_host: String,
    /// Arrow Flight port other executors and clients fetch shuffle and result data from.
    pub port: u16,
    /// gRPC port the scheduler sends tasks to.
    pub grpc_port: u16,
    /// Host name the scheduler, other executors and clients use to reach this executor.
    pub external_host: Option<String>,
    /// Tasks run at the same time (0: one per core).
    pub concurrent_tasks: usize,
    /// Directory for shuffle files (default: a new temporary directory).
    pub work_dir: Option<PathBuf>,
    /// Memory for all running tasks together, in bytes (default: Ballista's share of the
    /// machine's memory); over their share operators spill to the work directory.
    pub memory_limit: Option<u64>,
}

/// Runs an executor until the process gets SIGTERM or Ctrl-C, or the scheduler stops it.
pub async fn run_executor(options: &ExecutorOptions) -> Result<()> {
    let (logical, physical) = codecs();
    let work_dir = match &options.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            let text = dir.to_str().ok_or_else(|| {
                Error::Usage(format!("--work-dir {}: not valid UTF-8", dir.display()))
            })?;
            Some(text.to_string())
        }
        None => None,
    };
    let config = ExecutorProcessConfig {
        bind_host: options.bind_host.clone(),
        external_host: options.external_host.clone(),
        port: options.port,
        grpc_port: options.grpc_port,
        scheduler_host: options.scheduler_host.clone(),
        scheduler_port: options.scheduler_port,
        // Keep retrying for a while when the scheduler starts after the executor.
        scheduler_connect_timeout_seconds: 30,
        vcores: options.concurrent_tasks,
        work_dir,
        memory_pool_size: options.memory_limit,
        override_function_registry: Some(Arc::new(function_registry()?)),
        override_logical_codec: Some(logical),
        override_physical_codec: Some(physical),
        ..ExecutorProcessConfig::default()
    };
    let what = format!(
        "executor on {}:{} (scheduler {}:{})",
        options.bind_host, options.port, options.scheduler_host, options.scheduler_port
    );
    log::info!("{what} starting");
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| cluster_error(&what, e))
}

/// Starts a scheduler and one executor with `concurrent_tasks` task slots inside this
/// process, on loopback ports the system picks, and returns the scheduler's `df://` URL. They
/// run on the current Tokio runtime until it shuts down.
pub async fn start_standalone(concurrent_tasks: usize) -> Result<String> {
    let (logical, physical) = codecs();
    let codec = BallistaCodec::new(logical, physical);
    let address = ballista_scheduler::standalone::new_standalone_scheduler_with_builder(
        Arc::new(scheduler_session),
        Arc::new(default_config_producer),
        codec.clone(),
    )
    .await
    .map_err(|e| cluster_error("standalone scheduler", e))?;
    let grpc = format!("http://localhost:{}", address.port());
    let mut attempts = 0;
    let scheduler = loop {
        match SchedulerGrpcClient::connect(grpc.clone()).await {
            Ok(client) => break client,
            Err(e) if attempts >= 50 => {
                return Err(cluster_error(
                    &format!("standalone scheduler at {grpc} did not answer"),
                    e,
                ));
            }
            Err(_) => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let runtime = Arc::new(RuntimeEnvBuilder::new().build()?);
    ballista_executor::new_standalone_executor_from_builder(
        scheduler,
        concurrent_tasks.max(1),
        Arc::new(default_config_producer),
        Arc::new(move |_| Ok(runtime.clone())),
        codec,
        function_registry()?,
    )
    .await
    .map_err(|e| cluster_error("standalone executor", e))?;
    Ok(format!("df://localhost:{}", address.port()))
}
