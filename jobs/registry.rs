//! The jobs of the nightly pipeline, in dependency order. A new job is one file plus one
//! line in `jobs()`.

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::config::Config;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use crate::engine::{Engine, Params};
use crate::error::Result;
use crate::storage::publish::PartitionWriter;
use crate::storage::report::TableStats;

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
    pub done: std::sync::Mutex<Vec<crate::storage::report::JobReport>>,
    /// `--full-refresh`: incremental tables are recomputed from all history, not carried over
    /// (see [`Self::carry_over_from`]; customer_order_totals too).
    pub full_refresh: bool,
}

impl RunContext<'_> {
    pub fn dt(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }

    pub fn writer(&self, layer: &str, table: &str, schema: SchemaRef) -> PartitionWriter {
        let e = self.engine;
        PartitionWriter::new(&e.wh, &e.manifests, layer, table, &self.dt(), self.run_id, schema, self.cfg.jobs.staging.rows_per_file)
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
        let published = self.writer(layer, table, schema).built_with(built_with).write_stream(stream).await?;
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
        let mut w = self.writer(layer, table, schema).built_with(built_with);
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
    /// and folder (delete it with `staging::cleanup`).
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

    /// The newest published partition of `<layer>.<table>` before the run date (the jobs that
    /// carry state forward start from it).
    pub fn previous_partition(&self, layer: &str, table: &str) -> Result<Option<NaiveDate>> {
        let dt = self.dt();
        let Some(key) = self.engine.manifests.get(layer, table).and_then(|m| m.partitions.keys().filter(|k| k.as_str() < dt.as_str()).next_back().cloned())
        else {
            return Ok(None);
        };
        NaiveDate::parse_from_str(&key, "%Y-%m-%d")
            .map(Some)
            .map_err(|e| crate::error::Error::job(layer, format!("{layer}.{table} has a bad partition dt={key}: {e}")))
    }

    /// The previous partition of an incrementally built table when tonight may carry its rows
    /// over: it exists, was built with the same `fingerprint` (SQL and settings), can be read
    /// whole, and this is not a `--full-refresh` run. Otherwise None: recompute from all history.
    pub async fn carry_over_from(&self, layer: &str, table: &str, fingerprint: &str) -> Result<Option<NaiveDate>> {
        if self.full_refresh {
            return Ok(None);
        }
        let Some((prev, entry)) = self.previous_entry(layer, table)? else { return Ok(None) };
        // The manifest first: a partition built differently is not worth counting.
        if entry.built_with.as_deref() != Some(fingerprint) {
            tracing::info!(table = %format!("{layer}.{table}"), previous = %prev, "previous partition was built differently: full recompute");
            return Ok(None);
        }
        Ok(self.readable(layer, table, prev, entry.rows).await?.then_some(prev))
    }

    /// [`Self::previous_partition`], when all the rows its manifest entry lists can be read
    /// (else None, to recompute from all history).
    /// The model a job trained on an earlier night, when tonight may score with it instead of
    /// training again: `marts.<table>` (a model table with a `trained_on` column) has a
    /// previous partition as [`Self::carry_over_from`] accepts it, trained fewer than
    /// `every_days` days before the run date. Returns (that partition's dt, trained_on).
    pub async fn reusable_model(&self, table: &str, every_days: u32, fingerprint: &str) -> Result<Option<(NaiveDate, NaiveDate)>> {
        use arrow::array::Array;
        if every_days <= 1 {
            return Ok(None);
        }
        let Some(prev) = self.carry_over_from("marts", table, fingerprint).await? else { return Ok(None) };
        // The newest partition defines the table's columns: one written before models had a
        // training date (a backfill after an upgrade) hides it.
        if self.engine.missing_column("marts", table, &["trained_on"]).await?.is_some() {
            tracing::info!(table = %format!("marts.{table}"), "its newest partition has no trained_on column (written by an older version): training");
            return Ok(None);
        }
        let p = crate::engine::params([("dt", crate::engine::date_param(prev))]);
        let batches = self.engine.query(&format!("SELECT max(trained_on) FROM marts.{table} WHERE dt = $dt"), &p).await?.collect().await?;
        let trained = batches
            .first()
            .filter(|b| b.num_rows() == 1)
            .and_then(|b| b.column(0).as_any().downcast_ref::<arrow::array::Date32Array>().filter(|a| !a.is_null(0)).and_then(|a| a.value_as_date(0)));
        let Some(trained) = trained else {
            tracing::info!(table = %format!("marts.{table}"), previous = %prev, "no model in the previous partition: training");
            return Ok(None);
        };
        let age = (self.date - trained).num_days();
        if age <= 0 || age >= every_days as i64 {
            tracing::info!(table = %format!("marts.{table}"), trained_on = %trained, age, every_days, "model due for training");
            return Ok(None);
        }
        tracing::info!(table = %format!("marts.{table}"), trained_on = %trained, age, "scoring with the stored model");
        Ok(Some((prev, trained)))
    }

    /// Republish partition `from` of `marts.<table>` as tonight's (a reused model's tables).
    pub async fn copy_partition(&self, table: &str, from: NaiveDate, fingerprint: &str) -> Result<u64> {
        let p = crate::engine::params([("dt", crate::engine::date_param(from))]);
        let sql = format!("SELECT * EXCLUDE (dt) FROM marts.{table} WHERE dt = $dt");
        self.publish_query_built_with("marts", table, &sql, &p, Some(fingerprint.to_string())).await
    }

    pub async fn previous_readable_partition(&self, layer: &str, table: &str) -> Result<Option<NaiveDate>> {
        let Some((prev, entry)) = self.previous_entry(layer, table)? else { return Ok(None) };
        Ok(self.readable(layer, table, prev, entry.rows).await?.then_some(prev))
    }

    fn previous_entry(&self, layer: &str, table: &str) -> Result<Option<(NaiveDate, crate::storage::manifest::PartitionEntry)>> {
        let Some(prev) = self.previous_partition(layer, table)? else { return Ok(None) };
        let key = prev.format("%Y-%m-%d").to_string();
        Ok(self.engine.manifests.get(layer, table).and_then(|m| m.partitions.get(&key).cloned()).map(|e| (prev, e)))
    }

    /// Whether partition `dt` yields the `listed` rows of its manifest entry: carrying a
    /// partition over with a file lost would silently drop its rows. Warns when not.
    async fn readable(&self, layer: &str, table: &str, dt: NaiveDate, listed: u64) -> Result<bool> {
        use arrow::array::Array;
        let p = crate::engine::params([("dt", crate::engine::date_param(dt))]);
        let batches = self.engine.query(&format!("SELECT count(*) FROM {layer}.{table} WHERE dt = $dt"), &p).await?.collect().await?;
        let read = batches
            .first()
            .filter(|b| b.num_rows() == 1)
            .and_then(|b| b.column(0).as_any().downcast_ref::<arrow::array::Int64Array>().map(|a| a.value(0)))
            .unwrap_or(-1);
        if read != listed as i64 {
            tracing::warn!(table = %format!("{layer}.{table}"), previous = %dt, listed, read,
                "the previous partition cannot be read whole (a file is missing or damaged): recomputing from all history");
        }
        Ok(read == listed as i64)
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
    /// The tables the job publishes, as `<layer>/<table>`: by default the marts whose contract
    /// (`schemas/marts/*.toml`) names it in `built_by`. Each table has one writing job.
    fn outputs(&self) -> Result<Vec<String>> {
        crate::schemas::marts_built_by(self.name())
    }
    /// Build and publish the job's partitions for `rc.date`; return counts per table.
    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>>;
}

/// Every job, in an order that respects `depends_on`.
pub fn jobs() -> Vec<Box<dyn Job>> {
    vec![
        Box::new(crate::staging::Staging),
        Box::new(crate::daily_aggregates::DailyAggregates),
        Box::new(crate::user_profiles::UserProfiles),
        Box::new(crate::rfm_segments::RfmSegments),
        Box::new(crate::association_rules::AssociationRules),
        Box::new(crate::sales_forecast::SalesForecast),
        Box::new(crate::recommendations::Recommendations),
        Box::new(crate::churn_scores::ChurnScores),
        Box::new(crate::clv::Clv),
        Box::new(crate::audiences::Audiences),
        Box::new(crate::report::Report),
    ]
}

/// Every destination kind of `[destinations.*]`: one file in `jobs/export/` and one line here.
pub fn destination_kinds() -> Vec<(&'static str, crate::export::BuildFn)> {
    vec![
        ("mailchimp", crate::export::mailchimp::build),
        ("klaviyo", crate::export::klaviyo::build),
        ("sendgrid", crate::export::sendgrid::build),
        ("file", crate::export::file::build),
        ("webhook", crate::export::webhook::build),
    ]
}

pub fn job_names() -> Vec<&'static str> {
    jobs().iter().map(|j| j.name()).collect()
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

    #[test]
    fn dependencies_come_first() {
        let names = job_names();
        for (i, j) in jobs().iter().enumerate() {
            for d in j.depends_on() {
                let pos = names.iter().position(|n| n == d).expect("dependency is a job");
                assert!(pos < i, "{} depends on later job {d}", j.name());
            }
        }
    }
}

/// How the SQL of an incremental table names the customers it recomputes tonight.
pub const SCOPE_FILTER: &str = "customer_id IN (SELECT customer_id FROM landing.scope)";

/// An incremental table's SQL file: filtered to `landing.scope` when carrying rows over; on a
/// full recompute (scope = everyone) without the filter, the same rows without a semi-join over
/// every customer (at 1M customers its output made DataFusion 55 account the shared buffers of
/// string views once per batch, and the sorts after it ran out of memory).
pub fn scoped_sql(file: &str, carry: bool) -> Result<String> {
    let sql = crate::sqlfiles::sql("marts", file)?;
    Ok(if carry { sql } else { sql.replace(SCOPE_FILTER, "true") })
}

/// A short stable digest of what an incremental table is computed with: its SQL files
/// (`sql/marts/<name>.sql`) and settings.
pub fn fingerprint(sql_files: &[&str], settings: &[String]) -> Result<String> {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    let sql = sql_files.iter().map(|f| crate::sqlfiles::sql("marts", f)).collect::<Result<Vec<_>>>()?;
    for part in sql.iter().chain(settings) {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
