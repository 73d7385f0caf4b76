//! Rows held for a late reference. A row whose customer, product or order is not known yet
//! (reason `unknown <column>` of a column that references another table) is quarantined on its
//! own night and kept in `quarantine.<table>_held`. Each later night, for `late_days` nights,
//! it is tried again with that night's rows: staged once its reference is known (under its own
//! timestamps; counted as released), held again otherwise (not quarantined twice). After
//! `late_days` nights it is only in quarantine.

use chrono::Duration;

use crate::engine::{date_param, params, Params};
use crate::error::Result;
use crate::runtime::RunContext;
use crate::schemas::RawContract;

/// What holding means for one table tonight.
pub struct Held {
    /// The reasons that hold a row, as SQL string literals.
    reasons: Vec<String>,
    table: String,
    columns: Vec<String>,
    p: Params,
    /// The rows tried again tonight (`landing.retry_<table>`) and their scratch folder.
    retry: Option<String>,
}

/// The tables whose rows can be held: those with a column that references another table.
pub fn held_tables() -> Result<Vec<String>> {
    let mut out = vec![];
    for t in crate::schemas::RAW_TABLES {
        if !reasons(&crate::schemas::raw_contract(t)?).is_empty() {
            out.push(format!("{t}_held"));
        }
    }
    Ok(out)
}

fn reasons(c: &RawContract) -> Vec<String> {
    c.columns.iter().filter(|col| col.references.is_some()).map(|col| format!("'unknown {}'", col.name)).collect()
}

impl Held {
    /// Holding for `c`'s table tonight (None: it has no references, or `late_days` is 0); the
    /// rows to try again are read from the newest held partition before tonight.
    pub async fn open(rc: &RunContext<'_>, c: &RawContract) -> Result<Option<Held>> {
        let late = rc.cfg.jobs.staging.late_days;
        let reasons = reasons(c);
        if late == 0 || reasons.is_empty() {
            return Ok(None);
        }
        let table = c.table.clone();
        // Held since H: tried on nights H+1 .. H+late.
        let mut p = params([("run_date", date_param(rc.date)), ("retry_from", date_param(rc.date - Duration::days(late as i64)))]);
        let mut retry = None;
        if let Some(prev) = rc.previous_partition("quarantine", &format!("{table}_held"))? {
            p.insert("held_dt".into(), date_param(prev));
            // Negative _seq: tonight's own rows keep theirs and win a tie as the later arrival.
            // A held row whose key was staged on another night since (a rerun of an earlier
            // date, or dates run out of order, released it) is not tried again.
            let released_elsewhere = if rc.engine.has_table("staging", &table) {
                let on = c.key.iter().map(|k| format!("CAST(s.\"{k}\" AS VARCHAR) = trim(h.\"{k}\")")).collect::<Vec<_>>().join(" AND ");
                format!(
                    " AND NOT EXISTS (SELECT 1 FROM staging.{table} s WHERE s.dt >= $retry_from AND s.dt <= $last_dt \
                     AND s.dt <> $run_date AND s.dt > h._held_since AND {on})"
                )
            } else {
                String::new()
            };
            // (later nights too: a rerun of this date after them must not release a row again)
            p.insert("last_dt".into(), date_param(rc.date + Duration::days(late as i64 + 1)));
            let sql = format!(
                "SELECT h.*, -CAST(row_number() OVER (ORDER BY h._held_since, h._file, h._line, h._seq) AS BIGINT) AS _rseq \
                 FROM quarantine.{table}_held h WHERE h.dt = $held_dt AND h._held_since >= $retry_from AND h._held_since < $run_date{released_elsewhere}"
            );
            let (n, dir) = rc.scratch_query(&format!("retry_{table}"), &sql, &p).await?;
            tracing::info!(table = %table, rows = n, held_on = %prev, "rows held for a late reference, tried again");
            retry = Some(dir);
        }
        let columns = c.columns.iter().map(|col| col.name.clone()).collect();
        Ok(Some(Held { reasons, table, columns, p, retry }))
    }

    /// The rows to land with tonight's (landing columns; `_seq` negative).
    pub async fn retry_rows(&self, rc: &RunContext<'_>) -> Result<Option<datafusion::dataframe::DataFrame>> {
        let Some(_) = self.retry else { return Ok(None) };
        let cols = self.columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {cols}, _raw, _error, _file, _line, _rseq AS _seq FROM landing.retry_{}", self.table);
        Ok(Some(rc.engine.query(&sql, &self.p).await?))
    }

    /// A filter on the classified rows: true for a row tried again that still lacks its reference.
    pub fn still_held(&self) -> String {
        format!("(_seq < 0 AND _reason IN ({}))", self.reasons.join(", "))
    }

    /// Publish tonight's held rows (tonight's own held ones and those tried again, still within
    /// `late_days`) from the landing and the classified rows; returns (rows held, rows tried
    /// again that are still held).
    pub async fn publish(&self, rc: &RunContext<'_>, classified: &str) -> Result<(u64, u64)> {
        let t = &self.table;
        let cols = self.columns.iter().map(|c| format!("l.\"{c}\"")).collect::<Vec<_>>().join(", ");
        let reasons = self.reasons.join(", ");
        let (since, retry_join) = match self.retry {
            Some(_) => ("coalesce(r._held_since, CAST($run_date AS DATE))", format!("LEFT JOIN landing.retry_{t} r ON r._rseq = l._seq")),
            None => ("CAST($run_date AS DATE)", String::new()),
        };
        // Rows are matched by _seq: a mapping that makes several rows of one feed row (all with
        // its _seq) does not hold them (they stay quarantined), so none is copied twice.
        let sql = format!(
            "WITH c AS (SELECT _seq FROM ({classified}) WHERE _reason IN ({reasons})), \
             u AS (SELECT _seq FROM landing.{t} GROUP BY _seq HAVING count(*) = 1) \
             SELECT {cols}, l._raw, l._error, l._file, l._line, l._seq, {since} AS _held_since \
             FROM landing.{t} l JOIN c ON c._seq = l._seq JOIN u ON u._seq = l._seq {retry_join} \
             WHERE {since} > $retry_from ORDER BY l._file, l._line"
        );
        let held = rc.publish_query("quarantine", &format!("{t}_held"), &sql, &self.p).await?;
        let still = rc.engine.count(&format!("SELECT count(*) FROM ({classified}) WHERE {}", self.still_held()), &self.p).await?.unwrap_or(0).max(0) as u64;
        Ok((held, still))
    }

    /// Remove tonight's scratch.
    pub async fn cleanup(&self, rc: &RunContext<'_>) {
        if let Some(dir) = &self.retry {
            rc.engine.wh.remove_dir(dir).await;
        }
    }
}
