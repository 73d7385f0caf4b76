//! A warehouse store whose scratch folder (`_tmp/`) is in memory: what a command that must not
//! write (`sources preview`) computes stays in the process, while everything else is read from
//! the warehouse as it is.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
    RenameOptions, Result,
};

#[derive(Debug)]
pub struct ScratchInMemory {
    inner: Arc<dyn ObjectStore>,
    memory: InMemory,
    /// `<root>/_tmp` (no trailing slash).
    scratch: String,
}

impl ScratchInMemory {
    pub fn new(inner: Arc<dyn ObjectStore>, scratch: &Path) -> ScratchInMemory {
        ScratchInMemory { inner, memory: InMemory::new(), scratch: scratch.as_ref().to_string() }
    }

    fn in_scratch(&self, p: &str) -> bool {
        in_scratch(&self.scratch, p)
    }

    fn store(&self, p: &Path) -> &dyn ObjectStore {
        if self.in_scratch(p.as_ref()) {
            &self.memory
        } else {
            self.inner.as_ref()
        }
    }
}

fn in_scratch(scratch: &str, p: &str) -> bool {
    p == scratch || p.strip_prefix(scratch).is_some_and(|rest| rest.starts_with('/'))
}

impl fmt::Display for ScratchInMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScratchInMemory({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for ScratchInMemory {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        self.store(location).put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        self.store(location).put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.store(location).get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.store(location).get_ranges(location, ranges).await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        // Only scratch is ever deleted here; anything else is left alone.
        let memory = self.memory.clone();
        let scratch = self.scratch.clone();
        locations
            .then(move |p| {
                let memory = memory.clone();
                let scratch = scratch.clone();
                async move {
                    let p = p?;
                    if in_scratch(&scratch, p.as_ref()) {
                        object_store::ObjectStoreExt::delete(&memory, &p).await?;
                    }
                    Ok(p)
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        match prefix {
            Some(p) if self.in_scratch(p.as_ref()) => self.memory.list(Some(p)),
            _ => self.inner.list(prefix),
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        match prefix {
            Some(p) if self.in_scratch(p.as_ref()) => self.memory.list_with_delimiter(Some(p)).await,
            _ => self.inner.list_with_delimiter(prefix).await,
        }
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.store(to).copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.store(to).rename_opts(from, to, options).await
    }
}
