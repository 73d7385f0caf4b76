//! An object store view that shows readers only committed partition files.
//!
//! On object stores a run writes its files into the partition folder before it commits
//! (there is no rename). This wrapper hides every file of `<layer>/<table>/dt=<dt>/` that
//! the table manifest does not list, so queries see each partition whole or not at all.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

use crate::storage::manifest::{Manifests, LAYERS};
use crate::storage::warehouse::Warehouse;

#[derive(Debug, Clone)]
pub struct CommittedView {
    inner: Arc<dyn ObjectStore>,
    root: String,
    manifests: Manifests,
    /// Set in cluster processes: every listing of a table first rereads its manifest.
    live: Option<Warehouse>,
}

/// Where a path sits in the warehouse layout.
enum Place<'a> {
    /// Not a table file: always visible.
    Other,
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

    /// In live mode, reread the manifest of the table a listing prefix falls in.
    async fn refresh_for(&self, prefix: Option<&Path>) -> Result<()> {
        let (Some(wh), Some(prefix)) = (&self.live, prefix) else { return Ok(()) };
        let Some(rel) = self.rel(prefix.as_ref()) else { return Ok(()) };
        let mut parts = rel.split('/');
        let (Some(layer), Some(table)) = (parts.next(), parts.next()) else { return Ok(()) };
        if !LAYERS.contains(&layer) || table.is_empty() {
            return Ok(());
        }
        self.manifests.refresh(wh, layer, table).await.map_err(|e| object_store::Error::Generic {
            store: "ecomwh manifests",
            source: Box::new(e),
        })
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
        let Some(dt) = parts[2].strip_prefix("dt=") else { return Place::Other };
        Place::Partition { layer: parts[0], table: parts[1], dt, file: parts.get(3).copied() }
    }

    fn visible(&self, p: &str) -> bool {
        match self.place(p) {
            Place::Other => true,
            Place::Partition { layer, table, dt, file } => {
                self.manifests.is_visible(layer, table, dt, file)
            }
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

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let me = self.clone();
        let prefix = prefix.cloned();
        futures::stream::once(async move {
            if let Err(e) = me.refresh_for(prefix.as_ref()).await {
                return futures::stream::once(futures::future::ready(Err(e))).boxed();
            }
            let filter = me.clone();
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
        self.refresh_for(prefix).await?;
        let mut r = self.inner.list_with_delimiter(prefix).await?;
        r.objects.retain(|m| self.visible(m.location.as_ref()));
        r.common_prefixes.retain(|p| self.visible(p.as_ref()));
        Ok(r)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
