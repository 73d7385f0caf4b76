//! The staging job: raw inputs of a date -> typed, deduplicated staging tables, and every
//! rejected row in quarantine with its reason. Counts always add up:
//! rows read + rows released = rows staged + rows quarantined + superseded duplicates, where
//! released rows are those of earlier nights staged once their late reference arrived (held.rs).

mod held;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use async_trait::async_trait;

use crate::engine::{date_param, params, Engine, Params};
use crate::error::{Error, Result};
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};
use crate::schemas::{raw_contract, RawContract, RAW_TABLES};
use crate::sqlfiles;

pub struct Staging;

#[async_trait]
impl Job for Staging {
    fn name(&self) -> &'static str {
        "staging"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &[]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.staging)
    }

    fn outputs(&self) -> Result<Vec<String>> {
        let mut out: Vec<String> = ["staging", "quarantine"].iter().flat_map(|l| crate::schemas::RAW_TABLES.iter().map(move |t| format!("{l}.{t}"))).collect();
        out.extend(held::held_tables()?.into_iter().map(|t| format!("quarantine.{t}")));
        Ok(out)
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        let feeds = crate::sources::land::land_feeds(rc).await?;
        let mut out = vec![];
        // Order matters: later tables check their references against earlier ones.
        let staged = async {
            for table in RAW_TABLES {
                let contract = raw_contract(table)?;
                rc.progress(&format!("staging {table}"));
                let stats = stage_table(rc, &contract, &feeds).await?;
                tracing::info!(
                    table,
                    rows_in = stats.rows_in,
                    staged = stats.rows_out,
                    quarantined = stats.quarantined,
                    superseded = stats.superseded,
                    ignored = stats.ignored,
                    released = stats.released,
                    held = stats.held,
                    "staged"
                );
                out.push(stats);
            }
            Ok::<_, Error>(())
        }
        .await;
        feeds.cleanup(rc).await;
        staged?;
        Ok(out)
    }
}

async fn stage_table(rc: &RunContext<'_>, c: &RawContract, feeds: &crate::sources::land::Feeds) -> Result<TableStats> {
    let engine = rc.engine;
    let table = c.table.as_str();
    let landing_dir = crate::runtime::scratch_dir(rc.run_id, table);
    let held = held::Held::open(rc, c).await?;
    let result = stage_landed(rc, c, feeds, &landing_dir, held.as_ref()).await;
    if let Some(h) = &held {
        h.cleanup(rc).await;
    }
    engine.wh.remove_dir(&landing_dir).await;
    result
}

async fn stage_landed(rc: &RunContext<'_>, c: &RawContract, feeds: &crate::sources::land::Feeds, landing_dir: &str, held: Option<&held::Held>) -> Result<TableStats> {
    let engine = rc.engine;
    let table = c.table.as_str();
    let retry = match held {
        Some(h) => h.retry_rows(rc).await?,
        None => None,
    };
    let landed = feeds.land_table(rc, c, landing_dir, retry).await?;
    engine.register_landing(table, landing_dir).await?;

    let (sql, mut p) = staging_query(rc, table)?;
    // The nights that read the files of this one's (a settling feed's), either side of it.
    let settle = feeds.settle_days(table);
    let (settle_from, settle_to) = (rc.date - chrono::Duration::days(settle as i64), rc.date + chrono::Duration::days(settle as i64));
    p.insert("settle_from".into(), date_param(settle_from));
    p.insert("settle_to".into(), date_param(settle_to));
    // Rows are classified once: quarantine and staging must split the same verdicts (evaluated
    // twice, a reference table committed meanwhile by a concurrent run of another date could
    // move a row from one side to the other, and the counts would not add up).
    let classified_name = format!("classified_{table}");
    let (_, classified_dir) = rc.scratch_query(&classified_name, &sql, &p).await?;
    // A settling feed's files are read on several nights: a row of such a file (its text, on
    // whatever line it now is) that went to quarantine (or was held) on another of those
    // nights is superseded, not quarantined again. Nights after this one count too: dates
    // may run out of order.
    let classified = if settle > 0 && engine.has_table("quarantine", table) {
        // Dates written out: the held rows' queries run this with their own parameters.
        format!(
            "SELECT * FROM landing.{classified_name} c WHERE NOT (c._seq >= 0 AND EXISTS (SELECT 1 FROM quarantine.{table} q \
             WHERE q.dt >= DATE '{settle_from}' AND q.dt <= DATE '{settle_to}' AND q.dt <> DATE '{on}' AND q.source_file = c._file AND q.raw = c._raw))",
            on = rc.date
        )
    } else {
        format!("SELECT * FROM landing.{classified_name}")
    };
    // Rows tried again that still lack their reference are held, not quarantined twice.
    let not_held = held.map(|h| format!(" AND NOT {}", h.still_held())).unwrap_or_default();
    let counts = async {
        // Quarantine first: every row with a reason, as it came.
        let q_sql = format!(
            "WITH c AS ({classified}) \
             SELECT _file AS source_file, _line AS line_no, _reason AS reason, _raw AS raw \
             FROM c WHERE _reason IS NOT NULL{not_held} ORDER BY _file, _line"
        );
        if table == "orders" && rc.cfg.base_currency()?.is_none() {
            one_currency(rc, &classified, &p).await?;
        }
        let q = rc.publish_query("quarantine", table, &q_sql, &p).await?;
        let kept = match held {
            Some(h) => h.publish(rc, &classified).await?,
            None => (0, 0),
        };
        // Then the valid rows, latest version per key.
        let s = rc.publish_query("staging", table, &dedup_sql(engine, c, &classified, settle > 0), &p).await?;
        Ok::<_, Error>((q, s, kept))
    }
    .await;
    engine.wh.remove_dir(&classified_dir).await;
    let (q, s, (held_rows, still_held)) = counts?;

    let reasons = quarantine_reasons(engine, table, &p).await?;

    let ignored: u64 = landed.ignored.values().sum();
    let rows_in = landed.rows - landed.retried + ignored;
    let released = landed.retried.saturating_sub(still_held);
    let quarantined = q;
    let staged = s;
    let superseded = landed.rows.checked_sub(quarantined + staged + still_held).ok_or_else(|| {
        Error::job(
            "staging",
            format!("{table}: counts do not add up (in {rows_in}, released {released}, quarantined {quarantined}, staged {staged}, ignored {ignored})"),
        )
    })?;
    Ok(TableStats {
        table: table.to_string(),
        files_in: landed.files,
        rows_in,
        rows_out: staged,
        quarantined,
        superseded,
        reasons,
        recomputed: None,
        ignored,
        ignored_names: landed.ignored.into_iter().collect(),
        released,
        held: held_rows,
    })
}

/// Keep the latest valid version of each key; across days too when the table is versioned.
/// `settling`: a source reads a day's files on several nights, so an unversioned row whose key
/// was staged on another of those nights is superseded (versioned rows already are unless newer).
fn dedup_sql(engine: &Engine, c: &RawContract, classify: &str, settling: bool) -> String {
    let cols: Vec<&str> = c.staged_names();
    let r_cols = cols.iter().map(|x| format!("r.{x}")).collect::<Vec<_>>().join(", ");
    let plain = cols.join(", ");
    let key = c.key.join(", ");
    let order = match &c.version {
        Some(v) => format!("{v} DESC NULLS LAST, _seq DESC"),
        None => "_seq DESC".to_string(),
    };
    // Most keys come once: only the rows of repeated keys go through the window (a window
    // partitioned by an almost unique key pays per partition, and was most of staging's time).
    // The repeated keys are the join's build side; the rows stream past them.
    let on = |a: &str, b: &str| c.key.iter().map(|k| format!("{a}.{k} = {b}.{k}")).collect::<Vec<_>>().join(" AND ");
    let v_cols = cols.iter().map(|x| format!("v.{x}")).collect::<Vec<_>>().join(", ");
    let mut sql = format!(
        "WITH c AS ({classify}), \
         v AS (SELECT {plain}, _seq FROM c WHERE _reason IS NULL), \
         d AS (SELECT {key}, true AS _dup FROM v GROUP BY {key} HAVING count(*) > 1), \
         m AS (SELECT {v_cols}, v._seq, d._dup FROM d RIGHT JOIN v ON {vd}), \
         r AS (SELECT {plain}, CAST(1 AS BIGINT) AS _rn FROM m WHERE _dup IS NULL \
               UNION ALL \
               SELECT {plain}, row_number() OVER (PARTITION BY {key} ORDER BY {order}) AS _rn FROM m WHERE _dup)",
        vd = on("v", "d"),
    );
    let rk = c.key.iter().map(|k| format!("r.{k}")).collect::<Vec<_>>().join(", ");
    let versioned = c.version.as_ref().filter(|_| engine.has_table("staging", &c.table));
    if c.changes_only && engine.has_table("staging", &c.table) {
        // The current staged row of each key tonight's rows carry; an equal row is superseded.
        let same = cols.iter().map(|x| format!("(r.{x} IS NOT DISTINCT FROM p.{x})")).collect::<Vec<_>>().join(" AND ");
        let (rp, rs) = (on("r", "p"), on("r", "s"));
        sql.push_str(&format!(
            ", p AS (SELECT {plain} FROM (SELECT {plain}, row_number() OVER (PARTITION BY {key} ORDER BY dt DESC) AS _n \
                     FROM staging.{t} s WHERE dt < $run_date AND EXISTS (SELECT 1 FROM r WHERE {rs})) WHERE _n = 1) \
             SELECT {r_cols} FROM r LEFT JOIN p ON {rp} WHERE r._rn = 1 AND NOT ({same}) ORDER BY {rk}",
            t = c.table,
        ));
        return sql;
    }
    match versioned {
        Some(v) => {
            let on = on("r", "p");
            sql.push_str(&format!(
                ", p AS (SELECT {key}, max({v}) AS _prev FROM staging.{t} WHERE dt < $run_date GROUP BY {key}) \
                 SELECT {r_cols} FROM r LEFT JOIN p ON {on} \
                 WHERE r._rn = 1 AND (p._prev IS NULL OR r.{v} > p._prev) ORDER BY {rk}",
                t = c.table,
            ));
        }
        None => {
            let seen = if settling && engine.has_table("staging", &c.table) {
                format!(
                    " AND NOT EXISTS (SELECT 1 FROM staging.{t} s WHERE s.dt >= $settle_from AND s.dt <= $settle_to AND s.dt <> $run_date AND {rs})",
                    t = c.table,
                    rs = on("r", "s")
                )
            } else {
                String::new()
            };
            sql.push_str(&format!(
                " SELECT {r_cols} FROM r WHERE r._rn = 1{seen} ORDER BY {rk}"
            ))
        }
    }
    sql
}

/// The staging SQL of `table` with its parameters (staging and `sources preview` run the same).
pub(crate) fn staging_query(rc: &RunContext<'_>, table: &str) -> Result<(String, Params)> {
    let base = rc.cfg.base_currency()?.unwrap_or_default();
    let p = params([("run_date", date_param(rc.date)), ("base_currency", datafusion::scalar::ScalarValue::Utf8(Some(base)))]);
    // Rates are optional: a warehouse that never had any reads an empty table.
    let fx = if rc.engine.has_table("staging", "fx_rates") {
        "staging.fx_rates"
    } else {
        "(SELECT CAST(NULL AS VARCHAR) AS currency, CAST(NULL AS DATE) AS date, CAST(NULL AS DOUBLE) AS rate, CAST(NULL AS DATE) AS dt WHERE false)"
    };
    let (sql, _) = sqlfiles::render_any(&format!("sql/staging/{table}.sql"), &sqlfiles::sql("staging", table)?, &[("fx_rates", sqlfiles::Fill::Text(fx))])?;
    Ok((sql, p))
}

/// Without `base_currency`, amounts are summed as they come: orders in a second currency
/// (tonight, or besides the one of the previous night's) stop the night instead.
async fn one_currency(rc: &RunContext<'_>, classified: &str, p: &Params) -> Result<()> {
    let prev = match rc.previous_partition("staging", "orders")? {
        Some(d) => format!(" UNION SELECT DISTINCT currency FROM staging.orders WHERE dt = DATE '{d}'"),
        None => String::new(),
    };
    let sql = format!("SELECT DISTINCT currency FROM ({classified}) WHERE _reason IS NULL{prev} ORDER BY currency");
    let mut found = vec![];
    for b in rc.engine.query(&sql, p).await?.collect().await? {
        let col = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
        let col = col.as_string::<i32>();
        found.extend((0..col.len()).filter(|i| !col.is_null(*i)).map(|i| col.value(i).to_string()));
    }
    if found.len() > 1 {
        return Err(Error::job(
            "staging",
            format!(
                "orders are in {} currencies ({}): set base_currency (e.g. base_currency = \"{}\") and provide the raw table fx_rates (or the ecb source preset), so amounts are converted before they are added up",
                found.len(),
                found.join(", "),
                found[0]
            ),
        ));
    }
    Ok(())
}

async fn quarantine_reasons(engine: &Engine, table: &str, p: &Params) -> Result<Vec<(String, u64)>> {
    let sql = format!(
        "SELECT split_part(reason, ':', 1) AS r, count(*) AS n FROM quarantine.{table} \
         WHERE dt = $run_date GROUP BY 1 ORDER BY 2 DESC, 1"
    );
    let batches: Vec<RecordBatch> = engine.query(&sql, p).await?.collect().await?;
    let mut out = vec![];
    for b in batches {
        let b = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8).map(|r| (r, b.column(1).clone()))?;
        let (r, n) = (b.0.as_string::<i32>().clone(), b.1.as_primitive::<Int64Type>().clone());
        for i in 0..r.len() {
            out.push((r.value(i).to_string(), n.value(i) as u64));
        }
    }
    Ok(out)
}
