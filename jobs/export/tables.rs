//! `marts.export_runs` (one row per sync) and `marts.export_failures` (one row per contact a
//! sync could not deliver), partitioned by the export date. Each export appends its rows: the
//! date's partition is rewritten whole with the earlier rows plus the new ones.

use std::sync::Arc;

use crate::engine::{publish_slice, Engine};
use crate::error::Result;
use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// One sync: a row of export_runs.
#[derive(Debug, Clone, Default)]
pub struct SyncReport {
    pub sync_id: String,
    pub audience: String,
    pub destination: String,
    pub kind: String,
    pub mode: String,
    /// ok; partial (every contact confirmed but those refused for good: a rerun cannot help);
    /// failed (some contacts not confirmed for a reason a rerun may fix); refused (mirror cap);
    /// dry_run
    pub status: String,
    pub message: Option<String>,
    pub started_at: String,
    pub seconds: f64,
    pub members: u64,
    pub holdout: u64,
    pub adds: u64,
    pub updates: u64,
    pub removes: u64,
    pub unchanged: u64,
    pub confirmed: u64,
    pub failed: u64,
    pub failed_permanent: u64,
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    /// Journal entries of an interrupted earlier sync picked up at the start.
    pub resumed: u64,
}

/// A contact a sync could not deliver: a row of export_failures.
#[derive(Debug, Clone)]
pub struct FailureRow {
    pub sync_id: String,
    pub audience: String,
    pub destination: String,
    pub customer_id: String,
    pub operation: String,
    pub code: String,
    pub message: String,
    pub permanent: bool,
}

fn runs_schema() -> SchemaRef {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let u = |n: &str| Field::new(n, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        s("sync_id"),
        s("audience"),
        s("destination"),
        s("kind"),
        s("mode"),
        s("status"),
        s("message"),
        s("started_at"),
        Field::new("seconds", DataType::Float64, false),
        u("members"),
        u("holdout"),
        u("adds"),
        u("updates"),
        u("removes"),
        u("unchanged"),
        u("confirmed"),
        u("failed"),
        u("failed_permanent"),
        u("requests"),
        u("retries"),
        u("throttled"),
        u("resumed"),
    ]))
}

fn failures_schema() -> SchemaRef {
    let s = |n: &str| Field::new(n, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        s("sync_id"),
        s("audience"),
        s("destination"),
        s("customer_id"),
        s("operation"),
        s("code"),
        s("message"),
        Field::new("permanent", DataType::Boolean, false),
    ]))
}

fn runs_batch(rows: &[SyncReport]) -> Result<RecordBatch> {
    let s = |f: fn(&SyncReport) -> Option<&str>| -> ArrayRef { Arc::new(rows.iter().map(f).collect::<StringArray>()) };
    let u = |f: fn(&SyncReport) -> i64| -> ArrayRef { Arc::new(rows.iter().map(f).collect::<Int64Array>()) };
    Ok(RecordBatch::try_new(
        runs_schema(),
        vec![
            s(|r| Some(&r.sync_id)),
            s(|r| Some(&r.audience)),
            s(|r| Some(&r.destination)),
            s(|r| Some(&r.kind)),
            s(|r| Some(&r.mode)),
            s(|r| Some(&r.status)),
            s(|r| r.message.as_deref()),
            s(|r| Some(&r.started_at)),
            Arc::new(rows.iter().map(|r| r.seconds).collect::<Float64Array>()),
            u(|r| r.members as i64),
            u(|r| r.holdout as i64),
            u(|r| r.adds as i64),
            u(|r| r.updates as i64),
            u(|r| r.removes as i64),
            u(|r| r.unchanged as i64),
            u(|r| r.confirmed as i64),
            u(|r| r.failed as i64),
            u(|r| r.failed_permanent as i64),
            u(|r| r.requests as i64),
            u(|r| r.retries as i64),
            u(|r| r.throttled as i64),
            u(|r| r.resumed as i64),
        ],
    )?)
}

fn failures_batch(rows: &[FailureRow]) -> Result<RecordBatch> {
    let s = |f: fn(&FailureRow) -> &str| -> ArrayRef { Arc::new(rows.iter().map(|r| Some(f(r))).collect::<StringArray>()) };
    Ok(RecordBatch::try_new(
        failures_schema(),
        vec![
            s(|r| &r.sync_id),
            s(|r| &r.audience),
            s(|r| &r.destination),
            s(|r| &r.customer_id),
            s(|r| &r.operation),
            s(|r| &r.code),
            s(|r| &r.message),
            Arc::new(rows.iter().map(|r| Some(r.permanent)).collect::<BooleanArray>()),
        ],
    )?)
}

pub async fn append(engine: &Engine, dt: &str, runs: &[SyncReport], failures: &[FailureRow]) -> Result<()> {
    let run_id = crate::storage::publish::new_run_id();
    let result = async {
        // Each sync adds its own slice: syncs of one day (several destinations, run at once
        // by the DAG) never rewrite each other's rows.
        let owner = format!("sync-{run_id}");
        publish_slice(engine, &run_id, "marts", "export_runs", dt, &owner, true, &runs_batch(runs)?).await?;
        publish_slice(engine, &run_id, "marts", "export_failures", dt, &owner, true, &failures_batch(failures)?).await?;
        Ok(())
    }
    .await;
    engine.wh.remove_dir(&format!("_tmp/{run_id}")).await;
    result
}
