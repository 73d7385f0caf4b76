//! `[jobs.reviews]`: product reviews' sentiment, model, phrases and aspects.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[jobs.reviews]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewsConfig {
    /// Days of reviews `product_reviews` and the phrases describe (the trend compares them with
    /// the window before).
    pub window_days: u32,
    /// Train the review model again when it is this many days old; the nights between score
    /// with the stored model (`marts.review_model`). 1: train every night.
    pub retrain_every_days: u32,
    /// Rated reviews with text needed to train the model (fewer: the lexicon alone decides).
    pub min_training_reviews: u32,
    /// Weight of the shop's mean rating in a product's Bayesian average, in reviews.
    pub prior_reviews: f64,
    /// Phrases kept per product, category and polarity.
    pub top_phrases: u32,
    /// Aspects counted by keyword (lower-case words or phrases found in the review's text).
    pub aspects: BTreeMap<String, Vec<String>>,
}

impl Default for ReviewsConfig {
    fn default() -> Self {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        ReviewsConfig {
            window_days: 90,
            retrain_every_days: 7,
            min_training_reviews: 200,
            prior_reviews: 10.0,
            top_phrases: 10,
            aspects: [
                ("delivery", words(&["delivery", "delivered", "arrived", "shipping", "courier", "parcel", "package", "late"])),
                ("size", words(&["size", "small", "large", "tight", "loose", "fit", "fits"])),
                ("quality", words(&["quality", "broke", "broken", "cheap", "flimsy", "sturdy", "durable"])),
                ("price", words(&["price", "expensive", "value", "money", "overpriced", "worth"])),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        }
    }
}

impl ReviewsConfig {
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(format!("[jobs.reviews] {m}")));
        if !(7..=730).contains(&self.window_days) {
            return bad(format!("window_days = {} must be 7..730", self.window_days));
        }
        if self.retrain_every_days == 0 {
            return bad("retrain_every_days must be at least 1 (1: train every night)".into());
        }
        if self.min_training_reviews < 20 {
            return bad(format!("min_training_reviews = {} must be at least 20", self.min_training_reviews));
        }
        if !(self.prior_reviews >= 0.0 && self.prior_reviews.is_finite()) {
            return bad(format!("prior_reviews = {} must be 0 or more", self.prior_reviews));
        }
        if !(1..=100).contains(&self.top_phrases) {
            return bad(format!("top_phrases = {} must be 1..100", self.top_phrases));
        }
        for (aspect, words) in &self.aspects {
            if words.iter().all(|w| w.trim().is_empty()) {
                return bad(format!("aspects.{aspect} has no keywords"));
            }
        }
        Ok(())
    }
}
