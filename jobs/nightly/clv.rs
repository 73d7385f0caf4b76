//! The clv job: BG/NBD and Gamma-Gamma fitted by maximum likelihood on the BG/NBD columns of
//! the date's rfm_segments (`jobs/ml/clv.rs`), then per customer the probability of being
//! alive, the expected purchases and value over the next 365 days. Publishes `clv`; the fitted
//! parameters go to `model_metrics` (models bg_nbd and gamma_gamma).

use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use async_trait::async_trait;
use futures::StreamExt;

use crate::engine::{date_param, params};
use crate::error::{Error, Result};
use crate::ml::clv::{fit_bgnbd, fit_gamma_gamma, Summary};
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};

pub struct Clv;

const HORIZON_DAYS: f64 = 365.0;

#[async_trait]
impl Job for Clv {
    fn name(&self) -> &'static str {
        "clv"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["rfm_segments"]
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        rc.require("clv", &[("marts", "rfm_segments")], "run rfm_segments first")?;
        let sql = "SELECT customer_id, CAST(repeat_purchase_days AS DOUBLE), CAST(days_first_to_last_purchase AS DOUBLE), \
                   CAST(days_since_first_purchase AS DOUBLE), CAST(avg_repeat_purchase_value AS DOUBLE) \
                   FROM marts.rfm_segments WHERE dt = $run_date";
        let mut stream = rc.engine.query(sql, &params([("run_date", date_param(rc.date))])).await?.execute_stream().await?;
        let (mut ids, mut customers) = (vec![], vec![]);
        while let Some(b) = stream.next().await {
            let b = b?;
            let id = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
            let id = id.as_string::<i32>();
            let f = |i: usize| b.column(i).as_primitive::<Float64Type>().clone();
            let (x, tx, t, m) = (f(1), f(2), f(3), f(4));
            for i in 0..b.num_rows() {
                ids.push(id.value(i).to_string());
                let v = |a: &arrow::array::Float64Array| if a.is_null(i) { 0.0 } else { a.value(i) };
                customers.push(Summary { frequency: v(&x), recency: v(&tx), t: v(&t), monetary: v(&m) });
            }
        }
        rc.progress("fitting BG/NBD and Gamma-Gamma");
        let started = std::time::Instant::now();
        let bg = fit_bgnbd(&customers);
        let gg = fit_gamma_gamma(&customers);
        tracing::info!(customers = customers.len(), ?bg, ?gg, seconds = started.elapsed().as_secs_f64(), "clv models fitted");
        // Without a fit (no customers) every prediction is NULL.
        let alive: Vec<Option<f64>> = customers.iter().map(|c| bg.map(|p| p.probability_alive(c))).collect();
        let purchases: Vec<Option<f64>> = customers.iter().map(|c| bg.map(|p| p.expected_purchases(c, HORIZON_DAYS)).filter(|v| v.is_finite())).collect();
        let value: Vec<Option<f64>> = customers.iter().map(|c| gg.map(|g| g.expected_average_value(c)).filter(|v| v.is_finite() && *v >= 0.0)).collect();
        let total: Vec<Option<f64>> = purchases.iter().zip(&value).map(|(p, v)| p.zip(*v).map(|(p, v)| p * v)).collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Utf8, false),
            Field::new("probability_alive", DataType::Float64, true),
            Field::new("expected_purchases_365", DataType::Float64, true),
            Field::new("expected_avg_value", DataType::Float64, true),
            Field::new("expected_value_365", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(ids)),
                Arc::new(Float64Array::from(alive)),
                Arc::new(Float64Array::from(purchases)),
                Arc::new(Float64Array::from(value)),
                Arc::new(Float64Array::from(total)),
            ],
        )
        .map_err(|e| Error::job("clv", e.to_string()))?;
        let rows = rc.publish_batches("marts", "clv", schema, &[batch]).await?;
        let mut metrics: Vec<(&str, String, f64)> = vec![("bg_nbd", "customers".into(), customers.len() as f64)];
        if let Some(p) = bg {
            metrics.extend([("bg_nbd", "r".into(), p.r), ("bg_nbd", "alpha".into(), p.alpha), ("bg_nbd", "a".into(), p.a), ("bg_nbd", "b".into(), p.b)]);
        }
        if let Some(p) = gg {
            metrics.extend([("gamma_gamma", "p".into(), p.p), ("gamma_gamma", "q".into(), p.q), ("gamma_gamma", "v".into(), p.v)]);
        }
        let m = crate::runtime::model_metrics::publish(rc, self.name(), &metrics).await?;
        Ok(vec![
            TableStats { table: "marts.clv".into(), rows_in: customers.len() as u64, rows_out: rows, ..Default::default() },
            TableStats { table: "marts.model_metrics".into(), rows_out: m, ..Default::default() },
        ])
    }
}
