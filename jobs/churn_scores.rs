//! The churn_scores job: a customer has churned at a cut-off when they buy nothing in the
//! following `churn_window_days` (W). Features come from the daily aggregates up to each cut-off
//! (`sql/marts/_churn_features.sql`, over the customer-days deduplicated once per job). The model is trained at D-2W (labels from D-2W+1 .. D-W)
//! and evaluated at D-W (labels up to D): a time split, so nothing after a cut-off reaches the
//! model judged on it. Then it is refitted at D-W and every customer is scored at D. AUC, log
//! loss and a calibration table go to `model_metrics` (model churn_logistic).

use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use futures::StreamExt;

use crate::engine::{date_param, Params};
use crate::error::{Error, Result};
use crate::ml::churn::{auc, calibration, fit, log_loss};
use crate::registry::{Job, RunContext};
use crate::sqlfiles;
use crate::storage::report::TableStats;

pub struct ChurnScores;

const MODEL: &str = "churn_logistic";

/// Customers at a cut-off: ids, churn labels and feature rows (counts log1p'd).
struct Sample {
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
    let mut s = Sample { ids: vec![], churned: vec![], rows: vec![] };
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
                        if j == has_purchased { v } else { v.ln_1p() }
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
        ids: order.iter().map(|&i| std::mem::take(&mut s.ids[i])).collect(),
        churned: order.iter().map(|&i| s.churned[i]).collect(),
        rows: order.iter().map(|&i| std::mem::take(&mut s.rows[i])).collect(),
    })
}

#[async_trait]
impl Job for ChurnScores {
    fn name(&self) -> &'static str {
        "churn_scores"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["staging", "daily_aggregates"]
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        rc.require("churn_scores", &[("marts", "customer_orders_day"), ("marts", "customer_events_day")], "run daily_aggregates first")?;
        let cfg = &rc.cfg.jobs.churn_scores;
        let w = Duration::days(cfg.churn_window_days as i64);
        let (train_at, eval_at) = (rc.date - w - w, rc.date - w);
        rc.progress("churn features");
        let p: Params = [("run_date".to_string(), date_param(rc.date))].into_iter().collect();
        let (_, history) = rc.scratch_query("churn_history", &sqlfiles::sql("marts", "_churn_history")?, &p).await?;
        let samples = async {
            Ok::<_, Error>((sample(rc, train_at, eval_at).await?, sample(rc, eval_at, rc.date).await?, sample(rc, rc.date, rc.date).await?))
        }
        .await;
        crate::staging::cleanup(rc.engine, &history).await;
        let (train, eval, now) = samples?;
        let mut metrics: Vec<(&str, String, f64)> = vec![
            (MODEL, "train_customers".into(), train.ids.len() as f64),
            (MODEL, "eval_customers".into(), eval.ids.len() as f64),
            (MODEL, "churn_window_days".into(), cfg.churn_window_days as f64),
        ];
        rc.progress("churn model");
        let probabilities: Vec<Option<f64>> = match fit(&train.rows, &train.churned, cfg.l2, cfg.max_iterations, None) {
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
                latest.predict(&now.rows).into_iter().map(Some).collect()
            }
            Err(e) => {
                tracing::warn!("no churn model for {}: {e}; history before {train_at} is needed (2 x churn_window_days)", rc.dt());
                vec![None; now.ids.len()]
            }
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Utf8, false),
            Field::new("churn_probability", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(now.ids)), Arc::new(Float64Array::from(probabilities))])
            .map_err(|e| Error::job("churn_scores", e.to_string()))?;
        let rows = rc.publish_batches("marts", "churn_scores", schema, &[batch]).await?;
        let m = crate::model_metrics::publish(rc, &[MODEL], &metrics).await?;
        Ok(vec![
            TableStats { table: "marts.churn_scores".into(), rows_in: (train.churned.len() + eval.churned.len()) as u64, rows_out: rows, ..Default::default() },
            TableStats { table: "marts.model_metrics".into(), rows_out: m, ..Default::default() },
        ])
    }
}
