//! The sample shop in feeds' layouts (`generate --preset`): the shop is generated and staged
//! in its own layout under `_generator/own/` (kept: it is the same shop, for comparisons), then
//! each night's files of every chosen preset are written from the staged tables by the SQL of
//! `sql/generate/`, where that preset's source reads them by default (`raw/<preset>/...`).
//! Tables no chosen preset fills are copied in the own layout.

use std::sync::Arc;

use arrow::array::RecordBatch;
use chrono::{Duration, NaiveDate};
use datafusion::common::ScalarValue;
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::{generate, GenerateOptions, GenerateSummary};
use crate::config::Config;
use crate::engine::{date_param, params, Engine, Params};
use crate::error::{Error, Result};
use crate::sources::presets::{self, Preset};
use crate::storage::warehouse::Warehouse;

/// Presets the generator can write.
pub const WRITABLE: &[&str] = &["shopify_csv", "shopify_json", "woocommerce_json", "segment", "rudderstack", "ga4", "snowplow"];

/// One kind of file a preset gets per night.
struct Output {
    /// `sql/generate/<sql>.sql`, run with $run_date.
    sql: &'static str,
    /// The staged table it reads (no file when it is absent).
    reads: &'static str,
    kind: Kind,
    /// A file may end only before a row where this column is set (an order's first line).
    split_before: Option<&'static str>,
}

fn outputs(preset: &str) -> &'static [Output] {
    const SHOPIFY: &[Output] = &[Output { sql: "shopify_csv", reads: "orders", kind: Kind::Csv, split_before: Some("Id") }];
    const SPEC: &[Output] = &[
        Output { sql: "segment", reads: "events", kind: Kind::JsonGz, split_before: None },
        Output { sql: "segment_identifies", reads: "identifies", kind: Kind::JsonGz, split_before: None },
        Output { sql: "segment_suppressions", reads: "suppressions", kind: Kind::JsonGz, split_before: None },
    ];
    const SHOPIFY_JSON: &[Output] = &[Output { sql: "shopify_json", reads: "orders", kind: Kind::JsonGz, split_before: None }];
    const WOOCOMMERCE_JSON: &[Output] = &[Output { sql: "woocommerce_json", reads: "orders", kind: Kind::JsonGz, split_before: None }];
    const GA4: &[Output] = &[Output { sql: "ga4", reads: "events", kind: Kind::Parquet, split_before: None }];
    const SNOWPLOW: &[Output] = &[Output { sql: "snowplow", reads: "events", kind: Kind::TsvGz(presets::SNOWPLOW.header), split_before: None }];
    match preset {
        "shopify_csv" => SHOPIFY,
        "ga4" => GA4,
        "snowplow" => SNOWPLOW,
        "shopify_json" => SHOPIFY_JSON,
        "woocommerce_json" => WOOCOMMERCE_JSON,
        _ => SPEC,
    }
}

/// A file's format.
#[derive(Clone, Copy)]
enum Kind {
    /// CSV with a header.
    Csv,
    /// Gzipped JSON lines (records and lists nested).
    JsonGz,
    /// Parquet, records and lists as they are.
    Parquet,
    /// Gzipped tab-separated lines without a header: these columns in this order (the
    /// query's columns by name, empty where it has none).
    TsvGz(&'static [&'static str]),
}

/// Rows per file at most (files are built in memory before they are stored).
const MAX_ROWS_PER_FILE: usize = 200_000;

pub async fn generate_in_presets(wh: &Warehouse, cfg: &Config, o: &GenerateOptions, names: &[String]) -> Result<(GenerateSummary, String)> {
    let mut chosen: Vec<&'static Preset> = vec![];
    for n in names {
        let p = presets::find(n).filter(|p| WRITABLE.contains(&p.name));
        let p = p.ok_or_else(|| Error::Usage(format!("--preset {n}: the generator writes {}", WRITABLE.join(", "))))?;
        if let Some(other) = chosen.iter().find(|c| c.tables.iter().any(|t| p.tables.contains(t))) {
            return Err(Error::Usage(format!("--preset {n} and {} fill the same tables: choose one", other.name)));
        }
        chosen.push(p);
    }
    let own = wh.sub("_generator/own");
    let summary = generate(&own, o).await?;
    let mut own_cfg = cfg.clone();
    own_cfg.warehouse = own.url.clone();
    own_cfg.sources.clear();
    own_cfg.engine = "local".into();
    let engine = Engine::open(&own_cfg, own.clone()).await?;
    // How the event collector knows a customer: as the shop platform does.
    let customer_key = match chosen.iter().find(|p| p.tables.contains(&"orders")).map(|p| p.name) {
        Some("shopify_csv") => "email",
        Some(_) => "number",
        None => "id",
    };
    for date in nights(o) {
        tracing::info!(%date, "staging the sample shop for its feeds");
        crate::pipeline::run_date(&engine, &own_cfg, date, Some(&["staging".to_string()]), false).await?;
        for p in &chosen {
            let mut n = 0;
            for out in outputs(p.name) {
                if !engine.has_table("staging", out.reads) {
                    continue;
                }
                let ps = params([
                    ("run_date", date_param(date)),
                    ("customer_key", ScalarValue::Utf8(Some(customer_key.into()))),
                    ("session_ids", ScalarValue::Boolean(Some(p.name == "rudderstack"))),
                ]);
                n = write_files(&engine, wh, p, date, out, &ps, n).await?;
            }
        }
    }
    // The tables no chosen preset fills, in the own layout.
    for t in crate::schemas::RAW_TABLES {
        if !chosen.iter().any(|p| p.tables.contains(t)) {
            copy_folder(&own, &format!("raw/{t}"), wh, &format!("raw/{t}")).await?;
        }
    }
    let mut toml = String::from("# The sample shop's feeds, as `generate --preset` wrote them.\n");
    for p in &chosen {
        toml.push_str(&format!("[sources.{0}]\npreset = \"{0}\"\n", p.name));
    }
    if crate::schemas::RAW_TABLES.iter().any(|t| !chosen.iter().any(|p| p.tables.contains(t))) {
        toml.push_str("[sources.ecomwh]\npreset = \"ecomwh\"\n");
    }
    let p = wh.path("_generator/sources.toml");
    wh.store.put(&p, PutPayload::from(toml.clone().into_bytes())).await.map_err(|e| Error::storage(p.to_string(), e))?;
    Ok((summary, toml))
}

/// The nights whose partitions the generator wrote.
fn nights(o: &GenerateOptions) -> Vec<NaiveDate> {
    let days = o.days as i64;
    let first = if o.first_load { days } else { o.first_load_days.map(|n| (n as i64).clamp(1, days)).unwrap_or(1) };
    (first - 1..days).map(|d| o.start + Duration::days(d)).collect()
}

/// Where a preset's files of `date` go, numbered from `n`.
fn file_path(p: &Preset, date: NaiveDate, n: usize) -> String {
    let dir = crate::sources::expand(p.default_path.rsplit_once('/').map(|(d, _)| d).unwrap_or(""), date, "");
    let name = match p.name {
        "shopify_csv" => format!("orders_export_{}.csv", n + 1),
        "shopify_json" | "woocommerce_json" => format!("orders-{:05}.jsonl.gz", n + 1),
        // BigQuery's numbering of an export's files.
        "ga4" => format!("{n:012}.parquet"),
        // <yyyy-MM-dd-HHmmss>-<uuid>.gz, as Snowplow's S3 loader names them.
        "snowplow" => format!("{}-235900-00000000-0000-4000-8000-{n:012}.gz", date.format("%Y-%m-%d")),
        // <upload unix time>.<source id>.<uuid>.json.gz, as RudderStack names them.
        "rudderstack" => {
            let unix = date.and_hms_opt(23, 59, 0).map(|t| t.and_utc().timestamp()).unwrap_or_default();
            format!("{unix}.ecomwhsample.00000000-0000-4000-8000-{n:012}.json.gz")
        }
        _ => format!("ecomwh-sample-{n:05}.gz"),
    };
    if dir.is_empty() {
        format!("raw/{}/{name}", p.name)
    } else {
        format!("raw/{}/{dir}/{name}", p.name)
    }
}

async fn write_files(engine: &Engine, wh: &Warehouse, p: &Preset, date: NaiveDate, out: &Output, ps: &Params, mut n: usize) -> Result<usize> {
    let sql = crate::sqlfiles::sql("generate", out.sql)?;
    let mut stream = engine.query(&sql, ps).await?.execute_stream().await?;
    let mut file = FileBuf::new(out.kind);
    while let Some(b) = stream.next().await {
        let b = b?;
        let mut start = 0;
        while start < b.num_rows() {
            let room = MAX_ROWS_PER_FILE.saturating_sub(file.rows).max(1);
            let mut end = (start + room).min(b.num_rows());
            if end < b.num_rows() {
                if let Some(col) = out.split_before {
                    // Extend to the next row that starts an order.
                    let c = b.column_by_name(col).ok_or_else(|| Error::Config(format!("sql/generate/{}.sql has no column {col}", out.sql)))?;
                    while end < b.num_rows() && c.is_null(end) {
                        end += 1;
                    }
                }
            }
            file.write(&b.slice(start, end - start))?;
            start = end;
            let boundary = out.split_before.and_then(|c| b.column_by_name(c)).map(|c| start < b.num_rows() && !c.is_null(start)).unwrap_or(true);
            if file.rows >= MAX_ROWS_PER_FILE && boundary {
                put(wh, &file_path(p, date, n), file.finish()?).await?;
                n += 1;
                file = FileBuf::new(out.kind);
            }
        }
    }
    if file.rows > 0 {
        put(wh, &file_path(p, date, n), file.finish()?).await?;
        n += 1;
    }
    Ok(n)
}

/// One file being built.
struct FileBuf {
    kind: Kind,
    rows: usize,
    csv: Option<arrow::csv::Writer<Vec<u8>>>,
    json: Option<arrow::json::LineDelimitedWriter<flate2::write::GzEncoder<Vec<u8>>>>,
    parquet: Option<parquet::arrow::ArrowWriter<Vec<u8>>>,
    tsv: Option<flate2::write::GzEncoder<Vec<u8>>>,
}

impl FileBuf {
    fn new(kind: Kind) -> FileBuf {
        let gz = || flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut f = FileBuf { kind, rows: 0, csv: None, json: None, parquet: None, tsv: None };
        match kind {
            Kind::Csv => f.csv = Some(arrow::csv::WriterBuilder::new().with_header(true).build(Vec::new())),
            Kind::JsonGz => f.json = Some(arrow::json::LineDelimitedWriter::new(gz())),
            Kind::TsvGz(_) => f.tsv = Some(gz()),
            Kind::Parquet => {}
        }
        f
    }

    fn write(&mut self, b: &RecordBatch) -> Result<()> {
        self.rows += b.num_rows();
        match self.kind {
            Kind::Csv => self.csv.as_mut().map(|w| w.write(b)).transpose().map(|_| ())?,
            Kind::JsonGz => self.json.as_mut().map(|w| w.write(b)).transpose().map(|_| ())?,
            Kind::Parquet => {
                // Plain strings, as an export writes them (the engine may hand out views).
                let cols: Vec<arrow::array::ArrayRef> =
                    b.columns().iter().map(|c| arrow::compute::cast(c, &plain(c.data_type()))).collect::<std::result::Result<_, _>>()?;
                let fields: Vec<arrow::datatypes::Field> =
                    b.schema().fields().iter().map(|f| arrow::datatypes::Field::new(f.name(), plain(f.data_type()), true)).collect();
                let b = RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), cols)?;
                if self.parquet.is_none() {
                    self.parquet = Some(parquet::arrow::ArrowWriter::try_new(Vec::new(), b.schema(), None)?);
                }
                if let Some(w) = self.parquet.as_mut() {
                    w.write(&b)?;
                }
            }
            Kind::TsvGz(header) => {
                use std::io::Write;
                let cols: Vec<Option<arrow::array::ArrayRef>> = header
                    .iter()
                    .map(|h| b.column_by_name(h).map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8)).transpose())
                    .collect::<std::result::Result<_, _>>()?;
                let mut line = String::new();
                for r in 0..b.num_rows() {
                    line.clear();
                    for (k, c) in cols.iter().enumerate() {
                        if k > 0 {
                            line.push('\t');
                        }
                        if let Some(c) = c.as_ref().filter(|c| c.is_valid(r)) {
                            let v = arrow::array::AsArray::as_string::<i32>(c.as_ref()).value(r);
                            line.extend(v.chars().map(|ch| if ch == '\t' || ch == '\n' { ' ' } else { ch }));
                        }
                    }
                    line.push('\n');
                    if let Some(w) = self.tsv.as_mut() {
                        w.write_all(line.as_bytes())?;
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>> {
        Ok(match self.kind {
            Kind::Csv => self.csv.map(|w| w.into_inner()).unwrap_or_default(),
            Kind::JsonGz => match self.json {
                Some(mut w) => {
                    w.finish()?;
                    w.into_inner().finish()?
                }
                None => vec![],
            },
            Kind::Parquet => match self.parquet {
                Some(w) => w.into_inner()?,
                None => vec![],
            },
            Kind::TsvGz(_) => match self.tsv {
                Some(w) => w.finish()?,
                None => vec![],
            },
        })
    }
}

/// `t` with string views as plain strings and every field nullable, nested ones too.
fn plain(t: &arrow::datatypes::DataType) -> arrow::datatypes::DataType {
    use arrow::datatypes::{DataType, Field};
    let field = |f: &Field| Arc::new(Field::new(f.name(), plain(f.data_type()), true));
    match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::Struct(fs) => DataType::Struct(fs.iter().map(|f| field(f)).collect()),
        DataType::List(f) => DataType::List(field(f)),
        DataType::LargeList(f) => DataType::List(field(f)),
        other => other.clone(),
    }
}

async fn put(wh: &Warehouse, rel: &str, body: Vec<u8>) -> Result<()> {
    let p = wh.path(rel);
    wh.store.put(&p, PutPayload::from(body)).await.map_err(|e| Error::storage(p.to_string(), e))?;
    Ok(())
}

async fn copy_folder(from: &Warehouse, from_rel: &str, to: &Warehouse, to_rel: &str) -> Result<()> {
    let prefix = from.path(from_rel);
    let metas: Vec<object_store::ObjectMeta> = from.store.list(Some(&prefix)).try_collect().await.map_err(|e| Error::storage(prefix.to_string(), e))?;
    let store: Arc<dyn ObjectStore> = from.store.clone();
    for m in metas {
        let rest = m.location.as_ref().strip_prefix(prefix.as_ref()).unwrap_or("").trim_start_matches('/');
        let dst = to.path(&format!("{to_rel}/{rest}"));
        store.copy(&m.location, &dst).await.map_err(|e| Error::storage(dst.to_string(), e))?;
    }
    Ok(())
}
