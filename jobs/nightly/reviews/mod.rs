//! The reviews job: every current review's sentiment (`marts.review_sentiment`), a model of
//! "rating <= 2" trained on the shop's own reviews (`marts.review_model`), and per product and
//! category what reviews say (`marts.review_phrases`, `marts.product_reviews`).
//!
//! Incremental: a night scores only the reviews staged since the previous partition (new or
//! edited); the others carry over. Training runs every `retrain_every_days` on a time split
//! (the latest fifth of the reviews with text held out); that night scores every review's
//! model_score again, the lexicon's scores still carried over.
//!
//! Sentiment rule (`sentiment_source` says which part decided): a review without text takes its
//! rating's sentiment (1-2 negative, 3 neutral, 4-5 positive). With the model in use (it beat
//! the lexicon on the held-out reviews, AUC for "rating <= 2"), model_score >= 0.5 is negative.
//! Otherwise, when the lexicon finds no sentiment word (pos = neg = 0: another language, or words
//! it lacks), the rating decides; else the lexicon: compound >= 0.05 positive, and without the
//! model <= -0.05 negative (VADER's usual thresholds), else neutral.
mod model;
mod products;
mod rows;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::engine::{date_param, params};
use crate::error::Result;
use crate::runtime::incremental::fingerprint;
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};
use crate::sqlfiles;
use rows::Scored;

pub struct Reviews;

/// The model's name in `marts.model_metrics`.
const MODEL: &str = "review_negative";

#[async_trait]
impl Job for Reviews {
    fn name(&self) -> &'static str {
        "reviews"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["staging"]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.reviews)
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        rc.require("reviews", &[("staging", "reviews"), ("staging", "products")], "run staging for this date first")?;
        let cfg = &rc.cfg.jobs.reviews;
        let model_fp = fingerprint(&[], &[format!("hashed text model 1, min {}", cfg.min_training_reviews)])?;
        let reuse = rc.reusable_model("review_model", cfg.retrain_every_days, &model_fp).await?;
        let inc = rc.incremental("marts", "review_sentiment", &["_review_current"], &["vaderSentiment 3.3.2".to_string(), model_fp.clone()]).await?;

        // Tonight's reviews: those staged since the previous partition, or every review.
        let since = match (inc.prev(), &reuse) {
            (Some(prev), Some(_)) => prev,
            _ => NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default(),
        };
        rc.progress("reviews: tonight's reviews");
        let p = params([("run_date", date_param(rc.date)), ("since_dt", date_param(since))]);
        let batches = rc.engine.query(&sqlfiles::sql("marts", "_review_current")?, &p).await?.collect().await?;
        let reviews = rows::read(&batches)?;

        // The lexicon's scores of unchanged reviews carry over (a training night reads every review).
        let carried = match inc.prev() {
            Some(prev) if reuse.is_none() => rows::previous_scores(rc, prev).await?,
            _ => HashMap::new(),
        };
        rc.progress(&format!("reviews: sentiment of {} reviews", reviews.len()));
        let (scored, fresh) = rows::score(&reviews, &carried);

        let mut metrics: Vec<(&str, String, f64)> = vec![];
        let (model, model_from) = match reuse {
            Some((prev, trained_on)) => {
                rc.copy_partition("review_model", prev, &model_fp).await?;
                metrics.extend(crate::runtime::model_metrics::previous(rc, MODEL, prev).await?.into_iter().map(|(m, v)| (MODEL, m, v)));
                metrics.push((MODEL, "model_age_days".into(), (rc.date - trained_on).num_days() as f64));
                (model::load(rc, prev).await?, prev)
            }
            None => {
                rc.progress("reviews: model");
                let (m, evaluation) = model::train(&reviews, &scored, cfg.min_training_reviews);
                metrics.extend(evaluation.into_iter().map(|(k, v)| (MODEL, k, v)));
                metrics.push((MODEL, "model_age_days".into(), 0.0));
                rc.publish_batches_built_with("marts", "review_model", model::schema(), &[model::batch(m.as_ref(), rc.date)?], Some(model_fp.clone()))
                    .await?;
                (m, rc.date)
            }
        };
        tracing::info!(model_from = %model_from, in_use = model.as_ref().is_some_and(|m| m.in_use), "review model");

        let (text_model, in_use) = (model.as_ref().map(|m| &m.text), model.as_ref().is_some_and(|m| m.in_use));
        let out: Vec<Scored> = scored.into_iter().map(|s| s.labelled(text_model, in_use)).collect();
        let (_, dir) = rc.scratch_batches("review_scored", rows::schema(), vec![rows::batch(&reviews, &out)?]).await?;
        let sql = match (inc.prev(), since) {
            (Some(prev), s) if s == prev => format!(
                "SELECT * FROM landing.review_scored UNION ALL \
                 SELECT * EXCLUDE (dt) FROM marts.review_sentiment p WHERE p.dt = DATE '{prev}' \
                 AND NOT EXISTS (SELECT 1 FROM landing.review_scored s WHERE s.review_id = p.review_id) ORDER BY review_id"
            ),
            _ => "SELECT * FROM landing.review_scored ORDER BY review_id".to_string(),
        };
        let published = inc.publish_query(rc, &sql, &p).await;
        rc.engine.wh.remove_dir(&dir).await;
        let rows_out = published?;

        rc.progress("reviews: products and phrases");
        let (phrases, products) = products::build(rc, cfg).await?;
        let m = crate::runtime::model_metrics::publish(rc, self.name(), &metrics).await?;
        Ok(vec![
            TableStats { table: "marts.review_sentiment".into(), rows_in: reviews.len() as u64, rows_out, recomputed: Some(fresh), ..Default::default() },
            TableStats { table: "marts.review_phrases".into(), rows_out: phrases, ..Default::default() },
            TableStats { table: "marts.product_reviews".into(), rows_out: products, ..Default::default() },
            TableStats { table: "marts.model_metrics".into(), rows_out: m, ..Default::default() },
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::rows::sentiment;
    use crate::ml::vader::Scores;

    #[test]
    fn the_rule_for_text_rating_lexicon_and_model() {
        let v = |compound: f64, pos: f64, neg: f64| Scores { neg, neu: 1.0 - pos - neg, pos, compound };
        let silent = v(0.0, 0.0, 0.0);
        assert_eq!(sentiment(1, false, &silent, None), ("negative", "rating"));
        assert_eq!(sentiment(3, false, &silent, Some(0.9)), ("neutral", "rating"));
        assert_eq!(sentiment(5, true, &v(-0.6, 0.0, 0.4), None), ("negative", "lexicon"));
        assert_eq!(sentiment(5, true, &v(0.0, 0.2, 0.2), None), ("neutral", "lexicon"));
        assert_eq!(sentiment(5, true, &v(0.6, 0.4, 0.0), Some(0.7)), ("negative", "model"));
        assert_eq!(sentiment(2, true, &v(0.6, 0.4, 0.0), Some(0.2)), ("positive", "lexicon"));
        assert_eq!(sentiment(2, true, &v(-0.6, 0.0, 0.4), Some(0.2)), ("neutral", "lexicon"));
        // "Sehr gut, gerne wieder." says nothing to the English lexicon: the stars decide.
        assert_eq!(sentiment(5, true, &silent, Some(0.1)), ("positive", "rating"));
        assert_eq!(sentiment(2, true, &silent, None), ("negative", "rating"));
    }
}
