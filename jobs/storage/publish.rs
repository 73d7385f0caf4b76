//! Atomic publishing of one table partition.
//!
//! Files are written into the partition folder under names that carry the run id; the
//! partition switches in one Delta commit (see [`super::delta`]), so every Delta reader, and
//! ecomwh's own, sees the old partition or the new one, never a mix. Replaced files stay for
//! time travel until `ecomwh vacuum` removes them.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::StreamExt;
use object_store::buffered::BufWriter;
use object_store::ObjectStoreExt;
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::delta::{NewFile, Publish, Replace};
use super::manifest::Manifests;
use super::warehouse::Warehouse;
use crate::error::{fail_point, Result};

/// What a publish produced.
#[derive(Debug, Clone)]
pub struct Published {
    pub layer: String,
    pub table: String,
    pub dt: String,
    pub rows: u64,
    pub files: usize,
}

pub struct PartitionWriter {
    wh: Warehouse,
    manifests: Manifests,
    layer: String,
    table: String,
    dt: String,
    run_id: String,
    schema: SchemaRef,
    rows_per_file: usize,
    /// Folder (relative to the warehouse) where this run writes its files.
    write_dir: String,
    current: Option<(AsyncArrowWriter<BufWriter>, usize)>,
    files: Vec<String>,
    /// The closed files, as the commit adds them.
    closed: Vec<NewFile>,
    rows: u64,
    built_with: Option<String>,
    /// The owner of a slice of a partition several jobs fill (see [`Self::slice`]), and whether
    /// a partition written whole by an older version is kept beside it.
    slice: Option<(String, bool)>,
    /// Scratch files (`set_dir`): written for this run only.
    scratch: bool,
}

fn writer_props(scratch: bool) -> WriterProperties {
    let b = WriterProperties::builder().set_max_row_group_row_count(Some(256 * 1024));
    if scratch {
        // Read once or twice in the same run: write fast. No dictionaries (their hashing costs
        // more than they save) but for the file name, the same on every row of a file.
        b.set_compression(Compression::LZ4_RAW)
            .set_dictionary_enabled(false)
            .set_column_dictionary_enabled(parquet::schema::types::ColumnPath::from("_file"), true)
            .build()
    } else {
        b.set_compression(Compression::SNAPPY).build()
    }
}

impl PartitionWriter {
    pub fn new(wh: &Warehouse, manifests: &Manifests, layer: &str, table: &str, dt: &str, run_id: &str, schema: SchemaRef, rows_per_file: usize) -> Self {
        let write_dir = format!("{layer}/{table}/dt={dt}");
        PartitionWriter {
            wh: wh.clone(),
            manifests: manifests.clone(),
            layer: layer.into(),
            table: table.into(),
            dt: dt.into(),
            run_id: run_id.into(),
            schema,
            rows_per_file: rows_per_file.max(1),
            write_dir,
            current: None,
            files: vec![],
            closed: vec![],
            rows: 0,
            built_with: None,
            slice: None,
            scratch: false,
        }
    }

    /// Publish only `owner`'s slice of the partition: the other owners' files stay (the jobs
    /// that each add their models' rows to `marts.model_metrics`, export runs of a day).
    pub fn slice(mut self, owner: &str, keep_legacy: bool) -> Self {
        self.slice = Some((owner.to_string(), keep_legacy));
        self
    }

    /// Record in the commit what the partition was computed with (see `PartitionEntry`).
    pub fn built_with(mut self, fingerprint: Option<String>) -> Self {
        self.built_with = fingerprint;
        self
    }

    fn open_file(&mut self) -> Result<()> {
        let name = match &self.slice {
            Some((owner, _)) => format!("part-{}-{owner}-{:05}.parquet", self.run_id, self.files.len()),
            None => format!("part-{}-{:05}.parquet", self.run_id, self.files.len()),
        };
        let path = self.wh.path(&format!("{}/{}", self.write_dir, name));
        let sink = BufWriter::with_capacity(self.wh.store.clone(), path, 8 << 20);
        let w = AsyncArrowWriter::try_new(sink, self.schema.clone(), Some(writer_props(self.scratch)))?;
        self.files.push(name);
        self.current = Some((w, 0));
        Ok(())
    }

    async fn close_file(&mut self) -> Result<()> {
        if let Some((w, _)) = self.current.take() {
            let meta = w.close().await?;
            if !self.scratch {
                let name = self.files.last().cloned().unwrap_or_default();
                let path = self.wh.path(&format!("{}/{}", self.write_dir, name));
                let head = self.wh.store.head(&path).await.map_err(|e| crate::error::Error::storage(path.to_string(), e))?;
                self.closed.push(NewFile {
                    name,
                    size: head.size,
                    rows: meta.file_metadata().num_rows().max(0) as u64,
                    null_counts: null_counts(&meta),
                    modified_ms: head.last_modified.timestamp_millis(),
                });
            }
            if self.files.len() == 1 {
                fail_point("publish:after_first_file")?;
            }
        }
        Ok(())
    }

    pub async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            if self.current.is_none() {
                self.open_file()?;
            }
            let (w, in_file) = self.current.as_mut().expect("file open");
            let take = (self.rows_per_file - *in_file).min(batch.num_rows() - offset);
            w.write(&batch.slice(offset, take)).await?;
            *in_file += take;
            offset += take;
            self.rows += take as u64;
            if *in_file >= self.rows_per_file {
                self.close_file().await?;
            }
        }
        Ok(())
    }

    /// Write somewhere else than the partition's own folder (scratch files).
    pub fn set_dir(&mut self, rel_dir: &str) {
        self.write_dir = rel_dir.trim_matches('/').to_string();
        self.scratch = true;
    }

    /// Close the files of a scratch writer (nothing is committed).
    pub async fn finish_scratch(mut self) -> Result<u64> {
        if self.files.is_empty() {
            self.open_file()?;
        }
        self.close_file().await?;
        Ok(self.rows)
    }

    /// Write a whole stream, then commit.
    pub async fn write_stream(mut self, mut stream: datafusion::execution::SendableRecordBatchStream) -> Result<Published> {
        while let Some(batch) = stream.next().await {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    self.abort().await;
                    return Err(e.into());
                }
            };
            if let Err(e) = self.write(&batch).await {
                self.abort().await;
                return Err(e);
            }
        }
        self.commit().await
    }

    /// Make the partition visible, whole.
    pub async fn commit(mut self) -> Result<Published> {
        if self.files.is_empty() {
            // An empty partition still gets one file, so its schema and dt are readable.
            self.open_file()?;
        }
        self.close_file().await?;
        fail_point("publish:before_commit")?;
        crate::error::pause_point("publish:before_commit");
        let replace = match &self.slice {
            Some((owner, keep_legacy)) => Replace::Slice { owner: owner.clone(), keep_legacy: *keep_legacy },
            None => Replace::Whole,
        };
        let publish = Publish {
            layer: &self.layer,
            table: &self.table,
            dt: &self.dt,
            schema: &self.schema,
            run_id: &self.run_id,
            built_with: self.built_with.as_deref(),
            replace,
        };
        if let Err(e) = self.manifests.commit(&self.wh, &publish, &self.closed).await {
            // Not committed: files left in the folder would be read by engines that glob it.
            for f in &self.files {
                let _ = self.wh.store.delete(&self.wh.path(&format!("{}/{}", self.write_dir, f))).await;
            }
            return Err(e);
        }
        tracing::info!(table = %format!("{}.{}", self.layer, self.table), dt = %self.dt,
            rows = self.rows, files = self.files.len(), "published partition");
        Ok(Published { layer: self.layer.clone(), table: self.table.clone(), dt: self.dt.clone(), rows: self.rows, files: self.files.len() })
    }

    /// Best-effort removal of what this writer wrote (nothing was committed).
    pub async fn abort(mut self) {
        if let Some((w, _)) = self.current.take() {
            let _ = w.close().await;
        }
        for f in &self.files {
            let p = self.wh.path(&format!("{}/{}", self.write_dir, f));
            let _ = self.wh.store.delete(&p).await;
        }
    }
}

/// Nulls per top-level column, summed over row groups (Delta's `nullCount` statistic).
pub(crate) fn null_counts(meta: &parquet::file::metadata::ParquetMetaData) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for rg in meta.row_groups() {
        for c in rg.columns() {
            let path = c.column_path().parts();
            if path.len() != 1 {
                continue;
            }
            if let Some(n) = c.statistics().and_then(|s| s.null_count_opt()) {
                *out.entry(path[0].clone()).or_insert(0) += n;
            }
        }
    }
    out
}

/// A run id: sortable by time, unique enough for concurrent runs.
pub fn new_run_id() -> String {
    use rand::Rng;
    let r: u32 = rand::thread_rng().gen();
    format!("{}-{:08x}", chrono::Utc::now().format("%Y%m%dT%H%M%S"), r)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn rows(v: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(v.to_vec()))]).unwrap()
    }

    async fn publish(wh: &Warehouse, m: &Manifests, table: &str, run: &str, slice: Option<(&str, bool)>, v: &[i64]) {
        let b = rows(v);
        let mut w = PartitionWriter::new(wh, m, "marts", table, "2025-01-01", run, b.schema(), 100);
        if let Some((owner, keep)) = slice {
            w = w.slice(owner, keep);
        }
        w.write(&b).await.unwrap();
        w.commit().await.unwrap();
    }

    /// Slices replace only their owner's files; a partition written whole before slices existed
    /// is kept as `_legacy` where rows are added to, replaced otherwise.
    #[tokio::test]
    async fn slices_replace_only_their_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let wh = Warehouse::open(&format!("file://{}", dir.path().display()), &Default::default()).unwrap();
        let m = Manifests::default();
        let check = |table: &str, rows: u64, slices: &[&str]| {
            let e = m.get("marts", table).unwrap().partitions["2025-01-01"].clone();
            assert_eq!(e.rows, rows, "{table}");
            assert_eq!(e.slices.keys().map(String::as_str).collect::<Vec<_>>(), slices, "{table}");
            // Replaced files stay on disk for time travel until a vacuum.
            for f in &e.files {
                assert!(dir.path().join(format!("marts/{table}/dt=2025-01-01/{f}")).exists(), "{table}: {f}");
            }
        };
        // Added-to rows (export runs): the old whole partition stays.
        publish(&wh, &m, "runs", "r1", None, &[1, 2]).await;
        publish(&wh, &m, "runs", "r2", Some(("sync-r2", true)), &[3]).await;
        check("runs", 3, &["_legacy", "sync-r2"]);
        publish(&wh, &m, "runs", "r3", Some(("sync-r3", true)), &[4]).await;
        check("runs", 4, &["_legacy", "sync-r2", "sync-r3"]);
        // Replaced rows (model metrics): the old whole partition goes; each owner replaces its own.
        publish(&wh, &m, "metrics", "r1", None, &[1, 2]).await;
        publish(&wh, &m, "metrics", "r2", Some(("clv", false)), &[3]).await;
        check("metrics", 1, &["clv"]);
        publish(&wh, &m, "metrics", "r3", Some(("churn_scores", false)), &[4, 5]).await;
        publish(&wh, &m, "metrics", "r4", Some(("clv", false)), &[6, 7, 8]).await;
        check("metrics", 5, &["churn_scores", "clv"]);
    }
}
