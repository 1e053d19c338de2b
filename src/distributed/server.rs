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
use std::time::{Duration, Instant};

use arrow_flight::flight_service_server::FlightServiceServer;
use ballista_core::ConfigProducer;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::error::BallistaError;
use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::BallistaCodec;
use ballista_core::serde::protobuf::GetJobStatusParams;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpcServer;
use ballista_core::utils::{create_grpc_server, default_config_producer, default_session_builder};
use ballista_executor::ArrowFlightServerProvider;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_executor::flight_service::BallistaFlightService;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::create_scheduler;
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use tonic::service::RoutesBuilder;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Endpoint;

use super::auth::{self, Secret};
use super::codec::codecs;
use super::guard::{DataRoots, GuardedEngine, RefuseWrites};
use crate::{Error, Result, functions};

/// The scheduler's session for a client's configuration: Ballista's (its optimizer rules and
/// DataFusion's functions) with crmlens's functions, planning no job that writes files, with
/// Ballista's static planner.
///
/// Not its adaptive planner (AQE, on by default in Ballista 55): when a shuffle stage that
/// feeds a partitioned hash join ends with no rows, its `PropagateEmptyExecRule` puts an
/// `EmptyExec` in the stage's place but keeps the join whenever the join carries a projection
/// (every join whose sides were swapped does); the join still needs its input hash-partitioned,
/// so the replan puts a new exchange over the `EmptyExec`, a new stage that runs, ends empty
/// and is replaced the same way, without end (the `ballista.planner.propagate_empty.enabled`
/// switch is read by nothing). A left join to a CTE that is empty at run time is enough, as in
/// `campaign_effectiveness` when no member is pending.
///
/// And no dynamic filters of joins: the static planner chooses join sides again when a stage's
/// inputs are known, and swapping a hash join whose dynamic filter is built fails
/// ("Cannot swap HashJoinExec inputs after dynamic filters have been constructed"), an error
/// the scheduler only logs, leaving the job waiting forever.
///
/// And hash joins, as on one machine, rather than the sort-merge joins Ballista's client
/// settings ask for (they spill, hash joins do not): DataFusion 55's sort-merge join fails a
/// left join with a filter on a column declared non-null ("Column 'occurred_at' is declared
/// as non-nullable but contains null values", `manager_kpis`; the same locally with
/// `prefer_hash_join = false`).
///
/// Set here, after the client's settings, so that no client can turn them back.
fn scheduler_session(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let mut config = config.with_ballista_adaptive_query_planner(false);
    let optimizer = &mut config.options_mut().optimizer;
    optimizer.enable_join_dynamic_filter_pushdown = false;
    optimizer.prefer_hash_join = true;
    let state = default_session_builder(config)?;
    let mut state = SessionStateBuilder::new_from_existing(state)
        .with_physical_optimizer_rule(Arc::new(RefuseWrites))
        .build();
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
    /// Address to bind: 127.0.0.1 for this machine only; any other needs a secret.
    pub bind_host: String,
    /// gRPC port clients and executors connect to.
    pub port: u16,
    /// Host name executors and clients use to reach this scheduler.
    pub external_host: String,
    /// The secret every client and executor must present (none: bound to loopback only).
    pub secret: Option<Secret>,
    /// How long an executor may go without asking for work before it counts as lost: its
    /// tasks then run elsewhere, or, with no executor left, its jobs fail.
    pub executor_timeout: Duration,
}

/// Runs a scheduler until the process is stopped.
///
/// Executors pull their tasks (Ballista's pull-staged scheduling), so that they open no task
/// port of their own: the scheduler's service and the executors' Flight service are the
/// cluster's only servers, and crmlens serves both behind the [`auth`] check.
pub async fn run_scheduler(options: &SchedulerOptions) -> Result<()> {
    auth::check_bind("scheduler", &options.bind_host, options.secret.as_ref())?;
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
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        // A pulling executor asks for work every 50 ms when idle and every 5 s when busy
        // (Ballista's poll loop): one silent for the timeout is gone. Ballista's defaults
        // (180 s, checked every 15 s, then 180 s more of waiting for a new executor) made a
        // client wait minutes, or forever, for a job whose only executor had died.
        executor_timeout_seconds: options.executor_timeout.as_secs().max(2),
        expire_dead_executor_interval_seconds: (options.executor_timeout.as_secs() / 4).max(1),
        // With no executor left, fail the jobs at once rather than wait for another.
        no_executors_grace_period_seconds: 0,
        ..SchedulerConfig::default()
    };
    config.override_session_builder = Some(Arc::new(scheduler_session));
    config.override_logical_codec = Some(logical);
    config.override_physical_codec = Some(physical);
    config.override_create_grpc_client_endpoint =
        options.secret.as_ref().map(Secret::endpoint_override);
    config
        .validate()
        .map_err(|e| cluster_error("scheduler", e))?;
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| cluster_error("scheduler", e))?;
    let config = Arc::new(config);
    let scheduler: SchedulerServer<LogicalPlanNode, PhysicalPlanNode> =
        create_scheduler(cluster, config.clone())
            .await
            .map_err(|e| cluster_error("scheduler", e))?;
    let service = SchedulerGrpcServer::new(scheduler)
        .max_encoding_message_size(config.grpc_server_max_encoding_message_size as usize)
        .max_decoding_message_size(config.grpc_server_max_decoding_message_size as usize);
    let mut routes = RoutesBuilder::default();
    routes.add_service(InterceptedService::new(
        service,
        auth::interceptor(options.secret.clone()),
    ));
    // Served by axum, as Ballista serves it: the scheduler reads an executor's address from
    // axum's connection info when the executor does not name its host.
    let router = routes
        .routes()
        .into_axum_router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| cluster_error(&format!("scheduler on {address}"), e))?;
    log::info!("scheduler listening on {address}");
    axum::serve(listener, router)
        .await
        .map_err(|e| cluster_error(&format!("scheduler on {address}"), e))
}

/// What an executor connects to and how much work it takes.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host and port.
    pub scheduler_host: String,
    pub scheduler_port: u16,
    /// Address to bind: 127.0.0.1 for this machine only; any other needs a secret.
    pub bind_host: String,
    /// Arrow Flight port other executors and clients fetch shuffle and result data from.
    pub port: u16,
    /// Host name the scheduler, other executors and clients use to reach this executor.
    pub external_host: Option<String>,
    /// Tasks run at the same time (0: one per core).
    pub concurrent_tasks: usize,
    /// Directory for shuffle files (default: a new temporary directory).
    pub work_dir: Option<PathBuf>,
    /// Memory for all running tasks together, in bytes (default: Ballista's share of the
    /// machine's memory); over their share operators spill to the work directory.
    pub memory_limit: Option<u64>,
    /// The cluster's secret: presented to the scheduler and other executors, demanded of
    /// whoever fetches data from this executor.
    pub secret: Option<Secret>,
    /// The folders whose files tasks may read (none: no file).
    pub data_roots: DataRoots,
}

/// Runs an executor until the process gets SIGTERM or Ctrl-C, or the scheduler stops it.
pub async fn run_executor(options: &ExecutorOptions) -> Result<()> {
    auth::check_bind("executor", &options.bind_host, options.secret.as_ref())?;
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
    let scheduler = format!("{}:{}", options.scheduler_host, options.scheduler_port);
    check_admitted(&scheduler, options.secret.as_ref()).await?;
    let endpoint = options.secret.as_ref().map(Secret::endpoint_override);
    // Tasks read shuffle data from other executors with their session's endpoint override.
    let task_endpoint = endpoint.clone();
    let config_producer: ConfigProducer = Arc::new(move || match &task_endpoint {
        Some(f) => {
            default_config_producer().with_ballista_override_create_grpc_client_endpoint(f.clone())
        }
        None => default_config_producer(),
    });
    let config = ExecutorProcessConfig {
        bind_host: options.bind_host.clone(),
        external_host: options.external_host.clone(),
        port: options.port,
        // Pull-staged scheduling opens no task port; Ballista still reports one.
        grpc_port: 0,
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
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
        override_config_producer: Some(config_producer),
        override_create_grpc_client_endpoint: endpoint,
        override_arrow_flight_service: Some(flight_service(options.secret.clone())),
        override_execution_engine: Some(Arc::new(GuardedEngine::new(options.data_roots.clone()))),
        ..ExecutorProcessConfig::default()
    };
    let what = format!(
        "executor on {}:{} (scheduler {scheduler})",
        options.bind_host, options.port
    );
    log::info!("{what} starting");
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| cluster_error(&what, e))
}

/// Ballista's Arrow Flight service (shuffle and result data), behind the [`auth`] check.
fn flight_service(secret: Option<Secret>) -> Arc<ArrowFlightServerProvider> {
    Arc::new(move |work_dir, address, mut shutdown, grpc_config| {
        let service = FlightServiceServer::new(BallistaFlightService::new(work_dir))
            .max_decoding_message_size(FLIGHT_MESSAGE_SIZE)
            .max_encoding_message_size(FLIGHT_MESSAGE_SIZE);
        let service = InterceptedService::new(service, auth::interceptor(secret.clone()));
        tokio::spawn(async move {
            log::info!("executor's Arrow Flight service listening on {address}");
            create_grpc_server(&grpc_config)
                .add_service(service)
                .serve_with_shutdown(address, shutdown.recv())
                .await
                .map_err(BallistaError::TonicError)
        })
    })
}

/// The Flight service's message size limit: Ballista's executor default.
const FLIGHT_MESSAGE_SIZE: usize = 16 << 20;

/// Fails, naming the secret, when the scheduler refuses this executor: Ballista's executor
/// would only log each refused poll and wait for work forever. Waits up to 30 s for the
/// scheduler to listen, as the executor does.
async fn check_admitted(scheduler: &str, secret: Option<&Secret>) -> Result<()> {
    let mut endpoint = Endpoint::from_shared(format!("http://{scheduler}"))
        .map_err(|e| Error::Usage(format!("--scheduler {scheduler}: {e}")))?;
    if let Some(secret) = secret {
        endpoint = (secret.endpoint_override())(endpoint)
            .map_err(|e| cluster_error("cluster secret", e))?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let channel = loop {
        match endpoint.connect().await {
            Ok(channel) => break channel,
            Err(e) if Instant::now() >= deadline => {
                return Err(cluster_error(
                    &format!("cannot reach the scheduler at {scheduler}"),
                    e,
                ));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    // Any call will do; only a refusal of the secret matters here.
    let probe = SchedulerGrpcClient::new(channel)
        .get_job_status(GetJobStatusParams {
            job_id: "crmlens-executor-admission".into(),
        })
        .await;
    match probe {
        Err(status) if status.code() == tonic::Code::Unauthenticated => Err(Error::Cluster(
            format!("the scheduler at {scheduler} {}", status.message()),
        )),
        _ => Ok(()),
    }
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
