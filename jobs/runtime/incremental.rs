//! Incrementally built tables: the previous partition they carry rows over from, when that is
//! allowed (same fingerprint of SQL and settings, readable whole, not a full refresh), and
//! stored models a night may score with instead of training again.

use chrono::NaiveDate;

use super::context::RunContext;
use crate::error::Result;

impl RunContext<'_> {
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
}

/// How the SQL of an incremental table names the customers it recomputes tonight.
pub const SCOPE_FILTER: &str = "customer_id IN (SELECT customer_id FROM landing.scope)";

/// An incremental table's SQL file: filtered to `landing.scope` when carrying rows over; on a
/// full recompute (scope = everyone) without the filter, the same rows without a semi-join over
/// every customer (at 1M customers its output made DataFusion 55 account the shared buffers of
/// string views once per batch, and the sorts after it ran out of memory).
pub fn scoped_sql(file: &str, carry: bool) -> Result<String> {
    let sql = crate::sqlfiles::sql("marts", file)?;
    crate::sqlfiles::render(file, &sql, &[("scope", crate::sqlfiles::Fill::Text(if carry { SCOPE_FILTER } else { "true" }))])
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
