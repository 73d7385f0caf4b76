//! Incrementally built tables, one mechanism for all of them: [`Incremental`] decides whether
//! tonight carries rows over from the previous partition (same fingerprint of SQL and settings,
//! readable whole, not a full refresh), fills the table's SQL templates (`{{scope}}`,
//! `{{#carry}}`, `{{#full}}`), materialises the keys to recompute (`landing.scope`) and
//! publishes with the fingerprint. Also: stored models a night may score with instead of
//! training again.

use chrono::NaiveDate;

use super::context::RunContext;
use crate::engine::Params;
use crate::error::Result;
use crate::sqlfiles::{self, Fill};

/// One incremental table of tonight's run (see the module).
#[derive(Debug, Clone)]
pub struct Incremental {
    layer: &'static str,
    table: &'static str,
    fingerprint: String,
    prev: Option<NaiveDate>,
}

impl Incremental {
    /// The previous partition rows carry over from; None: every key is recomputed.
    pub fn prev(&self) -> Option<NaiveDate> {
        self.prev
    }

    pub fn carry(&self) -> bool {
        self.prev.is_some()
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Recompute every key tonight although the previous partition could be carried over (a
    /// job's own reason: a new year moves age bands, a model trained tonight).
    pub fn recompute_all(&mut self, why: &str) {
        if let Some(prev) = self.prev.take() {
            tracing::info!(table = %format!("{}.{}", self.layer, self.table), previous = %prev, why, "full recompute");
        }
    }

    /// `sql/marts/<file>.sql` filled for tonight: `{{scope}}` is the filter to the keys in
    /// `landing.scope` when carrying over (else `true`: everyone, without a semi-join over
    /// every customer: at 1M customers its output made DataFusion 55 account the shared buffers
    /// of string views once per batch, and the sorts after it ran out of memory); `{{#carry}}`
    /// sections are kept when carrying over, `{{#full}}` sections otherwise. A file with none
    /// of them is an error: it would compute the same rows carrying over or not (an edit that
    /// lost the carry section would publish only the recomputed keys).
    pub fn sql(&self, file: &str) -> Result<String> {
        let fills = [
            ("scope", Fill::Text(if self.carry() { SCOPE_FILTER } else { "true" })),
            ("carry", Fill::Section(self.carry())),
            ("full", Fill::Section(!self.carry())),
        ];
        match sqlfiles::render_any(file, &sqlfiles::sql("marts", file)?, &fills)? {
            (sql, true) => Ok(sql),
            (_, false) => Err(crate::error::Error::Config(format!("SQL template {file}: has none of {{{{scope}}}}, {{{{#carry}}}}, {{{{#full}}}}"))),
        }
    }

    /// When carrying over: the keys to recompute, from `sql/marts/<file>.sql`, as
    /// `landing.scope`; returns how many and the scratch folder (for the caller to remove).
    pub async fn scope(&self, rc: &RunContext<'_>, file: &str, p: &Params) -> Result<Option<(u64, String)>> {
        if !self.carry() {
            return Ok(None);
        }
        rc.progress(&format!("{}: scope", self.table));
        let (n, dir) = rc.scratch_query("scope", &sqlfiles::sql("marts", file)?, p).await?;
        tracing::info!(table = %format!("{}.{}", self.layer, self.table), previous = ?self.prev, keys = n, "keys to recompute; the others carry over");
        Ok(Some((n, dir)))
    }

    /// Publish tonight's partition from a query, recording the fingerprint.
    pub async fn publish_query(&self, rc: &RunContext<'_>, sql: &str, p: &Params) -> Result<u64> {
        rc.publish_query_built_with(self.layer, self.table, sql, p, Some(self.fingerprint.clone())).await
    }

    /// Publish tonight's partition from batches, recording the fingerprint.
    pub async fn publish_batches(&self, rc: &RunContext<'_>, schema: arrow::datatypes::SchemaRef, batches: &[arrow::array::RecordBatch]) -> Result<u64> {
        rc.publish_batches_built_with(self.layer, self.table, schema, batches, Some(self.fingerprint.clone())).await
    }

    /// A writer of tonight's partition that records the fingerprint (rows computed in Rust).
    pub fn writer(&self, rc: &RunContext<'_>, schema: arrow::datatypes::SchemaRef) -> Result<crate::storage::publish::PartitionWriter> {
        Ok(rc.writer(self.layer, self.table, schema)?.built_with(Some(self.fingerprint.clone())))
    }
}

impl RunContext<'_> {
    /// `<layer>.<table>` as an incremental table tonight: computed with `sql_files`
    /// (`sql/marts/<file>.sql`, includes expanded) and `settings`, which make its fingerprint;
    /// carried over from the previous partition when [`Self::carry_over_from`] allows it.
    pub async fn incremental(&self, layer: &'static str, table: &'static str, sql_files: &[&str], settings: &[String]) -> Result<Incremental> {
        let fingerprint = fingerprint(sql_files, settings)?;
        let prev = self.carry_over_from(layer, table, &fingerprint).await?;
        Ok(Incremental { layer, table, fingerprint, prev })
    }

    /// The newest published partition of `<layer>.<table>` before the run date (the jobs that
    /// carry state forward start from it).
    pub fn previous_partition(&self, layer: &str, table: &str) -> Result<Option<NaiveDate>> {
        let dt = self.dt();
        let Some(key) = self.engine.manifests.get(layer, table).and_then(|m| m.partitions.keys().rfind(|k| k.as_str() < dt.as_str()).cloned()) else {
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
        let p = crate::engine::params([("dt", crate::engine::date_param(dt))]);
        let read = self.engine.count(&format!("SELECT count(*) FROM {layer}.{table} WHERE dt = $dt"), &p).await?.unwrap_or(-1);
        if read != listed as i64 {
            tracing::warn!(table = %format!("{layer}.{table}"), previous = %dt, listed, read,
                "the previous partition cannot be read whole (a file is missing or damaged): recomputing from all history");
        }
        Ok(read == listed as i64)
    }
}

/// How the SQL of an incremental table names the customers it recomputes tonight.
pub const SCOPE_FILTER: &str = "customer_id IN (SELECT customer_id FROM landing.scope)";

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
