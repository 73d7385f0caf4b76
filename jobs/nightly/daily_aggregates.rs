//! The daily_aggregates job: the night's staged rows -> small per-day tables that the marts
//! are built from, so the nightly work follows the new day's data, not all history.
//!
//! Order-based tables (`customer_orders_day`, `customer_product_day`, `product_day`) restate
//! whole customer-days: every customer-day touched by an order version staged tonight (a new
//! order, or a refund of an order placed weeks ago) is recomputed from the latest versions of
//! all its orders and written into partition dt=D. The current row of a customer-day is the
//! one in its newest partition. `customer_events_day` is additive (events are never restated).
//!
//! Identity stitching comes first: the identity graph (`identities`), the night's events
//! linked to a customer (`stitched_events`: anonymous ones of tonight, and those of the lookback
//! of visitors linked for the first time tonight) and the events of visitors still unlinked
//! (`anonymous_events`, where a later link finds them). `customer_events_day` counts the
//! customers' own events and the stitched ones.

use async_trait::async_trait;
use chrono::{Duration, NaiveDate};

use crate::engine::{date_param, params, Params};
use crate::error::Result;
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};
use crate::sqlfiles::{self, Fill};

pub struct DailyAggregates;

pub const ORDER_TABLES: [&str; 3] = ["customer_orders_day", "customer_product_day", "product_day"];

/// The earliest restated day (else the run date), from `landing.touched_customer_days`.
async fn earliest_touched_day(rc: &RunContext<'_>) -> Result<NaiveDate> {
    let sql = "SELECT CAST(min(day) AS VARCHAR) FROM landing.touched_customer_days";
    let batches = rc.engine.query(sql, &Params::new()).await?.collect().await?;
    let day = batches
        .first()
        .filter(|b| b.num_rows() > 0)
        .and_then(|b| {
            let col = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8).ok()?;
            let s = arrow::array::AsArray::as_string::<i32>(&col);
            (!arrow::array::Array::is_null(s, 0)).then(|| s.value(0).to_string())
        })
        .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
    Ok(day.map(|d| d.min(rc.date)).unwrap_or(rc.date))
}

/// All-time totals per customer: yesterday's rows carried over, customers touched since then
/// recomputed from their own customer-days (the scope is in the SQL: customers with a row in a
/// partition since the previous one).
async fn order_totals(rc: &RunContext<'_>) -> Result<u64> {
    let inc = rc.incremental("marts", "customer_order_totals", &["customer_order_totals"], &[format!("timezone={}", rc.cfg.timezone)]).await?;
    // Rows of day X may sit in partition X - 1: the previous partition's customers are re-read.
    let touched_from = inc.prev().unwrap_or(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN));
    tracing::info!(previous = ?inc.prev(), "customer totals carried over from");
    let p = params([("run_date", date_param(rc.date)), ("touched_from", date_param(touched_from)), ("prev_dt", date_param(inc.prev().unwrap_or(rc.date)))]);
    inc.publish_query(rc, &inc.sql("customer_order_totals")?, &p).await
}

/// The identity graph and tonight's stitching (see `identities.sql`, `stitched_events.sql`).
async fn stitch(rc: &RunContext<'_>, out: &mut Vec<TableStats>) -> Result<()> {
    // The graph before tonight's decides which visitors are linked for the first time.
    let before = rc.previous_partition("marts", "identities")?;
    let inc = rc.incremental("marts", "identities", &["identities"], &[]).await?;
    let mut p = params([("run_date", date_param(rc.date)), ("prev_dt", date_param(inc.prev().unwrap_or(rc.date)))]);
    rc.progress("daily_aggregates: identities");
    let links = inc.publish_query(rc, &inc.sql("identities")?, &p).await?;
    out.push(TableStats { table: "identities".into(), rows_out: links, ..Default::default() });

    let from = rc.date - Duration::days(rc.cfg.jobs.daily_aggregates.stitch_lookback_days as i64);
    p.insert("prev_dt".into(), date_param(before.unwrap_or(rc.date)));
    p.insert("stitch_from".into(), date_param(from));
    // Events of day X are staged (and kept unlinked) on dt >= X - 1.
    p.insert("stitch_from_dt".into(), date_param(from - Duration::days(1)));
    let sql = sqlfiles::render("sql/marts/_links.sql", &sqlfiles::sql("marts", "_links")?, &[("prev", Fill::Section(before.is_some()))])?;
    let (needed, scratch) = rc.scratch_query("links", &sql, &p).await?;
    let published = async {
        // Unlinked first: stitching reads the earlier nights' partitions of it.
        rc.progress("daily_aggregates: stitched events");
        let anonymous = rc.publish_query("marts", "anonymous_events", &sqlfiles::sql("marts", "anonymous_events")?, &p).await?;
        let stitched = rc.publish_query("marts", "stitched_events", &sqlfiles::sql("marts", "stitched_events")?, &p).await?;
        Ok::<_, crate::error::Error>((anonymous, stitched))
    }
    .await;
    rc.engine.wh.remove_dir(&scratch).await;
    let (anonymous, stitched) = published?;
    tracing::info!(links, links_used = needed, stitched, anonymous, lookback_from = %from, "identity stitching");
    out.push(TableStats { table: "stitched_events".into(), rows_out: stitched, ..Default::default() });
    out.push(TableStats { table: "anonymous_events".into(), rows_out: anonymous, ..Default::default() });
    Ok(())
}

#[async_trait]
impl Job for DailyAggregates {
    fn name(&self) -> &'static str {
        "daily_aggregates"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["staging"]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.daily_aggregates)
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        let needed: Vec<(&str, &str)> = ["customers", "products", "orders", "order_items", "events"].iter().map(|t| ("staging", *t)).collect();
        rc.require("daily_aggregates", &needed, "run the staging job for this date first")?;
        let mut p = params([("run_date", date_param(rc.date))]);
        rc.progress("daily_aggregates: restated orders");
        let (days, touched) = rc.scratch_query("touched_customer_days", &sqlfiles::sql("marts", "_touched_customer_days")?, &p).await?;
        // Order versions of day X are staged on dt >= X - 1 (a day's slack for clocks).
        let since = earliest_touched_day(rc).await? - Duration::days(1);
        p.insert("since".into(), date_param(since));
        tracing::info!(customer_days = days, since = %since, "restating customer-days");
        let restated = rc.scratch_query("restated_order_lines", &sqlfiles::sql("marts", "_restated_order_lines")?, &p).await;
        rc.engine.wh.remove_dir(&touched).await;
        let (lines, scratch) = restated?;
        let mut out = vec![];
        let result = async {
            stitch(rc, &mut out).await?;
            for table in ORDER_TABLES.iter().chain(["customer_events_day"].iter()) {
                rc.progress(&format!("daily_aggregates: {table}"));
                let rows = rc.publish_query("marts", table, &sqlfiles::sql("marts", table)?, &p).await?;
                let rows_in = if *table == "customer_events_day" { 0 } else { lines };
                out.push(TableStats { table: table.to_string(), rows_in, rows_out: rows, ..Default::default() });
            }
            Ok::<_, crate::error::Error>(())
        }
        .await;
        rc.engine.wh.remove_dir(&scratch).await;
        result?;

        rc.progress("daily_aggregates: customer_order_totals");
        let rows = order_totals(rc).await?;
        out.push(TableStats { table: "customer_order_totals".into(), rows_out: rows, ..Default::default() });
        Ok(out)
    }
}
