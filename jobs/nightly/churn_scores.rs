//! The churn_scores job: a customer has churned at a cut-off when they buy nothing in the
//! following `churn_window_days` (W). Features come from the daily aggregates up to each cut-off
//! (`sql/marts/_churn_features.sql`, over the customer-days deduplicated once per job). The model is trained at D-2W (labels from D-2W+1 .. D-W)
//! and evaluated at D-W (labels up to D): a time split, so nothing after a cut-off reaches the
//! model judged on it. Then it is refitted at D-W and every customer is scored at D. AUC, log
//! loss and a calibration table go to `model_metrics` (model churn_logistic).
//! Training runs every `retrain_every_days`: the model goes to `marts.churn_model` (one row per
//! standardised feature and the intercept, with `trained_on`), and every night, training or
//! not, scores all customers with the model read back from that table. Nights between
//! trainings compute the features at D only and carry the model's metrics over.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Array, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use futures::StreamExt;

use crate::engine::{date32, date_param, Params};
use crate::error::{Error, Result};
use crate::ml::churn::{auc, calibration, fit, log_loss, LinearModel};
use crate::runtime::incremental::fingerprint;
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};
use crate::sqlfiles;

pub struct ChurnScores;

const MODEL: &str = "churn_logistic";

/// Customers at a cut-off: ids, churn labels and feature rows (counts log1p'd).
struct Sample {
    features: Vec<String>,
    ids: Vec<String>,
    churned: Vec<bool>,
    rows: Vec<Vec<f64>>,
}

async fn sample(rc: &RunContext<'_>, cutoff: NaiveDate, label_end: NaiveDate) -> Result<Sample> {
    let d = |n: i64| date_param(cutoff - Duration::days(n - 1));
    let p: Params = [
        ("run_date", date_param(rc.date)),
        ("cutoff", date_param(cutoff)),
        ("label_end", date_param(label_end)),
        ("w30", d(30)),
        ("w90", d(90)),
        ("w90_dt", d(91)),
        ("w365", d(365)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut stream = rc.engine.query(&sqlfiles::sql("marts", "_churn_features")?, &p).await?.execute_stream().await?;
    let features = stream.schema().fields().iter().skip(2).map(|f| f.name().clone()).collect();
    let mut s = Sample { features, ids: vec![], churned: vec![], rows: vec![] };
    while let Some(b) = stream.next().await {
        let b = b?;
        let id = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let id = id.as_string::<i32>();
        let label = b.column(1).as_boolean();
        let feats: Vec<Float64Array> = (2..b.num_columns())
            .map(|i| arrow::compute::cast(b.column(i), &DataType::Float64).map(|a| a.as_primitive::<Float64Type>().clone()))
            .collect::<std::result::Result<_, _>>()?;
        let has_purchased = b.schema().index_of("has_purchased")? - 2;
        let tenure = &feats[b.schema().index_of("tenure_days")? - 2];
        for i in 0..b.num_rows() {
            if tenure.is_null(i) || tenure.value(i) < 0.0 {
                continue; // signed up after the cut-off
            }
            s.ids.push(id.value(i).to_string());
            s.churned.push(label.value(i));
            s.rows.push(
                feats
                    .iter()
                    .enumerate()
                    .map(|(j, a)| {
                        let v = if a.is_null(i) { 0.0 } else { a.value(i).max(0.0) };
                        if j == has_purchased {
                            v
                        } else {
                            v.ln_1p()
                        }
                    })
                    .collect(),
            );
        }
    }
    // In customer order: the fit sums rows in order, so the query's (parallel) order must not
    // change the model's last digits between reruns.
    let mut order: Vec<usize> = (0..s.ids.len()).collect();
    order.sort_unstable_by(|&a, &b| s.ids[a].cmp(&s.ids[b]));
    Ok(Sample {
        features: s.features,
        ids: order.iter().map(|&i| std::mem::take(&mut s.ids[i])).collect(),
        churned: order.iter().map(|&i| s.churned[i]).collect(),
        rows: order.iter().map(|&i| std::mem::take(&mut s.rows[i])).collect(),
    })
}

/// The row of `marts.churn_model` that holds the intercept.
const INTERCEPT: &str = "(intercept)";

fn model_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("feature", DataType::Utf8, false),
        Field::new("mean", DataType::Float64, false),
        Field::new("std", DataType::Float64, false),
        Field::new("coefficient", DataType::Float64, false),
        Field::new("trained_on", DataType::Date32, true),
    ]))
}

fn model_batch(m: Option<&LinearModel>, trained_on: NaiveDate) -> Result<RecordBatch> {
    let (mut f, mut mean, mut std, mut coef) = (vec![], vec![], vec![], vec![]);
    if let Some(m) = m {
        for j in 0..m.features.len() {
            f.push(m.features[j].as_str());
            mean.push(m.mean[j]);
            std.push(m.std[j]);
            coef.push(m.coefficient[j]);
        }
        f.push(INTERCEPT);
        mean.push(0.0);
        std.push(1.0);
        coef.push(m.intercept);
    }
    let day = Date32Array::from(vec![date32(trained_on); f.len()]);
    Ok(RecordBatch::try_new(
        model_schema(),
        vec![
            Arc::new(StringArray::from(f)),
            Arc::new(Float64Array::from(mean)),
            Arc::new(Float64Array::from(std)),
            Arc::new(Float64Array::from(coef)),
            Arc::new(day),
        ],
    )?)
}

/// The model of `marts.churn_model` partition `dt`, its features in the order of `features`
/// (None when that night trained no model).
async fn load_model(rc: &RunContext<'_>, dt: NaiveDate, features: &[String]) -> Result<Option<LinearModel>> {
    let p: Params = [("dt".to_string(), date_param(dt))].into_iter().collect();
    let batches = rc.engine.query("SELECT feature, mean, std, coefficient FROM marts.churn_model WHERE dt = $dt", &p).await?.collect().await?;
    let mut rows: std::collections::HashMap<String, [f64; 3]> = Default::default();
    for b in &batches {
        let name = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let name = name.as_string::<i32>();
        let v = |i: usize| arrow::compute::cast(b.column(i), &DataType::Float64).map(|a| a.as_primitive::<Float64Type>().clone());
        let (mean, std, coef) = (v(1)?, v(2)?, v(3)?);
        for i in 0..b.num_rows() {
            rows.insert(name.value(i).to_string(), [mean.value(i), std.value(i), coef.value(i)]);
        }
    }
    if rows.is_empty() {
        return Ok(None);
    }
    let get = |f: &str| {
        rows.get(f)
            .copied()
            .ok_or_else(|| Error::job("churn_scores", format!("marts.churn_model dt={dt} has no row for {f}: rerun with --full-refresh to train again")))
    };
    let mut m = LinearModel { features: features.to_vec(), mean: vec![], std: vec![], coefficient: vec![], intercept: get(INTERCEPT)?[2] };
    for f in features {
        let [mean, std, coef] = get(f)?;
        m.mean.push(mean);
        m.std.push(std);
        m.coefficient.push(coef);
    }
    Ok(Some(m))
}

#[async_trait]
impl Job for ChurnScores {
    fn name(&self) -> &'static str {
        "churn_scores"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["staging", "daily_aggregates"]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.churn_scores)
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        rc.require("churn_scores", &[("marts", "customer_orders_day"), ("marts", "customer_events_day")], "run daily_aggregates first")?;
        let cfg = &rc.cfg.jobs.churn_scores;
        let fp = fingerprint(&["_churn_history", "_churn_features"], &[format!("{} {} {}", cfg.churn_window_days, cfg.l2, cfg.max_iterations)])?;
        let reuse = rc.reusable_model("churn_model", cfg.retrain_every_days, &fp).await?;
        let w = Duration::days(cfg.churn_window_days as i64);
        let (train_at, eval_at) = (rc.date - w - w, rc.date - w);
        rc.progress("churn features");
        let p: Params = [("run_date".to_string(), date_param(rc.date))].into_iter().collect();
        let (_, history) = rc.scratch_query("churn_history", &sqlfiles::sql("marts", "_churn_history")?, &p).await?;
        let samples = async {
            let now = sample(rc, rc.date, rc.date).await?;
            if reuse.is_some() {
                return Ok::<_, Error>((None, now));
            }
            Ok((Some((sample(rc, train_at, eval_at).await?, sample(rc, eval_at, rc.date).await?)), now))
        }
        .await;
        rc.engine.wh.remove_dir(&history).await;
        let (training, now) = samples?;
        let mut metrics: Vec<(&str, String, f64)> = vec![];
        let rows_in: u64;
        let model_from = match (reuse, training) {
            (Some((prev, trained_on)), _) => {
                rc.progress("churn scores (stored model)");
                rc.copy_partition("churn_model", prev, &fp).await?;
                metrics.extend(crate::runtime::model_metrics::previous(rc, MODEL, prev).await?.into_iter().map(|(m, v)| (MODEL, m, v)));
                metrics.push((MODEL, "model_age_days".into(), (rc.date - trained_on).num_days() as f64));
                rows_in = now.ids.len() as u64;
                prev
            }
            (None, Some((train, eval))) => {
                rc.progress("churn model");
                rows_in = (train.churned.len() + eval.churned.len()) as u64;
                metrics.extend([
                    (MODEL, "train_customers".into(), train.ids.len() as f64),
                    (MODEL, "eval_customers".into(), eval.ids.len() as f64),
                    (MODEL, "churn_window_days".into(), cfg.churn_window_days as f64),
                    (MODEL, "model_age_days".into(), 0.0),
                ]);
                let latest = match fit(&train.rows, &train.churned, cfg.l2, cfg.max_iterations, None) {
                    Ok(model) => {
                        let p = model.predict(&eval.rows);
                        let a = auc(&p, &eval.churned);
                        let ll = log_loss(&p, &eval.churned);
                        let base = eval.churned.iter().filter(|c| **c).count() as f64 / eval.churned.len().max(1) as f64;
                        tracing::info!(train = train.ids.len(), eval = eval.ids.len(), auc = ?a, log_loss = ll, base_rate = base, "churn model evaluated on the later cut-off");
                        metrics.push((MODEL, "auc".into(), a.unwrap_or(f64::NAN)));
                        metrics.push((MODEL, "log_loss".into(), ll));
                        metrics.push((MODEL, "eval_churn_rate".into(), base));
                        for (bin, n, pred, obs) in calibration(&p, &eval.churned) {
                            let lo = bin as f64 / 10.0;
                            metrics.push((MODEL, format!("calibration_{lo:.1}_{:.1}_customers", lo + 0.1), n as f64));
                            metrics.push((MODEL, format!("calibration_{lo:.1}_{:.1}_predicted", lo + 0.1), pred));
                            metrics.push((MODEL, format!("calibration_{lo:.1}_{:.1}_observed", lo + 0.1), obs));
                        }
                        // The final model learns from the latest labelled cut-off.
                        let latest = fit(&eval.rows, &eval.churned, cfg.l2, cfg.max_iterations, Some(&model)).unwrap_or(model);
                        Some(latest.linear(&eval.features))
                    }
                    Err(e) => {
                        tracing::warn!("no churn model for {}: {e}; history before {train_at} is needed (2 x churn_window_days)", rc.dt());
                        None
                    }
                };
                // An empty partition when nothing could be trained: the next night tries again.
                rc.publish_batches_built_with("marts", "churn_model", model_schema(), &[model_batch(latest.as_ref(), rc.date)?], Some(fp.clone())).await?;
                rc.date
            }
            (None, None) => return Err(Error::job("churn_scores", "no training samples")),
        };
        // Training night or not, scores come from the stored model.
        let probabilities: Vec<Option<f64>> = match load_model(rc, model_from, &now.features).await? {
            Some(m) => m.predict(&now.rows).into_iter().map(Some).collect(),
            None => vec![None; now.ids.len()],
        };
        let schema = Arc::new(Schema::new(vec![Field::new("customer_id", DataType::Utf8, false), Field::new("churn_probability", DataType::Float64, true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(now.ids)), Arc::new(Float64Array::from(probabilities))])
            .map_err(|e| Error::job("churn_scores", e.to_string()))?;
        let rows = rc.publish_batches("marts", "churn_scores", schema, &[batch]).await?;
        let m = crate::runtime::model_metrics::publish(rc, self.name(), &metrics).await?;
        Ok(vec![
            TableStats { table: "marts.churn_scores".into(), rows_in, rows_out: rows, ..Default::default() },
            TableStats { table: "marts.model_metrics".into(), rows_out: m, ..Default::default() },
        ])
    }
}
