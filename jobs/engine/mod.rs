//! The one place that builds DataFusion sessions: config, memory pool, object stores,
//! the warehouse tables as SQL schemas, and running the SQL files of `sql/`.

#[cfg(feature = "cluster")]
pub mod cluster;
pub mod session;
pub mod udf;
pub mod values;
pub mod visible;

use session::View;
#[cfg(feature = "cluster")]
use session::{for_ballista, CLUSTER_PARTITIONS};
use session::{runtime, session_config, session_state};
pub use values::{date32, date_param, params, Params};

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SQLOptions, SessionContext};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::storage::delta::AsOf;
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

pub use crate::config::{EngineKind, DEFAULT_SCHEDULER_PORT};

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

    /// Read `<layer>.<table>` as it was at an older snapshot, for the rest of this session.
    pub async fn as_of(&self, layer: &str, table: &str, at: AsOf) -> Result<()> {
        if !self.kind.is_local() {
            return Err(Error::Usage("time travel (--as-of) needs the local engine: add --engine local".into()));
        }
        let old = Manifests::load_table(&self.wh, layer, table, at).await?;
        let m = old.get(layer, table).ok_or_else(|| Error::Usage(format!("{layer}.{table}: no such table")))?;
        tracing::info!(table = %format!("{layer}.{table}"), version = m.version, "reading an older snapshot");
        self.manifests.put_table(m);
        self.register(layer, table).await
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

    /// The single integer a `SELECT count(*) ...` of our own returns (None: no row or NULL).
    pub async fn count(&self, sql: &str, params: &Params) -> Result<Option<i64>> {
        use arrow::array::Array;
        let batches = self.query(sql, params).await?.collect().await?;
        Ok(batches.iter().find(|b| b.num_rows() > 0).and_then(|b| {
            let a = b.column(0).as_any().downcast_ref::<arrow::array::Int64Array>()?;
            (!a.is_null(0)).then(|| a.value(0))
        }))
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

/// Publish `rows` as `owner`'s slice of partition `dt` of `<layer>.<table>`, leaving the
/// other owners' slices as they are (see `PartitionWriter::slice`; `keep_legacy` keeps a
/// partition written whole by an older version, for tables whose rows are added to).
pub async fn publish_slice(
    engine: &Engine,
    run_id: &str,
    layer: &str,
    table: &str,
    dt: &str,
    owner: &str,
    keep_legacy: bool,
    rows: &arrow::array::RecordBatch,
) -> Result<u64> {
    let mut w = crate::storage::publish::PartitionWriter::new(&engine.wh, &engine.manifests, layer, table, dt, run_id, rows.schema(), 1_000_000)
        .slice(owner, keep_legacy);
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
