//! Every published table is a Delta Lake table at `<layer>/<table>/`, partitioned by `dt`.
//!
//! A publish writes its Parquet files into `dt=D/` under names that carry the run id, then
//! commits one Delta version that adds them and removes what they replace (the whole
//! partition, or one owner's slice of it). Delta's commit is a put-if-absent of the next log
//! entry, so two writers never both win: commits to other dates are rebased by delta-rs, a
//! second writer of the same date fails with [`Error::CommitConflict`]. What ecomwh needs
//! beside the rows (the run id, what an incremental partition was built with, the owner of a
//! slice) travels in each file's `tags`, so the log stays the only source of truth.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::{DateTime, Utc};
use deltalake_core::kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties, TransactionError};
use deltalake_core::kernel::{Action, Add, MetadataExt as _, StructType};
use deltalake_core::logstore::{default_logstore, LogStoreRef, StorageConfig};
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::table::state::DeltaTableState;
use deltalake_core::{DeltaTable, DeltaTableError, TableProperty};
use object_store::prefix::PrefixStore;

use super::snapshot::{PartitionEntry, Slice, TableManifest};
use super::warehouse::Warehouse;
use crate::error::{Error, Result};

const TAG_RUN: &str = "ecomwh.run_id";
const TAG_OWNER: &str = "ecomwh.owner";
const TAG_BUILT_WITH: &str = "ecomwh.built_with";
/// A checkpoint every this many commits keeps a table's log quick to read.
const CHECKPOINT_EVERY: u64 = 10;
const CHECKPOINT_INTERVAL: &str = "10";
/// The slice name of files a whole-partition publish wrote (before the partition had slices).
pub const LEGACY_SLICE: &str = "_legacy";

/// Which snapshot of a table to read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AsOf {
    Latest,
    Version(u64),
    Timestamp(DateTime<Utc>),
}

impl std::fmt::Display for AsOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AsOf::Latest => write!(f, "its latest version"),
            AsOf::Version(v) => write!(f, "version {v}"),
            AsOf::Timestamp(t) => write!(f, "{}", t.to_rfc3339()),
        }
    }
}

impl AsOf {
    /// `12` (a version), `2026-12-01T03:00:00Z` or `2026-12-01` (the snapshot current then, UTC).
    pub fn parse(s: &str) -> std::result::Result<AsOf, String> {
        if let Ok(v) = s.parse::<u64>() {
            return Ok(AsOf::Version(v));
        }
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(AsOf::Timestamp(t.with_timezone(&Utc)));
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(AsOf::Timestamp(d.and_time(chrono::NaiveTime::MIN).and_utc()));
        }
        Err(format!("'{s}' is neither a table version nor a time like 2026-12-01T03:00:00Z"))
    }
}

/// `TABLE@WHEN` (`marts.user_profiles@12`; a table without a layer is a mart).
pub fn parse_table_as_of(s: &str) -> std::result::Result<(String, String, AsOf), String> {
    let (table, when) = s.rsplit_once('@').ok_or_else(|| format!("'{s}': write TABLE@VERSION or TABLE@TIME"))?;
    let (layer, table) = table.split_once('.').unwrap_or(("marts", table));
    Ok((layer.to_string(), table.to_string(), AsOf::parse(when)?))
}

/// A Parquet file a writer closed in `dt=D/`, ready to be added.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub name: String,
    pub size: u64,
    pub rows: u64,
    /// Top-level column -> nulls (Delta's `nullCount` statistic).
    pub null_counts: BTreeMap<String, u64>,
    pub modified_ms: i64,
}

/// What one commit replaces in partition `dt`.
#[derive(Debug, Clone)]
pub enum Replace {
    /// Every file of the partition.
    Whole,
    /// The owner's files; files written whole by an older version stay as [`LEGACY_SLICE`]
    /// when `keep_legacy`, else they go too.
    Slice { owner: String, keep_legacy: bool },
}

/// What goes into the commit beside the files.
#[derive(Debug, Clone)]
pub struct Publish<'a> {
    pub layer: &'a str,
    pub table: &'a str,
    pub dt: &'a str,
    /// Schema of the data files (without `dt`).
    pub schema: &'a SchemaRef,
    pub run_id: &'a str,
    pub built_with: Option<&'a str>,
    pub replace: Replace,
}

fn delta_err(table: &str, e: DeltaTableError) -> Error {
    Error::Delta { table: table.to_string(), source: Box::new(e) }
}

/// The log store of `<layer>/<table>/` on the warehouse's own object store.
pub fn log_store(wh: &Warehouse, rel: &str) -> Result<LogStoreRef> {
    let url = url::Url::parse(&wh.table_url(rel)).map_err(|e| Error::Config(format!("table {rel}: {e}")))?;
    let prefixed = Arc::new(PrefixStore::new(wh.store.clone(), wh.path(rel)));
    Ok(default_logstore(prefixed, wh.store.clone(), &url, &StorageConfig::default()))
}

/// Open `<layer>/<table>` at a snapshot, or `None` when there is no Delta table there.
pub async fn open(wh: &Warehouse, layer: &str, table: &str, at: AsOf) -> Result<Option<DeltaTable>> {
    let rel = format!("{layer}/{table}");
    let name = format!("{layer}.{table}");
    // No log yet (the table's first publish): delta-rs would log its failed load as an error.
    let log = wh.path(&format!("{rel}/_delta_log"));
    match wh.store.list_with_delimiter(Some(&log)).await {
        Ok(l) if l.objects.is_empty() && at == AsOf::Latest => return Ok(None),
        Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(Error::storage(log.to_string(), e)),
    }
    let mut t = DeltaTable::new(log_store(wh, &rel)?);
    let loaded = match at {
        AsOf::Latest => t.load().await,
        AsOf::Version(v) => t.load_version(v).await,
        AsOf::Timestamp(ts) => t.load_with_datetime(ts).await,
    };
    match loaded {
        Ok(()) => Ok(Some(t)),
        // An empty log folder, or none (the table's first publish).
        Err(DeltaTableError::NotATable(_)) if at == AsOf::Latest => Ok(None),
        Err(e) if at == AsOf::Latest => Err(delta_err(&name, e)),
        Err(e) => Err(Error::Usage(format!("{name} cannot be read as of {at}: {e}"))),
    }
}

/// The table's partitions in a loaded snapshot, as ecomwh's readers and incremental jobs use them.
pub fn manifest(t: &DeltaTable, layer: &str, table: &str) -> Result<TableManifest> {
    let snap = t.snapshot().map_err(|e| delta_err(&format!("{layer}.{table}"), e))?;
    Ok(manifest_of(snap, layer, table))
}

fn manifest_of(snap: &DeltaTableState, layer: &str, table: &str) -> TableManifest {
    let mut m = TableManifest { layer: layer.into(), table: table.into(), version: snap.version(), partitions: BTreeMap::new() };
    for f in snap.log_data().iter() {
        let path = f.path().to_string();
        let Some(dt) = f.partition_values_map().get("dt").cloned().flatten() else { continue };
        let file = path.rsplit('/').next().unwrap_or(&path).to_string();
        #[allow(deprecated)] // the view has no accessor for tags but this conversion
        let tags = f.add_action().tags.unwrap_or_default();
        let tag = |k: &str| tags.get(k).cloned().flatten();
        let rows = f.num_records().unwrap_or(0) as u64;
        let committed_at = f.modification_datetime().map(|d| d.to_rfc3339()).unwrap_or_default();
        let run_id = tag(TAG_RUN).unwrap_or_default();
        let e = m.partitions.entry(dt).or_default();
        e.files.push(file.clone());
        e.rows += rows;
        if committed_at > e.committed_at {
            e.committed_at = committed_at.clone();
            e.run_id = run_id.clone();
        }
        // One build per partition: a mix (never written by ecomwh) counts as unknown.
        let built = tag(TAG_BUILT_WITH);
        e.built_with = if e.files.len() == 1 { built } else { e.built_with.take().filter(|b| Some(b) == built.as_ref()) };
        if let Some(owner) = tag(TAG_OWNER) {
            let s = e.slices.entry(owner).or_insert_with(|| Slice { run_id: run_id.clone(), committed_at: committed_at.clone(), ..Default::default() });
            s.files.push(file);
            s.rows += rows;
        }
    }
    for e in m.partitions.values_mut() {
        e.files.sort();
        if !e.slices.is_empty() {
            // Files without an owner in a sliced partition were written whole before it had slices.
            let owned: Vec<&String> = e.slices.values().flat_map(|s| s.files.iter()).collect();
            let legacy: Vec<String> = e.files.iter().filter(|f| !owned.contains(f)).cloned().collect();
            if !legacy.is_empty() {
                let rows = e.rows - e.slices.values().map(|s| s.rows).sum::<u64>();
                e.slices.insert(LEGACY_SLICE.into(), Slice { files: legacy, rows, ..Default::default() });
            }
        }
    }
    m
}

/// The Delta schema of a table whose files have `file_schema`: the files' columns, then `dt`.
/// Every column is nullable: a query may infer a column non-null one night and not the next,
/// and a schema change would needlessly conflict with concurrent commits of other dates.
fn table_schema(file_schema: &Schema) -> std::result::Result<StructType, DeltaTableError> {
    let mut fields: Vec<Arc<Field>> =
        file_schema.fields().iter().filter(|f| f.name() != "dt").map(|f| Arc::new(f.as_ref().clone().with_nullable(true))).collect();
    fields.push(Arc::new(Field::new("dt", DataType::Date32, true)));
    let s: StructType = Arc::new(Schema::new(fields)).try_into_kernel()?;
    Ok(s)
}

pub fn add_action(p: &Publish<'_>, f: &NewFile) -> Action {
    let mut tags = HashMap::from([(TAG_RUN.to_string(), Some(p.run_id.to_string()))]);
    if let Some(b) = p.built_with {
        tags.insert(TAG_BUILT_WITH.into(), Some(b.to_string()));
    }
    if let Replace::Slice { owner, .. } = &p.replace {
        tags.insert(TAG_OWNER.into(), Some(owner.clone()));
    }
    let stats = serde_json::json!({ "numRecords": f.rows, "nullCount": f.null_counts });
    Action::Add(Add {
        path: format!("dt={}/{}", p.dt, f.name),
        partition_values: HashMap::from([("dt".to_string(), Some(p.dt.to_string()))]),
        size: f.size as i64,
        modification_time: f.modified_ms,
        data_change: true,
        stats: Some(stats.to_string()),
        tags: Some(tags),
        ..Default::default()
    })
}

fn is_conflict(e: &DeltaTableError) -> bool {
    matches!(
        e,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction { source: TransactionError::CommitConflict(_) | TransactionError::MaxCommitAttempts(_) }
    )
}

/// Commit the files of one partition: one Delta version that adds them and removes what they
/// replace. Returns the table as committed (None: as created) and the names of the files
/// removed from the snapshot (still on storage for time travel until a vacuum).
pub async fn commit(wh: &Warehouse, p: &Publish<'_>, files: &[NewFile]) -> Result<(Option<TableManifest>, Vec<String>)> {
    let name = format!("{}.{}", p.layer, p.table);
    let err = |e: DeltaTableError| delta_err(&name, e);
    let adds: Vec<Action> = files.iter().map(|f| add_action(p, f)).collect();
    let wanted = table_schema(p.schema).map_err(err)?;
    let operation = DeltaOperation::Write { mode: SaveMode::Overwrite, partition_by: Some(vec!["dt".into()]), predicate: Some(format!("dt = '{}'", p.dt)) };
    // Slices of one partition are written by several jobs at once: a conflict among them is
    // retried on the new snapshot. A second writer of a whole partition fails instead.
    let attempts = if matches!(p.replace, Replace::Slice { .. }) { 20 } else { 3 };
    for _ in 0..attempts {
        let Some(t) = open(wh, p.layer, p.table, AsOf::Latest).await? else {
            if create_table(wh, p.layer, p.table, p.schema, adds.clone()).await? {
                return Ok((None, vec![]));
            }
            continue;
        };
        let snap = t.snapshot().map_err(err)?;
        let current = manifest_of(snap, p.layer, p.table);
        let doomed = doomed_files(current.partitions.get(p.dt), &p.replace, &name);
        let mut actions: Vec<Action> = snap
            .log_data()
            .iter()
            .filter(|f| f.partition_values_map().get("dt").cloned().flatten().as_deref() == Some(p.dt))
            .filter(|f| doomed.iter().any(|d| f.path().ends_with(&format!("/{d}"))))
            .map(|f| Action::Remove(f.remove_action(true)))
            .collect();
        let schema = snap.schema();
        if schema.as_ref() != &wanted {
            let merged = merge_schema(&schema, &wanted);
            actions.push(Action::Metadata(snap.metadata().clone().with_schema(&merged).map_err(|e| err(e.into()))?));
        }
        actions.extend(adds.iter().cloned());
        crate::error::pause_point(&format!("publish:snapshot_read:{name}"));
        // Expired commits are cleaned up with each checkpoint only: the clean-up lists the log,
        // one more request per publish on object storage.
        let at_checkpoint = (snap.version() + 1) % CHECKPOINT_EVERY == 0;
        let props = CommitProperties::default().with_cleanup_expired_logs(Some(at_checkpoint));
        let committed = CommitBuilder::from(props).with_actions(actions).build(Some(snap), t.log_store(), operation.clone()).await;
        match committed {
            Ok(done) => return Ok((Some(manifest_of(&done.snapshot(), p.layer, p.table)), doomed)),
            Err(e) if is_conflict(&e) && matches!(p.replace, Replace::Slice { .. }) => {
                tracing::debug!(table = %name, dt = %p.dt, "another job committed a slice meanwhile; retrying");
            }
            Err(e) if is_conflict(&e) => {
                tracing::warn!(table = %name, dt = %p.dt, error = %e, "concurrent commit of the same partition");
                return Err(Error::CommitConflict { table: name, dt: p.dt.to_string() });
            }
            Err(e) => return Err(err(e)),
        }
    }
    Err(Error::CommitConflict { table: name, dt: p.dt.to_string() })
}

/// Create `<layer>/<table>` with its first files in version 0. False when another writer
/// created it first (the caller then commits on top).
pub async fn create_table(wh: &Warehouse, layer: &str, table: &str, file_schema: &SchemaRef, adds: Vec<Action>) -> Result<bool> {
    let name = format!("{layer}.{table}");
    let schema = table_schema(file_schema).map_err(|e| delta_err(&name, e))?;
    let created = DeltaTable::new(log_store(wh, &format!("{layer}/{table}"))?)
        .create()
        .with_columns(schema.fields().cloned())
        .with_partition_columns(["dt"])
        .with_configuration_property(TableProperty::CheckpointInterval, Some(CHECKPOINT_INTERVAL))
        .with_actions(adds)
        .with_save_mode(SaveMode::ErrorIfExists)
        .await;
    match created {
        Ok(_) => Ok(true),
        Err(DeltaTableError::VersionAlreadyExists(_)) => Ok(false),
        Err(e) if e.to_string().contains("already exists") => Ok(false),
        Err(e) => Err(delta_err(&name, e)),
    }
}

/// The files of a partition a publish replaces.
fn doomed_files(current: Option<&PartitionEntry>, replace: &Replace, table: &str) -> Vec<String> {
    let Some(c) = current else { return vec![] };
    match replace {
        Replace::Whole => c.files.clone(),
        Replace::Slice { owner, keep_legacy } => {
            let mut v = c.slices.get(owner).map(|s| s.files.clone()).unwrap_or_default();
            if c.slices.is_empty() && !keep_legacy {
                tracing::warn!(%table, "this partition was written whole by an older version: it is replaced; rerun the date's other jobs that write it");
                v.extend(c.files.iter().cloned());
            } else if !keep_legacy {
                v.extend(c.slices.get(LEGACY_SLICE).map(|s| s.files.clone()).unwrap_or_default());
            }
            v
        }
    }
}

/// The table's columns with the new ones appended: partitions written before a column existed
/// read it as null; a column whose type changed takes the new type.
fn merge_schema(current: &StructType, wanted: &StructType) -> StructType {
    let mut fields: Vec<_> = current.fields().filter(|f| f.name() != "dt").map(|f| wanted.field(f.name()).unwrap_or(f).clone()).collect();
    for f in wanted.fields() {
        if f.name() != "dt" && current.field(f.name()).is_none() {
            fields.push(f.clone());
        }
    }
    if let Some(dt) = wanted.field("dt") {
        fields.push(dt.clone());
    }
    StructType::try_new(fields).unwrap_or_else(|_| wanted.clone())
}

/// Every table folder of the layers, as (layer, table); [`open`] tells which hold a Delta table
/// (it looks for the log once, so this listing does not).
pub async fn list_tables(wh: &Warehouse, layers: &[&str]) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    for layer in layers {
        let prefix = wh.path(layer);
        let listed = match wh.store.list_with_delimiter(Some(&prefix)).await {
            Ok(l) => l,
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(e) => return Err(Error::storage(prefix.to_string(), e)),
        };
        for dir in listed.common_prefixes {
            if let Some(table) = dir.filename() {
                out.push((layer.to_string(), table.to_string()));
            }
        }
    }
    out.sort();
    Ok(out)
}
