//! The user_profiles job: one row per known customer from the daily aggregates (SQL in
//! `sql/marts/user_profiles.sql`), built incrementally: only customers whose inputs changed
//! since the previous partition are recomputed (`sql/marts/_profile_scope.sql`); the others'
//! rows carry over. The last visit is carried forward the same way. Of the customers in scope,
//! only those whose order days moved read their year of customer-days again (`whole_row`);
//! the others keep their previous preferences.

use async_trait::async_trait;
use chrono::{Datelike, Duration};
use datafusion::common::ScalarValue;

use crate::engine::{date_param, params};
use crate::error::Result;
use crate::runtime::incremental::{fingerprint, scoped_sql};
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};
use crate::sqlfiles;

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
        let pref_days = rc.cfg.jobs.user_profiles.preference_days as i64;
        let pref_start = d - Duration::days(pref_days - 1);
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

        // Yesterday's rows carry over unless their inputs changed (see _profile_scope.sql); age
        // bands move on 1 January, so the first night of a year recomputes everyone.
        let fp = fingerprint(
            &["user_profiles", "_profile_scope", "_current_orders_day", "_preference_spend"],
            &[format!("preference_days={pref_days}"), format!("timezone={}", rc.cfg.timezone)],
        )?;
        let carry = rc.carry_over_from("marts", "user_profiles", &fp).await?.filter(|prev| prev.year() == d.year());
        if let Some(prev) = carry {
            for (k, v) in [
                ("prev_dt", prev),
                ("prev_pref_start", prev - Duration::days(pref_days - 1)),
                ("pref_left_dt", prev - Duration::days(pref_days)),
                ("prev_w7", prev - Duration::days(6)),
                ("prev_w30", prev - Duration::days(29)),
                ("prev_w90", prev - Duration::days(89)),
                ("events_left_dt", prev - Duration::days(90)),
            ] {
                p.insert(k.into(), date_param(v));
            }
        }
        // Scratch folders, removed whatever happens.
        let mut scratch = vec![];
        let result = build(rc, &p, carry.is_some(), pref_start, fp, &mut scratch).await;
        for dir in &scratch {
            rc.engine.wh.remove_dir(dir).await;
        }
        let (recomputed, rows) = result?;
        Ok(vec![TableStats { table: "user_profiles".into(), rows_out: rows, recomputed: Some(recomputed), ..Default::default() }])
    }
}

/// The columns computed from the preference window of customer-days.
const PREFERENCES: [&str; 10] = [
    "top_category_1",
    "top_category_1_share",
    "top_category_2",
    "top_category_2_share",
    "top_category_3",
    "top_category_3_share",
    "favourite_brand",
    "preferred_channel",
    "preferred_weekday",
    "preferred_hour",
];

/// Recompute the profiles of the scope (everyone unless `carry`), add the carried-over rows,
/// publish sorted; returns the customers recomputed and the rows published.
async fn build(
    rc: &RunContext<'_>,
    p: &crate::engine::Params,
    carry: bool,
    pref_start: chrono::NaiveDate,
    fp: String,
    scratch: &mut Vec<String>,
) -> Result<(u64, u64)> {
    let mut recomputed = None;
    if carry {
        rc.progress("user_profiles: scope");
        let (n, dir) = rc.scratch_query("scope", &sqlfiles::sql("marts", "_profile_scope")?, p).await?;
        scratch.push(dir);
        recomputed = Some(n);
    }
    tracing::info!(carry_over = carry, customers_recomputed = ?recomputed, "profiles to recompute");
    rc.progress("user_profiles: last visits");
    scratch.push(last_visits(rc, p, carry).await?.1);
    // Preferences are read again only for customers whose order days moved (see whole_row).
    let order_scope = carry.then_some("customer_id IN (SELECT customer_id FROM landing.scope WHERE whole_row)");
    scratch.push(crate::nightly::shared::current_orders_day(rc, pref_start, order_scope).await?);
    scratch.push(rc.scratch_query("preference_spend", &sqlfiles::sql("marts", "_preference_spend")?, p).await?.1);
    rc.progress("user_profiles: profiles");
    let mut sql = scoped_sql("user_profiles", carry)?;
    if carry {
        scratch.push(rc.scratch_query("profiles_fresh", &sql, p).await?.1);
        // In scope without whole_row: tonight's row with the previous preferences (their inputs
        // were not read). Out of scope: the previous row, with its day counts moved on.
        let kept = PREFERENCES.iter().map(|c| format!("CASE WHEN s.whole_row THEN f.{c} ELSE p.{c} END AS {c}")).collect::<Vec<_>>().join(", ");
        sql = format!(
            "SELECT f.* REPLACE ({kept}) FROM landing.profiles_fresh f \
             JOIN landing.scope s ON s.customer_id = f.customer_id \
             LEFT JOIN (SELECT * FROM marts.user_profiles WHERE dt = $prev_dt \
               AND customer_id IN (SELECT customer_id FROM landing.scope WHERE NOT whole_row)) p ON p.customer_id = f.customer_id \
             UNION ALL \
             SELECT * EXCLUDE (dt) REPLACE ( \
               CAST($run_date - signup_date AS BIGINT) AS tenure_days, \
               CAST($run_date - last_visit_date AS BIGINT) AS days_since_last_visit) \
             FROM marts.user_profiles p \
             WHERE p.dt = $prev_dt AND NOT EXISTS (SELECT 1 FROM landing.scope s WHERE s.customer_id = p.customer_id)"
        );
    }
    // Sorted from a scratch copy: a sort over the join output accounted its shared buffers per
    // batch and failed at 1M customers. Sorted by customer_id, readers prune row groups by it
    // (and on Ballista the result arrives in full batches).
    scratch.push(rc.scratch_query("profiles_unsorted", &sql, p).await?.1);
    let sorted = "SELECT * FROM landing.profiles_unsorted ORDER BY customer_id";
    let rows = rc.publish_query_built_with("marts", "user_profiles", sorted, p, Some(fp)).await?;
    Ok((recomputed.unwrap_or(rows), rows))
}

/// The last visit of every customer as `landing.last_visits`: with `carry`, the previous
/// profiles partition (`$prev_dt`) plus the events staged since, so it never rescans all history.
async fn last_visits(rc: &RunContext<'_>, p: &crate::engine::Params, carry: bool) -> Result<(u64, String)> {
    let visits_sql = match carry {
        true => {
            "SELECT customer_id, max(last_visit_date) AS last_visit_date FROM ( \
               SELECT customer_id, last_visit_date FROM marts.user_profiles \
               WHERE dt = $prev_dt AND last_visit_date IS NOT NULL \
               UNION ALL \
               SELECT customer_id, max(day) FROM marts.customer_events_day \
               WHERE dt >= $prev_dt AND dt <= $run_date AND day <= $run_date AND sessions > 0 GROUP BY customer_id \
             ) GROUP BY customer_id"
        }
        false => {
            "SELECT customer_id, max(day) AS last_visit_date FROM marts.customer_events_day \
             WHERE dt <= $run_date AND day <= $run_date AND sessions > 0 GROUP BY customer_id"
        }
    };
    rc.scratch_query("last_visits", visits_sql, p).await
}
