//! Files for any other tool: the whole audience (minus the holdout) as CSV and Parquet under
//! `exports/<destination>/<audience>/dt=D/`, with the columns email tools import: email,
//! first_name, last_name, then the audience's other fields. Each file is written whole (a put
//! is atomic), and a rerun of the date replaces them.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use async_trait::async_trait;
use object_store::{ObjectStoreExt, PutPayload};
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::destination::{BatchResult, Contact, Destination, DestinationConfig, Limits, Purpose, Removal, SyncCtx};
use super::sender::{HttpRequest, SendError, Sender};
use crate::error::{Error, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// Which files: "csv", "parquet" or both (default).
    #[serde(default = "both")]
    formats: Vec<String>,
}

fn both() -> Vec<String> {
    vec!["csv".into(), "parquet".into()]
}

pub struct FileExport {
    s: Settings,
}

pub fn build(cfg: &DestinationConfig, _purpose: Purpose) -> Result<Box<dyn Destination>> {
    let s: Settings = cfg.settings()?;
    for f in &s.formats {
        if f != "csv" && f != "parquet" {
            return Err(Error::Config(format!("[destinations.{}] formats: '{f}' is not csv or parquet", cfg.name)));
        }
    }
    Ok(Box::new(FileExport { s }))
}

impl FileExport {
    fn dir(cx: &SyncCtx) -> String {
        format!("exports/{}/{}/dt={}", cx.destination, cx.audience, cx.dt)
    }
}

/// Columns: email, first_name, last_name, then the other fields in order of first appearance.
fn table(contacts: &[Contact]) -> Result<RecordBatch> {
    let parsed: Vec<(Option<String>, Option<String>, serde_json::Map<String, Value>)> = contacts.iter().map(|c| c.fields()).collect();
    let mut extra: Vec<String> = vec![];
    for (_, _, rest) in &parsed {
        for k in rest.keys() {
            if !extra.contains(k) {
                extra.push(k.clone());
            }
        }
    }
    let text = |v: &Value| match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    let mut fields =
        vec![Field::new("email", DataType::Utf8, false), Field::new("first_name", DataType::Utf8, true), Field::new("last_name", DataType::Utf8, true)];
    let mut cols: Vec<ArrayRef> = vec![
        Arc::new(contacts.iter().map(|c| Some(c.email.as_str())).collect::<StringArray>()),
        Arc::new(parsed.iter().map(|p| p.0.as_deref()).collect::<StringArray>()),
        Arc::new(parsed.iter().map(|p| p.1.as_deref()).collect::<StringArray>()),
    ];
    for k in &extra {
        fields.push(Field::new(k, DataType::Utf8, true));
        cols.push(Arc::new(parsed.iter().map(|p| p.2.get(k).and_then(text)).collect::<StringArray>()));
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

#[async_trait]
impl Destination for FileExport {
    fn limits(&self) -> Limits {
        Limits { batch: usize::MAX, max_bytes: usize::MAX, remove_batch: usize::MAX, concurrency: 1 }
    }

    fn secrets(&self) -> Vec<String> {
        vec![]
    }

    fn upsert_request(&self, cx: &SyncCtx, batch: &[Contact]) -> HttpRequest {
        let mut csv = Vec::new();
        if let Ok(t) = table(batch) {
            let _ = arrow::csv::Writer::new(&mut csv).write(&t);
        }
        let url = format!("{}/{}/{}.csv", cx.wh.url, Self::dir(cx), cx.audience);
        HttpRequest::new(Method::PUT, url).body_bytes("text/csv", csv)
    }

    async fn upsert(&self, _cx: &SyncCtx, _s: &Sender, _batch: &[Contact]) -> Result<BatchResult, SendError> {
        Err(SendError::Rejected { status: 0, message: "file exports write the whole audience at once".into() })
    }

    fn remove_request(&self, cx: &SyncCtx, _batch: &[Removal]) -> HttpRequest {
        self.upsert_request(cx, &[])
    }

    async fn remove(&self, _cx: &SyncCtx, _s: &Sender, _batch: &[Removal]) -> Result<BatchResult, SendError> {
        Err(SendError::Rejected { status: 0, message: "file exports write the whole audience at once".into() })
    }

    async fn write_all(&self, cx: &SyncCtx, contacts: &[Contact]) -> Option<Result<u64>> {
        Some(self.write_files(cx, contacts).await)
    }
}

impl FileExport {
    async fn write_files(&self, cx: &SyncCtx, contacts: &[Contact]) -> Result<u64> {
        let t = table(contacts)?;
        let dir = Self::dir(cx);
        for format in &self.s.formats {
            let mut bytes = Vec::new();
            if format == "csv" {
                arrow::csv::Writer::new(&mut bytes).write(&t)?;
            } else {
                let mut w = parquet::arrow::ArrowWriter::try_new(&mut bytes, t.schema(), None)?;
                w.write(&t)?;
                w.close()?;
            }
            let p = cx.wh.path(&format!("{dir}/{}.{format}", cx.audience));
            cx.wh.store.put(&p, PutPayload::from(bytes)).await.map_err(|e| Error::storage(p.to_string(), e))?;
        }
        Ok(contacts.len() as u64)
    }
}
