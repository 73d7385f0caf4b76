//! An object store view that shows readers only committed partition files.
//!
//! A run writes its files into the partition folder before it commits, and replaced files
//! stay there for time travel until a vacuum. This wrapper hides every file of
//! `<layer>/<table>/dt=<dt>/` that the table's Delta snapshot does not list, and the Delta
//! log itself, so queries see each partition whole or not at all.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
    RenameOptions, Result,
};

use crate::storage::delta::AsOf;
use crate::storage::manifest::{Manifests, LAYERS};
use crate::storage::warehouse::Warehouse;

#[derive(Debug, Clone)]
pub struct CommittedView {
    inner: Arc<dyn ObjectStore>,
    root: String,
    manifests: Manifests,
    /// Set in cluster processes: every listing of a table first rereads its snapshot.
    live: Option<Warehouse>,
}

/// Where a path sits in the warehouse layout.
enum Place<'a> {
    /// Not a table file: always visible.
    Other,
    /// Inside a table folder but not in a partition (the Delta log): never data.
    TableMeta,
    /// `<layer>/<table>/dt=<dt>` folder or a file in it.
    Partition { layer: &'a str, table: &'a str, dt: &'a str, file: Option<&'a str> },
}

impl CommittedView {
    pub fn new(inner: Arc<dyn ObjectStore>, root: &str, manifests: Manifests) -> Self {
        CommittedView { inner, root: root.trim_matches('/').to_string(), manifests, live: None }
    }

    /// A view for a process that does not commit itself (a Ballista scheduler or executor).
    pub fn live(wh: Warehouse) -> Self {
        let mut v = CommittedView::new(wh.store.clone(), wh.root.as_ref(), Manifests::default());
        v.live = Some(wh);
        v
    }

    /// The view to filter one listing with. In live mode the snapshots are read for it (each
    /// listing its own copy, so concurrent plans never see each other's half-refreshed state):
    /// the table's own when the prefix is inside one, else all of them.
    async fn for_listing(&self, prefix: Option<&Path>) -> Result<CommittedView> {
        let Some(wh) = &self.live else { return Ok(self.clone()) };
        let p = prefix.map(|p| p.as_ref()).unwrap_or("");
        let to_store = |e: crate::error::Error| object_store::Error::Generic { store: "ecomwh manifests", source: Box::new(e) };
        let manifests = if self.root.starts_with(p) {
            Manifests::load(wh).await.map_err(to_store)?
        } else {
            let Some(rel) = self.rel(p) else { return Ok(self.clone()) };
            let mut parts = rel.split('/');
            match (parts.next(), parts.next()) {
                (Some(layer), Some(table)) if LAYERS.contains(&layer) && !table.is_empty() => {
                    Manifests::load_table(wh, layer, table, AsOf::Latest).await.map_err(to_store)?
                }
                (Some(layer), _) if LAYERS.contains(&layer) => Manifests::load(wh).await.map_err(to_store)?,
                _ => return Ok(self.clone()),
            }
        };
        Ok(CommittedView { manifests, ..self.clone() })
    }

    fn rel<'a>(&self, p: &'a str) -> Option<&'a str> {
        if self.root.is_empty() {
            Some(p)
        } else {
            p.strip_prefix(self.root.as_str()).and_then(|x| x.strip_prefix('/'))
        }
    }

    fn place<'a>(&self, p: &'a str) -> Place<'a> {
        let Some(rel) = self.rel(p) else { return Place::Other };
        let parts: Vec<&str> = rel.splitn(4, '/').collect();
        if parts.len() < 3 || !LAYERS.contains(&parts[0]) {
            return Place::Other;
        }
        let Some(dt) = parts[2].strip_prefix("dt=") else { return Place::TableMeta };
        Place::Partition { layer: parts[0], table: parts[1], dt, file: parts.get(3).copied() }
    }

    fn visible(&self, p: &str) -> bool {
        match self.place(p) {
            Place::Other => true,
            Place::TableMeta => false,
            Place::Partition { layer, table, dt, file } => self.manifests.is_visible(layer, table, dt, file),
        }
    }
}

impl fmt::Display for CommittedView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CommittedView({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for CommittedView {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let me = self.clone();
        let prefix = prefix.cloned();
        futures::stream::once(async move {
            let filter = match me.for_listing(prefix.as_ref()).await {
                Ok(v) => v,
                Err(e) => return futures::stream::once(futures::future::ready(Err(e))).boxed(),
            };
            me.inner
                .list(prefix.as_ref())
                .filter(move |r| {
                    let keep = match r {
                        Ok(m) => filter.visible(m.location.as_ref()),
                        Err(_) => true,
                    };
                    futures::future::ready(keep)
                })
                .boxed()
        })
        .flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let view = self.for_listing(prefix).await?;
        let mut r = self.inner.list_with_delimiter(prefix).await?;
        r.objects.retain(|m| view.visible(m.location.as_ref()));
        r.common_prefixes.retain(|p| view.visible(p.as_ref()));
        Ok(r)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
