//! Reading raw inputs (CSV, headerless TSV, JSON lines, gzipped or not; Parquet) into
//! "landing" Parquet files.
//!
//! Every raw row becomes one landing row: the asked-for columns as text (NULL when absent),
//! the row's raw text, a parse error if the row could not be read, and its file and line.
//! Nothing is dropped here; the staging SQL decides what is valid. Which files a night has
//! is the sources' business (`crate::sources`).
//! Files are streamed, so memory stays bounded whatever their size.

use std::io::{BufRead, Read};
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Builder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use futures::StreamExt;
use object_store::ObjectMeta;
#[allow(deprecated)] // its replacement (a hand-written AsyncFileReader) buys nothing here
use parquet::arrow::async_reader::ParquetObjectReader;
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use tokio::sync::mpsc;

use super::manifest::Manifests;
use super::publish::PartitionWriter;
use super::warehouse::Warehouse;
use crate::error::{Error, Result};

const BATCH_ROWS: usize = 8192;

/// Raw file formats, by file name ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFormat {
    Csv,
    Jsonl,
    JsonlGz,
    Parquet,
    /// Tab-separated lines without a header, in the preset's column order (Snowplow's
    /// enriched events).
    Tsv,
}

impl RawFormat {
    pub fn from_name(name: &str) -> Option<RawFormat> {
        let n = name.to_ascii_lowercase();
        if n.ends_with(".csv") {
            Some(RawFormat::Csv)
        } else if n.ends_with(".jsonl") || n.ends_with(".json") || n.ends_with(".ndjson") {
            Some(RawFormat::Jsonl)
        } else if n.ends_with(".jsonl.gz") || n.ends_with(".json.gz") || n.ends_with(".ndjson.gz") {
            Some(RawFormat::JsonlGz)
        } else if n.ends_with(".parquet") {
            Some(RawFormat::Parquet)
        } else if n.ends_with(".tsv") || n.ends_with(".tsv.gz") {
            Some(RawFormat::Tsv)
        } else {
            None
        }
    }
}

/// Columns `names` as text, then the row's raw text, parse error, file, line and delivery order.
pub fn feed_schema(names: &[String]) -> SchemaRef {
    let mut fields: Vec<Field> = names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect();
    fields.push(Field::new("_raw", DataType::Utf8, true));
    fields.push(Field::new("_error", DataType::Utf8, true));
    fields.push(Field::new("_file", DataType::Utf8, false));
    fields.push(Field::new("_line", DataType::Int64, false));
    // Delivery order: files by modification time then name, rows by line. Breaks "latest" ties.
    fields.push(Field::new("_seq", DataType::Int64, false));
    Arc::new(Schema::new(fields))
}

/// Builds landing batches row by row.
struct Rows {
    schema: SchemaRef,
    cols: Vec<StringBuilder>,
    raw: StringBuilder,
    error: StringBuilder,
    file: StringBuilder,
    line: Int64Builder,
    seq: Int64Builder,
    file_name: String,
    file_seq: i64,
    n: usize,
}

impl Rows {
    fn new(schema: SchemaRef, ncols: usize, file_name: &str, file_seq: usize) -> Self {
        Rows {
            schema,
            cols: (0..ncols).map(|_| StringBuilder::new()).collect(),
            raw: StringBuilder::new(),
            error: StringBuilder::new(),
            file: StringBuilder::new(),
            line: Int64Builder::new(),
            seq: Int64Builder::new(),
            file_name: file_name.to_string(),
            file_seq: file_seq as i64,
            n: 0,
        }
    }

    fn push(&mut self, values: &[Option<&str>], raw: &str, error: Option<&str>, line: u64) {
        // A blank cell is a missing value, whatever the format (CSV has no other NULL).
        for (b, v) in self.cols.iter_mut().zip(values) {
            b.append_option(v.filter(|s| !s.trim().is_empty()));
        }
        self.raw.append_value(raw);
        self.error.append_option(error);
        self.file.append_value(&self.file_name);
        self.line.append_value(line as i64);
        self.seq.append_value((self.file_seq << 40) + line as i64);
        self.n += 1;
    }

    fn take(&mut self) -> Result<Option<RecordBatch>> {
        if self.n == 0 {
            return Ok(None);
        }
        let mut arrays: Vec<ArrayRef> = self.cols.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        arrays.push(Arc::new(self.raw.finish()));
        arrays.push(Arc::new(self.error.finish()));
        arrays.push(Arc::new(self.file.finish()));
        arrays.push(Arc::new(self.line.finish()));
        arrays.push(Arc::new(self.seq.finish()));
        self.n = 0;
        Ok(Some(RecordBatch::try_new(self.schema.clone(), arrays)?))
    }
}

type Tx = mpsc::Sender<Result<RecordBatch>>;

fn send(tx: &Tx, rows: &mut Rows) -> bool {
    match rows.take() {
        Ok(Some(b)) => tx.blocking_send(Ok(b)).is_ok(),
        Ok(None) => true,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            false
        }
    }
}

/// JSON value as the text a CSV cell would hold.
fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// A key of the object, or a dotted path into nested objects (`context.page.url`) when the
/// object has no key with the whole name.
fn lookup<'a>(map: &'a serde_json::Map<String, serde_json::Value>, name: &str) -> Option<&'a serde_json::Value> {
    if let Some(v) = map.get(name) {
        return Some(v);
    }
    let mut parts = name.split('.');
    let mut v = map.get(parts.next()?)?;
    for p in parts {
        v = v.as_object()?.get(p)?;
    }
    Some(v)
}

/// Each line of `reader` with its number (end of line removed, empty lines skipped) into `f`;
/// batches are sent as they fill. A read error is sent and ends the file.
fn each_line(mut reader: impl BufRead, mut rows: Rows, tx: Tx, mut f: impl FnMut(&[u8], u64, &mut Rows)) {
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let _ = tx.blocking_send(Err(Error::Io(e)));
                return;
            }
        }
        line_no += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        if buf.is_empty() {
            continue;
        }
        f(&buf, line_no, &mut rows);
        if rows.n >= BATCH_ROWS && !send(&tx, &mut rows) {
            return;
        }
    }
    send(&tx, &mut rows);
}

/// JSON lines; with an `envelope` key, a line that is `{"<envelope>": {...}}` alone (an API's
/// single-object response) is read as the object inside.
fn parse_jsonl(reader: impl BufRead, names: &[String], envelope: Option<&str>, rows: Rows, tx: Tx) {
    let none: Vec<Option<&str>> = vec![None; names.len()];
    each_line(reader, rows, tx, |buf, line_no, rows| {
        if buf.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        let raw = String::from_utf8_lossy(buf);
        match serde_json::from_slice::<serde_json::Value>(buf) {
            Ok(serde_json::Value::Object(mut map)) => {
                if let Some(k) = envelope {
                    if map.len() == 1 && map.get(k).is_some_and(|v| v.is_object()) {
                        if let Some(serde_json::Value::Object(inner)) = map.remove(k) {
                            map = inner;
                        }
                    }
                }
                let texts: Vec<Option<String>> = names.iter().map(|n| lookup(&map, n).and_then(json_text)).collect();
                let vals: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
                rows.push(&vals, &raw, None, line_no);
            }
            Ok(_) => rows.push(&none, &raw, Some("malformed JSON line: not a JSON object"), line_no),
            Err(e) => {
                let msg = format!("malformed JSON line: {e}");
                rows.push(&none, &raw, Some(&msg), line_no)
            }
        }
    });
}

fn parse_csv(reader: impl Read, names: &[String], mut rows: Rows, tx: Tx) {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(reader);
    let headers = match rdr.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            let _ = tx.blocking_send(Err(Error::MissingInput(format!("{}: unreadable CSV header: {e}", rows.file_name))));
            return;
        }
    };
    // A spreadsheet's UTF-8 byte order mark would otherwise stick to the first name.
    let header_names: Vec<String> = headers.iter().map(|h| String::from_utf8_lossy(h).trim_start_matches('\u{feff}').trim().to_string()).collect();
    let index: Vec<Option<usize>> = names.iter().map(|n| header_names.iter().position(|h| h == n)).collect();
    let mut record = csv::ByteRecord::new();
    let none: Vec<Option<&str>> = vec![None; names.len()];
    loop {
        let line_no = rdr.position().line();
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if e.is_io_error() => {
                // The file could not be read to its end: fail, never report a short file as whole.
                let _ = tx.blocking_send(Err(Error::Io(std::io::Error::other(format!("{}: {e}", rows.file_name)))));
                return;
            }
            Err(e) => {
                let msg = format!("malformed CSV row: {e}");
                rows.push(&none, "", Some(&msg), line_no);
                continue;
            }
        }
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(vec![]);
        let _ = w.write_byte_record(&record);
        let raw_bytes = w.into_inner().unwrap_or_default();
        let raw = String::from_utf8_lossy(&raw_bytes);
        let raw = raw.trim_end_matches('\n');
        if record.len() != headers.len() {
            let msg = format!("malformed CSV row: {} fields where the header has {}", record.len(), headers.len());
            rows.push(&none, raw, Some(&msg), line_no);
        } else {
            let mut bad_utf8 = false;
            let vals: Vec<Option<&str>> = index
                .iter()
                .map(|i| {
                    i.and_then(|i| record.get(i)).and_then(|b| match std::str::from_utf8(b) {
                        Ok("") => None,
                        Ok(s) => Some(s),
                        Err(_) => {
                            bad_utf8 = true;
                            None
                        }
                    })
                })
                .collect();
            let err = bad_utf8.then_some("malformed CSV row: a field is not UTF-8");
            rows.push(&vals, raw, err, line_no);
        }
        if rows.n >= BATCH_ROWS && !send(&tx, &mut rows) {
            return;
        }
    }
    send(&tx, &mut rows);
}

/// Headerless tab-separated lines whose columns are `header`, in order. Fields are not quoted
/// (Snowplow's enriched format replaces tabs and newlines inside values).
fn parse_tsv(reader: impl BufRead, header: &[String], names: &[String], rows: Rows, tx: Tx) {
    let index: Vec<Option<usize>> = names.iter().map(|n| header.iter().position(|h| h == n)).collect();
    let none: Vec<Option<&str>> = vec![None; names.len()];
    each_line(reader, rows, tx, |buf, line_no, rows| {
        let raw = String::from_utf8_lossy(buf);
        let fields: Vec<&str> = raw.split('\t').collect();
        if fields.len() != header.len() {
            let msg = format!("malformed TSV line: {} fields where the format has {}", fields.len(), header.len());
            rows.push(&none, &raw, Some(&msg), line_no);
        } else {
            let vals: Vec<Option<&str>> = index.iter().map(|i| i.map(|i| fields[i]).filter(|v| !v.is_empty())).collect();
            rows.push(&vals, &raw, None, line_no);
        }
    });
}

/// Parse one raw Parquet file: columns (or paths into nested ones, `super::nested`) as text.
/// Only the columns the names reach are read. A row's raw text is the JSON object of the values
/// read (its file and row number locate the whole row; a nested export's rows are large).
async fn parse_parquet(wh: &Warehouse, meta: &ObjectMeta, names: &[String], mut rows: Rows, tx: Tx) -> Result<()> {
    #[allow(deprecated)]
    let reader = ParquetObjectReader::new(wh.store.clone(), meta.location.clone()).with_file_size(meta.size);
    let builder = ParquetRecordBatchStreamBuilder::new(reader).await?.with_batch_size(BATCH_ROWS);
    let roots: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| names.iter().any(|n| n == f.name() || super::nested::root(n) == f.name()))
        .map(|(i, _)| i)
        .collect();
    let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), roots);
    let mut stream = builder.with_projection(mask).build()?;
    let keys: Vec<String> = names.iter().map(|n| serde_json::Value::String(n.clone()).to_string()).collect();
    let mut line = 0u64;
    let mut raw = String::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let texts: Vec<Option<ArrayRef>> = names.iter().map(|n| super::nested::column_text(&batch, n)).collect::<Result<_>>()?;
        for r in 0..batch.num_rows() {
            line += 1;
            let vals: Vec<Option<&str>> = texts
                .iter()
                .map(|a| {
                    a.as_ref().and_then(|a| {
                        let s = arrow::array::AsArray::as_string::<i32>(a.as_ref());
                        (!arrow::array::Array::is_null(s, r)).then(|| s.value(r))
                    })
                })
                .collect();
            raw.clear();
            raw.push('{');
            for (k, (key, v)) in keys.iter().zip(&vals).enumerate() {
                if k > 0 {
                    raw.push(',');
                }
                raw.push_str(key);
                raw.push(':');
                match v {
                    Some(v) => raw.push_str(&serde_json::to_string(v).unwrap_or_default()),
                    None => raw.push_str("null"),
                }
            }
            raw.push('}');
            rows.push(&vals, &raw, None, line);
        }
        if let Some(b) = rows.take()? {
            if tx.send(Ok(b)).await.is_err() {
                break;
            }
        }
    }
    Ok(())
}

/// Statistics of landing a raw table.
#[derive(Debug, Clone, Default)]
pub struct Landed {
    pub files: usize,
    pub rows: u64,
}

/// Where files are read from and what they are called in quarantine: the warehouse (names
/// relative to it) or a source's own location (full URLs).
pub struct FileSource<'a> {
    pub store: &'a Warehouse,
    /// The warehouse the files' names are relative to; None: full URLs.
    pub names_relative_to: Option<&'a Warehouse>,
    /// Added to each file's position, so that rows of several sources keep distinct orders.
    pub seq_base: usize,
    /// The columns of headerless files (TSV), in order.
    pub header: &'a [&'a str],
    /// JSON lines: the key of an API response's envelope around the object.
    pub envelope: Option<&'a str>,
}

impl FileSource<'_> {
    fn name(&self, meta: &ObjectMeta) -> String {
        if let Some(wh) = self.names_relative_to {
            wh.relative(&meta.location).unwrap_or(meta.location.as_ref()).to_string()
        } else {
            let host = self.store.store_url.host_str().unwrap_or("");
            match self.store.store_url.scheme() {
                "file" => format!("file:///{}", meta.location),
                s => format!("{s}://{host}/{}", meta.location),
            }
        }
    }
}

/// A writer of scratch Parquet files straight into `<out_dir>/` of the warehouse (never
/// committed; an empty file when nothing is written, so the folder always has a schema).
pub fn scratch_writer(out: &Warehouse, out_dir: &str, run_id: &str, schema: SchemaRef) -> PartitionWriter {
    let scratch = Warehouse { local_dir: None, ..out.clone() };
    let mut writer = PartitionWriter::new(&scratch, &Manifests::default(), "_", "_", "_", run_id, schema, usize::MAX);
    writer.set_dir(out_dir);
    writer
}

/// Parse `files` into landing Parquet under `<out_dir>/` of the warehouse `out`: columns
/// `names` (CSV headers, JSON keys or dotted paths, Parquet columns) as text, plus the
/// row's raw text, parse error, file and line.
pub async fn land_files(src: &FileSource<'_>, files: Vec<(ObjectMeta, RawFormat)>, names: &[String], writer: &mut PartitionWriter) -> Result<Landed> {
    let schema = feed_schema(names);
    let names: Vec<String> = names.to_vec();
    let mut landed = Landed { files: files.len(), rows: 0 };
    // Parsing is the costly part and each file is parsed by one thread: read one file per
    // core at once. Rows keep their file's order number, so the landing's order does not matter.
    let at_once = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let files: Vec<(usize, (ObjectMeta, RawFormat))> = files.into_iter().enumerate().collect();
    for group in files.chunks(at_once) {
        let mut readers = Vec::with_capacity(group.len());
        for (file_seq, (meta, format)) in group {
            readers.push(start_reader(src, *file_seq, meta, *format, &schema, &names));
        }
        let streams = readers.iter_mut().map(|(name, rx, _)| {
            let name = name.clone();
            futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).map(move |b| b.map_err(|e| Error::job("staging", format!("reading {name}: {e}"))))
        });
        let mut merged = futures::stream::select_all(streams.map(|s| s.boxed()));
        while let Some(batch) = merged.next().await {
            let batch = batch?;
            landed.rows += batch.num_rows() as u64;
            writer.write(&batch).await?;
        }
        drop(merged);
        for (name, _, task) in readers {
            task.await.map_err(|e| Error::job("staging", format!("reader of {name} stopped: {e}")))?;
        }
    }
    Ok(landed)
}

type Reader = (String, mpsc::Receiver<Result<RecordBatch>>, tokio::task::JoinHandle<()>);

/// Start parsing one file into batches of the landing schema.
fn start_reader(src: &FileSource<'_>, file_seq: usize, meta: &ObjectMeta, format: RawFormat, schema: &SchemaRef, names: &[String]) -> Reader {
    let wh = src.store;
    let file_name = src.name(meta);
    let rows = Rows::new(schema.clone(), names.len(), &file_name, src.seq_base + file_seq);
    let (tx, rx) = mpsc::channel::<Result<RecordBatch>>(4);
    let names = names.to_vec();
    let header: Vec<String> = src.header.iter().map(|h| h.to_string()).collect();
    let envelope = src.envelope.map(str::to_string);
    let task = match format {
        RawFormat::Parquet => {
            let (wh2, meta2) = (wh.clone(), meta.clone());
            tokio::spawn(async move {
                if let Err(e) = parse_parquet(&wh2, &meta2, &names, rows, tx.clone()).await {
                    let _ = tx.send(Err(e)).await;
                }
            })
        }
        _ => {
            let reader = object_store::buffered::BufReader::with_capacity(wh.store.clone(), meta, 4 << 20);
            let sync = tokio_util::io::SyncIoBridge::new(reader);
            tokio::task::spawn_blocking(move || {
                let mut buffered = std::io::BufReader::with_capacity(1 << 20, sync);
                // Gzipped whatever the file's name (Segment's and Snowplow's end in .gz or nothing).
                let gzipped = match buffered.fill_buf() {
                    Ok(head) => head.starts_with(&[0x1f, 0x8b]),
                    Err(e) => {
                        let _ = tx.blocking_send(Err(Error::Io(e)));
                        return;
                    }
                };
                let text: Box<dyn BufRead> = if gzipped {
                    Box::new(std::io::BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(buffered)))
                } else {
                    Box::new(buffered)
                };
                match format {
                    RawFormat::Csv => parse_csv(text, &names, rows, tx),
                    RawFormat::Tsv => parse_tsv(text, &header, &names, rows, tx),
                    _ => parse_jsonl(text, &names, envelope.as_deref(), rows, tx),
                }
            })
        }
    };
    (file_name, rx, task)
}
