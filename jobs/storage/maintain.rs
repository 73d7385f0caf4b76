//! Keeping the Delta tables tidy: `vacuum` (files no snapshot within the retention needs) and
//! `migrate` (a warehouse of an older ecomwh, with JSON manifests, converted in place).

use futures::TryStreamExt;
use object_store::{ObjectStoreExt, PutPayload};
use parquet::file::metadata::ParquetMetaDataReader;

use super::delta::{self, AsOf, NewFile, Publish, Replace, LEGACY_SLICE};
use super::manifest::{TableManifest, LAYERS};
use super::warehouse::Warehouse;
use crate::error::{Error, Result};

/// What a vacuum did to one table.
#[derive(Debug, Clone)]
pub struct Vacuumed {
    pub table: String,
    pub files: usize,
}

/// Delete every file of every table that no snapshot younger than `retain_hours` needs:
/// replaced files and the leftovers of killed runs (which folder-globbing readers would see).
pub async fn vacuum(wh: &Warehouse, retain_hours: u32, dry_run: bool) -> Result<Vec<Vacuumed>> {
    let mut out = vec![];
    for (layer, table) in delta::list_tables(wh, LAYERS).await? {
        let name = format!("{layer}.{table}");
        let Some(t) = delta::open(wh, &layer, &table, AsOf::Latest).await? else { continue };
        let (_, metrics) = t
            .vacuum()
            .with_retention_period(chrono::Duration::hours(retain_hours.into()))
            .with_enforce_retention_duration(false)
            .with_mode(deltalake_core::operations::vacuum::VacuumMode::Full)
            .with_dry_run(dry_run)
            .await
            .map_err(|e| Error::Delta { table: name.clone(), source: Box::new(e) })?;
        tracing::info!(table = %name, files = metrics.files_deleted.len(), dry_run, "vacuumed");
        out.push(Vacuumed { table: name, files: metrics.files_deleted.len() });
    }
    Ok(out)
}

/// What `migrate` converted.
#[derive(Debug, Clone, Default)]
pub struct Migrated {
    pub tables: usize,
    pub partitions: usize,
    pub files: usize,
    /// Tables that already were Delta tables.
    pub skipped: usize,
}

const OLD_MANIFESTS: &str = "_state/tables";
const MIGRATED_MANIFESTS: &str = "_state/tables.migrated";

/// Convert a warehouse whose tables are listed by JSON manifests (`_state/tables/`) into Delta
/// tables, in place: each committed file is added as it is (no Parquet is rewritten), one
/// commit per partition. Tables that already have a Delta log are left alone, so a rerun after
/// an interruption finishes the job. The manifests are then moved to `_state/tables.migrated/`.
pub async fn migrate(wh: &Warehouse) -> Result<Migrated> {
    let prefix = wh.path(OLD_MANIFESTS);
    let metas: Vec<_> = wh.store.list(Some(&prefix)).try_collect().await.map_err(|e| Error::storage(prefix.to_string(), e))?;
    let mut done = Migrated::default();
    for meta in metas.iter().filter(|m| m.location.as_ref().ends_with(".json")) {
        let got = wh.store.get(&meta.location).await.map_err(|e| Error::storage(meta.location.to_string(), e))?;
        let bytes = got.bytes().await.map_err(|e| Error::storage(meta.location.to_string(), e))?;
        let m: TableManifest = serde_json::from_slice(&bytes).map_err(|source| Error::Json { what: meta.location.to_string(), source })?;
        if delta::open(wh, &m.layer, &m.table, AsOf::Latest).await?.is_some() {
            done.skipped += 1;
            continue;
        }
        let (partitions, files) = migrate_table(wh, &m).await?;
        tracing::info!(table = %format!("{}.{}", m.layer, m.table), partitions, files, "converted to a Delta table");
        done.tables += 1;
        done.partitions += partitions;
        done.files += files;
    }
    for meta in metas {
        let rel = wh.relative(&meta.location).unwrap_or_default().replacen(OLD_MANIFESTS, MIGRATED_MANIFESTS, 1);
        let body = wh.store.get(&meta.location).await.map_err(|e| Error::storage(meta.location.to_string(), e))?;
        let body = body.bytes().await.map_err(|e| Error::storage(meta.location.to_string(), e))?;
        wh.store.put(&wh.path(&rel), PutPayload::from(body)).await.map_err(|e| Error::storage(rel.clone(), e))?;
        wh.store.delete(&meta.location).await.map_err(|e| Error::storage(meta.location.to_string(), e))?;
    }
    wh.remove_dir(OLD_MANIFESTS).await;
    Ok(done)
}

/// One table in one commit (so a table either is converted whole or not at all), with the
/// newest partition's columns, which the older ones are read with.
async fn migrate_table(wh: &Warehouse, m: &TableManifest) -> Result<(usize, usize)> {
    let Some(newest) = m.partitions.iter().next_back() else { return Ok((0, 0)) };
    let Some(first) = newest.1.files.first() else { return Ok((0, 0)) };
    let (_, schema) = read_file(wh, &format!("{}/{}/dt={}/{first}", m.layer, m.table, newest.0)).await?;
    let mut adds = vec![];
    for (dt, entry) in &m.partitions {
        // Slices keep their owner; the rest is one whole publish.
        let mut groups: Vec<(Option<&String>, &Vec<String>)> = vec![];
        if entry.slices.is_empty() {
            groups.push((None, &entry.files));
        }
        for (owner, s) in &entry.slices {
            groups.push(((owner != LEGACY_SLICE).then_some(owner), &s.files));
        }
        for (owner, names) in groups {
            let replace = match owner {
                Some(o) => Replace::Slice { owner: o.clone(), keep_legacy: true },
                None => Replace::Whole,
            };
            let p = Publish { layer: &m.layer, table: &m.table, dt, schema: &schema, run_id: &entry.run_id, built_with: entry.built_with.as_deref(), replace };
            for name in names {
                let (f, _) = read_file(wh, &format!("{}/{}/dt={dt}/{name}", m.layer, m.table)).await?;
                adds.push(delta::add_action(&p, &NewFile { name: name.clone(), ..f }));
            }
        }
    }
    let files = adds.len();
    if !delta::create_table(wh, &m.layer, &m.table, &schema, adds).await? {
        return Err(Error::Usage(format!("{}.{}: another process created this table while it was being converted", m.layer, m.table)));
    }
    Ok((m.partitions.len(), files))
}

/// A committed file's facts for its Delta `add`: size, time, rows and nulls from its footer.
async fn read_file(wh: &Warehouse, rel: &str) -> Result<(NewFile, arrow::datatypes::SchemaRef)> {
    let path = wh.path(rel);
    let head = wh.store.head(&path).await.map_err(|e| Error::storage(path.to_string(), e))?;
    // The footer only: its length is in the last 8 bytes.
    let bad = |what: &str| Error::Usage(format!("{path}: not a Parquet file ({what})"));
    if head.size < 12 {
        return Err(bad("too short"));
    }
    let tail = wh.store.get_range(&path, head.size - 8..head.size).await.map_err(|e| Error::storage(path.to_string(), e))?;
    let len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if &tail[4..] != b"PAR1" || len + 8 > head.size {
        return Err(bad("no footer"));
    }
    let footer = wh.store.get_range(&path, head.size - 8 - len..head.size - 8).await.map_err(|e| Error::storage(path.to_string(), e))?;
    let meta = ParquetMetaDataReader::decode_metadata(&footer)?;
    let schema = parquet::arrow::parquet_to_arrow_schema(meta.file_metadata().schema_descr(), meta.file_metadata().key_value_metadata())?;
    let f = NewFile {
        name: path.filename().unwrap_or_default().to_string(),
        size: head.size,
        rows: meta.file_metadata().num_rows().max(0) as u64,
        null_counts: super::publish::null_counts(&meta),
        modified_ms: head.last_modified.timestamp_millis(),
    };
    Ok((f, std::sync::Arc::new(schema)))
}
