//! `sources preview`: what each source's mapping and staging's checks make of a day's files,
//! without writing anything: the feed is landed and classified as the nightly staging does,
//! in a scratch folder held in memory.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use chrono::NaiveDate;

use super::{Ignored, Source};
use crate::config::Config;
use crate::engine::{date_param, params, Engine};
use crate::error::{Error, Result};
use crate::runtime::{scratch_dir, RunContext};
use crate::schemas::{raw_contract, RAW_TABLES};
use crate::storage::warehouse::Warehouse;

/// What one source gives one raw table.
#[derive(Debug)]
pub struct TablePreview {
    pub source: String,
    pub preset: &'static str,
    pub table: String,
    pub files: usize,
    /// Rows read for this table (mapped, quarantined and ignored).
    pub rows_in: u64,
    /// Rows staging would keep (before duplicates are superseded).
    pub mapped: u64,
    /// Rows staging would quarantine, per reason.
    pub quarantined: Vec<(String, u64)>,
    pub ignored: Ignored,
    /// The first mapped rows, in the raw contract's columns.
    pub sample: Vec<RecordBatch>,
    /// The first quarantined rows: reason, file, line, raw text.
    pub sample_quarantined: Vec<RecordBatch>,
}

/// Preview every source (or `only`) for `date`, `limit` sample rows each.
pub async fn preview(wh: &Warehouse, cfg: &Config, date: NaiveDate, only: Option<&str>, limit: usize) -> Result<Vec<TablePreview>> {
    let mut cfg = cfg.clone();
    // In this process: a cluster's executors could not see the scratch held in memory.
    cfg.engine = "local".into();
    let engine = &Engine::open(&cfg, wh.with_scratch_in_memory()).await?;
    let cfg = &cfg;
    let all = Source::all(cfg)?;
    if let Some(name) = only {
        if !all.iter().any(|s| s.name == name) {
            let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
            return Err(Error::Usage(format!("no source '{name}' in the config (sources: {})", names.join(", "))));
        }
    }
    let run_id = format!("preview-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"));
    let pb = indicatif::ProgressBar::hidden();
    let rc = RunContext { engine, cfg, date, run_id: &run_id, progress: &pb, done: Default::default(), full_refresh: false, outputs: Default::default() };
    run(&rc, all, only, limit).await
}

async fn run(rc: &RunContext<'_>, all: Vec<Source>, only: Option<&str>, limit: usize) -> Result<Vec<TablePreview>> {
    let p = params([("run_date", date_param(rc.date))]);
    let feeds = super::land::land_sources(rc, all).await?;
    let mut out = vec![];
    // (table, column) pairs that later tables look rows up by (reviews find customers by email).
    let lookups: Vec<(String, String)> =
        crate::schemas::raw_contracts()?.into_iter().flat_map(|c| c.columns.into_iter().filter_map(|col| col.lookup.map(|t| (t, col.name)))).collect();
    // In staging order, each table's mapped rows join what is staged already, so that later
    // tables' references see the night's customers and products.
    for table in RAW_TABLES {
        let contract = raw_contract(table)?;
        let mut staged_tonight: Vec<String> = vec![];
        for s in feeds.sources.iter().filter(|s| s.fills(table)) {
            let landing_dir = scratch_dir(rc.run_id, table);
            let one = super::land::Feeds { sources: vec![s.clone()], landed: feeds.landed.clone() };
            let landed = one.land_table(rc, &contract, &landing_dir, None).await?;
            rc.engine.register_landing(table, &landing_dir).await?;
            let name = format!("classified_{table}");
            let (sql, sp) = crate::nightly::staging::staging_query(rc, table)?;
            let (_, dir) = rc.scratch_query(&name, &sql, &sp).await?;
            staged_tonight.push(dir);
            if only.is_some_and(|o| o != s.name) {
                continue;
            }
            let c = format!("landing.{name}");
            let counts =
                rc.engine.query(&format!("SELECT _reason, count(*) AS n FROM {c} GROUP BY _reason ORDER BY n DESC, _reason"), &p).await?.collect().await?;
            let mut mapped = 0;
            let mut quarantined = vec![];
            for b in &counts {
                let reasons = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
                let reasons = reasons.as_string::<i32>();
                let n = b.column(1).as_primitive::<Int64Type>();
                for i in 0..b.num_rows() {
                    if reasons.is_null(i) {
                        mapped += n.value(i) as u64;
                    } else {
                        quarantined.push((reasons.value(i).to_string(), n.value(i) as u64));
                    }
                }
            }
            let cols: Vec<String> = contract.columns.iter().filter(|c| c.lookup.is_none()).map(|c| format!("\"{}\"", c.name)).collect();
            let sample =
                rc.engine.query(&format!("SELECT {} FROM {c} WHERE _reason IS NULL ORDER BY _seq LIMIT {limit}", cols.join(", ")), &p).await?.collect().await?;
            let sample_quarantined = rc
                .engine
                .query(
                    &format!(
                        "SELECT _reason AS reason, _file AS file, _line AS line, _raw AS raw FROM {c} WHERE _reason IS NOT NULL ORDER BY _seq LIMIT {limit}"
                    ),
                    &p,
                )
                .await?
                .collect()
                .await?;
            out.push(TablePreview {
                source: s.name.clone(),
                preset: s.preset.name,
                table: table.to_string(),
                files: landed.files,
                rows_in: landed.rows + landed.ignored.values().sum::<u64>(),
                mapped,
                quarantined,
                ignored: landed.ignored,
                sample,
                sample_quarantined,
            });
        }
        // References read only the key, lookups their column and the latest version; rates are
        // read by value.
        let mut cols: Vec<&str> = if contract.changes_only { contract.staged_names() } else { contract.key.iter().map(|k| k.as_str()).collect() };
        cols.extend(lookups.iter().filter(|(t, _)| t == table).map(|(_, c)| c.as_str()));
        if cols.len() > contract.key.len() && !contract.changes_only {
            cols.extend(contract.version.as_deref());
        }
        // A table nothing fills and nothing staged yet is empty, as in a run (an events-only
        // source on a new warehouse: its customers are unknown).
        let empty = staged_tonight.is_empty() && !rc.engine.has_table("staging", table) && contract.key.len() == 1;
        if (!staged_tonight.is_empty() && (contract.key.len() == 1 || contract.changes_only)) || empty {
            overlay(rc, table, &cols, &staged_tonight).await?;
        }
    }
    Ok(out)
}

/// `staging.<table>` in this process: the staged `cols` plus tonight's mapped ones.
async fn overlay(rc: &RunContext<'_>, table: &str, cols: &[&str], classified: &[String]) -> Result<()> {
    // A lone key is read as text whatever its stored type.
    let list = match cols {
        [key] => format!("CAST(\"{key}\" AS VARCHAR) AS \"{key}\""),
        _ => cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
    };
    let mut parts: Vec<String> = vec![];
    if rc.engine.has_table("staging", table) {
        parts.push(format!("SELECT {list}, dt FROM staging.{table}"));
    }
    for (i, dir) in classified.iter().enumerate() {
        let name = format!("preview_{table}_{i}");
        rc.engine.register_landing(&name, dir).await?;
        parts.push(format!("SELECT {list}, CAST($run_date AS DATE) AS dt FROM landing.{name} WHERE _reason IS NULL"));
    }
    if parts.is_empty() {
        let nulls = cols.iter().map(|c| format!("CAST(NULL AS VARCHAR) AS \"{c}\"")).collect::<Vec<_>>().join(", ");
        parts.push(format!("SELECT {nulls}, CAST(NULL AS DATE) AS dt WHERE false"));
    }
    let p = params([("run_date", date_param(rc.date))]);
    let (_, dir) = rc.scratch_query(&format!("overlay_{table}"), &parts.join(" UNION ALL "), &p).await?;
    rc.engine.register_folder("staging", table, &dir).await
}

impl TablePreview {
    /// The preview as text for a terminal.
    pub fn render(&self) -> String {
        let mut s = format!(
            "[sources.{}] {} -> {}: {} file(s), {} row(s): {} mapped, {} quarantined, {} ignored\n",
            self.source,
            self.preset,
            self.table,
            self.files,
            self.rows_in,
            self.mapped,
            self.quarantined.iter().map(|q| q.1).sum::<u64>(),
            self.ignored.values().sum::<u64>()
        );
        for (reason, n) in &self.quarantined {
            s.push_str(&format!("  quarantined {n:>8}  {reason}\n"));
        }
        for (name, n) in &self.ignored {
            s.push_str(&format!("  ignored     {n:>8}  {name}\n"));
        }
        for (title, batches) in [("mapped rows", &self.sample), ("quarantined rows", &self.sample_quarantined)] {
            if batches.iter().any(|b| b.num_rows() > 0) {
                let table = arrow::util::pretty::pretty_format_batches(batches).map(|t| t.to_string()).unwrap_or_default();
                s.push_str(&format!("  first {title}:\n"));
                for line in table.lines() {
                    s.push_str(&format!("  {line}\n"));
                }
            }
        }
        s
    }
}
