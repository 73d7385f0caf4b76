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
use crate::runtime::incremental::Incremental;
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
        &["daily_aggregates", "reviews"]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.user_profiles)
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
        let mut inc = rc
            .incremental(
                "marts",
                "user_profiles",
                &["user_profiles", "_profile_scope", "_current_orders_day", "_preference_spend", "_profile_carry", "_last_visits", "_review_summary"],
                &[format!("preference_days={pref_days}"), format!("timezone={}", rc.cfg.timezone)],
            )
            .await?;
        if inc.prev().is_some_and(|prev| prev.year() != d.year()) {
            inc.recompute_all("a new year: age bands move on");
        }
        if let Some(prev) = inc.prev() {
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
        let result = build(rc, &p, &inc, pref_start, &mut scratch).await;
        for dir in &scratch {
            rc.engine.wh.remove_dir(dir).await;
        }
        let (recomputed, rows) = result?;
        Ok(vec![TableStats { table: "user_profiles".into(), rows_out: rows, recomputed: Some(recomputed), ..Default::default() }])
    }
}

/// Recompute the profiles of the scope (everyone unless carrying over), add the carried-over
/// rows, publish sorted; returns the customers recomputed and the rows published.
async fn build(rc: &RunContext<'_>, p: &crate::engine::Params, inc: &Incremental, pref_start: chrono::NaiveDate, scratch: &mut Vec<String>) -> Result<(u64, u64)> {
    let carry = inc.carry();
    let mut recomputed = None;
    if let Some((n, dir)) = inc.scope(rc, "_profile_scope", p).await? {
        scratch.push(dir);
        recomputed = Some(n);
    }
    rc.progress("user_profiles: last visits");
    // With carry-over: the previous partition's last visits plus the events staged since, so
    // it never rescans all history.
    scratch.push(rc.scratch_query("last_visits", &inc.sql("_last_visits")?, p).await?.1);
    // Preferences are read again only for customers whose order days moved (see whole_row).
    let order_scope = carry.then_some("customer_id IN (SELECT customer_id FROM landing.scope WHERE whole_row)");
    scratch.push(crate::nightly::shared::current_orders_day(rc, pref_start, order_scope).await?);
    scratch.push(rc.scratch_query("preference_spend", &sqlfiles::sql("marts", "_preference_spend")?, p).await?.1);
    rc.progress("user_profiles: profiles");
    let mut sql = inc.sql("user_profiles")?;
    if carry {
        scratch.push(rc.scratch_query("profiles_fresh", &sql, p).await?.1);
        sql = sqlfiles::sql("marts", "_profile_carry")?;
    }
    // Sorted from a scratch copy: a sort over the join output accounted its shared buffers per
    // batch and failed at 1M customers. Sorted by customer_id, readers prune row groups by it
    // (and on Ballista the result arrives in full batches).
    scratch.push(rc.scratch_query("profiles_unsorted", &sql, p).await?.1);
    // Reviews are few: every customer's review columns are joined on, carried over or not
    // (none before the reviews job ever ran: a run of chosen jobs may leave it out).
    let reviews = if rc.engine.has_table("marts", "review_sentiment") {
        sqlfiles::sql("marts", "_review_summary")?
    } else {
        "SELECT CAST(NULL AS VARCHAR) AS customer_id, CAST(0 AS BIGINT) AS reviews_written, CAST(NULL AS DOUBLE) AS mean_rating_given, \
         CAST(NULL AS VARCHAR) AS last_review_sentiment, CAST(NULL AS DATE) AS last_review_date WHERE false"
            .to_string()
    };
    scratch.push(rc.scratch_query("review_summary", &reviews, p).await?.1);
    let sorted = "SELECT p.*, coalesce(r.reviews_written, 0) AS reviews_written, r.mean_rating_given, r.last_review_sentiment, r.last_review_date \
                  FROM landing.profiles_unsorted p LEFT JOIN landing.review_summary r ON r.customer_id = p.customer_id ORDER BY p.customer_id";
    let rows = inc.publish_query(rc, sorted, p).await?;
    Ok((recomputed.unwrap_or(rows), rows))
}
