//! Session pieces every engine process shares (client, scheduler, executor): settings, memory
//! pool, the warehouse's object store view and our functions.

use std::sync::Arc;

use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionConfig;
use object_store::ObjectStore;

use super::{udf, visible};
use crate::config::Config;
use crate::error::Result;
use crate::storage::manifest::Manifests;
use crate::storage::warehouse::Warehouse;

/// Tasks per stage on a cluster when `target_partitions` is not set (Ballista's default).
#[cfg(feature = "cluster")]
pub(crate) const CLUSTER_PARTITIONS: usize = 16;

/// The session settings every engine shares (the client's; Ballista sends them with each job).
pub(crate) fn session_config(cfg: &Config) -> SessionConfig {
    let mut config = SessionConfig::new().with_information_schema(true).with_default_catalog_and_schema("datafusion", "public");
    if let Some(n) = cfg.target_partitions {
        config = config.with_target_partitions(n.max(1));
    }
    // Runs are batch jobs: parquet reads may push filters down.
    config.options_mut().execution.parquet.pushdown_filters = false;
    // Strings as plain Utf8, not views: sorts and joins account a view array by the whole
    // buffers it points into, so wide results of joins looked many GB large and spilled
    // over and over (apache/datafusion#12136): a 1M-customer profile build took minutes.
    config.options_mut().execution.parquet.schema_force_view_types = false;
    config
}

/// Settings for Ballista 55 that our SQL needs, found by running the pipeline on it:
/// - its adaptive planner (AQE) lost a window's PARTITION BY ordering across a join it
///   deferred ("Expects PARTITION BY expression to be ordered"): the static planner instead;
/// - it reorders joins of a stage after DataFusion attached dynamic filters to them, which
///   fails the task and leaves the job hanging: no join dynamic filters;
/// - a column whose Parquet statistics show one value is planned as a constant (left out of
///   sorts), which the executor, decoding the plan, does not know: no file statistics.
#[cfg(feature = "cluster")]
pub(crate) fn for_ballista(config: SessionConfig) -> SessionConfig {
    use ballista_core::extension::SessionConfigExt;
    let mut config = config.upgrade_for_ballista().set_bool(ballista_core::config::BALLISTA_ADAPTIVE_PLANNER_ENABLED, false);
    config.options_mut().optimizer.enable_join_dynamic_filter_pushdown = false;
    config.options_mut().execution.collect_statistics = false;
    config
}

/// How the warehouse store is shown to queries.
pub(crate) enum View {
    /// The tables' snapshots this process keeps current as it commits.
    Shared(Manifests),
    /// A cluster process: each listing of a table rereads its Delta log, since the client commits.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    Live,
}

/// Memory pool, fresh listings and the warehouse's object store.
pub(crate) fn runtime(cfg: &Config, wh: &Warehouse, view: View) -> Result<Arc<RuntimeEnv>> {
    let pool_bytes = memory_limit(cfg)?;
    // Listings must be fresh: a run commits partitions that its next job reads.
    let caches = CacheManagerConfig { list_files_cache_limit: 0, list_files_cache: None, ..Default::default() };
    let runtime = RuntimeEnvBuilder::new().with_memory_pool(Arc::new(FairSpillPool::new(pool_bytes))).with_cache_manager(caches).build_arc()?;
    // Every store, local folders too: replaced files stay in the partition folders until a vacuum.
    let read_store: Arc<dyn ObjectStore> = match view {
        View::Shared(m) => Arc::new(visible::CommittedView::new(wh.store.clone(), wh.root.as_ref(), m)),
        View::Live => Arc::new(visible::CommittedView::live(wh.clone())),
    };
    runtime.register_object_store(&wh.store_url, read_store);
    Ok(runtime)
}

/// A session state from `base` (DataFusion's defaults, or Ballista's in a cluster process) with
/// our runtime and functions.
pub(crate) fn session_state(cfg: &Config, base: SessionStateBuilder, runtime: Arc<RuntimeEnv>) -> Result<SessionState> {
    let mut state = base.with_runtime_env(runtime).build();
    for f in udf::all(cfg.tz()?) {
        state.register_udf(Arc::new(f))?;
    }
    Ok(state)
}

/// The `memory_limit` setting, else half of physical memory.
pub(crate) fn memory_limit(cfg: &Config) -> Result<usize> {
    Ok(cfg.memory_limit_bytes()?.unwrap_or_else(default_memory_limit))
}

/// Half of physical memory (from /proc/meminfo), else 4 GiB.
fn default_memory_limit() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse::<usize>().ok()));
    total_kib.map(|k| k * 1024 / 2).unwrap_or(4 << 30)
}
