//! The committed partitions of every table, read from the tables' Delta logs.
//!
//! [`Manifests`] is what ecomwh's readers (the committed-file view), incremental jobs and
//! commands consult: per table, each partition's files, rows, run id and build. The Delta log
//! is the truth; this is its in-process picture, refreshed on every commit of this process.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::delta::{self, AsOf, NewFile, Publish};
use super::warehouse::Warehouse;
use crate::error::{Error, Result};

pub use super::snapshot::{PartitionEntry, Slice, TableManifest, LAYERS};

/// All tables of a warehouse, shared by the writers and the listing filter.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    inner: Arc<RwLock<HashMap<String, TableManifest>>>,
}

impl Manifests {
    /// Read every table's current snapshot.
    pub async fn load(wh: &Warehouse) -> Result<Manifests> {
        refuse_old_layout(wh).await?;
        let mut map = HashMap::new();
        for (layer, table) in delta::list_tables(wh, LAYERS).await? {
            if let Some(t) = delta::open(wh, &layer, &table, AsOf::Latest).await? {
                map.insert(format!("{layer}/{table}"), delta::manifest(&t, &layer, &table)?);
            }
        }
        Ok(Manifests { inner: Arc::new(RwLock::new(map)) })
    }

    /// One table's snapshot, read now (for a process that reads what another one commits), or
    /// an older one (time travel).
    pub async fn load_table(wh: &Warehouse, layer: &str, table: &str, at: AsOf) -> Result<Manifests> {
        let m = Manifests::default();
        if let Some(t) = delta::open(wh, layer, table, at).await? {
            m.put_local(delta::manifest(&t, layer, table)?);
        }
        Ok(m)
    }

    /// Put another snapshot of one table in this view (time travel).
    pub fn put_table(&self, m: TableManifest) {
        self.put_local(m);
    }

    pub fn get(&self, layer: &str, table: &str) -> Option<TableManifest> {
        self.inner.read().ok()?.get(&format!("{layer}/{table}")).cloned()
    }

    /// Every table, as (layer, table).
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

    /// Commit one partition (or one owner's slice of it) as one Delta version, then refresh
    /// this view of the table. Returns the files the commit removed from the snapshot.
    pub async fn commit(&self, wh: &Warehouse, p: &Publish<'_>, files: &[NewFile]) -> Result<Vec<String>> {
        let (committed, removed) = delta::commit(wh, p, files).await?;
        let committed = match committed {
            Some(m) => Some(m),
            None => delta::open(wh, p.layer, p.table, AsOf::Latest).await?.map(|t| delta::manifest(&t, p.layer, p.table)).transpose()?,
        };
        if let Some(m) = committed {
            self.put_local(m);
        }
        Ok(removed)
    }
}

/// A warehouse written by a version before Delta tables keeps JSON manifests under
/// `_state/tables/`: its tables must be converted before they are read or written.
async fn refuse_old_layout(wh: &Warehouse) -> Result<()> {
    use futures::StreamExt;
    let old = wh.path("_state/tables");
    let mut listed = wh.store.list(Some(&old));
    let mut found = false;
    while let Some(m) = listed.next().await {
        match m {
            Ok(m) if m.location.as_ref().ends_with(".json") => {
                found = true;
                break;
            }
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(Error::storage(old.to_string(), e)),
        }
    }
    if !found {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{} holds tables in the layout of an older ecomwh (manifests under _state/tables/): run `ecomwh migrate` once to convert them to Delta tables",
        wh.url
    )))
}
