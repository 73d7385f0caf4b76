//! Landing a night's feeds: each mapped source's files are read once into scratch Parquet
//! (`feed`), then each raw table's landing is the union of every source that fills it: the
//! own layout read as it is, the others through their mapping SQL.

use std::collections::BTreeMap;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type};
use futures::StreamExt;

use super::{Ignored, Source};
use crate::engine::{date_param, params, Params};
use crate::error::{Error, Result};
use crate::registry::RunContext;
use crate::schemas::RawContract;
use crate::storage::raw::{feed_schema, land_files, scratch_writer, FileSource, RawFormat};
use crate::storage::warehouse::Warehouse;

/// A mapped source's feed, landed for this run.
pub struct Feed {
    pub source: Source,
    pub dir: String,
    pub files: usize,
    pub rows: u64,
}

/// The night's feeds, landed once for every table they fill.
pub struct Feeds {
    pub sources: Vec<Source>,
    pub landed: BTreeMap<String, Feed>,
}

/// What landed for one raw table.
#[derive(Debug, Default)]
pub struct LandedTable {
    pub files: usize,
    /// Rows in the landing table (quarantined, staged or superseded by staging).
    pub rows: u64,
    /// Rows the mappings left out on purpose, per name.
    pub ignored: Ignored,
}

fn seq_base(i: usize) -> usize {
    i << 12
}

/// Land every mapped source's files of the run date.
pub async fn land_feeds(rc: &RunContext<'_>) -> Result<Feeds> {
    let sources = super::Source::all(rc.cfg)?;
    let mut landed = BTreeMap::new();
    for (i, s) in sources.iter().enumerate() {
        if s.preset.name == "ecomwh" {
            continue;
        }
        let (loc, in_wh) = s.open(&rc.engine.wh, rc.cfg)?;
        let files = s.files(&loc, rc.date, "").await?;
        let columns = match &s.columns {
            Some(c) => c.clone(),
            None => discover_columns(&loc, &files).await?,
        };
        let dir = crate::registry::scratch_dir(rc.run_id, &format!("feed_{}", s.name));
        let mut writer = scratch_writer(&rc.engine.wh, &dir, rc.run_id, feed_schema(&columns));
        rc.progress(&format!("reading source {}", s.name));
        let n = files.len();
        let l = land_files(&FileSource { store: &loc, names_relative_to: in_wh.then_some(&rc.engine.wh), seq_base: seq_base(i) }, files, &columns, &mut writer)
            .await?;
        writer.finish_scratch().await?;
        tracing::info!(source = %s.name, preset = s.preset.name, files = n, rows = l.rows, "feed read");
        landed.insert(s.name.clone(), Feed { source: s.clone(), dir, files: n, rows: l.rows });
    }
    Ok(Feeds { sources, landed })
}

impl Feeds {
    /// Delete the landed feeds (best effort).
    pub async fn cleanup(&self, rc: &RunContext<'_>) {
        for f in self.landed.values() {
            crate::staging::cleanup(rc.engine, &f.dir).await;
        }
    }

    /// Land `contract`'s rows of every source into `<landing_dir>/`.
    pub async fn land_table(&self, rc: &RunContext<'_>, contract: &RawContract, landing_dir: &str) -> Result<LandedTable> {
        let table = contract.table.as_str();
        let names: Vec<String> = contract.columns.iter().map(|c| c.name.clone()).collect();
        let mut writer = scratch_writer(&rc.engine.wh, landing_dir, rc.run_id, feed_schema(&names));
        let mut out = LandedTable::default();
        for (i, s) in self.sources.iter().enumerate() {
            if !s.fills(table) {
                continue;
            }
            match s.mapping(table)? {
                None => {
                    let (loc, in_wh) = s.open(&rc.engine.wh, rc.cfg)?;
                    let files = s.files(&loc, rc.date, table).await?;
                    let l = land_files(
                        &FileSource { store: &loc, names_relative_to: in_wh.then_some(&rc.engine.wh), seq_base: seq_base(i) },
                        files,
                        &names,
                        &mut writer,
                    )
                    .await?;
                    out.files += l.files;
                    out.rows += l.rows;
                }
                Some(sql) => {
                    let feed = &self.landed[&s.name];
                    out.files += feed.files;
                    let (rows, ignored) = map(rc, feed, table, &sql, &names, &mut writer).await?;
                    out.rows += rows;
                    for (k, v) in ignored {
                        *out.ignored.entry(k).or_default() += v;
                    }
                }
            }
        }
        writer.finish_scratch().await?;
        Ok(out)
    }
}

/// The params every mapping may use.
fn mapping_params(rc: &RunContext<'_>, s: &Source) -> Params {
    params([("run_date", date_param(rc.date)), ("session_gap_seconds", datafusion::common::ScalarValue::Int64(Some(s.session_gap_minutes as i64 * 60)))])
}

/// Run a source's mapping for `table` and write its rows (the ignored ones counted, not
/// written) into the table's landing, with the feed's unparseable lines for `errors_to`.
async fn map(
    rc: &RunContext<'_>,
    feed: &Feed,
    table: &str,
    sql: &str,
    names: &[String],
    writer: &mut crate::storage::publish::PartitionWriter,
) -> Result<(u64, Ignored)> {
    let s = &feed.source;
    let engine = rc.engine;
    let feed_name = format!("feed_{}", s.name);
    engine.register_feed(&feed_name, &feed.dir).await?;
    let p = mapping_params(rc, s);
    let sql = sql.replace("{{earlier_signups}}", &earlier_signups(engine));
    let mapped_name = format!("mapped_{}_{table}", s.name);
    let (_, mapped_dir) =
        rc.scratch_query(&mapped_name, &sql, &p).await.map_err(|e| Error::job("staging", format!("[sources.{}] mapping for {table}: {e}", s.name)))?;
    let result = async {
        let have = engine.columns("landing", &mapped_name).await?;
        let has = |c: &str| have.iter().any(|h| h == c);
        for c in ["_raw", "_file", "_line", "_seq"] {
            if !has(c) {
                return Err(Error::job("staging", format!("[sources.{}] the mapping for {table} returns no column {c}", s.name)));
            }
        }
        let mut ignored = Ignored::new();
        if has("_ignored") {
            let q = format!("SELECT CAST(_ignored AS VARCHAR), count(*) FROM landing.{mapped_name} WHERE _ignored IS NOT NULL GROUP BY 1");
            for b in engine.query(&q, &Params::default()).await?.collect().await? {
                let (k, n) = (b.column(0).as_string::<i32>(), b.column(1).as_primitive::<Int64Type>());
                for r in 0..b.num_rows() {
                    ignored.insert(k.value(r).to_string(), n.value(r) as u64);
                }
            }
        }
        let cols: Vec<String> =
            names.iter().map(|n| if has(n) { format!("CAST(\"{n}\" AS VARCHAR) AS \"{n}\"") } else { format!("CAST(NULL AS VARCHAR) AS \"{n}\"") }).collect();
        let error = if has("_error") { "CAST(_error AS VARCHAR)" } else { "CAST(NULL AS VARCHAR)" };
        let keep = if has("_ignored") { "WHERE _ignored IS NULL" } else { "" };
        let mut selects = vec![format!(
            "SELECT {}, CAST(_raw AS VARCHAR) AS _raw, {error} AS _error, coalesce(CAST(_file AS VARCHAR), '') AS _file, \
             coalesce(CAST(_line AS BIGINT), 0) AS _line, coalesce(CAST(_seq AS BIGINT), 0) AS _seq FROM landing.{mapped_name} {keep}",
            cols.join(", ")
        )];
        if s.errors_to == table {
            let nulls: Vec<String> = names.iter().map(|n| format!("CAST(NULL AS VARCHAR) AS \"{n}\"")).collect();
            selects.push(format!("SELECT {}, _raw, _error, _file, _line, _seq FROM landing.{feed_name} WHERE _error IS NOT NULL", nulls.join(", ")));
        }
        let mut rows = 0u64;
        let schema = feed_schema(names);
        for q in selects {
            let mut stream = engine.query(&q, &Params::default()).await?.execute_stream().await?;
            while let Some(b) = stream.next().await {
                let b = b?;
                // The engine may hand out string views; the landing files are plain text.
                let cols =
                    b.columns().iter().zip(schema.fields()).map(|(c, f)| arrow::compute::cast(c, f.data_type())).collect::<std::result::Result<Vec<_>, _>>()?;
                let b = RecordBatch::try_new(schema.clone(), cols)?;
                rows += b.num_rows() as u64;
                writer.write(&b).await?;
            }
        }
        Ok((rows, ignored))
    }
    .await;
    crate::staging::cleanup(engine, &mapped_dir).await;
    result
}

/// Customers' earliest signup before tonight (a feed that sees a customer only through their
/// orders must not move the signup later), or an empty relation on a first run.
fn earlier_signups(engine: &crate::engine::Engine) -> String {
    if engine.has_table("staging", "customers") {
        "(SELECT customer_id, min(signup_ts) AS signup_ts FROM staging.customers WHERE dt < $run_date GROUP BY customer_id)".into()
    } else {
        "(SELECT CAST(NULL AS VARCHAR) AS customer_id, CAST(NULL AS TIMESTAMP) AS signup_ts WHERE false)".into()
    }
}

/// The columns of a `sql` source without `columns`: the first CSV's header, the first Parquet
/// file's columns; JSON lines: none (the mapping reads `_raw`).
async fn discover_columns(loc: &Warehouse, files: &[(object_store::ObjectMeta, RawFormat)]) -> Result<Vec<String>> {
    let Some((meta, format)) = files.first() else { return Ok(vec![]) };
    match format {
        RawFormat::Csv => {
            let end = meta.size.min(1 << 16);
            let head = object_store::ObjectStoreExt::get_range(loc.store.as_ref(), &meta.location, 0..end)
                .await
                .map_err(|e| Error::storage(meta.location.to_string(), e))?;
            let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(head.as_ref());
            let h = rdr.headers().map_err(|e| Error::MissingInput(format!("{}: unreadable CSV header: {e}", meta.location)))?;
            Ok(h.iter().map(|x| x.trim_start_matches('\u{feff}').trim().to_string()).collect())
        }
        RawFormat::Parquet => {
            #[allow(deprecated)]
            let reader = parquet::arrow::async_reader::ParquetObjectReader::new(loc.store.clone(), meta.location.clone()).with_file_size(meta.size);
            let b = parquet::arrow::ParquetRecordBatchStreamBuilder::new(reader).await?;
            Ok(b.schema().fields().iter().filter(|f| f.data_type() != &DataType::Null).map(|f| f.name().clone()).collect())
        }
        _ => Ok(vec![]),
    }
}
