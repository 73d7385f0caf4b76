//! Apache Ballista: sessions that run our SQL on a cluster, and the scheduler and executor
//! processes of `ecomwh cluster`, which embed Ballista's with our session: the same functions,
//! the same warehouse object store (and committed-files view), the same settings.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::SessionContextExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

use super::session::{memory_limit, runtime, session_state, View};
use crate::config::Config;
pub use crate::config::DEFAULT_SCHEDULER_PORT;
use crate::error::{Error, Result};
use crate::storage::warehouse::Warehouse;

fn cluster_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Cluster(format!("{what}: {e}"))
}

/// A client of an in-process scheduler and executor that share this session's state.
pub(crate) async fn standalone(state: SessionState) -> Result<SessionContext> {
    SessionContext::standalone_with_state(state).await.map_err(|e| cluster_error("cannot start the in-process Ballista cluster", e))
}

/// A client of the scheduler at host:port. Fails early, with a clear message, when the
/// scheduler does not answer (a retry of the task may find it up).
pub(crate) async fn remote(host: &str, port: u16, state: SessionState) -> Result<SessionContext> {
    let addr = format!("{host}:{port}");
    match tokio::time::timeout(Duration::from_secs(10), tokio::net::TcpStream::connect(&addr)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(cluster_error(&format!("cannot reach the Ballista scheduler at {addr}"), e)),
        Err(_) => return Err(cluster_error(&format!("cannot reach the Ballista scheduler at {addr}"), "timed out after 10 s")),
    }
    SessionContext::remote_with_state(&format!("df://{addr}"), state)
        .await
        .map_err(|e| cluster_error(&format!("cannot connect to the Ballista scheduler at {addr}"), e))
}

/// Ballista's own session defaults (its optimizer rules and functions) plus ours, over a runtime
/// that reaches the warehouse.
fn cluster_state(cfg: &Config, config: SessionConfig, rt: Arc<RuntimeEnv>) -> Result<SessionState> {
    let base = ballista_core::utils::default_session_builder(super::session::for_ballista(config))?;
    session_state(cfg, SessionStateBuilder::new_from_existing(base), rt)
}

/// Where a cluster process listens.
#[derive(Debug, Clone)]
pub struct Listen {
    /// Address to bind, e.g. 0.0.0.0 or 127.0.0.1.
    pub bind_host: String,
    /// Name other processes reach this one by (default: the bind address).
    pub external_host: Option<String>,
    pub port: u16,
}

/// The warehouse as a cluster process opens it: shared storage only.
fn shared_warehouse(cfg: &Config) -> Result<Warehouse> {
    let wh = Warehouse::open(&cfg.warehouse, &cfg.storage)?;
    if wh.url.starts_with("memory://") {
        return Err(Error::Config("a memory:// warehouse lives in one process: cluster processes need file://, s3://, gs:// or az://".into()));
    }
    Ok(wh)
}

/// Run a Ballista scheduler until the process is stopped. It plans every job the clients
/// submit (so it lists the warehouse's tables) and hands stages to executors.
pub async fn run_scheduler(cfg: &Config, listen: &Listen) -> Result<()> {
    let wh = shared_warehouse(cfg)?;
    let rt = runtime(cfg, &wh, View::Live)?;
    // Checked here so that a bad time zone stops the process at once, not at the first job.
    cfg.tz()?;
    let c = cfg.clone();
    let builder: ballista_scheduler::scheduler_server::SessionBuilder =
        Arc::new(move |config: SessionConfig| cluster_state(&c, config, rt.clone()).map_err(|e| DataFusionError::External(Box::new(e))));
    let external = listen.external_host.clone().unwrap_or_else(|| listen.bind_host.clone());
    let config = SchedulerConfig {
        bind_host: listen.bind_host.clone(),
        bind_port: listen.port,
        external_host: external,
        override_session_builder: Some(builder),
        // Spread each stage's tasks over the executors rather than filling one first.
        task_distribution: ballista_scheduler::config::TaskDistributionPolicy::RoundRobin,
        ..Default::default()
    };
    let addr: SocketAddr = format!("{}:{}", listen.bind_host, listen.port)
        .parse()
        .map_err(|e| Error::Usage(format!("bad scheduler address {}:{}: {e}", listen.bind_host, listen.port)))?;
    tracing::info!(%addr, warehouse = %wh.url, "Ballista scheduler starting");
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(|e| cluster_error("cannot set up the scheduler's state", e))?;
    start_server(cluster, addr, Arc::new(config)).await.map_err(|e| cluster_error("the scheduler stopped", e))
}

/// Settings of one executor process.
#[derive(Debug, Clone)]
pub struct ExecutorSettings {
    pub listen: Listen,
    /// Arrow Flight port is `listen.port`; the gRPC port for the scheduler's pushes.
    pub grpc_port: u16,
    pub scheduler_host: String,
    pub scheduler_port: u16,
    /// Tasks run at once (default: cores).
    pub concurrent_tasks: usize,
    /// Shuffle files (default: a temporary folder).
    pub work_dir: Option<String>,
}

/// Run a Ballista executor until the process is stopped: it registers with the scheduler,
/// runs the tasks it is given, and serves its shuffle output to other executors.
pub async fn run_executor(cfg: &Config, s: &ExecutorSettings) -> Result<()> {
    let wh = shared_warehouse(cfg)?;
    let rt = runtime(cfg, &wh, View::Live)?;
    // The functions the scheduler's sessions have (Ballista's and ours), by name.
    let state = cluster_state(cfg, SessionConfig::new(), rt.clone())?;
    let functions = Arc::new(BallistaFunctionRegistry::from(&state));
    let producer: ballista_core::RuntimeProducer = Arc::new(move |_| Ok(rt.clone()));
    // Shuffle files: in the given folder, else in one of ours that goes when the process stops.
    let own_dir = match &s.work_dir {
        Some(_) => None,
        None => {
            let d = std::env::temp_dir().join(format!("ecomwh-executor-{}", std::process::id()));
            std::fs::create_dir_all(&d)?;
            Some(d)
        }
    };
    let work_dir = s.work_dir.clone().or_else(|| own_dir.as_ref().map(|d| d.display().to_string()));
    let config = ExecutorProcessConfig {
        bind_host: s.listen.bind_host.clone(),
        external_host: s.listen.external_host.clone(),
        port: s.listen.port,
        grpc_port: s.grpc_port,
        scheduler_host: s.scheduler_host.clone(),
        scheduler_port: s.scheduler_port,
        // Wait for a scheduler that starts at the same time.
        scheduler_connect_timeout_seconds: 60,
        vcores: s.concurrent_tasks,
        work_dir,
        // `memory_limit` is the executor's: Ballista splits it between its task slots.
        memory_pool_size: Some(memory_limit(cfg)? as u64),
        // Shuffle files of jobs older than a day go, checked hourly (the scheduler also removes
        // a finished job's files after a few minutes).
        job_data_ttl_seconds: 24 * 3600,
        job_data_clean_up_interval_seconds: 3600,
        override_function_registry: Some(functions),
        override_runtime_producer: Some(producer),
        ..Default::default()
    };
    tracing::info!(port = s.listen.port, scheduler = %format!("{}:{}", s.scheduler_host, s.scheduler_port),
        warehouse = %wh.url, "Ballista executor starting");
    let result = start_executor_process(Arc::new(config)).await;
    if let Some(d) = own_dir {
        let _ = std::fs::remove_dir_all(d);
    }
    result.map_err(|e| cluster_error("the executor stopped", e))
}
