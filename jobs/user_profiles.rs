//! The user_profiles job: one row per known customer from the daily aggregates (SQL in
//! `sql/marts/user_profiles.sql`). The last visit is carried forward from the previous
//! profiles partition plus the events staged since, so it never rescans all history.

use async_trait::async_trait;
use chrono::{Datelike, Duration};
use datafusion::common::ScalarValue;

use crate::engine::{date_param, params};
use crate::error::Result;
use crate::registry::{Job, RunContext};
use crate::sqlfiles;
use crate::storage::report::TableStats;

pub struct UserProfiles;

#[async_trait]
impl Job for UserProfiles {
    fn name(&self) -> &'static str {
        "user_profiles"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["daily_aggregates"]
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        rc.require(
            "user_profiles",
            &[
                ("staging", "customers"),
                ("marts", "customer_orders_day"),
                ("marts", "customer_order_totals"),
                ("marts", "customer_product_day"),
                ("marts", "customer_events_day"),
            ],
            "run daily_aggregates for this date first",
        )?;
        let d = rc.date;
        let pref_start = d - Duration::days(rc.cfg.jobs.user_profiles.preference_days as i64 - 1);
        let w90 = d - Duration::days(89);
        let mut p = params([
            ("run_date", date_param(d)),
            ("run_year", ScalarValue::Int64(Some(d.year() as i64))),
            ("pref_start", date_param(pref_start)),
            // Rows of day X are written on dt >= X - 1.
            ("pref_dt_start", date_param(pref_start - Duration::days(1))),
            ("w7", date_param(d - Duration::days(6))),
            ("w30", date_param(d - Duration::days(29))),
            ("w90", date_param(w90)),
            ("events_dt_start", date_param(w90 - Duration::days(1))),
        ]);

        rc.progress("user_profiles: last visits");
        let prev = rc.previous_partition("marts", "user_profiles")?;
        let visits_sql = match prev {
            Some(prev_date) => {
                p.insert("prev_dt".into(), date_param(prev_date));
                "SELECT customer_id, max(last_visit_date) AS last_visit_date FROM ( \
                   SELECT customer_id, last_visit_date FROM marts.user_profiles \
                   WHERE dt = $prev_dt AND last_visit_date IS NOT NULL \
                   UNION ALL \
                   SELECT customer_id, max(day) FROM marts.customer_events_day \
                   WHERE dt >= $prev_dt AND dt <= $run_date AND day <= $run_date AND sessions > 0 GROUP BY customer_id \
                 ) GROUP BY customer_id"
            }
            None => {
                "SELECT customer_id, max(day) AS last_visit_date FROM marts.customer_events_day \
                 WHERE dt <= $run_date AND day <= $run_date AND sessions > 0 GROUP BY customer_id"
            }
        };
        tracing::info!(previous_profiles = ?prev, "last visits from");
        let (_, scratch) = rc.scratch_query("last_visits", visits_sql, &p).await?;
        let result = async {
            let current = crate::daily_aggregates::current_orders_day(rc, pref_start).await?;
            let r = async {
                let (_, spend) = rc.scratch_query("preference_spend", &sqlfiles::sql("marts", "_preference_spend")?, &p).await?;
                rc.progress("user_profiles: profiles");
                let r = publish_sorted(rc, &p).await;
                crate::staging::cleanup(rc.engine, &spend).await;
                r
            }
            .await;
            crate::staging::cleanup(rc.engine, &current).await;
            r
        }
        .await;
        crate::staging::cleanup(rc.engine, &scratch).await;
        let rows = result?;
        Ok(vec![TableStats { table: "user_profiles".into(), rows_out: rows, ..Default::default() }])
    }
}

/// The profiles, published sorted by customer_id (readers prune row groups by it; on Ballista
/// the result then arrives in full batches). Sorted from a scratch copy: a sort over the join
/// output accounted its shared buffers per batch and failed at 1M customers.
async fn publish_sorted(rc: &RunContext<'_>, p: &crate::engine::Params) -> Result<u64> {
    let (_, unsorted) = rc.scratch_query("profiles_unsorted", &sqlfiles::sql("marts", "user_profiles")?, p).await?;
    let r = rc.publish_query("marts", "user_profiles", "SELECT * FROM landing.profiles_unsorted ORDER BY customer_id", p).await;
    crate::staging::cleanup(rc.engine, &unsorted).await;
    r
}
