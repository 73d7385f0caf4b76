//! Landing a night's feeds: each mapped source's files are read once into scratch Parquet
//! (`landing.feed_<source>`, which its mapping reads as `feed`), then each raw table's landing is the union of every source that fills it: the
//! own layout read as it is, the others through their mapping SQL.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{cast, ident, lit, Expr};
use futures::StreamExt;

use super::{Ignored, Source};
use crate::engine::{date_param, params, Params};
use crate::error::{Error, Result};
use crate::runtime::RunContext;
use crate::schemas::RawContract;
use crate::storage::raw::{feed_schema, land_files, scratch_writer, FileSource, RawFormat};
use crate::storage::warehouse::Warehouse;

/// A mapped source's feed, landed for this run.
#[derive(Debug, Clone)]
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
    /// Rows of earlier nights tried again (in `rows` too).
    pub retried: u64,
}

/// Rows of earlier nights, in the landing columns, into the landing writer.
async fn write_rows(table: &str, df: datafusion::dataframe::DataFrame, names: &[String], writer: &mut crate::storage::publish::PartitionWriter) -> Result<u64> {
    write("rows tried again:", table, df, None, true, names, writer).await
}

/// The first file number of source `i`: `_seq` is (file number << 40) + line, so each source
/// has 262,144 file numbers of a night (and 32 sources fit an i64) before two rows could share
/// a `_seq`.
fn seq_base(i: usize) -> usize {
    i << 18
}

/// Land every mapped source's files of the run date.
pub async fn land_feeds(rc: &RunContext<'_>) -> Result<Feeds> {
    land_sources(rc, super::Source::all(rc.cfg)?).await
}

/// Land the files of the run date of `sources` that are mapped.
pub async fn land_sources(rc: &RunContext<'_>, sources: Vec<Source>) -> Result<Feeds> {
    let mut landed = BTreeMap::new();
    for (i, s) in sources.iter().enumerate() {
        if s.preset.name == "ecomwh" {
            continue;
        }
        let (loc, in_wh) = s.open(&rc.engine.wh, rc.cfg)?;
        let files = s.files_settling(&loc, rc.date, "").await?;
        let columns = match &s.columns {
            Some(c) => c.clone(),
            None => discover_columns(&loc, &files).await?,
        };
        let dir = crate::runtime::scratch_dir(rc.run_id, &feed_name(s));
        let mut writer = scratch_writer(&rc.engine.wh, &dir, rc.run_id, feed_schema(&columns));
        rc.progress(&format!("reading source {}", s.name));
        let n = files.len();
        // A headerless file's columns: the preset's, or (a `sql` source's TSV) its own `columns`.
        let header: Vec<&str> = if s.preset.header.is_empty() { columns.iter().map(String::as_str).collect() } else { s.preset.header.to_vec() };
        let l = land_files(
            &FileSource { store: &loc, names_relative_to: in_wh.then_some(&rc.engine.wh), seq_base: seq_base(i), header: &header, envelope: s.preset.envelope },
            files,
            &columns,
            &mut writer,
        )
        .await?;
        writer.finish_scratch().await?;
        rc.engine.register_landing(&feed_name(s), &dir).await?;
        tracing::info!(source = %s.name, preset = s.preset.name, files = n, rows = l.rows, "feed read");
        landed.insert(s.name.clone(), Feed { source: s.clone(), dir, files: n, rows: l.rows });
    }
    Ok(Feeds { sources, landed })
}

impl Feeds {
    /// The most nights any source filling `table` reads a date's files again.
    pub fn settle_days(&self, table: &str) -> u32 {
        self.sources.iter().filter(|s| s.fills(table)).map(|s| s.settle_days).max().unwrap_or(0)
    }

    /// Delete the landed feeds (best effort).
    pub async fn cleanup(&self, rc: &RunContext<'_>) {
        for f in self.landed.values() {
            rc.engine.wh.remove_dir(&f.dir).await;
        }
    }

    /// Land `contract`'s rows of every source into `<landing_dir>/`.
    /// Land tonight's rows of `contract`'s table (and `retry`, rows of earlier nights in the
    /// landing columns, counted apart) into `landing_dir`.
    pub async fn land_table(&self, rc: &RunContext<'_>, contract: &RawContract, landing_dir: &str, retry: Option<DataFrame>) -> Result<LandedTable> {
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
                    let files = s.files_settling(&loc, rc.date, table).await?;
                    let l = land_files(
                        &FileSource {
                            store: &loc,
                            names_relative_to: in_wh.then_some(&rc.engine.wh),
                            seq_base: seq_base(i),
                            header: s.preset.header,
                            envelope: s.preset.envelope,
                        },
                        files,
                        &names,
                        &mut writer,
                    )
                    .await?;
                    out.files += l.files;
                    out.rows += l.rows;
                }
                Some(sql) => {
                    let feed = self.landed.get(&s.name).ok_or_else(|| Error::job("staging", format!("[sources.{}] was not read", s.name)))?;
                    out.files += feed.files;
                    let (rows, ignored) = map(rc, feed, table, &sql, &names, &mut writer).await?;
                    out.rows += rows;
                    for (k, v) in ignored {
                        *out.ignored.entry(k).or_default() += v;
                    }
                }
            }
        }
        if let Some(df) = retry {
            let text = |c: &str| cast(ident(c), DataType::Utf8).alias(c);
            let mut cols: Vec<Expr> = names.iter().map(|n| text(n)).collect();
            cols.extend(["_raw", "_error", "_file"].map(text));
            cols.extend(["_line", "_seq"].map(|c| cast(ident(c), DataType::Int64).alias(c)));
            let df = df.select(cols)?;
            out.retried = write_rows(table, df, &names, &mut writer).await?;
            out.rows += out.retried;
        }
        writer.finish_scratch().await?;
        Ok(out)
    }
}

/// The params every mapping may use.
fn mapping_params(rc: &RunContext<'_>, s: &Source) -> Params {
    params([("run_date", date_param(rc.date)), ("session_gap_seconds", datafusion::common::ScalarValue::Int64(Some(s.session_gap_minutes as i64 * 60)))])
}

/// Run a source's mapping for `table` and write its rows into the table's landing, in one
/// pass: rows the mapping names in `_ignored` are counted, not written. The feed's
/// unparseable lines go to the landing of its `errors_to` table.
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
    let bad = |m: String| Error::job("staging", format!("[sources.{}] the mapping for {table}: {m}", s.name));
    engine.use_as_feed(&feed_name(s)).await?;
    // A preset's mapping is a template; the user's own SQL is run as written.
    let sql = match s.user_sql {
        Some(_) => sql.to_string(),
        None => {
            crate::sqlfiles::render_any(
                &format!("preset {} {table}", s.preset.name),
                sql,
                &[("earlier_signups", crate::sqlfiles::Fill::Text(&earlier_signups(engine)))],
            )?
            .0
        }
    };
    let df = engine.query(&sql, &mapping_params(rc, s)).await.map_err(|e| bad(e.to_string()))?;
    let have: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
    let has = |c: &str| have.iter().any(|h| h == c);
    if let Some(c) = ["_raw", "_file", "_line", "_seq"].into_iter().find(|c| !has(c)) {
        return Err(bad(format!("it returns no column {c}")));
    }
    // The landing columns (the contract's the mapping lacks are NULL), then `_ignored`.
    let text = |c: &str| if has(c) { cast(ident(c), DataType::Utf8).alias(c) } else { lit(ScalarValue::Utf8(None)).alias(c) };
    let mut exprs: Vec<Expr> = names.iter().map(|n| text(n)).collect();
    exprs.extend([text("_raw"), text("_error"), text("_file"), cast(ident("_line"), DataType::Int64).alias("_line")]);
    exprs.extend([cast(ident("_seq"), DataType::Int64).alias("_seq"), text("_ignored")]);
    let mut ignored = Ignored::new();
    let mut rows = write(&format!("[sources.{}]", s.name), table, df.select(exprs)?, Some(&mut ignored), false, names, writer).await?;
    if s.errors_to == table {
        let nulls: Vec<String> = names.iter().map(|n| format!("CAST(NULL AS VARCHAR) AS \"{n}\"")).collect();
        let q = format!("SELECT {}, _raw, _error, _file, _line, _seq FROM landing.{} WHERE _error IS NOT NULL", nulls.join(", "), feed_name(s));
        rows += write(&format!("[sources.{}]", s.name), table, engine.query(&q, &Params::default()).await?, None, false, names, writer).await?;
    }
    Ok((rows, ignored))
}

/// Stream `df` (the landing columns, then `_ignored` when `ignored` is given) into the
/// landing writer; rows with an `_ignored` name are counted instead. Only `retried` rows (of
/// earlier nights, staging/held.rs) may carry a negative `_seq`.
async fn write(
    what: &str,
    table: &str,
    df: datafusion::dataframe::DataFrame,
    mut ignored: Option<&mut Ignored>,
    retried: bool,
    names: &[String],
    writer: &mut crate::storage::publish::PartitionWriter,
) -> Result<u64> {
    let schema = feed_schema(names);
    let n = schema.fields().len();
    let mut rows = 0u64;
    let mut stream = df.execute_stream().await?;
    while let Some(b) = stream.next().await {
        let mut b = b?;
        if let Some(counts) = ignored.as_deref_mut() {
            let names = arrow::compute::cast(b.column(n), &DataType::Utf8)?;
            let names = names.as_string::<i32>();
            for name in names.iter().flatten() {
                *counts.entry(name.to_string()).or_default() += 1;
            }
            if names.null_count() < names.len() {
                b = arrow::compute::filter_record_batch(&b, &arrow::compute::is_null(names)?)?;
            }
        }
        // The engine may hand out string views; the landing files are plain text.
        let mut cols = Vec::with_capacity(n);
        for (c, f) in b.columns().iter().zip(schema.fields()) {
            if !f.is_nullable() && c.null_count() > 0 {
                return Err(Error::job("staging", format!("{what} the mapping for {table} returns rows without {}", f.name())));
            }
            cols.push(arrow::compute::cast(c, f.data_type())?);
        }
        let b = RecordBatch::try_new(schema.clone(), cols)?;
        // Negative _seq marks rows of earlier nights tried again (staging/held.rs).
        let seq = b.column(n - 1).as_primitive::<arrow::datatypes::Int64Type>();
        if !retried && arrow::compute::min(seq).is_some_and(|m| m < 0) {
            return Err(Error::job("staging", format!("{what} the mapping for {table} returns a negative _seq (use the feed row's, 0 or more)")));
        }
        rows += b.num_rows() as u64;
        writer.write(&b).await?;
    }
    Ok(rows)
}

fn feed_name(s: &Source) -> String {
    format!("feed_{}", s.name)
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
