//! What reviews say per product and category over the window: the phrases that set negative
//! reviews (1-2 stars) apart from positive ones (4-5 stars), and the configured aspects'
//! mentions (`marts.review_phrases`); then `marts.product_reviews` (SQL) over both.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use chrono::Duration;
use datafusion::scalar::ScalarValue;

use crate::config::ReviewsConfig;
use crate::engine::{date_param, params};
use crate::error::Result;
use crate::ml::review_text::{distinct_phrases, phrases, words, Counts};
use crate::runtime::RunContext;
use crate::sqlfiles;

/// Weight of the shop's phrase counts in each product's and category's log-odds (in phrases).
const PRIOR_WEIGHT: f64 = 500.0;
/// A phrase must be in this many reviews of the side it describes, and set it apart at about
/// 95% confidence (|z| of at least 1.96).
const MIN_REVIEWS: u64 = 2;
const MIN_Z: f64 = 1.96;

/// One scope's reviews: phrases of its negative and positive ones, aspect mentions.
#[derive(Default)]
struct Scope {
    neg: Counts,
    pos: Counts,
    reviews: i64,
    /// aspect -> (reviews mentioning it, of which negative, of which positive)
    aspects: BTreeMap<String, (i64, i64, i64)>,
}

#[derive(Default)]
struct Out {
    scope: Vec<&'static str>,
    scope_id: Vec<String>,
    kind: Vec<&'static str>,
    polarity: Vec<Option<&'static str>>,
    rank: Vec<i64>,
    phrase: Vec<String>,
    z: Vec<Option<f64>>,
    negative: Vec<i64>,
    positive: Vec<i64>,
    reviews: Vec<i64>,
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("scope", DataType::Utf8, false),
        Field::new("scope_id", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("polarity", DataType::Utf8, true),
        Field::new("rank", DataType::Int64, false),
        Field::new("phrase", DataType::Utf8, false),
        Field::new("z_score", DataType::Float64, true),
        Field::new("negative_reviews", DataType::Int64, false),
        Field::new("positive_reviews", DataType::Int64, false),
        Field::new("reviews", DataType::Int64, false),
    ]))
}

/// Whether `ws` contains the keyword (a word or words in sequence).
fn mentions(ws: &[String], keyword: &[String]) -> bool {
    !keyword.is_empty() && ws.windows(keyword.len()).any(|w| w == keyword)
}

/// Publish `review_phrases` and `product_reviews` for the run date; returns their rows.
pub async fn build(rc: &RunContext<'_>, cfg: &ReviewsConfig) -> Result<(u64, u64)> {
    let window_start = rc.date - Duration::days(cfg.window_days as i64);
    let p = params([
        ("run_date", date_param(rc.date)),
        ("window_start", date_param(window_start)),
        ("prev_window_start", date_param(window_start - Duration::days(cfg.window_days as i64))),
        ("prior_reviews", ScalarValue::Float64(Some(cfg.prior_reviews))),
    ]);
    let aspects: Vec<(String, Vec<Vec<String>>)> = cfg.aspects.iter().map(|(a, ks)| (a.clone(), ks.iter().map(|k| words(k)).collect())).collect();
    let mut shop = Counts::default();
    let mut scopes: BTreeMap<(&'static str, String), Scope> = BTreeMap::new();
    for b in rc.engine.query(&sqlfiles::sql("marts", "_review_window")?, &p).await?.collect().await? {
        let product = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let category = arrow::compute::cast(b.column(1), &DataType::Utf8)?;
        let rating = arrow::compute::cast(b.column(2), &DataType::Int64)?;
        let text = arrow::compute::cast(b.column(3), &DataType::Utf8)?;
        let (product, category, rating, text) = (product.as_string::<i32>(), category.as_string::<i32>(), rating.as_primitive::<Int64Type>(), text.as_string::<i32>());
        for i in 0..b.num_rows() {
            let ph = phrases(text.value(i));
            let ws = words(text.value(i));
            shop.add(&ph);
            let r = rating.value(i);
            let mut keys = vec![("product", product.value(i).to_string())];
            if !category.is_null(i) {
                keys.push(("category", category.value(i).to_string()));
            }
            for key in keys {
                let s = scopes.entry(key).or_default();
                s.reviews += 1;
                if r <= 2 {
                    s.neg.add(&ph);
                } else if r >= 4 {
                    s.pos.add(&ph);
                }
                for (aspect, keywords) in &aspects {
                    if keywords.iter().any(|k| mentions(&ws, k)) {
                        let e = s.aspects.entry(aspect.clone()).or_default();
                        e.0 += 1;
                        e.1 += (r <= 2) as i64;
                        e.2 += (r >= 4) as i64;
                    }
                }
            }
        }
    }
    let mut o = Out::default();
    for ((scope, id), s) in &scopes {
        let (neg, pos) = distinct_phrases(&s.neg, &s.pos, &shop, PRIOR_WEIGHT, MIN_REVIEWS, MIN_Z, cfg.top_phrases as usize);
        for (polarity, list) in [("negative", neg), ("positive", pos)] {
            for (k, d) in list.into_iter().enumerate() {
                o.push(scope, id, "phrase", Some(polarity), k as i64 + 1, d.phrase, Some(d.z), d.negative as i64, d.positive as i64, s.reviews);
            }
        }
        for (k, (aspect, (n, neg, pos))) in s.aspects.iter().enumerate() {
            o.push(scope, id, "aspect", None, k as i64 + 1, aspect.clone(), None, *neg, *pos, *n);
        }
    }
    let batch = RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(StringArray::from(o.scope)),
            Arc::new(StringArray::from(o.scope_id)),
            Arc::new(StringArray::from(o.kind)),
            Arc::new(StringArray::from(o.polarity)),
            Arc::new(Int64Array::from(o.rank)),
            Arc::new(StringArray::from(o.phrase)),
            Arc::new(Float64Array::from(o.z)),
            Arc::new(Int64Array::from(o.negative)),
            Arc::new(Int64Array::from(o.positive)),
            Arc::new(Int64Array::from(o.reviews)),
        ],
    )?;
    let phrases_out = rc.publish_batches("marts", "review_phrases", schema(), &[batch]).await?;
    let products_out = rc.publish_query("marts", "product_reviews", &sqlfiles::sql("marts", "product_reviews")?, &p).await?;
    Ok((phrases_out, products_out))
}

impl Out {
    #[allow(clippy::too_many_arguments)]
    fn push(&mut self, scope: &'static str, id: &str, kind: &'static str, polarity: Option<&'static str>, rank: i64, phrase: String, z: Option<f64>, neg: i64, pos: i64, n: i64) {
        self.scope.push(scope);
        self.scope_id.push(id.to_string());
        self.kind.push(kind);
        self.polarity.push(polarity);
        self.rank.push(rank);
        self.phrase.push(phrase);
        self.z.push(z);
        self.negative.push(neg);
        self.positive.push(pos);
        self.reviews.push(n);
    }
}
