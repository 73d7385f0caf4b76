//! Atomic publishing of one table partition.
//!
//! Local folder: files are written under `_tmp/<run_id>/...`, then the partition folder is
//! swapped in with one `rename` (RENAME_EXCHANGE when an old one exists), so every reader,
//! ecomwh or DuckDB, sees the old partition or the new one, never a mix.
//! Object stores (no rename): files are written into the partition folder under names that
//! carry the run id; the partition switches when the table manifest is replaced by a
//! conditional put; ecomwh's readers list only committed files. Superseded and orphaned
//! files are deleted after the commit.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::{StreamExt, TryStreamExt};
use object_store::buffered::BufWriter;
use object_store::ObjectStoreExt;
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::manifest::{Manifests, PartitionEntry, Slice};
use super::warehouse::Warehouse;
use crate::error::{fail_point, Error, Result};

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
        let write_dir = if wh.is_local() { format!("_tmp/{run_id}/{layer}/{table}/dt={dt}") } else { format!("{layer}/{table}/dt={dt}") };
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
            rows: 0,
            built_with: None,
            slice: None,
            scratch: false,
        }
    }

    /// Publish only `owner`'s slice of the partition: the other owners' files stay (the jobs
    /// that each add their models' rows to `marts.model_metrics`, export runs of a day). Its
    /// files carry the owner's name, and are moved into the partition folder one by one.
    pub fn slice(mut self, owner: &str, keep_legacy: bool) -> Self {
        if self.wh.is_local() {
            self.write_dir = format!("{}/{owner}", self.write_dir);
        }
        self.slice = Some((owner.to_string(), keep_legacy));
        self
    }

    /// Record in the manifest what the partition was computed with (see `PartitionEntry`).
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
            w.close().await?;
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
        let entry = PartitionEntry {
            files: self.files.clone(),
            rows: self.rows,
            run_id: self.run_id.clone(),
            committed_at: chrono::Utc::now().to_rfc3339(),
            built_with: self.built_with.clone(),
            slices: Default::default(),
        };
        let final_dir = format!("{}/{}/dt={}", self.layer, self.table, self.dt);
        if let Some((owner, keep_legacy)) = self.slice.clone() {
            let target = SliceTarget {
                wh: self.wh.clone(),
                manifests: self.manifests.clone(),
                layer: self.layer.clone(),
                table: self.table.clone(),
                dt: self.dt.clone(),
            };
            commit_slice(target, &owner, keep_legacy, &self.write_dir, &self.files, &final_dir, entry).await?;
        } else if self.wh.is_local() {
            let tmp = self.wh.local_path(&self.write_dir).expect("local");
            let dst = self.wh.local_path(&final_dir).expect("local");
            let had_old = swap_in_dir(&tmp, &dst)?;
            self.manifests.commit(&self.wh, &self.layer, &self.table, &self.dt, entry).await?;
            // `tmp` now holds the previous partition; failing to remove it only leaves scratch.
            if had_old {
                if let Err(e) = std::fs::remove_dir_all(&tmp) {
                    tracing::warn!(error = %e, folder = %tmp.display(), "could not remove the replaced partition");
                }
            }
        } else {
            self.manifests.commit(&self.wh, &self.layer, &self.table, &self.dt, entry).await?;
            delete_uncommitted(&self.wh, &self.files, &final_dir).await;
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

/// The partition a slice is committed to (owned, so the commit future does not hold the writer).
struct SliceTarget {
    wh: Warehouse,
    manifests: Manifests,
    layer: String,
    table: String,
    dt: String,
}

async fn commit_slice(t: SliceTarget, owner: &str, keep_legacy: bool, write_dir: &str, files: &[String], final_dir: &str, entry: PartitionEntry) -> Result<()> {
    if t.wh.is_local() {
        let (Some(tmp), Some(dst)) = (t.wh.local_path(write_dir), t.wh.local_path(final_dir)) else {
            return Err(Error::Usage(format!("{final_dir}: not a local folder")));
        };
        std::fs::create_dir_all(&dst)?;
        // New names (the run id is in them): a reader listing the folder meanwhile sees
        // the owner's old files and, for an instant, some new ones; ecomwh's own readers
        // list only what the manifest commits.
        for f in files {
            std::fs::rename(tmp.join(f), dst.join(f))?;
        }
        let _ = std::fs::remove_dir_all(&tmp);
    }
    let slice = Slice { files: entry.files, rows: entry.rows, run_id: entry.run_id, committed_at: entry.committed_at };
    let obsolete = match t.manifests.commit_slice(&t.wh, &t.layer, &t.table, &t.dt, owner, slice, keep_legacy).await {
        Ok(o) => o,
        Err(e) => {
            // Not committed: the files moved (or written) into the folder must not stay there
            // for readers that glob it.
            for f in files {
                let _ = t.wh.store.delete(&t.wh.path(&format!("{final_dir}/{f}"))).await;
            }
            return Err(e);
        }
    };
    // The owner's replaced files, and its orphans from killed attempts (one writer per
    // owner at a time, as for whole partitions).
    let marker = format!("-{owner}-");
    delete_files_where(&t.wh, final_dir, |name| obsolete.iter().any(|o| o == name) || (name.contains(&marker) && !files.iter().any(|f| f == name))).await;
    Ok(())
}

/// After a commit, remove every file of the partition folder that the commit does not list:
/// the replaced version and orphans of killed runs (which globbing engines would otherwise
/// read). This assumes one writer per partition at a time, as the DAG runs it
/// (max_active_runs=1; a retry starts after the failed attempt has ended). Failures only
/// leave garbage that ecomwh's readers never see.
async fn delete_uncommitted(wh: &Warehouse, keep: &[String], final_dir: &str) {
    delete_files_where(wh, final_dir, |name| !keep.iter().any(|k| k == name)).await;
}

/// Best-effort deletion of the files of `dir` whose names `doomed` picks (failures only leave
/// garbage that ecomwh's readers never see).
async fn delete_files_where(wh: &Warehouse, dir: &str, doomed: impl Fn(&str) -> bool) {
    let prefix = wh.path(dir);
    let listed: Vec<_> = match wh.store.list(Some(&prefix)).try_collect().await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "could not list {prefix} for clean-up");
            return;
        }
    };
    for meta in listed.into_iter().filter(|m| doomed(m.location.filename().unwrap_or_default())) {
        if let Err(e) = wh.store.delete(&meta.location).await {
            tracing::warn!(error = %e, file = %meta.location, "could not delete superseded file");
        }
    }
}

/// Put `tmp` at `dst` in one step. An existing `dst` is exchanged atomically (it is then at
/// `tmp`); returns whether there was one.
fn swap_in_dir(tmp: &std::path::Path, dst: &std::path::Path) -> Result<bool> {
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if !dst.exists() {
        std::fs::rename(tmp, dst)?;
        return Ok(false);
    }
    exchange(tmp, dst)?;
    Ok(true)
}

#[cfg(target_os = "linux")]
fn exchange(a: &std::path::Path, b: &std::path::Path) -> Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes()).map_err(|e| Error::Io(e.into()))?;
    let cb = CString::new(b.as_os_str().as_bytes()).map_err(|e| Error::Io(e.into()))?;
    // SAFETY: both are valid NUL-terminated paths; renameat2 only reads them.
    let rc = unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) };
    if rc != 0 {
        return Err(Error::Io(std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn exchange(a: &std::path::Path, b: &std::path::Path) -> Result<()> {
    // No atomic exchange here: move the old folder aside first (brief gap, never a mix).
    let aside = b.with_extension("old");
    std::fs::rename(b, &aside)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&aside, a)?;
    Ok(())
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
    /// is kept as `_legacy` where rows are added to, replaced otherwise; the folder holds
    /// exactly the listed files.
    #[tokio::test]
    async fn slices_replace_only_their_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let wh = Warehouse::open(&format!("file://{}", dir.path().display()), &Default::default()).unwrap();
        let m = Manifests::default();
        let check = |table: &str, rows: u64, slices: &[&str]| {
            let e = m.get("marts", table).unwrap().partitions["2025-01-01"].clone();
            assert_eq!(e.rows, rows, "{table}");
            assert_eq!(e.slices.keys().map(String::as_str).collect::<Vec<_>>(), slices, "{table}");
            let mut on_disk: Vec<String> = std::fs::read_dir(dir.path().join(format!("marts/{table}/dt=2025-01-01")))
                .unwrap()
                .map(|f| f.unwrap().file_name().to_string_lossy().to_string())
                .collect();
            on_disk.sort();
            let mut listed = e.files.clone();
            listed.sort();
            assert_eq!(on_disk, listed, "{table}");
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
