//! What a destination holds after the last confirmed requests of each (destination, audience):
//! a snapshot under `_state/exports/<destination>/<audience>/contacts.parquet` and a journal of
//! confirmed batches beside it. A batch is journaled as soon as the destination confirmed it,
//! so a sync killed midway resumes from snapshot + journal without resending what was confirmed.
//! Replaying the journal is idempotent (each entry sets or deletes one contact), so a crash
//! between writing a new snapshot and deleting the journal loses nothing.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::storage::warehouse::Warehouse;

/// One contact as the destination holds it after our confirmed requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Synced {
    pub customer_id: String,
    /// Hash of the fields sent: a changed hash means an update is due.
    pub hash: String,
    /// The destination's id for the contact, when it has one we need for removals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    /// True when this sync created the contact (mirror mode removes only those).
    pub added: bool,
}

/// One journal entry: set a contact, or forget it (removed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalOp {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Synced>,
}

#[derive(Debug, Serialize, Deserialize)]
struct JournalFile {
    ops: Vec<JournalOp>,
}

pub struct SyncState {
    dir: String,
    pub contacts: HashMap<String, Synced>,
    /// Journal entries found at load: an earlier sync stopped before it finished.
    pub resumed_ops: usize,
    journal: Vec<Path>,
    /// Prefix of this process's journal files (time-ordered), and their counter.
    session: String,
    seq: usize,
}

fn err(p: &Path, e: object_store::Error) -> Error {
    Error::storage(p.to_string(), e)
}

impl SyncState {
    pub fn dir(destination: &str, audience: &str) -> String {
        format!("_state/exports/{destination}/{audience}")
    }

    pub async fn load(wh: &Warehouse, destination: &str, audience: &str) -> Result<SyncState> {
        let dir = Self::dir(destination, audience);
        let snap = wh.path(&format!("{dir}/contacts.parquet"));
        let mut contacts = HashMap::new();
        match wh.store.get(&snap).await {
            Ok(r) => {
                let bytes = r.bytes().await.map_err(|e| err(&snap, e))?;
                read_snapshot(bytes, &mut contacts)?;
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(err(&snap, e)),
        }
        let prefix = wh.path(&format!("{dir}/journal"));
        let mut journal: Vec<Path> = wh.store.list(Some(&prefix)).map_ok(|m| m.location).try_collect().await.map_err(|e| err(&prefix, e))?;
        journal.sort();
        let mut resumed_ops = 0;
        for p in &journal {
            let bytes = wh.store.get(p).await.map_err(|e| err(p, e))?.bytes().await.map_err(|e| err(p, e))?;
            let file: JournalFile = serde_json::from_slice(&bytes).map_err(|source| Error::Json { what: p.to_string(), source })?;
            resumed_ops += file.ops.len();
            for op in file.ops {
                apply(&mut contacts, op);
            }
        }
        let session = format!("{:013}", chrono::Utc::now().timestamp_millis());
        Ok(SyncState { dir, contacts, resumed_ops, journal, session, seq: 0 })
    }

    /// Record a confirmed batch durably, then apply it.
    pub async fn confirm(&mut self, wh: &Warehouse, ops: Vec<JournalOp>) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        self.seq += 1;
        let p = wh.path(&format!("{}/journal/{}-{:07}.json", self.dir, self.session, self.seq));
        let file = JournalFile { ops };
        let body = serde_json::to_vec(&file).map_err(|source| Error::Json { what: "journal".into(), source })?;
        wh.store.put(&p, PutPayload::from(body)).await.map_err(|e| err(&p, e))?;
        self.journal.push(p);
        for op in file.ops {
            apply(&mut self.contacts, op);
        }
        crate::error::pause_point(&format!("export:batch_confirmed:{}", self.seq));
        Ok(())
    }

    /// Fold the journal into a new snapshot (written atomically), then delete the journal.
    pub async fn compact(&mut self, wh: &Warehouse) -> Result<()> {
        if self.journal.is_empty() {
            return Ok(());
        }
        let snap = wh.path(&format!("{}/contacts.parquet", self.dir));
        let bytes = write_snapshot(&self.contacts)?;
        wh.store.put(&snap, PutPayload::from(bytes)).await.map_err(|e| err(&snap, e))?;
        for p in self.journal.drain(..) {
            match wh.store.delete(&p).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(err(&p, e)),
            }
        }
        Ok(())
    }
}

fn apply(contacts: &mut HashMap<String, Synced>, op: JournalOp) {
    match op.set {
        Some(s) => {
            contacts.insert(op.email, s);
        }
        None => {
            contacts.remove(&op.email);
        }
    }
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("email", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("hash", DataType::Utf8, false),
        Field::new("remote_id", DataType::Utf8, true),
        Field::new("added", DataType::Boolean, false),
    ]))
}

fn write_snapshot(contacts: &HashMap<String, Synced>) -> Result<Vec<u8>> {
    let mut rows: Vec<(&String, &Synced)> = contacts.iter().collect();
    rows.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema(), None)?;
    for chunk in rows.chunks(100_000) {
        let batch = RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(chunk.iter().map(|(e, _)| Some(e.as_str())).collect::<StringArray>()),
                Arc::new(chunk.iter().map(|(_, s)| Some(s.customer_id.as_str())).collect::<StringArray>()),
                Arc::new(chunk.iter().map(|(_, s)| Some(s.hash.as_str())).collect::<StringArray>()),
                Arc::new(chunk.iter().map(|(_, s)| s.remote_id.as_deref()).collect::<StringArray>()),
                Arc::new(chunk.iter().map(|(_, s)| Some(s.added)).collect::<BooleanArray>()),
            ],
        )?;
        w.write(&batch)?;
    }
    w.close()?;
    Ok(out)
}

fn read_snapshot(bytes: Bytes, into: &mut HashMap<String, Synced>) -> Result<()> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
    for batch in reader {
        let batch = batch?;
        let s = |i: usize| batch.column(i).as_string::<i32>().clone();
        let (email, cid, hash, remote) = (s(0), s(1), s(2), s(3));
        let added = batch.column(4).as_boolean().clone();
        for i in 0..batch.num_rows() {
            into.insert(
                email.value(i).to_string(),
                Synced {
                    customer_id: cid.value(i).to_string(),
                    hash: hash.value(i).to_string(),
                    remote_id: (!remote.is_null(i)).then(|| remote.value(i).to_string()),
                    added: added.value(i),
                },
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synced(h: &str) -> Synced {
        Synced { customer_id: "c1".into(), hash: h.into(), remote_id: Some("r1".into()), added: true }
    }

    #[tokio::test]
    async fn journal_survives_a_crash_and_compacts() {
        let wh = Warehouse::open("memory://", &Default::default()).unwrap();
        let mut s = SyncState::load(&wh, "d", "a").await.unwrap();
        s.confirm(&wh, vec![JournalOp { email: "a@x.io".into(), set: Some(synced("h1")) }]).await.unwrap();
        s.confirm(&wh, vec![JournalOp { email: "b@x.io".into(), set: Some(synced("h2")) }]).await.unwrap();
        // "Crash": a new load sees both confirmed batches.
        let mut again = SyncState::load(&wh, "d", "a").await.unwrap();
        assert_eq!(again.contacts.len(), 2);
        assert_eq!(again.resumed_ops, 2);
        again.confirm(&wh, vec![JournalOp { email: "a@x.io".into(), set: None }]).await.unwrap();
        again.compact(&wh).await.unwrap();
        let last = SyncState::load(&wh, "d", "a").await.unwrap();
        assert_eq!(last.resumed_ops, 0);
        assert_eq!(last.contacts.len(), 1);
        assert_eq!(last.contacts["b@x.io"], synced("h2"));
    }
}
