//! `marts.model_metrics`: (model, metric, value) rows that several jobs write for the same
//! date (churn_scores, clv, recommendations). Each job owns a slice of the partition and
//! replaces only that, so the jobs may run at once (as the DAG runs them).

use std::sync::Arc;

use arrow::array::{Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use crate::error::Result;
use crate::runtime::RunContext;

/// Rows of model_metrics: (model, metric, value).
fn batch(rows: &[(&str, String, f64)]) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("metric", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(rows.iter().map(|r| Some(r.0)).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| Some(r.1.as_str())).collect::<StringArray>()),
            Arc::new(rows.iter().map(|r| r.2.is_finite().then_some(r.2)).collect::<Float64Array>()),
        ],
    )?)
}

/// Replace job `owner`'s rows of the date's model_metrics partition.
pub async fn publish(rc: &RunContext<'_>, owner: &str, rows: &[(&str, String, f64)]) -> Result<u64> {
    rc.check_owned("marts", "model_metrics")?;
    crate::engine::publish_slice(rc.engine, rc.run_id, "marts", "model_metrics", &rc.dt(), owner, false, &batch(rows)?).await
}

/// The (metric, value) rows of `model` in partition `dt`, but its `model_age_days`: the
/// evaluation of a model that a later night reuses (and dates anew).
pub async fn previous(rc: &RunContext<'_>, model: &str, dt: chrono::NaiveDate) -> Result<Vec<(String, f64)>> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;
    let p = crate::engine::params([("dt", crate::engine::date_param(dt)), ("model", datafusion::scalar::ScalarValue::Utf8(Some(model.to_string())))]);
    let sql = "SELECT metric, value FROM marts.model_metrics WHERE dt = $dt AND model = $model ORDER BY metric";
    let mut out = vec![];
    for b in rc.engine.query(sql, &p).await?.collect().await? {
        let metric = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let metric = metric.as_string::<i32>();
        let value = arrow::compute::cast(b.column(1), &DataType::Float64)?;
        let value = value.as_primitive::<Float64Type>();
        for i in (0..b.num_rows()).filter(|&i| metric.value(i) != "model_age_days") {
            out.push((metric.value(i).to_string(), if value.is_null(i) { f64::NAN } else { value.value(i) }));
        }
    }
    Ok(out)
}
