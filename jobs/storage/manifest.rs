//! Table manifests: the committed files of every partition of a table.
//!
//! One JSON object per table at `_state/tables/<layer>/<table>.json`. A partition is
//! committed by replacing its entry with a conditional put (If-Match on the manifest's
//! ETag), so two writers can never both win and a reader never sees half a partition.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};

use super::warehouse::Warehouse;
use crate::error::{Error, Result};

pub const LAYERS: &[&str] = &["staging", "quarantine", "marts"];

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableManifest {
    pub layer: String,
    pub table: String,
    /// dt (YYYY-MM-DD) -> committed partition
    pub partitions: BTreeMap<String, PartitionEntry>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PartitionEntry {
    /// File names inside `<layer>/<table>/dt=<dt>/`.
    pub files: Vec<String>,
    pub rows: u64,
    pub run_id: String,
    pub committed_at: String,
    /// What an incrementally built partition was computed with (its SQL and settings): the
    /// next night carries its rows over only when this still matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_with: Option<String>,
    /// A partition that several jobs fill, each its own slice (`marts.model_metrics`): the
    /// owner (job) -> its files. `files` and `rows` are then the union of the slices.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub slices: BTreeMap<String, Slice>,
}

/// One owner's part of a sliced partition.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Slice {
    pub files: Vec<String>,
    pub rows: u64,
    pub run_id: String,
    pub committed_at: String,
}

/// All manifests of a warehouse, shared by the writers and the listing filter.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    inner: Arc<RwLock<HashMap<String, TableManifest>>>,
}

fn manifest_rel(layer: &str, table: &str) -> String {
    format!("_state/tables/{layer}/{table}.json")
}

fn is_conflict(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. })
}

impl Manifests {
    /// Read every manifest under `_state/tables/`.
    pub async fn load(wh: &Warehouse) -> Result<Manifests> {
        use futures::TryStreamExt;
        let prefix = wh.path("_state/tables");
        let metas: Vec<_> = wh.store.list(Some(&prefix)).try_collect().await.map_err(|e| Error::storage(prefix.to_string(), e))?;
        let mut map = HashMap::new();
        for meta in metas {
            if !meta.location.as_ref().ends_with(".json") {
                continue;
            }
            let (m, _) = read_manifest(wh, &meta.location).await?;
            if let Some(m) = m {
                map.insert(format!("{}/{}", m.layer, m.table), m);
            }
        }
        Ok(Manifests { inner: Arc::new(RwLock::new(map)) })
    }

    /// One table's manifest, read now (for a process that reads what another one commits).
    pub async fn load_table(wh: &Warehouse, layer: &str, table: &str) -> Result<Manifests> {
        let (m, _) = read_manifest(wh, &wh.path(&manifest_rel(layer, table))).await?;
        let map = m.into_iter().map(|m| (format!("{layer}/{table}"), m)).collect();
        Ok(Manifests { inner: Arc::new(RwLock::new(map)) })
    }

    pub fn get(&self, layer: &str, table: &str) -> Option<TableManifest> {
        self.inner.read().ok()?.get(&format!("{layer}/{table}")).cloned()
    }

    /// Every table that has a manifest, as (layer, table).
    pub fn tables(&self) -> Vec<(String, String)> {
        let mut v: Vec<_> = self.inner.read().map(|m| m.values().map(|t| (t.layer.clone(), t.table.clone())).collect()).unwrap_or_default();
        v.sort();
        v
    }

    /// Is `file` (a name inside dt=<dt>/) committed for this table?
    pub fn is_visible(&self, layer: &str, table: &str, dt: &str, file: Option<&str>) -> bool {
        let Ok(map) = self.inner.read() else { return false };
        let Some(m) = map.get(&format!("{layer}/{table}")) else { return false };
        match (m.partitions.get(dt), file) {
            (Some(p), Some(f)) => p.files.iter().any(|x| x == f),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    fn put_local(&self, m: TableManifest) {
        if let Ok(mut map) = self.inner.write() {
            map.insert(format!("{}/{}", m.layer, m.table), m);
        }
    }

    /// Commit one partition: replace its entry in the table manifest atomically.
    /// Returns the entry it replaced, whose files the caller may now delete.
    pub async fn commit(&self, wh: &Warehouse, layer: &str, table: &str, dt: &str, entry: PartitionEntry) -> Result<Option<PartitionEntry>> {
        self.update(wh, layer, table, dt, |_| entry.clone()).await
    }

    /// Replace one owner's slice of a partition atomically, keeping the other owners' slices:
    /// jobs that fill the same partition concurrently never lose each other's rows. A
    /// partition written whole by an older version becomes the slice `_legacy` when
    /// `keep_legacy` (rows that are added to, like export runs), else it is replaced. Returns
    /// the files no longer listed, which the caller may now delete.
    pub async fn commit_slice(&self, wh: &Warehouse, layer: &str, table: &str, dt: &str, owner: &str, slice: Slice, keep_legacy: bool) -> Result<Vec<String>> {
        let mut listed = vec![];
        let previous = self
            .update(wh, layer, table, dt, |current| {
                let mut slices = current.map(|c| c.slices.clone()).unwrap_or_default();
                if let Some(c) = current.filter(|c| c.slices.is_empty() && !c.files.is_empty()) {
                    if keep_legacy {
                        let legacy = Slice { files: c.files.clone(), rows: c.rows, run_id: c.run_id.clone(), committed_at: c.committed_at.clone() };
                        slices.insert("_legacy".to_string(), legacy);
                    } else {
                        tracing::warn!(table = %format!("{layer}.{table}"), %dt,
                            "this partition was written whole by an older version: it is replaced; rerun the date's other jobs that write it");
                    }
                }
                slices.insert(owner.to_string(), slice.clone());
                let entry = PartitionEntry {
                    files: slices.values().flat_map(|s| s.files.iter().cloned()).collect(),
                    rows: slices.values().map(|s| s.rows).sum(),
                    run_id: slice.run_id.clone(),
                    committed_at: slice.committed_at.clone(),
                    built_with: None,
                    slices,
                };
                listed = entry.files.clone();
                entry
            })
            .await?;
        Ok(previous.map(|p| p.files.into_iter().filter(|f| !listed.contains(f)).collect()).unwrap_or_default())
    }

    /// Read-modify-write of one partition's entry: a conditional put on object stores (retried
    /// when another writer got there first), a file lock on a local folder.
    async fn update<F>(&self, wh: &Warehouse, layer: &str, table: &str, dt: &str, mut next: F) -> Result<Option<PartitionEntry>>
    where
        F: FnMut(Option<&PartitionEntry>) -> PartitionEntry,
    {
        let path = wh.path(&manifest_rel(layer, table));
        // A local folder has no conditional puts: serialise read-modify-write with a file lock.
        let _lock = match wh.local_path(&manifest_rel(layer, table)) {
            Some(p) => Some(LocalLock::acquire(&p.with_extension("lock"))?),
            None => None,
        };
        for _attempt in 0..20 {
            let (current, version) = read_manifest(wh, &path).await?;
            let mut m = current.unwrap_or_else(|| TableManifest { layer: layer.to_string(), table: table.to_string(), partitions: BTreeMap::new() });
            let entry = next(m.partitions.get(dt));
            let previous = m.partitions.insert(dt.to_string(), entry);
            let body = serde_json::to_vec_pretty(&m).map_err(|source| Error::Json { what: "manifest".into(), source })?;
            let mode = match (wh.is_local(), version) {
                (true, _) => PutMode::Overwrite,
                (false, Some(v)) => PutMode::Update(v),
                (false, None) => PutMode::Create,
            };
            let opts = PutOptions { mode, ..Default::default() };
            match wh.store.put_opts(&path, PutPayload::from(body), opts).await {
                Ok(_) => {
                    self.put_local(m);
                    return Ok(previous);
                }
                Err(e) if is_conflict(&e) => {
                    tracing::debug!(%layer, %table, %dt, "manifest changed under us; retrying");
                    continue;
                }
                Err(e) => return Err(Error::storage(path.to_string(), e)),
            }
        }
        Err(Error::CommitConflict { table: format!("{layer}.{table}"), dt: dt.to_string() })
    }
}

/// An exclusive `flock` on a lock file, released when dropped.
struct LocalLock(std::fs::File);

impl LocalLock {
    fn acquire(path: &std::path::Path) -> Result<LocalLock> {
        use std::os::unix::io::AsRawFd;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
        // SAFETY: a valid open file descriptor; flock has no other preconditions.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(Error::Io(std::io::Error::last_os_error()));
        }
        Ok(LocalLock(f))
    }
}

impl Drop for LocalLock {
    fn drop(&mut self) {
        use std::os::unix::io::AsRawFd;
        // SAFETY: the descriptor is still open; unlocking cannot fail in a way we could act on.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

async fn read_manifest(wh: &Warehouse, path: &Path) -> Result<(Option<TableManifest>, Option<UpdateVersion>)> {
    match wh.store.get(path).await {
        Ok(r) => {
            let version = UpdateVersion { e_tag: r.meta.e_tag.clone(), version: r.meta.version.clone() };
            let bytes = r.bytes().await.map_err(|e| Error::storage(path.to_string(), e))?;
            let m: TableManifest = serde_json::from_slice(&bytes).map_err(|source| Error::Json { what: path.to_string(), source })?;
            Ok((Some(m), Some(version)))
        }
        Err(object_store::Error::NotFound { .. }) => Ok((None, None)),
        Err(e) => Err(Error::storage(path.to_string(), e)),
    }
}
