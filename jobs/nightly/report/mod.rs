//! The morning report: one self-contained HTML page about a night's run (run health,
//! quarantine, sales, association rules ...), with charts drawn by Chart.js, inlined.
//! Sections whose tables do not exist yet are left out.

mod html;

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use async_trait::async_trait;
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde_json::{json, Value};

use crate::engine::{date_param, params, Engine};
use crate::error::{Error, Result};
use crate::runtime::run_report::{JobReport, RunReport, TableStats};
use crate::runtime::{Job, RunContext};

pub use html::render;

pub struct Report;

#[async_trait]
impl Job for Report {
    fn name(&self) -> &'static str {
        "report"
    }

    /// The page shows these jobs' tables.
    fn depends_on(&self) -> &'static [&'static str] {
        &["staging", "rfm_segments", "association_rules", "sales_forecast", "recommendations", "churn_scores", "clv", "audiences", "reviews"]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.report)
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        if !rc.cfg.jobs.report.enabled {
            tracing::info!("report switched off ([jobs.report] enabled = false)");
            return Ok(vec![]);
        }
        let done = rc.done.lock().map(|d| d.clone()).unwrap_or_default();
        let page = build(rc.engine, rc.date, &done).await?;
        let bytes = page.len() as u64;
        let rel = write(rc.engine, rc.date, &page).await?;
        tracing::info!(report = %rel, bytes, "morning report written");
        Ok(vec![])
    }
}

/// Write the page to `reports/dt=D/index.html`; returns that path.
pub async fn write(engine: &Engine, date: chrono::NaiveDate, page: &str) -> Result<String> {
    let rel = format!("reports/dt={}/index.html", date.format("%Y-%m-%d"));
    let p = engine.wh.path(&rel);
    engine.wh.store.put(&p, PutPayload::from(page.as_bytes().to_vec())).await.map_err(|e| Error::storage(p.to_string(), e))?;
    Ok(rel)
}

/// Rows of a query as JSON objects.
async fn rows(engine: &Engine, sql: &str, p: &crate::engine::Params) -> Result<Vec<Value>> {
    let batches: Vec<RecordBatch> = engine.query(sql, p).await?.collect().await?;
    crate::output::json_rows(&batches)
}

/// Every run report of a date, merged: per job, the latest run's entry (the DAG runs one job
/// per process, each with its own report). `current` holds jobs of the run under way.
async fn merged_jobs(engine: &Engine, date: &str, current: &[JobReport]) -> Result<Vec<JobReport>> {
    let prefix = engine.wh.path(&format!("_state/runs/dt={date}"));
    let mut metas: Vec<_> = engine.wh.store.list(Some(&prefix)).try_collect().await.map_err(|e| Error::storage(prefix.to_string(), e))?;
    metas.retain(|m| m.location.filename().is_some_and(|f| f.starts_with("run-")));
    metas.sort_by(|a, b| a.location.cmp(&b.location)); // run ids sort by time
    let mut by_job: BTreeMap<String, JobReport> = BTreeMap::new();
    let mut ran: Vec<String> = vec![];
    for m in metas {
        let bytes = engine
            .wh
            .store
            .get(&m.location)
            .await
            .map_err(|e| Error::storage(m.location.to_string(), e))?
            .bytes()
            .await
            .map_err(|e| Error::storage(m.location.to_string(), e))?;
        if let Ok(r) = serde_json::from_slice::<RunReport>(&bytes) {
            for j in r.jobs {
                if !ran.contains(&j.job) {
                    ran.push(j.job.clone());
                }
                by_job.insert(j.job.clone(), j);
            }
        }
    }
    for j in current {
        if !ran.contains(&j.job) {
            ran.push(j.job.clone());
        }
        by_job.insert(j.job.clone(), j.clone());
    }
    // In the order they first ran (runs sort by time, a run's jobs by dependency): the
    // pipeline's order, without the report knowing the other jobs.
    Ok(ran.iter().filter_map(|n| by_job.remove(n)).collect())
}

/// Gather everything the page shows.
pub async fn build(engine: &Engine, date: chrono::NaiveDate, current: &[JobReport]) -> Result<String> {
    let dt = date.format("%Y-%m-%d").to_string();
    let mut data = serde_json::Map::new();
    data.insert("date".into(), json!(dt));
    data.insert("warehouse".into(), json!(engine.wh.url));

    // Run health: this date, and the two weeks before it.
    let jobs = merged_jobs(engine, &dt, current).await?;
    data.insert("jobs".into(), serde_json::to_value(&jobs).unwrap_or(Value::Null));
    let mut history = vec![];
    for back in (0..14).rev() {
        let d = date - chrono::Duration::days(back);
        let ds = d.format("%Y-%m-%d").to_string();
        let js = if back == 0 { jobs.clone() } else { merged_jobs(engine, &ds, &[]).await? };
        if js.is_empty() {
            continue;
        }
        let tables: Vec<&TableStats> = js.iter().filter(|j| j.job == "staging").flat_map(|j| &j.tables).collect();
        history.push(json!({
            "date": ds,
            "seconds": js.iter().map(|j| j.seconds).sum::<f64>(),
            "rows_in": tables.iter().map(|t| t.rows_in).sum::<u64>(),
            "quarantined": tables.iter().map(|t| t.quarantined).sum::<u64>(),
            "failed": js.iter().any(|j| j.status != "ok"),
        }));
    }
    data.insert("history".into(), Value::Array(history));

    let from = date - chrono::Duration::days(29);
    let p = params([("run_date", date_param(date)), ("from", date_param(from)), ("from_dt", date_param(from - chrono::Duration::days(1)))]);
    if engine.has_table("quarantine", "orders") {
        let mut reasons = vec![];
        for t in crate::schemas::RAW_TABLES {
            if engine.has_table("quarantine", t) {
                let sql = format!(
                    "SELECT '{t}' AS tbl, split_part(reason, ':', 1) AS reason, count(*) AS n FROM quarantine.{t} \
                     WHERE dt = $run_date GROUP BY 1, 2"
                );
                reasons.extend(rows(engine, &sql, &p).await?);
            }
        }
        data.insert("quarantine".into(), Value::Array(reasons));
    }
    if engine.has_table("marts", "customer_orders_day") {
        let sql = crate::sqlfiles::sql("marts", "_report_sales")?;
        data.insert("sales".into(), Value::Array(rows(engine, &sql, &p).await?));
    }
    if engine.has_table("marts", "association_rules") {
        let sql = "SELECT antecedent_names, consequent_names, support, confidence, lift, count \
                   FROM marts.association_rules WHERE dt = $run_date ORDER BY lift DESC, confidence DESC LIMIT 200";
        data.insert("rules".into(), Value::Array(rows(engine, sql, &p).await?));
    }
    if engine.has_table("marts", "rfm_segment_summary") {
        let sql = "SELECT segment, customers, CAST(revenue AS DOUBLE) AS revenue, customer_share, revenue_share, score_ranges \
                   FROM marts.rfm_segment_summary WHERE dt = $run_date";
        let seg = rows(engine, sql, &p).await?;
        if !seg.is_empty() {
            data.insert("segments".into(), Value::Array(seg));
        }
    }
    if engine.has_table("marts", "sales_forecast") {
        let sql = "SELECT CAST(period_start AS VARCHAR) AS period_start, grain, yhat, yhat_lo80, yhat_hi80, yhat_lo95, yhat_hi95, model \
                   FROM marts.sales_forecast WHERE dt = $run_date AND series_key = 'total' AND measure = 'revenue' ORDER BY period_start";
        let fc = rows(engine, sql, &p).await?;
        if !fc.is_empty() {
            data.insert("forecast".into(), Value::Array(fc));
            let sql = "SELECT model, count(*) AS series, avg(mase) AS mase, avg(coverage80) AS coverage80, avg(coverage95) AS coverage95 \
                       FROM marts.forecast_backtest WHERE dt = $run_date AND chosen GROUP BY model ORDER BY count(*) DESC, model";
            data.insert("forecast_models".into(), Value::Array(rows(engine, sql, &p).await?));
        }
    }
    if engine.has_table("marts", "audience_members") {
        let sql = "SELECT audience, count(*) FILTER (WHERE NOT holdout) AS exported, count(*) FILTER (WHERE holdout) AS holdout \
                   FROM marts.audience_members WHERE dt = $run_date GROUP BY audience ORDER BY audience";
        data.insert("audiences".into(), Value::Array(rows(engine, sql, &p).await?));
        if engine.has_table("marts", "audience_uplift") {
            let sql = "SELECT audience, CAST(cohort_dt AS VARCHAR) AS cohort_dt, attribution_days, exported_members, holdout_members, \
                       exported_conversion_rate, holdout_conversion_rate, conversion_diff, conversion_diff_lo95, conversion_diff_hi95, \
                       revenue_diff, revenue_diff_lo95, revenue_diff_hi95 \
                       FROM marts.audience_uplift WHERE dt = $run_date ORDER BY audience";
            data.insert("uplift".into(), Value::Array(rows(engine, sql, &p).await?));
        }
        if engine.has_table("marts", "export_runs") {
            // The latest sync of each audience and destination up to D (exports run after the
            // nightly jobs, so tonight's may not have happened yet).
            let sql = "SELECT audience, destination, kind, status, CAST(dt AS VARCHAR) AS date, members, adds, updates, removes, failed \
                       FROM (SELECT *, row_number() OVER (PARTITION BY audience, destination ORDER BY dt DESC, started_at DESC) AS rn \
                             FROM marts.export_runs WHERE dt <= $run_date) WHERE rn = 1 ORDER BY audience, destination";
            data.insert("exports".into(), Value::Array(rows(engine, sql, &p).await?));
        }
    }
    if engine.has_table("marts", "product_reviews") {
        let sql = "SELECT CAST(CAST(date_trunc('week', shop_date(created_at)) AS DATE) AS VARCHAR) AS week, count(*) AS reviews, avg(CAST(rating AS DOUBLE)) AS rating, \
                   avg(CASE WHEN sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative_share, \
                   avg(CASE WHEN sentiment = 'positive' THEN 1.0 ELSE 0.0 END) AS positive_share \
                   FROM marts.review_sentiment WHERE dt = $run_date AND status = 'published' AND shop_date(created_at) > $run_date - INTERVAL '182' DAY \
                   GROUP BY 1 ORDER BY 1";
        let weeks = rows(engine, sql, &p).await?;
        if !weeks.is_empty() {
            data.insert("reviews".into(), Value::Array(weeks));
            let sql = "SELECT product_id, reviews_window, rating_mean_window, rating_trend, negative_share, negative_share_trend, top_negative_phrases \
                       FROM marts.product_reviews WHERE dt = $run_date AND reviews_window >= 3 AND negative_share_trend IS NOT NULL \
                       ORDER BY negative_share_trend DESC, product_id LIMIT 10";
            data.insert("review_trends".into(), Value::Array(rows(engine, sql, &p).await?));
            let sql = "SELECT phrase, sum(negative_reviews) AS negative_reviews FROM marts.review_phrases \
                       WHERE dt = $run_date AND scope = 'category' AND kind = 'phrase' AND polarity = 'negative' \
                       GROUP BY phrase ORDER BY 2 DESC, 1 LIMIT 15";
            data.insert("complaints".into(), Value::Array(rows(engine, sql, &p).await?));
        }
    }
    if engine.has_table("marts", "model_metrics") {
        // Calibration bins are for notebooks; the page keeps the headline figures.
        let sql = "SELECT model, metric, value FROM marts.model_metrics WHERE dt = $run_date AND metric NOT LIKE 'calibration%' \
                   ORDER BY model, metric";
        let m = rows(engine, sql, &p).await?;
        if !m.is_empty() {
            data.insert("models".into(), Value::Array(m));
        }
    }
    Ok(render(&Value::Object(data)))
}
