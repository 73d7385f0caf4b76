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

#[derive(Debug)]
pub struct CommittedView {
    inner: Arc<dyn ObjectStore>,
    root: String,
    manifests: Manifests,
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
        CommittedView { inner, root: root.trim_matches('/').to_string(), manifests }
    }

    fn place<'a>(&self, p: &'a str) -> Place<'a> {
        let rel = if self.root.is_empty() {
            p
        } else {
            match p.strip_prefix(self.root.as_str()).and_then(|x| x.strip_prefix('/')) {
                Some(r) => r,
                None => return Place::Other,
            }
        };
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
        let me = CommittedView::new(self.inner.clone(), &self.root, self.manifests.clone());
        self.inner
            .list(prefix)
            .filter(move |r| {
                let keep = match r {
                    Ok(m) => me.visible(m.location.as_ref()),
                    Err(_) => true,
                };
                futures::future::ready(keep)
            })
            .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
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
