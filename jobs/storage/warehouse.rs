//! The warehouse: one object store (local folder, S3, GCS, Azure or memory) and a root prefix.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::ObjectStore;
use url::Url;

use crate::config::StorageConfig;
use crate::error::{Error, Result};

/// Where the warehouse lives and how to reach it.
#[derive(Debug, Clone)]
pub struct Warehouse {
    /// The store as configured (writes and raw reads go here).
    pub store: Arc<dyn ObjectStore>,
    /// URL of the store's root as DataFusion knows it, e.g. `s3://bucket` or `file://`.
    pub store_url: Url,
    /// Prefix of the warehouse inside the store (no leading or trailing slash).
    pub root: Path,
    /// The URL the user gave, normalised (for messages and reports).
    pub url: String,
    /// The folder of a local warehouse (reports are opened from it).
    pub local_dir: Option<PathBuf>,
}

impl Warehouse {
    /// Delete a scratch folder (best effort: leftovers are swept by later runs).
    pub async fn remove_dir(&self, rel_dir: &str) {
        use futures::TryStreamExt;
        if let Some(p) = self.local_path(rel_dir) {
            let _ = std::fs::remove_dir_all(p);
            return;
        }
        let prefix = self.path(rel_dir);
        if let Ok(list) = self.store.list(Some(&prefix)).try_collect::<Vec<_>>().await {
            for m in list {
                let _ = object_store::ObjectStoreExt::delete(self.store.as_ref(), &m.location).await;
            }
        }
    }

    /// Open a warehouse URL. Credentials come from the environment (AWS_*, GOOGLE_*, AZURE_*).
    pub fn open(url: &str, storage: &StorageConfig) -> Result<Warehouse> {
        let bad = |m: String| Error::Config(format!("warehouse '{url}': {m}"));
        if let Some(rest) = url.strip_prefix("file://") {
            let p = PathBuf::from(if rest.is_empty() { "." } else { rest });
            std::fs::create_dir_all(&p).map_err(|e| bad(format!("cannot create folder {}: {e}", p.display())))?;
            let abs = std::fs::canonicalize(&p)?;
            let root = Path::from_absolute_path(&abs).map_err(|e| bad(format!("not a usable path: {e}")))?;
            return Ok(Warehouse {
                store: Arc::new(LocalFileSystem::new()),
                store_url: Url::parse("file:///").expect("static url"),
                root,
                url: format!("file://{}", abs.display()),
                local_dir: Some(abs),
            });
        }
        let parsed = Url::parse(url).map_err(|e| bad(format!("not a URL ({e}); use file://PATH, s3://BUCKET/PREFIX, gs://, az:// or memory://")))?;
        let bucket = parsed.host_str().unwrap_or("").to_string();
        let root = Path::from(parsed.path().trim_matches('/'));
        let store: Arc<dyn ObjectStore> = match parsed.scheme() {
            "memory" => Arc::new(InMemory::new()),
            "s3" | "s3a" => {
                let mut b = AmazonS3Builder::from_env().with_bucket_name(&bucket);
                if let Some(e) = &storage.endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(r) = &storage.region {
                    b = b.with_region(r);
                } else if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
                    b = b.with_region("us-east-1");
                }
                if let Some(h) = storage.allow_http {
                    b = b.with_allow_http(h);
                }
                Arc::new(b.build().map_err(|e| bad(e.to_string()))?)
            }
            "gs" | "gcs" => Arc::new(GoogleCloudStorageBuilder::from_env().with_bucket_name(&bucket).build().map_err(|e| bad(e.to_string()))?),
            "az" | "abfs" | "abfss" => Arc::new(MicrosoftAzureBuilder::from_env().with_container_name(&bucket).build().map_err(|e| bad(e.to_string()))?),
            other => return Err(bad(format!("unsupported scheme '{other}'"))),
        };
        if parsed.scheme() != "memory" && bucket.is_empty() {
            return Err(bad("the URL names no bucket".into()));
        }
        let store_url = Url::parse(&format!("{}://{}", parsed.scheme(), bucket)).map_err(|e| bad(e.to_string()))?;
        Ok(Warehouse { store, store_url, root, url: url.trim_end_matches('/').to_string(), local_dir: None })
    }

    /// This warehouse with its scratch folder `_tmp/` in memory (nothing is written to it).
    pub fn with_scratch_in_memory(&self) -> Warehouse {
        let mut w = self.clone();
        w.store = Arc::new(super::scratch_memory::ScratchInMemory::new(self.store.clone(), &self.path("_tmp")));
        w
    }

    /// The folder `rel` of this warehouse as a warehouse of its own (same store).
    pub fn sub(&self, rel: &str) -> Warehouse {
        let rel = rel.trim_matches('/');
        let mut w = self.clone();
        w.root = self.path(rel);
        w.url = format!("{}/{rel}", self.url);
        w.local_dir = self.local_dir.as_ref().map(|d| d.join(rel));
        w
    }

    /// Path inside the store for a path relative to the warehouse root.
    pub fn path(&self, rel: &str) -> Path {
        let rel = rel.trim_matches('/');
        if self.root.as_ref().is_empty() {
            Path::from(rel)
        } else if rel.is_empty() {
            self.root.clone()
        } else {
            Path::from(format!("{}/{}", self.root, rel))
        }
    }

    /// Path relative to the warehouse root, if `p` is inside it.
    pub fn relative<'a>(&self, p: &'a Path) -> Option<&'a str> {
        let s = p.as_ref();
        let r = self.root.as_ref();
        if r.is_empty() {
            Some(s)
        } else {
            s.strip_prefix(r).and_then(|x| x.strip_prefix('/').or((x.is_empty()).then_some(x)))
        }
    }

    /// URL DataFusion uses for a folder of the warehouse (ends with '/').
    pub fn table_url(&self, rel: &str) -> String {
        let p = self.path(rel);
        match &self.local_dir {
            Some(_) => format!("file:///{}/", p.as_ref()),
            None => format!("{}://{}/{}/", self.store_url.scheme(), self.store_url.host_str().unwrap_or(""), p.as_ref()),
        }
    }

    /// Local filesystem path of a warehouse-relative path (local warehouses only).
    pub fn local_path(&self, rel: &str) -> Option<PathBuf> {
        self.local_dir.as_ref().map(|d| d.join(rel.trim_matches('/')))
    }

    pub fn is_local(&self) -> bool {
        self.local_dir.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls() {
        let wh = Warehouse::open("memory://", &StorageConfig::default()).unwrap();
        assert_eq!(wh.path("staging/orders").as_ref(), "staging/orders");
        assert_eq!(wh.table_url("staging/orders"), "memory:///staging/orders/");
        let s3 = Warehouse::open("s3://bkt/shop/wh", &StorageConfig::default()).unwrap();
        assert_eq!(s3.path("raw/orders").as_ref(), "shop/wh/raw/orders");
        assert_eq!(s3.relative(&Path::from("shop/wh/raw/x")), Some("raw/x"));
        assert_eq!(s3.table_url("marts/x"), "s3://bkt/shop/wh/marts/x/");
        assert!(Warehouse::open("ftp://x/y", &StorageConfig::default()).is_err());
    }
}
