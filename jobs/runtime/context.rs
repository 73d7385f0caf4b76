//! What a job is and what it gets to run one date: publishing (streamed, atomic), scratch
//! tables, progress. Jobs use this module; it never uses a job.

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::config::Config;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use crate::engine::{Engine, Params};
use crate::error::Result;
use crate::runtime::run_report::TableStats;
use crate::storage::publish::PartitionWriter;

/// A folder for one scratch table, never used twice: jobs write scratch of the same name
/// (`scope`, `current_orders_day`) with other rows in one run, and a cluster executor's Parquet
/// metadata cache, keyed by path and checked only by size and modification second, then read a
/// new file with the old file's footer ("ColumnIndex min/max length mismatch" on S3).
pub fn scratch_dir(run_id: &str, name: &str) -> String {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("_tmp/{run_id}/landing/{name}-{n}")
}

/// What a job gets to run one date.
pub struct RunContext<'a> {
    pub engine: &'a Engine,
    pub cfg: &'a Config,
    pub date: NaiveDate,
    pub run_id: &'a str,
    pub progress: &'a indicatif::ProgressBar,
    /// Jobs of this run that have finished (the report job shows them).
    pub done: std::sync::Mutex<Vec<crate::runtime::run_report::JobReport>>,
    /// `--full-refresh`: incremental tables are recomputed from all history, not carried over
    /// (see [`Self::carry_over_from`]; customer_order_totals too).
    pub full_refresh: bool,
    /// The tables the running job publishes (`<layer>.<table>`, see [`Job::outputs`]); a publish
    /// of any other table is refused, so each table has one writing job. None: not checked.
    pub outputs: std::sync::Mutex<Option<(&'static str, Vec<String>)>>,
}

impl RunContext<'_> {
    pub fn dt(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }

    pub fn writer(&self, layer: &str, table: &str, schema: SchemaRef) -> Result<PartitionWriter> {
        self.check_owned(layer, table)?;
        let e = self.engine;
        Ok(PartitionWriter::new(&e.wh, &e.manifests, layer, table, &self.dt(), self.run_id, schema, self.cfg.jobs.staging.rows_per_file))
    }

    /// Refuse a publish of a table the running job does not declare among its outputs.
    pub fn check_owned(&self, layer: &str, table: &str) -> Result<()> {
        let Ok(owned) = self.outputs.lock() else { return Ok(()) };
        match owned.as_ref() {
            Some((job, outputs)) if !outputs.iter().any(|t| *t == format!("{layer}.{table}")) => Err(crate::error::Error::job(
                *job,
                format!("{layer}.{table} is not among the tables {job} publishes: its contract (schemas/{layer}/{table}.toml) names the job in built_by"),
            )),
            _ => Ok(()),
        }
    }

    /// Run a query and publish its result, streamed, as partition dt=D of `<layer>.<table>`.
    pub async fn publish_query(&self, layer: &str, table: &str, sql: &str, p: &Params) -> Result<u64> {
        self.publish_query_built_with(layer, table, sql, p, None).await
    }

    /// [`Self::publish_query`] for an incremental table, recording what it was built with
    /// (see [`Self::carry_over_from`]).
    pub async fn publish_query_built_with(&self, layer: &str, table: &str, sql: &str, p: &Params, built_with: Option<String>) -> Result<u64> {
        let df = self.engine.query(sql, p).await?;
        if std::env::var_os("ECOMWH_EXPLAIN").is_some() {
            let plan = df.clone().create_physical_plan().await?;
            let text = datafusion::physical_plan::displayable(plan.as_ref()).indent(true).to_string();
            tracing::info!(table = %format!("{layer}.{table}"), "physical plan:\n{text}");
        }
        let schema = df.schema().inner().clone();
        let stream = df.execute_stream().await?;
        let published = self.writer(layer, table, schema)?.built_with(built_with).write_stream(stream).await?;
        self.engine.register(layer, table).await?;
        Ok(published.rows)
    }

    /// Publish batches computed in Rust as partition dt=D of `<layer>.<table>`.
    pub async fn publish_batches(&self, layer: &str, table: &str, schema: SchemaRef, batches: &[RecordBatch]) -> Result<u64> {
        self.publish_batches_built_with(layer, table, schema, batches, None).await
    }

    /// [`Self::publish_batches`] for an incremental table (see [`Self::carry_over_from`]).
    pub async fn publish_batches_built_with(
        &self,
        layer: &str,
        table: &str,
        schema: SchemaRef,
        batches: &[RecordBatch],
        built_with: Option<String>,
    ) -> Result<u64> {
        let mut w = self.writer(layer, table, schema)?.built_with(built_with);
        for b in batches {
            if let Err(e) = w.write(b).await {
                w.abort().await;
                return Err(e);
            }
        }
        let published = w.commit().await?;
        self.engine.register(layer, table).await?;
        Ok(published.rows)
    }

    /// Run a query into scratch Parquet under `_tmp/<run>/landing/<name>-<n>` and register it as
    /// `landing.<name>`, so several SQL files can read one intermediate result. Returns its rows
    /// and folder (delete it with `Warehouse::remove_dir`).
    pub async fn scratch_query(&self, name: &str, sql: &str, p: &Params) -> Result<(u64, String)> {
        let df = self.engine.query(sql, p).await?;
        let schema = df.schema().inner().clone();
        let stream = df.execute_stream().await?;
        self.scratch(name, schema, stream).await
    }

    /// Batches computed in Rust as `landing.<name>` (scratch Parquet in the warehouse, so that
    /// a cluster's executors read them too), like [`Self::scratch_query`].
    pub async fn scratch_batches(&self, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<(u64, String)> {
        let stream = futures::stream::iter(batches.into_iter().map(Ok::<_, datafusion::error::DataFusionError>));
        self.scratch(name, schema, stream).await
    }

    async fn scratch<S>(&self, name: &str, schema: SchemaRef, mut stream: S) -> Result<(u64, String)>
    where
        S: futures::Stream<Item = std::result::Result<RecordBatch, datafusion::error::DataFusionError>> + Unpin,
    {
        let e = self.engine;
        let dir = scratch_dir(self.run_id, name);
        let scratch = crate::storage::warehouse::Warehouse { local_dir: None, ..e.wh.clone() };
        let mut w = PartitionWriter::new(&scratch, &Default::default(), "_", "_", "_", self.run_id, schema, usize::MAX);
        w.set_dir(&dir);
        while let Some(batch) = futures::StreamExt::next(&mut stream).await {
            w.write(&batch?).await?;
        }
        let rows = w.finish_scratch().await?;
        e.register_landing(name, &dir).await?;
        Ok((rows, dir))
    }

    /// Fail with a clear message when a table this job reads has never been published.
    pub fn require(&self, job: &str, tables: &[(&str, &str)], hint: &str) -> Result<()> {
        for (layer, table) in tables {
            if !self.engine.has_table(layer, table) {
                return Err(crate::error::Error::MissingDependency {
                    table: format!("{layer}.{table}"),
                    date: self.dt(),
                    hint: format!("{job} reads it: {hint}"),
                });
            }
        }
        Ok(())
    }

    /// Show the step on the progress line and log it (the log's timestamps time the steps).
    pub fn progress(&self, msg: &str) {
        tracing::info!(step = msg, "step");
        self.progress.set_message(msg.to_string());
    }
}

#[async_trait]
pub trait Job: Send + Sync {
    /// The job's name: also its CLI name, Airflow task id and (usually) its table.
    fn name(&self) -> &'static str;
    /// Jobs whose published tables this one reads.
    fn depends_on(&self) -> &'static [&'static str];
    /// The tables the job publishes, as `<layer>.<table>`: by default the marts whose contract
    /// (`schemas/marts/*.toml`) names it in `built_by`. Each table has one writing job.
    fn outputs(&self) -> Result<Vec<String>> {
        crate::schemas::marts_built_by(self.name())
    }
    /// The job's settings as a run uses them (its `[jobs.<name>]` section with defaults filled
    /// in; null without one): `ecomwh jobs --json` lists them, and a section no job declares is
    /// refused when the config is read.
    fn settings(&self, _cfg: &Config) -> Result<serde_json::Value> {
        Ok(serde_json::Value::Null)
    }
    /// Build and publish the job's partitions for `rc.date`; return counts per table.
    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>>;
}

/// A job's settings section as JSON (for [`Job::settings`]).
pub fn settings_json<T: serde::Serialize>(job: &str, section: &T) -> Result<serde_json::Value> {
    serde_json::to_value(section).map_err(|source| crate::error::Error::Json { what: format!("[jobs.{job}]"), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_folders_are_never_reused_in_a_run() {
        let (a, b) = (scratch_dir("r1", "scope"), scratch_dir("r1", "scope"));
        assert_ne!(a, b);
        assert!(a.starts_with("_tmp/r1/landing/scope-") && b.starts_with("_tmp/r1/landing/scope-"), "{a} {b}");
    }

    /// A job publishes only the tables it declares: another job's table is refused, before
    /// anything is written.
    #[tokio::test]
    async fn a_job_publishes_only_its_own_tables() {
        let cfg = Config::default();
        let wh = crate::storage::warehouse::Warehouse::open("memory://", &cfg.storage).unwrap();
        let engine = Engine::open(&cfg, wh).await.unwrap();
        let pb = indicatif::ProgressBar::hidden();
        let rc = RunContext {
            engine: &engine,
            cfg: &cfg,
            date: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            run_id: "r1",
            progress: &pb,
            done: Default::default(),
            full_refresh: false,
            outputs: std::sync::Mutex::new(Some(("clv", vec!["marts.clv".into()]))),
        };
        let p = crate::engine::params([]);
        assert_eq!(rc.publish_query("marts", "clv", "SELECT 1 AS x", &p).await.unwrap(), 1);
        let e = rc.publish_query("marts", "churn_scores", "SELECT 1 AS x", &p).await.unwrap_err().to_string();
        assert!(e.contains("marts.churn_scores") && e.contains("built_by"), "{e}");
        assert!(!engine.has_table("marts", "churn_scores"));
    }
}
