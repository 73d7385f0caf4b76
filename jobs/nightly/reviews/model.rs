//! The review model: "rating <= 2" learnt from the shop's reviews with text, judged on a time
//! split against the lexicon, stored as `marts.review_model` (one row per non-zero hashed
//! weight, plus the intercept and whether the model decides sentiment).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Array, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, SchemaRef};
use chrono::NaiveDate;

use super::rows::{Review, Scored};
use crate::engine::date32;
use crate::error::Result;
use crate::ml::churn::auc;
use crate::ml::review_text::{fit, TextModel};
use crate::runtime::RunContext;

/// Rows of `marts.review_model` that are not weights.
const INTERCEPT: i64 = -1;
const IN_USE: i64 = -2;

const EPOCHS: usize = 6;
const L2: f64 = 1e-6;

pub struct Model {
    pub text: TextModel,
    /// It beat the lexicon on the held-out reviews: its score decides negative sentiment.
    pub in_use: bool,
}

/// Train on the older four fifths of the published reviews with text (by created_at), evaluate on
/// the newest fifth against the lexicon (AUC of -compound), then refit on all of them. None
/// when there are too few reviews or only one class. Returns the model and its metrics.
pub fn train(reviews: &[Review], scored: &[Scored], min_reviews: u32) -> (Option<Model>, Vec<(String, f64)>) {
    // Hidden reviews (spam, awaiting moderation) teach nothing about the shop's customers.
    let mut idx: Vec<usize> = (0..reviews.len()).filter(|&i| reviews[i].status == "published" && !reviews[i].text.trim().is_empty()).collect();
    idx.sort_by(|&a, &b| (reviews[a].created_at, &reviews[a].id).cmp(&(reviews[b].created_at, &reviews[b].id)));
    let label = |i: usize| reviews[i].rating <= 2;
    let negatives = idx.iter().filter(|&&i| label(i)).count();
    let mut metrics = vec![("reviews_with_text".to_string(), idx.len() as f64), ("negative_share".to_string(), negatives as f64 / idx.len().max(1) as f64)];
    if idx.len() < min_reviews as usize || negatives < 5 || negatives + 5 > idx.len() {
        tracing::warn!(reviews = idx.len(), negatives, min_reviews, "too few rated reviews with text for a review model: the lexicon decides sentiment");
        return (None, metrics);
    }
    let cut = idx.len() * 4 / 5;
    let (train, held) = idx.split_at(cut);
    let rows = |ix: &[usize]| ix.iter().map(|&i| scored[i].features.as_slice()).collect::<Vec<_>>();
    let labels = |ix: &[usize]| ix.iter().map(|&i| label(i)).collect::<Vec<_>>();
    let first = fit(&rows(train), &labels(train), EPOCHS, L2);
    let held_labels = labels(held);
    let model_auc = auc(&held.iter().map(|&i| first.predict(&scored[i].features)).collect::<Vec<_>>(), &held_labels);
    let lexicon_auc = auc(&held.iter().map(|&i| -scored[i].vader.compound).collect::<Vec<_>>(), &held_labels);
    let in_use = matches!((model_auc, lexicon_auc), (Some(m), Some(l)) if m > l) || (model_auc.is_some() && lexicon_auc.is_none());
    tracing::info!(train = train.len(), held_out = held.len(), auc = ?model_auc, lexicon_auc = ?lexicon_auc, in_use, "review model evaluated on the newest reviews");
    metrics.extend([
        ("train_reviews".to_string(), train.len() as f64),
        ("holdout_reviews".to_string(), held.len() as f64),
        ("auc".to_string(), model_auc.unwrap_or(f64::NAN)),
        ("lexicon_auc".to_string(), lexicon_auc.unwrap_or(f64::NAN)),
        ("model_in_use".to_string(), if in_use { 1.0 } else { 0.0 }),
    ]);
    let text = fit(&rows(&idx), &labels(&idx), EPOCHS, L2);
    (Some(Model { text, in_use }), metrics)
}

pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("feature", DataType::Int64, false),
        Field::new("weight", DataType::Float64, false),
        Field::new("trained_on", DataType::Date32, true),
    ]))
}

pub fn batch(m: Option<&Model>, trained_on: NaiveDate) -> Result<RecordBatch> {
    let (mut f, mut w) = (vec![], vec![]);
    if let Some(m) = m {
        let mut weights: Vec<(u32, f64)> = m.text.weights.iter().map(|(k, v)| (*k, *v)).collect();
        weights.sort_unstable_by_key(|x| x.0);
        f.extend([INTERCEPT, IN_USE]);
        w.extend([m.text.bias, if m.in_use { 1.0 } else { 0.0 }]);
        for (k, v) in weights {
            f.push(k as i64);
            w.push(v);
        }
    }
    let day = Date32Array::from(vec![date32(trained_on); f.len()]);
    Ok(RecordBatch::try_new(schema(), vec![Arc::new(Int64Array::from(f)), Arc::new(Float64Array::from(w)), Arc::new(day)])?)
}

/// The model of partition `dt` (None when that night trained none).
pub async fn load(rc: &RunContext<'_>, dt: NaiveDate) -> Result<Option<Model>> {
    let p = crate::engine::params([("dt", crate::engine::date_param(dt))]);
    let mut m = Model { text: TextModel { bias: 0.0, weights: HashMap::new() }, in_use: false };
    let mut any = false;
    for b in rc.engine.query("SELECT feature, weight FROM marts.review_model WHERE dt = $dt", &p).await?.collect().await? {
        let f = arrow::compute::cast(b.column(0), &DataType::Int64)?;
        let f = f.as_primitive::<Int64Type>();
        let w = arrow::compute::cast(b.column(1), &DataType::Float64)?;
        let w = w.as_primitive::<Float64Type>();
        for i in (0..b.num_rows()).filter(|&i| !f.is_null(i) && !w.is_null(i)) {
            any = true;
            match f.value(i) {
                INTERCEPT => m.text.bias = w.value(i),
                IN_USE => m.in_use = w.value(i) > 0.5,
                k if k >= 0 => {
                    m.text.weights.insert(k as u32, w.value(i));
                }
                _ => {}
            }
        }
    }
    Ok(any.then_some(m))
}
