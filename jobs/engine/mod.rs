//! The one place that builds DataFusion sessions: config, memory pool, object stores,
//! the warehouse tables as SQL schemas, and running the SQL files of `sql/`.

#[cfg(feature = "cluster")]
pub mod cluster;
pub mod udf;
pub mod visible;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::cache::cache_manager::CacheManagerConfig;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::FunctionRegistry;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use object_store::ObjectStore;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::storage::manifest::{Manifests, LAYERS};
use crate::storage::warehouse::Warehouse;

/// Schema of the day's parsed raw rows (the input of the staging SQL).
pub const LANDING: &str = "landing";

/// A session over one warehouse.
pub struct Engine {
    pub ctx: SessionContext,
    pub wh: Warehouse,
    pub manifests: Manifests,
    pub kind: EngineKind,
}

/// Tasks per stage on a cluster when `target_partitions` is not set (Ballista's default).
#[cfg(feature = "cluster")]
const CLUSTER_PARTITIONS: usize = 16;

/// Ballista's usual scheduler port.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// Where the SQL runs. Only this module knows the difference: jobs see a `SessionContext`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineKind {
    /// DataFusion in this process (the default).
    Local,
    /// Ballista with an in-process scheduler and executor: to try it out, and for tests.
    BallistaStandalone,
    /// A Ballista cluster: the scheduler's `host:port` (see `ecomwh cluster`).
    Ballista { host: String, port: u16 },
}

impl EngineKind {
    pub fn parse(s: &str) -> Result<EngineKind> {
        let bad = || Error::Config(format!("engine '{s}' is not one of: local, ballista-standalone, ballista://HOST:PORT"));
        match s.trim() {
            "" | "local" => Ok(EngineKind::Local),
            "ballista-standalone" => Ok(EngineKind::BallistaStandalone),
            other => {
                let rest = other.strip_prefix("ballista://").ok_or_else(bad)?.trim_end_matches('/');
                let (host, port) = match rest.rsplit_once(':') {
                    Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
                    None => (rest, DEFAULT_SCHEDULER_PORT),
                };
                if host.is_empty() || host.contains('/') {
                    return Err(bad());
                }
                Ok(EngineKind::Ballista { host: host.to_string(), port })
            }
        }
    }

    pub fn is_local(&self) -> bool {
        *self == EngineKind::Local
    }

    /// Ballista engines need a binary built with the `cluster` feature: say so, not "unknown".
    pub fn check_built(&self) -> Result<()> {
        if self.is_local() || cfg!(feature = "cluster") {
            return Ok(());
        }
        Err(Error::Config(
            "this ecomwh was built without Ballista: build it with `cargo build --release --features cluster` for \
             `ecomwh cluster` and --engine ballista-standalone or ballista://HOST:PORT"
                .into(),
        ))
    }
}

/// The session settings every engine shares (the client's; Ballista sends them with each job).
fn session_config(cfg: &Config) -> SessionConfig {
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
    /// The manifests this process keeps current as it commits.
    Shared(Manifests),
    /// A cluster process: each listing of a table rereads its manifest, since the client commits.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    Live,
}

/// Memory pool, fresh listings and the warehouse's object store.
pub(crate) fn runtime(cfg: &Config, wh: &Warehouse, view: View) -> Result<Arc<RuntimeEnv>> {
    let pool_bytes = memory_limit(cfg)?;
    // Listings must be fresh: a run commits partitions that its next job reads.
    let mut caches = CacheManagerConfig::default();
    caches.list_files_cache_limit = 0;
    caches.list_files_cache = None;
    let runtime = RuntimeEnvBuilder::new().with_memory_pool(Arc::new(FairSpillPool::new(pool_bytes))).with_cache_manager(caches).build_arc()?;
    let read_store: Arc<dyn ObjectStore> = match view {
        _ if wh.is_local() => wh.store.clone(),
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

/// The client session of `kind`.
#[cfg(feature = "cluster")]
async fn session(cfg: &Config, kind: &EngineKind, wh: &Warehouse, runtime: Arc<RuntimeEnv>) -> Result<SessionContext> {
    let mut config = if kind.is_local() { session_config(cfg) } else { for_ballista(session_config(cfg)) };
    if let EngineKind::Ballista { .. } = kind {
        if wh.url.starts_with("memory://") {
            return Err(Error::Config("a memory:// warehouse lives in one process: a Ballista cluster cannot reach it".into()));
        }
        // Tasks per stage: the client's cores say nothing about the cluster's. Ballista's
        // own default, unless `target_partitions` gives the cluster's task slots.
        if cfg.target_partitions.is_none() {
            config = config.with_target_partitions(CLUSTER_PARTITIONS);
        }
    }
    let state = session_state(cfg, SessionStateBuilder::new().with_default_features().with_config(config), runtime)?;
    Ok(match kind {
        EngineKind::Local => SessionContext::new_with_state(state),
        EngineKind::BallistaStandalone => cluster::standalone(state).await?,
        EngineKind::Ballista { host, port } => cluster::remote(host, *port, state).await?,
    })
}

/// The client session: only the local engine is built in without the `cluster` feature.
#[cfg(not(feature = "cluster"))]
async fn session(cfg: &Config, _kind: &EngineKind, _wh: &Warehouse, runtime: Arc<RuntimeEnv>) -> Result<SessionContext> {
    let state = session_state(cfg, SessionStateBuilder::new().with_default_features().with_config(session_config(cfg)), runtime)?;
    Ok(SessionContext::new_with_state(state))
}

impl Engine {
    pub async fn open(cfg: &Config, wh: Warehouse) -> Result<Engine> {
        let kind = EngineKind::parse(&cfg.engine)?;
        kind.check_built()?;
        let manifests = Manifests::load(&wh).await?;
        let runtime = runtime(cfg, &wh, View::Shared(manifests.clone()))?;
        let ctx = session(cfg, &kind, &wh, runtime).await?;
        // Ballista's client session keeps only its own functions.
        for f in udf::all(cfg.tz()?) {
            ctx.register_udf(f);
        }

        let catalog = ctx.catalog("datafusion").ok_or_else(|| Error::Config("default catalog missing".into()))?;
        for layer in LAYERS.iter().chain([&LANDING]) {
            catalog.register_schema(layer, Arc::new(MemorySchemaProvider::new()))?;
        }
        let engine = Engine { ctx, wh, manifests, kind };
        engine.register_all().await?;
        Ok(engine)
    }

    /// Register every committed table of the warehouse.
    pub async fn register_all(&self) -> Result<()> {
        for (layer, table) in self.manifests.tables() {
            self.register(&layer, &table).await?;
        }
        Ok(())
    }

    fn schema(&self, name: &str) -> Result<Arc<dyn SchemaProvider>> {
        self.ctx.catalog("datafusion").and_then(|c| c.schema(name)).ok_or_else(|| Error::Config(format!("schema {name} missing")))
    }

    /// (Re)register `<layer>.<table>` over its folder, partitioned by `dt` (a DATE).
    pub async fn register(&self, layer: &str, table: &str) -> Result<()> {
        let Some(m) = self.manifests.get(layer, table) else { return Ok(()) };
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![("dt".to_string(), DataType::Date32)]);
        // The newest partition defines the schema; older files are adapted to it. A newest
        // partition whose files are gone must not make the whole table (and every command)
        // unusable: the next readable one defines it, with a warning; jobs that carry a
        // partition over check its rows against the manifest.
        let mut file_schema = None;
        let mut first_error = None;
        for dt in m.partitions.keys().rev() {
            let part_url = ListingTableUrl::parse(self.wh.table_url(&format!("{layer}/{table}/dt={dt}")))?;
            match options.infer_schema(&self.ctx.state(), &part_url).await {
                Ok(s) => {
                    if let Some(e) = &first_error {
                        tracing::warn!(table = %format!("{layer}.{table}"), columns_from = %dt, "newer partitions cannot be read ({e}): they read as empty");
                    }
                    file_schema = Some(s);
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let file_schema = match (file_schema, first_error) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(e.into()),
            (None, None) => return Ok(()),
        };
        let url = ListingTableUrl::parse(self.wh.table_url(&format!("{layer}/{table}")))?;
        let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(file_schema);
        let provider = Arc::new(ListingTable::try_new(config)?);
        let schema = self.schema(layer)?;
        schema.deregister_table(table)?;
        schema.register_table(table.to_string(), provider.clone())?;
        if layer == "marts" {
            let public = self.schema("public")?;
            public.deregister_table(table)?;
            public.register_table(table.to_string(), provider)?;
        }
        Ok(())
    }

    /// Make `landing.<name>` (a source's landed files) the table `feed`, which its mapping
    /// SQL reads.
    pub async fn use_as_feed(&self, name: &str) -> Result<()> {
        let provider =
            self.schema(LANDING)?.table(name).await?.ok_or_else(|| crate::error::Error::job("staging", format!("landing.{name} is not registered")))?;
        let public = self.schema("public")?;
        public.deregister_table("feed")?;
        public.register_table("feed".to_string(), provider)?;
        Ok(())
    }

    /// Register a folder of Parquet files (no partitions) as `landing.<name>`.
    pub async fn register_landing(&self, name: &str, rel_dir: &str) -> Result<()> {
        self.register_folder(LANDING, name, rel_dir).await
    }

    /// Register a folder of Parquet files (no partitions) as `<layer>.<name>` in this process
    /// only (a preview's own staging rows stand in for the staged table).
    pub async fn register_folder(&self, layer: &str, name: &str, rel_dir: &str) -> Result<()> {
        // Plain strings, not string views: scratch holds whole raw rows, and a view taken from a
        // join's build side keeps the build side's buffers, which every later sort then counts
        // as its own (a 1M-customer feed asked a sort for 3 GB per batch).
        let format = ParquetFormat::default().with_force_view_types(false);
        let options = ListingOptions::new(Arc::new(format)).with_file_extension(".parquet");
        let url = ListingTableUrl::parse(self.wh.table_url(rel_dir))?;
        let schema = options.infer_schema(&self.ctx.state(), &url).await?;
        let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(schema);
        let s = self.schema(layer)?;
        s.deregister_table(name)?;
        s.register_table(name.to_string(), Arc::new(ListingTable::try_new(config)?))?;
        Ok(())
    }

    pub fn has_table(&self, layer: &str, table: &str) -> bool {
        self.schema(layer).map(|s| s.table_exist(table)).unwrap_or(false)
    }

    /// A table's columns besides dt, as its newest readable partition defines them (one
    /// written by an older version lacks the newer columns).
    pub async fn columns(&self, layer: &str, table: &str) -> Result<Vec<String>> {
        let df = self.ctx.table(format!("{layer}.{table}")).await?;
        Ok(df.schema().fields().iter().map(|f| f.name().clone()).filter(|n| n != "dt").collect())
    }

    /// The first of `wanted` that the table's newest partition lacks (one written by an older
    /// version, e.g. after a backfill of earlier dates): callers that need them fall back.
    pub async fn missing_column<'a>(&self, layer: &str, table: &str, wanted: &[&'a str]) -> Result<Option<&'a str>> {
        let have = self.columns(layer, table).await?;
        Ok(wanted.iter().find(|w| !have.iter().any(|h| h == *w)).copied())
    }

    /// Plan a query of our own SQL with named `$parameters` bound (never formatted in).
    pub async fn query(&self, sql: &str, params: &Params) -> Result<DataFrame> {
        let df = self.ctx.sql(sql).await?;
        if params.is_empty() {
            return Ok(df);
        }
        Ok(df.with_param_values(params.clone())?)
    }

    /// Plan a user's query: read-only (no DDL, DML, COPY or SET).
    pub async fn query_readonly(&self, sql: &str) -> Result<DataFrame> {
        let opts = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
        // Anything wrong at planning time (syntax, unknown table, DDL) is the caller's to fix.
        self.ctx.sql_with_options(sql, opts).await.map_err(|e| {
            let msg = e.to_string();
            if msg.contains("not supported") && (msg.contains("DDL") || msg.contains("DML") || msg.contains("Statement")) {
                Error::Usage(format!("only read-only queries are allowed here: {msg}"))
            } else {
                Error::Usage(format!("bad query: {msg}"))
            }
        })
    }
}

/// Named query parameters.
pub type Params = HashMap<String, ScalarValue>;

pub fn params<const N: usize>(pairs: [(&str, ScalarValue); N]) -> Params {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A DATE parameter.
pub fn date_param(d: chrono::NaiveDate) -> ScalarValue {
    ScalarValue::Date32(Some(date32(d)))
}

/// Arrow's Date32 value of a date: days since 1970-01-01.
pub fn date32(d: chrono::NaiveDate) -> i32 {
    (d - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days() as i32
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

/// Publish `rows` as `owner`'s slice of partition `dt` of `<layer>.<table>`, leaving the
/// other owners' slices as they are (see `PartitionWriter::slice`).
pub async fn publish_slice(engine: &Engine, run_id: &str, layer: &str, table: &str, dt: &str, owner: &str, rows: &arrow::array::RecordBatch) -> Result<u64> {
    let mut w = crate::storage::publish::PartitionWriter::new(&engine.wh, &engine.manifests, layer, table, dt, run_id, rows.schema(), 1_000_000).slice(owner);
    if let Err(e) = w.write(rows).await {
        w.abort().await;
        return Err(e);
    }
    let published = w.commit().await?;
    engine.register(layer, table).await?;
    Ok(published.rows)
}

#[cfg(test)]
mod tests {
    use super::EngineKind;

    #[test]
    fn engine_settings_parse_or_explain() {
        assert_eq!(EngineKind::parse("local").ok(), Some(EngineKind::Local));
        assert_eq!(EngineKind::parse("ballista-standalone").ok(), Some(EngineKind::BallistaStandalone));
        assert_eq!(EngineKind::parse("ballista://sched.internal:50077").ok(), Some(EngineKind::Ballista { host: "sched.internal".into(), port: 50077 }));
        assert_eq!(EngineKind::parse("ballista://10.0.0.5").ok(), Some(EngineKind::Ballista { host: "10.0.0.5".into(), port: 50050 }));
        for bad in ["spark", "ballista://", "ballista://h:notaport", "df://h:1"] {
            let e = EngineKind::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("local, ballista-standalone, ballista://HOST:PORT"), "{bad}: {e}");
        }
    }
}
