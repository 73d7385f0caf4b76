//! Raw file writers for the generator: CSV, JSONL, JSONL.gz and Parquet, rolling to a new
//! part file every `rows_per_file` rows and streaming bytes to the store as they are made.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use object_store::buffered::BufWriter;
use parquet::arrow::AsyncArrowWriter;
use tokio::io::AsyncWriteExt;

use crate::error::Result;
use crate::storage::warehouse::Warehouse;

const FLUSH_BYTES: usize = 4 << 20;

/// How a row should be damaged when written (formats differ in what they can express).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    None,
    /// CSV: a field short; JSON: the line cut in half.
    Malformed,
}

enum Body {
    Csv(Vec<u8>),
    Json(Vec<u8>),
    JsonGz(flate2::write::GzEncoder<Vec<u8>>),
    Parquet { writer: AsyncArrowWriter<BufWriter>, builders: Vec<StringBuilder>, pending: usize },
}

struct OpenFile {
    rel: String,
    sink: Option<BufWriter>,
    body: Body,
    rows: usize,
}

/// Writes one raw table for one day.
pub struct TableSink {
    wh: Warehouse,
    dir: String,
    format: String,
    columns: Vec<String>,
    rows_per_file: usize,
    part: usize,
    file: Option<OpenFile>,
    pub rows: u64,
}

impl TableSink {
    pub fn new(wh: &Warehouse, table: &str, dt: &str, format: &str, columns: Vec<String>, rows_per_file: usize) -> Self {
        TableSink {
            wh: wh.clone(),
            dir: format!("raw/{table}/dt={dt}"),
            format: format.to_string(),
            columns,
            rows_per_file: rows_per_file.max(1),
            part: 0,
            file: None,
            rows: 0,
        }
    }

    fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(self.columns.iter().map(|c| Field::new(c, DataType::Utf8, true)).collect::<Vec<_>>()))
    }

    fn open(&mut self) -> Result<()> {
        let ext = self.format.as_str();
        let rel = format!("{}/part-{:05}.{ext}", self.dir, self.part);
        self.part += 1;
        let path = self.wh.path(&rel);
        let store = self.wh.store.clone();
        let (sink, body) = match ext {
            "csv" => {
                let mut w = csv::Writer::from_writer(vec![]);
                w.write_record(&self.columns).map_err(csv_err)?;
                let bytes = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
                (Some(BufWriter::new(store, path)), Body::Csv(bytes))
            }
            "jsonl" => (Some(BufWriter::new(store, path)), Body::Json(vec![])),
            "jsonl.gz" => (Some(BufWriter::new(store, path)), Body::JsonGz(flate2::write::GzEncoder::new(vec![], flate2::Compression::fast()))),
            _ => {
                let schema = self.schema();
                let writer = AsyncArrowWriter::try_new(BufWriter::new(store, path), schema, None)?;
                let builders = self.columns.iter().map(|_| StringBuilder::new()).collect();
                (None, Body::Parquet { writer, builders, pending: 0 })
            }
        };
        self.file = Some(OpenFile { rel, sink, body, rows: 0 });
        Ok(())
    }

    /// Write one row (values aligned with the columns). Returns (file, line) as the staging
    /// reader will report them.
    pub async fn write(&mut self, values: &[Option<String>], damage: Damage) -> Result<(String, u64)> {
        if self.file.is_none() {
            self.open()?;
        }
        let columns = self.columns.clone();
        let f = self.file.as_mut().expect("open");
        f.rows += 1;
        self.rows += 1;
        let line = match &f.body {
            Body::Csv(_) => f.rows as u64 + 1, // the header is line 1
            _ => f.rows as u64,
        };
        let rel = f.rel.clone();
        match &mut f.body {
            Body::Csv(buf) => {
                let mut w = csv::WriterBuilder::new().flexible(true).from_writer(vec![]);
                let fields: Vec<&str> = values.iter().map(|v| v.as_deref().unwrap_or("")).collect();
                let fields = if damage == Damage::Malformed { &fields[..fields.len() - 1] } else { &fields[..] };
                w.write_record(fields).map_err(csv_err)?;
                buf.extend_from_slice(&w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?);
            }
            Body::Json(_) | Body::JsonGz(_) => {
                let mut map = serde_json::Map::new();
                for (c, v) in columns.iter().zip(values) {
                    if let Some(v) = v {
                        map.insert(c.clone(), json_value(c, v));
                    }
                }
                let mut text = serde_json::Value::Object(map).to_string();
                if damage == Damage::Malformed {
                    text.truncate(text.len() / 2);
                }
                text.push('\n');
                match &mut f.body {
                    Body::Json(buf) => buf.extend_from_slice(text.as_bytes()),
                    Body::JsonGz(gz) => gz.write_all(text.as_bytes())?,
                    _ => unreachable!(),
                }
            }
            Body::Parquet { builders, pending, .. } => {
                for (b, v) in builders.iter_mut().zip(values) {
                    b.append_option(v.as_deref());
                }
                *pending += 1;
            }
        }
        self.flush_some(false).await?;
        if self.file.as_ref().map(|f| f.rows).unwrap_or(0) >= self.rows_per_file {
            self.close_file().await?;
        }
        Ok((rel, line))
    }

    async fn flush_some(&mut self, force: bool) -> Result<()> {
        let schema = self.schema();
        let Some(f) = self.file.as_mut() else { return Ok(()) };
        match &mut f.body {
            Body::Csv(buf) | Body::Json(buf) => {
                if force || buf.len() >= FLUSH_BYTES {
                    let sink = f.sink.as_mut().expect("text sink");
                    sink.write_all(buf).await?;
                    buf.clear();
                }
            }
            Body::JsonGz(gz) => {
                if force {
                    gz.flush()?;
                }
                let buf = gz.get_mut();
                if force || buf.len() >= FLUSH_BYTES {
                    let bytes = std::mem::take(buf);
                    f.sink.as_mut().expect("gz sink").write_all(&bytes).await?;
                }
            }
            Body::Parquet { writer, builders, pending } => {
                if *pending > 0 && (force || *pending >= 8192) {
                    let arrays: Vec<ArrayRef> = builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
                    writer.write(&RecordBatch::try_new(schema, arrays)?).await?;
                    *pending = 0;
                }
            }
        }
        Ok(())
    }

    async fn close_file(&mut self) -> Result<()> {
        self.flush_some(true).await?;
        let Some(f) = self.file.take() else { return Ok(()) };
        match f.body {
            Body::Csv(_) | Body::Json(_) => {
                f.sink.expect("sink").shutdown().await?;
            }
            Body::JsonGz(gz) => {
                let rest = gz.finish()?;
                let mut sink = f.sink.expect("sink");
                sink.write_all(&rest).await?;
                sink.shutdown().await?;
            }
            Body::Parquet { writer, .. } => {
                writer.close().await?;
            }
        }
        Ok(())
    }

    /// Finish the day's files. A day without rows still gets one (empty) file, the way a
    /// feed delivers an empty extract.
    pub async fn finish(mut self) -> Result<u64> {
        if self.part == 0 && self.file.is_none() {
            self.open()?;
        }
        self.close_file().await?;
        Ok(self.rows)
    }
}

/// Numbers and booleans as JSON numbers and booleans, the way real JSON feeds send them.
fn json_value(column: &str, v: &str) -> serde_json::Value {
    const NUMERIC: &[&str] = &["price", "total_amount", "discount_amount", "shipping_amount", "quantity", "unit_price", "discount", "line_no", "birth_year"];
    if NUMERIC.contains(&column) {
        if let Ok(n) = v.parse::<i64>() {
            return serde_json::Value::from(n);
        }
        if let Ok(x) = v.parse::<f64>() {
            if let Some(n) = serde_json::Number::from_f64(x) {
                // Keep the two decimals of money as written.
                if let Ok(n) = serde_json::from_str::<serde_json::Number>(v) {
                    return serde_json::Value::Number(n);
                }
                return serde_json::Value::Number(n);
            }
        }
    }
    if column == "marketing_consent" && (v == "true" || v == "false") {
        return serde_json::Value::Bool(v == "true");
    }
    serde_json::Value::String(v.to_string())
}

fn csv_err(e: csv::Error) -> std::io::Error {
    std::io::Error::other(e.to_string())
}
