//! The one place that builds DataFusion sessions: config, memory pool, object stores,
//! the warehouse tables as SQL schemas, and running the SQL files of `sql/`.

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
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext, SQLOptions};
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
}

impl Engine {
    pub async fn open(cfg: &Config, wh: Warehouse) -> Result<Engine> {
        let manifests = Manifests::load(&wh).await?;
        let mut config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("datafusion", "public");
        if let Some(n) = cfg.target_partitions {
            config = config.with_target_partitions(n.max(1));
        }
        // Runs are batch jobs: parquet reads may push filters down.
        config.options_mut().execution.parquet.pushdown_filters = false;
        // Strings as plain Utf8, not views: sorts and joins account a view array by the whole
        // buffers it points into, so wide results of joins looked many GB large and spilled
        // over and over (apache/datafusion#12136): a 1M-customer profile build took minutes.
        config.options_mut().execution.parquet.schema_force_view_types = false;

        let pool_bytes = match cfg.memory_limit_bytes()? {
            Some(b) => b,
            None => default_memory_limit(),
        };
        // Listings must be fresh: a run commits partitions that its next job reads.
        let mut caches = CacheManagerConfig::default();
        caches.list_files_cache_limit = 0;
        caches.list_files_cache = None;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(pool_bytes)))
            .with_cache_manager(caches)
            .build_arc()?;
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        ctx.register_udf(udf::ShopDate::udf(cfg.tz()?));
        ctx.register_udf(udf::ShopHour::udf(cfg.tz()?));
        ctx.register_udf(udf::AudienceBucket::udf());

        let read_store: Arc<dyn ObjectStore> = if wh.is_local() {
            wh.store.clone()
        } else {
            Arc::new(visible::CommittedView::new(wh.store.clone(), wh.root.as_ref(), manifests.clone()))
        };
        ctx.register_object_store(&wh.store_url, read_store);

        let catalog = ctx
            .catalog("datafusion")
            .ok_or_else(|| Error::Config("default catalog missing".into()))?;
        for layer in LAYERS.iter().chain([&LANDING]) {
            catalog.register_schema(layer, Arc::new(MemorySchemaProvider::new()))?;
        }
        let engine = Engine { ctx, wh, manifests };
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
        self.ctx
            .catalog("datafusion")
            .and_then(|c| c.schema(name))
            .ok_or_else(|| Error::Config(format!("schema {name} missing")))
    }

    /// (Re)register `<layer>.<table>` over its folder, partitioned by `dt` (a DATE).
    pub async fn register(&self, layer: &str, table: &str) -> Result<()> {
        let Some(m) = self.manifests.get(layer, table) else { return Ok(()) };
        let Some(latest) = m.partitions.keys().next_back() else { return Ok(()) };
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![("dt".to_string(), DataType::Date32)]);
        // The newest partition defines the schema; older files are adapted to it.
        let part_url = ListingTableUrl::parse(self.wh.table_url(&format!("{layer}/{table}/dt={latest}")))?;
        let file_schema = options.infer_schema(&self.ctx.state(), &part_url).await?;
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

    /// Register a folder of Parquet files (no partitions) as `landing.<name>`.
    pub async fn register_landing(&self, name: &str, rel_dir: &str) -> Result<()> {
        let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let url = ListingTableUrl::parse(self.wh.table_url(rel_dir))?;
        let schema = options.infer_schema(&self.ctx.state(), &url).await?;
        let config = ListingTableConfig::new(url).with_listing_options(options).with_schema(schema);
        let s = self.schema(LANDING)?;
        s.deregister_table(name)?;
        s.register_table(name.to_string(), Arc::new(ListingTable::try_new(config)?))?;
        Ok(())
    }

    pub fn has_table(&self, layer: &str, table: &str) -> bool {
        self.schema(layer).map(|s| s.table_exist(table)).unwrap_or(false)
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
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    ScalarValue::Date32(Some((d - epoch).num_days() as i32))
}

/// Half of physical memory (from /proc/meminfo), else 4 GiB.
fn default_memory_limit() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<usize>().ok())
    });
    total_kib.map(|k| k * 1024 / 2).unwrap_or(4 << 30)
}

/// Rewrite partition dt of `<layer>.<table>` with the rows it has that `keep` (a predicate over
/// its columns) selects, plus `new`: for tables that several jobs or runs add rows to (export
/// runs, model metrics). The partition is replaced whole, atomically.
/// Scratch files go under `_tmp/<run_id>/`, which the caller's run removes at its end.
pub async fn merge_partition(engine: &Engine, run_id: &str, layer: &str, table: &str, dt: &str, keep: &str, new: &arrow::array::RecordBatch) -> Result<()> {
    use futures::StreamExt;
    let schema = new.schema();
    let mut w = crate::storage::publish::PartitionWriter::new(&engine.wh, &engine.manifests, layer, table, dt, run_id, schema.clone(), 1_000_000);
    let has_partition = engine.manifests.get(layer, table).is_some_and(|m| m.partitions.contains_key(dt));
    let result: Result<()> = async {
        if has_partition {
            let date = chrono::NaiveDate::parse_from_str(dt, "%Y-%m-%d").map_err(|e| Error::Usage(e.to_string()))?;
            let cols: Vec<String> = schema.fields().iter().map(|f| format!("\"{}\"", f.name())).collect();
            let sql = format!("SELECT {} FROM {layer}.{table} WHERE dt = $run_date AND ({keep})", cols.join(", "));
            let mut stream = engine.query(&sql, &params([("run_date", date_param(date))])).await?.execute_stream().await?;
            while let Some(b) = stream.next().await {
                let b = b?;
                let cols = (0..schema.fields().len())
                    .map(|i| arrow::compute::cast(b.column(i), schema.field(i).data_type()))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                w.write(&arrow::array::RecordBatch::try_new(schema.clone(), cols)?).await?;
            }
        }
        w.write(new).await
    }
    .await;
    if let Err(e) = result {
        w.abort().await;
        return Err(e);
    }
    w.commit().await?;
    engine.register(layer, table).await
}
