//! Run reports: rows in/out, quarantined and seconds per job, one JSON file per run
//! under `_state/runs/dt=<date>/`, plus `latest.json` for the date.

use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::storage::warehouse::Warehouse;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunReport {
    pub run_id: String,
    pub date: String,
    pub started_at: String,
    pub finished_at: String,
    pub seconds: f64,
    /// Where the SQL ran: local, ballista-standalone or ballista://HOST:PORT.
    #[serde(default)]
    pub engine: String,
    /// "ok" or "failed"
    pub status: String,
    pub error: Option<String>,
    pub jobs: Vec<JobReport>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JobReport {
    pub job: String,
    pub status: String,
    pub seconds: f64,
    pub error: Option<String>,
    pub tables: Vec<TableStats>,
}

/// Counts for one table a job built. For staging:
/// rows_in + released = rows_out + quarantined + superseded + ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableStats {
    pub table: String,
    pub files_in: usize,
    pub rows_in: u64,
    pub rows_out: u64,
    pub quarantined: u64,
    pub superseded: u64,
    /// Quarantined rows per reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<(String, u64)>,
    /// Incremental tables: the rows computed tonight; the others were carried over from the
    /// previous partition (equal to rows_out on a full recompute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recomputed: Option<u64>,
    /// Staging of a feed: rows its mapping left out on purpose (an event name it does not
    /// map), so that rows_in = rows_out + quarantined + superseded + ignored.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ignored: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_names: Vec<(String, u64)>,
    /// Staging: rows of earlier nights held for a late reference and staged tonight (each was
    /// counted as quarantined on its own night).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub released: u64,
    /// Staging: rows held after tonight, to be tried again on the next nights.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub held: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RunReport {
    pub async fn save(&self, wh: &Warehouse) -> Result<String> {
        let body = serde_json::to_vec_pretty(self).map_err(|source| Error::Json { what: "run report".into(), source })?;
        let rel = format!("_state/runs/dt={}/run-{}.json", self.date, self.run_id);
        for r in [rel.clone(), format!("_state/runs/dt={}/latest.json", self.date)] {
            let p = wh.path(&r);
            wh.store.put(&p, PutPayload::from(body.clone())).await.map_err(|e| Error::storage(p.to_string(), e))?;
        }
        Ok(rel)
    }

    pub async fn load_latest(wh: &Warehouse, date: &str) -> Result<Option<RunReport>> {
        let p = wh.path(&format!("_state/runs/dt={date}/latest.json"));
        match wh.store.get(&p).await {
            Ok(r) => {
                let b = r.bytes().await.map_err(|e| Error::storage(p.to_string(), e))?;
                serde_json::from_slice(&b).map(Some).map_err(|source| Error::Json { what: p.to_string(), source })
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::storage(p.to_string(), e)),
        }
    }

    /// A short human summary, one line per job and table.
    pub fn summary(&self) -> String {
        let mut s = format!("run {} for {}: {} in {:.1}s\n", self.run_id, self.date, self.status, self.seconds);
        for j in &self.jobs {
            s.push_str(&format!("  {:<18} {:<6} {:>7.1}s\n", j.job, j.status, j.seconds));
            for t in &j.tables {
                s.push_str(&format!(
                    "    {:<22} in {:>10}  out {:>10}  quarantined {:>8}  superseded {:>8}{}{}\n",
                    t.table,
                    t.rows_in,
                    t.rows_out,
                    t.quarantined,
                    t.superseded,
                    t.recomputed.map(|n| format!("  recomputed {n}")).unwrap_or_default(),
                    if t.released + t.held > 0 { format!("  released {}  held {}", t.released, t.held) } else { String::new() }
                ));
            }
            if let Some(e) = &j.error {
                s.push_str(&format!("    error: {e}\n"));
            }
        }
        s
    }
}
