//! `[[audiences]]`: who an audience selects, what it carries, where it goes.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Result};

/// `[[audiences]]`: one audience.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceConfig {
    /// Its name: in tables, file paths and as the tag in email tools.
    pub name: String,
    /// The customer mart it selects from (the other customer marts of the date are joined to
    /// it by customer_id, so the predicate may use their columns too).
    pub from: String,
    /// SQL predicate over those columns; all customers of `from` when absent.
    #[serde(rename = "where", default = "default_predicate")]
    pub predicate: String,
    /// Columns sent with each contact: contact fields (first_name, last_name) or mart columns.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Share of members (percent) kept out of every export, to measure the campaign.
    #[serde(default)]
    pub holdout_pct: f64,
    /// Destination names (keys of `[destinations]`).
    #[serde(default)]
    pub destinations: Vec<String>,
    /// Days after selection over which audience_uplift compares members and holdout.
    #[serde(default = "default_attribution_days")]
    pub attribution_days: u32,
}

/// Customer marts an audience may select from (one row per customer_id).
pub const AUDIENCE_SOURCES: &[&str] = &["rfm_segments", "user_profiles", "churn_scores", "clv"];
/// Fields that come from the contact data (staging.customers), not from the marts.
pub const CONTACT_FIELDS: &[&str] = &["first_name", "last_name"];

fn default_predicate() -> String {
    "true".into()
}
fn default_attribution_days() -> u32 {
    14
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_') && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Names used in paths and tags: letters, digits, `_` and `-`.
pub fn is_plain_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl AudienceConfig {
    pub(crate) fn check(&self, destinations: &BTreeMap<String, toml::Table>) -> Result<()> {
        let bad = |m: String| Err(Error::Config(format!("[[audiences]] '{}': {m}", self.name)));
        if !is_plain_name(&self.name) {
            return bad("name must be 1-64 letters, digits, '_' or '-'".into());
        }
        if !AUDIENCE_SOURCES.contains(&self.from.as_str()) {
            return bad(format!("from = '{}': use one of {}", self.from, AUDIENCE_SOURCES.join(", ")));
        }
        if self.predicate.trim().is_empty() || self.predicate.contains(';') {
            return bad("where must be one SQL predicate (no ';')".into());
        }
        for f in &self.fields {
            if !is_identifier(f) {
                return bad(format!("field '{f}' is not a column name"));
            }
        }
        if !(0.0..100.0).contains(&self.holdout_pct) {
            return bad(format!("holdout_pct = {} must be in [0, 100)", self.holdout_pct));
        }
        for d in &self.destinations {
            if !destinations.contains_key(d) {
                return bad(format!("destination '{d}' has no [destinations.{d}] section"));
            }
        }
        if self.attribution_days == 0 {
            return bad("attribution_days must be at least 1".into());
        }
        Ok(())
    }

    /// Holdout share in basis points (1/10,000), as audience_bucket() compares it.
    pub fn holdout_bp(&self) -> i64 {
        (self.holdout_pct * 100.0).round() as i64
    }
}
