//! Reviews as Rust rows: read from the current staged versions, scored by the lexicon (or
//! its scores carried over), written as `marts.review_sentiment`'s columns.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::ml::review_text::{review_text, TextModel};
use crate::ml::vader::Scores;
use crate::runtime::RunContext;

#[derive(Debug, Clone)]
pub struct Review {
    pub id: String,
    pub product: String,
    pub customer: Option<String>,
    pub rating: i64,
    pub status: String,
    pub language: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The scored text: title and body (see `review_text`).
    pub text: String,
}

/// A review's scores, before and after its sentiment is decided.
#[derive(Debug, Clone)]
pub struct Scored {
    pub vader: Scores,
    pub features: Vec<(u32, f32)>,
    pub model_score: Option<f64>,
    pub sentiment: &'static str,
    /// What decided the sentiment: rating, model or lexicon.
    pub source: &'static str,
    rating: i64,
    has_text: bool,
}

impl Scored {
    /// With the model's score (when there is a model and text) and the sentiment rule applied;
    /// `in_use`: the model decides negative sentiment.
    pub fn labelled(mut self, model: Option<&TextModel>, in_use: bool) -> Scored {
        self.model_score = model.filter(|_| self.has_text).map(|m| m.predict(&self.features));
        let decisive = self.model_score.filter(|_| in_use);
        let (sentiment, source) = sentiment(self.rating, self.has_text, &self.vader, decisive);
        self.sentiment = sentiment;
        self.source = source;
        self.features = vec![];
        self
    }
}

fn utf8(b: &RecordBatch, name: &str) -> Result<StringArray> {
    let i = b.schema().index_of(name)?;
    Ok(arrow::compute::cast(b.column(i), &DataType::Utf8)?.as_string::<i32>().clone())
}

fn micros(b: &RecordBatch, name: &str) -> Result<TimestampMicrosecondArray> {
    let i = b.schema().index_of(name)?;
    let a = arrow::compute::cast(b.column(i), &DataType::Timestamp(TimeUnit::Microsecond, None))?;
    Ok(a.as_primitive::<TimestampMicrosecondType>().clone())
}

/// Rows of `_review_current.sql`.
pub fn read(batches: &[RecordBatch]) -> Result<Vec<Review>> {
    let mut out = vec![];
    for b in batches {
        let (id, product, customer, status, language, title, body) =
            (utf8(b, "review_id")?, utf8(b, "product_id")?, utf8(b, "customer_id")?, utf8(b, "status")?, utf8(b, "language")?, utf8(b, "title")?, utf8(b, "body")?);
        let rating = arrow::compute::cast(b.column(b.schema().index_of("rating")?), &DataType::Int64)?;
        let rating = rating.as_primitive::<Int64Type>();
        let (created, updated) = (micros(b, "created_at")?, micros(b, "updated_at")?);
        let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
        for i in 0..b.num_rows() {
            if id.is_null(i) || rating.is_null(i) || created.is_null(i) || updated.is_null(i) {
                return Err(Error::job("reviews", format!("staging.reviews has a row without its required columns (review {:?})", opt(&id, i))));
            }
            out.push(Review {
                id: id.value(i).to_string(),
                product: product.value(i).to_string(),
                customer: opt(&customer, i),
                rating: rating.value(i),
                status: status.value(i).to_string(),
                language: opt(&language, i),
                created_at: created.value(i),
                updated_at: updated.value(i),
                text: review_text(opt(&title, i).as_deref(), opt(&body, i).as_deref()),
            });
        }
    }
    Ok(out)
}

/// The lexicon's scores of partition `prev` of `marts.review_sentiment`, by review id, with
/// the text they were computed for.
pub async fn previous_scores(rc: &RunContext<'_>, prev: chrono::NaiveDate) -> Result<HashMap<String, (String, Scores)>> {
    let p = crate::engine::params([("dt", crate::engine::date_param(prev))]);
    let sql = "SELECT review_id, text, vader_neg, vader_neu, vader_pos, vader_compound FROM marts.review_sentiment WHERE dt = $dt";
    let mut out = HashMap::new();
    for b in rc.engine.query(sql, &p).await?.collect().await? {
        let id = utf8(&b, "review_id")?;
        let at = utf8(&b, "text")?;
        let f = |i: usize| arrow::compute::cast(b.column(i), &DataType::Float64).map(|a| a.as_primitive::<arrow::datatypes::Float64Type>().clone());
        let (neg, neu, pos, compound) = (f(2)?, f(3)?, f(4)?, f(5)?);
        for i in 0..b.num_rows() {
            let s = Scores { neg: neg.value(i), neu: neu.value(i), pos: pos.value(i), compound: compound.value(i) };
            out.insert(id.value(i).to_string(), (at.value(i).to_string(), s));
        }
    }
    Ok(out)
}

/// Each review's lexicon scores (carried over when its text was scored before) and text
/// features; returns them and how many texts the lexicon scored.
pub fn score(reviews: &[Review], carried: &HashMap<String, (String, Scores)>) -> (Vec<Scored>, u64) {
    let vader = crate::ml::vader::shared();
    let out: Vec<(Scored, bool)> = reviews
        .par_iter()
        .map(|r| {
            let kept = carried.get(&r.id).filter(|(text, _)| *text == r.text).map(|(_, s)| *s);
            let fresh = kept.is_none();
            let s = Scored {
                vader: kept.unwrap_or_else(|| vader.polarity_scores(&r.text)),
                features: if r.text.trim().is_empty() { vec![] } else { crate::ml::review_text::features(&r.text) },
                model_score: None,
                sentiment: "neutral",
                source: "rating",
                rating: r.rating,
                has_text: !r.text.trim().is_empty(),
            };
            (s, fresh)
        })
        .collect();
    let fresh = out.iter().filter(|x| x.1).count() as u64;
    (out.into_iter().map(|x| x.0).collect(), fresh)
}

pub fn schema() -> SchemaRef {
    let ts = || DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("review_id", DataType::Utf8, false),
        Field::new("product_id", DataType::Utf8, false),
        Field::new("customer_id", DataType::Utf8, true),
        Field::new("rating", DataType::Int64, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("language", DataType::Utf8, true),
        Field::new("created_at", ts(), false),
        Field::new("updated_at", ts(), false),
        Field::new("text", DataType::Utf8, false),
        Field::new("vader_compound", DataType::Float64, false),
        Field::new("vader_pos", DataType::Float64, false),
        Field::new("vader_neu", DataType::Float64, false),
        Field::new("vader_neg", DataType::Float64, false),
        Field::new("model_score", DataType::Float64, true),
        Field::new("sentiment", DataType::Utf8, false),
        Field::new("sentiment_source", DataType::Utf8, false),
    ]))
}

pub fn batch(reviews: &[Review], scored: &[Scored]) -> Result<RecordBatch> {
    let s = |f: fn(&Review) -> &str| Arc::new(reviews.iter().map(|r| Some(f(r))).collect::<StringArray>()) as Arc<dyn Array>;
    let f = |g: fn(&Scored) -> f64| Arc::new(scored.iter().map(g).collect::<Float64Array>()) as Arc<dyn Array>;
    let ts = |g: fn(&Review) -> i64| Arc::new(TimestampMicrosecondArray::from(reviews.iter().map(g).collect::<Vec<_>>()).with_timezone("UTC")) as Arc<dyn Array>;
    Ok(RecordBatch::try_new(
        schema(),
        vec![
            s(|r| &r.id),
            s(|r| &r.product),
            Arc::new(reviews.iter().map(|r| r.customer.as_deref()).collect::<StringArray>()),
            Arc::new(Int64Array::from(reviews.iter().map(|r| r.rating).collect::<Vec<_>>())),
            s(|r| &r.status),
            Arc::new(reviews.iter().map(|r| r.language.as_deref()).collect::<StringArray>()),
            ts(|r| r.created_at),
            ts(|r| r.updated_at),
            s(|r| &r.text),
            f(|x| x.vader.compound),
            f(|x| x.vader.pos),
            f(|x| x.vader.neu),
            f(|x| x.vader.neg),
            Arc::new(scored.iter().map(|x| x.model_score).collect::<Float64Array>()),
            Arc::new(scored.iter().map(|x| Some(x.sentiment)).collect::<StringArray>()),
            Arc::new(scored.iter().map(|x| Some(x.source)).collect::<StringArray>()),
        ],
    )?)
}

/// A review's sentiment and what decided it (see the module's rule).
pub fn sentiment(rating: i64, has_text: bool, vader: &Scores, model_score: Option<f64>) -> (&'static str, &'static str) {
    let by_rating = |r: i64| match r {
        ..=2 => "negative",
        3 => "neutral",
        _ => "positive",
    };
    if !has_text {
        return (by_rating(rating), "rating");
    }
    let silent = vader.pos == 0.0 && vader.neg == 0.0;
    match model_score {
        Some(p) if p >= 0.5 => ("negative", "model"),
        _ if silent => (by_rating(rating), "rating"),
        Some(_) => (if vader.compound >= 0.05 { "positive" } else { "neutral" }, "lexicon"),
        None if vader.compound >= 0.05 => ("positive", "lexicon"),
        None if vader.compound <= -0.05 => ("negative", "lexicon"),
        None => ("neutral", "lexicon"),
    }
}
