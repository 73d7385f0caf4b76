//! `ecomwh.toml`: read and checked once, then passed down by reference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

pub const DEFAULT_CONFIG_FILE: &str = "ecomwh.toml";
pub const DEFAULT_WAREHOUSE: &str = "file://./warehouse";
/// The documented example config (`examples/ecomwh.toml`): the demo's when the user has none.
pub const EXAMPLE: &str = include_str!("../examples/ecomwh.toml");

/// The whole configuration. Unknown keys are refused so a typo never passes silently.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Warehouse URL: file://, s3://bucket/prefix, gs://, az://, memory://
    #[serde(default = "default_warehouse")]
    pub warehouse: String,
    /// The shop's day boundary for dt and daily aggregates (IANA name).
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Memory the query engine may use before spilling, e.g. "4GiB". Default: half of RAM.
    #[serde(default)]
    pub memory_limit: Option<String>,
    /// Where the SQL runs: `local` (default), `ballista-standalone`, or `ballista://HOST:PORT`
    /// (a cluster started with `ecomwh cluster`). The `--engine` flag overrides it.
    #[serde(default = "default_engine")]
    pub engine: String,
    /// Parallelism of the engine (default: number of cores).
    #[serde(default)]
    pub target_partitions: Option<usize>,
    /// Object store settings; environment variables fill what is missing.
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub generate: GenerateConfig,
    #[serde(default)]
    pub jobs: JobsConfig,
    /// Audiences: customers selected by a predicate over the marts, synced to destinations.
    #[serde(default)]
    pub audiences: Vec<AudienceConfig>,
    /// Where audiences are synced; each entry's settings are checked by its kind.
    #[serde(default)]
    pub destinations: BTreeMap<String, toml::Table>,
    /// Feeds the raw tables are read from (`[sources.<name>]`); none: the own layout under raw/.
    #[serde(default)]
    pub sources: BTreeMap<String, toml::Table>,
    /// The folder of the config file: paths in it (a source's `sql`) are relative to it.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// S3-compatible endpoint (else AWS_ENDPOINT_URL).
    pub endpoint: Option<String>,
    /// Region (else AWS_REGION, else us-east-1).
    pub region: Option<String>,
    /// Allow plain http endpoints (else AWS_ALLOW_HTTP).
    pub allow_http: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {
    /// Format per raw table: csv, jsonl, jsonl.gz or parquet.
    #[serde(default = "default_formats")]
    pub formats: BTreeMap<String, String>,
    /// Rows per raw file before a new part file starts.
    #[serde(default = "default_rows_per_file")]
    pub rows_per_file: usize,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        Self { formats: default_formats(), rows_per_file: default_rows_per_file() }
    }
}

/// Settings per job: a section for a job without settings, or a misspelt one, is refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    #[serde(default)]
    pub staging: StagingConfig,
    #[serde(default)]
    pub association_rules: AssociationRulesConfig,
    #[serde(default)]
    pub report: ReportConfig,
    #[serde(default)]
    pub user_profiles: UserProfilesConfig,
    #[serde(default)]
    pub rfm_segments: RfmConfig,
    #[serde(default)]
    pub sales_forecast: SalesForecastConfig,
    #[serde(default)]
    pub churn_scores: ChurnConfig,
    #[serde(default)]
    pub recommendations: RecommendationsConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagingConfig {
    /// Rows per staged Parquet file.
    #[serde(default = "default_rows_per_file")]
    pub rows_per_file: usize,
}

impl Default for StagingConfig {
    fn default() -> Self {
        Self { rows_per_file: default_rows_per_file() }
    }
}

/// `[jobs.report]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// Write the morning report at the end of each nightly run.
    pub enabled: bool,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig { enabled: true }
    }
}

/// `[jobs.user_profiles]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UserProfilesConfig {
    /// Preferences (categories, brand, channel, weekday, hour) use the last N order days.
    pub preference_days: u32,
}

impl Default for UserProfilesConfig {
    fn default() -> Self {
        UserProfilesConfig { preference_days: 365 }
    }
}

/// One line of the RFM segment map: a segment and the score ranges (inclusive) it covers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SegmentRule {
    pub segment: String,
    pub r: [u8; 2],
    pub f: [u8; 2],
    #[serde(default = "all_scores")]
    pub m: [u8; 2],
}

fn all_scores() -> [u8; 2] {
    [1, 5]
}

impl SegmentRule {
    pub fn matches(&self, r: u8, f: u8, m: u8) -> bool {
        let within = |x: u8, [lo, hi]: [u8; 2]| x >= lo && x <= hi;
        within(r, self.r) && within(f, self.f) && within(m, self.m)
    }

    /// "r 4-5, f 2-3, m 1-5"
    pub fn ranges(&self) -> String {
        let fmt = |n: &str, [lo, hi]: [u8; 2]| if lo == hi { format!("{n} {lo}") } else { format!("{n} {lo}-{hi}") };
        format!("{}, {}, {}", fmt("r", self.r), fmt("f", self.f), fmt("m", self.m))
    }
}

/// The common 11-segment map over recency and frequency scores (every one of the 25 cells is
/// covered exactly once).
pub fn default_segment_map() -> Vec<SegmentRule> {
    let rule = |segment: &str, r: [u8; 2], f: [u8; 2]| SegmentRule { segment: segment.into(), r, f, m: all_scores() };
    vec![
        rule("Champions", [5, 5], [4, 5]),
        rule("Loyal Customers", [3, 4], [4, 5]),
        rule("Potential Loyalist", [4, 5], [2, 3]),
        rule("New Customers", [5, 5], [1, 1]),
        rule("Promising", [4, 4], [1, 1]),
        rule("Need Attention", [3, 3], [3, 3]),
        rule("About To Sleep", [3, 3], [1, 2]),
        rule("At Risk", [1, 2], [3, 4]),
        rule("Cannot Lose Them", [1, 2], [5, 5]),
        rule("Hibernating", [2, 2], [1, 2]),
        rule("Lost", [1, 1], [1, 2]),
    ]
}

/// `[jobs.rfm_segments]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RfmConfig {
    /// Frequency and monetary count the purchases of the last N days (D-N+1 .. D).
    pub lookback_days: u32,
    /// Number of k-means clusters; unset = chosen by silhouette over `k_min..=k_max`.
    pub clusters: Option<usize>,
    pub k_min: usize,
    pub k_max: usize,
    /// Seed of k-means and of its samples, so a rerun gives the same clusters.
    pub seed: u64,
    /// Segment map: the first rule (in this order) whose ranges hold the scores wins.
    pub segments: Vec<SegmentRule>,
}

impl Default for RfmConfig {
    fn default() -> Self {
        RfmConfig { lookback_days: 365, clusters: None, k_min: 3, k_max: 8, seed: 42, segments: default_segment_map() }
    }
}

impl RfmConfig {
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(format!("[jobs.rfm_segments] {m}")));
        if self.lookback_days == 0 {
            return bad("lookback_days must be at least 1".into());
        }
        if self.k_min < 2 || self.k_max < self.k_min || self.k_max > 20 {
            return bad(format!("k_min = {}, k_max = {}: need 2 <= k_min <= k_max <= 20", self.k_min, self.k_max));
        }
        if let Some(k) = self.clusters {
            if !(1..=20).contains(&k) {
                return bad(format!("clusters = {k} must be 1..20"));
            }
        }
        for s in &self.segments {
            for (n, [lo, hi]) in [("r", s.r), ("f", s.f), ("m", s.m)] {
                if lo < 1 || hi > 5 || lo > hi {
                    return bad(format!("segment '{}': {n} = [{lo}, {hi}] must be a range within 1..5", s.segment));
                }
            }
        }
        let uncovered: Vec<String> = (1..=5u8)
            .flat_map(|r| (1..=5u8).flat_map(move |f| (1..=5u8).map(move |m| (r, f, m))))
            .filter(|&(r, f, m)| !self.segments.iter().any(|s| s.matches(r, f, m)))
            .map(|(r, f, m)| format!("{r}{f}{m}"))
            .collect();
        if !uncovered.is_empty() {
            return bad(format!("the segment map leaves RFM cells without a segment: {}", uncovered.join(", ")));
        }
        Ok(())
    }

    pub fn segment(&self, r: u8, f: u8, m: u8) -> &str {
        self.segments.iter().find(|s| s.matches(r, f, m)).map(|s| s.segment.as_str()).unwrap_or("Other")
    }
}

/// What association rules are mined over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Product,
    Category,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Product => "product",
            Level::Category => "category",
        }
    }
}

/// Frequent itemset mining algorithm (same output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    Apriori,
    Fpgrowth,
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Algorithm::Apriori => "apriori",
            Algorithm::Fpgrowth => "fpgrowth",
        })
    }
}

/// Item-to-item similarity of the recommendations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Similarity {
    /// Weighted interactions.
    Cosine,
    /// Sets.
    Jaccard,
}

impl std::fmt::Display for Similarity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Similarity::Cosine => "cosine",
            Similarity::Jaccard => "jaccard",
        })
    }
}

/// `[jobs.association_rules]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssociationRulesConfig {
    pub level: Level,
    /// Purchases of the last N days (order day D-N+1 .. D) make the baskets.
    pub lookback_days: u32,
    /// An itemset is frequent when it is in at least this fraction of baskets.
    pub min_support: f64,
    pub min_confidence: f64,
    pub min_lift: f64,
    /// Most items in an itemset, so in a rule's antecedent and consequent together. Any length
    /// (`max_itemsets` guards the run, as in mlxtend and pyfim).
    pub max_len: usize,
    pub algorithm: Algorithm,
    /// Stop with an error beyond this many frequent itemsets.
    pub max_itemsets: usize,
}

impl Default for AssociationRulesConfig {
    fn default() -> Self {
        AssociationRulesConfig {
            level: Level::Product,
            lookback_days: 90,
            min_support: 0.01,
            min_confidence: 0.2,
            min_lift: 1.0,
            max_len: 3,
            algorithm: Algorithm::Apriori,
            max_itemsets: 2_000_000,
        }
    }
}

impl AssociationRulesConfig {
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(format!("[jobs.association_rules] {m}")));
        if !(self.min_support > 0.0 && self.min_support <= 1.0) {
            return bad(format!("min_support = {} must be in (0, 1]", self.min_support));
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return bad(format!("min_confidence = {} must be in [0, 1]", self.min_confidence));
        }
        if self.max_len == 0 {
            return bad("max_len = 0: use 1 or more (itemsets of at most that many items)".into());
        }
        if !(self.min_lift >= 0.0) {
            return bad(format!("min_lift = {} must be 0 or more", self.min_lift));
        }
        if self.max_itemsets == 0 {
            return bad("max_itemsets = 0: use 1 or more (the run stops with an error beyond it)".into());
        }
        if self.lookback_days == 0 {
            return bad("lookback_days must be at least 1".into());
        }
        Ok(())
    }
}

/// `[jobs.sales_forecast]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SalesForecastConfig {
    /// day, week (from Monday), month or quarter.
    pub grain: crate::ml::forecast::Grain,
    /// Periods forecast after the last complete one.
    pub horizon: usize,
    /// Which series: "total", "category", "top_products:N" (top N by revenue).
    pub series: Vec<String>,
    /// Backtest windows of `horizon` periods at the end of history.
    pub backtest_folds: usize,
    /// Candidate models (seasonal_naive is always one: the fallback for short series); with
    /// both ets and regression their mean is a candidate too.
    pub models: Vec<String>,
    /// History the models see, in days before the run date.
    pub history_days: u32,
    /// Top products are ranked by revenue over the last N days.
    pub top_products_days: u32,
    /// The shop's own peak days (sales, launches), learned by the regression like the built-in
    /// retail peaks (Black Friday, Cyber Monday, Christmas, New Year, Valentine's Day).
    pub holidays: Vec<chrono::NaiveDate>,
    /// Backtest and choose each series' model again when the choice is this many days old; the
    /// nights between fit the chosen model to the newest history. 1: every night.
    pub backtest_every_days: u32,
}

impl SalesForecastConfig {
    /// Everything that decides which model a series gets (not how often it is decided).
    pub fn choice_settings(&self) -> String {
        format!(
            "{} {} {:?} {} {:?} {} {} {:?}",
            self.grain.name(),
            self.horizon,
            self.series,
            self.backtest_folds,
            self.models,
            self.history_days,
            self.top_products_days,
            self.holidays
        )
    }
}

impl Default for SalesForecastConfig {
    fn default() -> Self {
        SalesForecastConfig {
            grain: crate::ml::forecast::Grain::Day,
            horizon: 28,
            series: vec!["total".into(), "category".into(), "top_products:50".into()],
            backtest_folds: 3,
            models: crate::ml::forecast::MODEL_NAMES.iter().map(|m| m.to_string()).collect(),
            history_days: 1095,
            top_products_days: 90,
            holidays: vec![],
            backtest_every_days: 7,
        }
    }
}

/// The series a `series` setting asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeriesSelection {
    pub total: bool,
    pub category: bool,
    pub top_products: usize,
}

impl SalesForecastConfig {
    pub fn selection(&self) -> Result<SeriesSelection> {
        let mut sel = SeriesSelection::default();
        for s in &self.series {
            match s.as_str() {
                "total" => sel.total = true,
                "category" => sel.category = true,
                other => match other.strip_prefix("top_products:").map(str::parse::<usize>) {
                    Some(Ok(n)) if n > 0 => sel.top_products = n,
                    _ => {
                        return Err(Error::Config(format!(
                            "[jobs.sales_forecast] series entry '{s}': use \"total\", \"category\" or \"top_products:N\" (N >= 1)"
                        )))
                    }
                },
            }
        }
        Ok(sel)
    }

    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(format!("[jobs.sales_forecast] {m}")));
        if self.horizon == 0 || self.horizon > 1000 {
            return bad(format!("horizon = {} must be 1..1000 periods", self.horizon));
        }
        if self.backtest_folds == 0 || self.backtest_folds > 20 {
            return bad(format!("backtest_folds = {} must be 1..20", self.backtest_folds));
        }
        if self.history_days < 28 {
            return bad(format!("history_days = {} must be at least 28", self.history_days));
        }
        if self.top_products_days == 0 {
            return bad("top_products_days must be at least 1".into());
        }
        if self.backtest_every_days == 0 {
            return bad("backtest_every_days must be at least 1 (1: every night)".into());
        }
        if self.series.is_empty() {
            return bad("series is empty: nothing to forecast".into());
        }
        if let Err(e) = crate::ml::forecast::models_named(&self.models) {
            return bad(format!("models: {e}"));
        }
        self.selection().map(|_| ())
    }
}

/// `[jobs.churn_scores]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChurnConfig {
    /// A customer has churned at a cut-off when they buy nothing in the next N days.
    pub churn_window_days: u32,
    /// L2 penalty of the logistic regression (on standardised features).
    pub l2: f64,
    pub max_iterations: u64,
    /// Train again when the model is this many days old; the nights between score every
    /// customer with the stored model (`marts.churn_model`). 1: train every night.
    pub retrain_every_days: u32,
}

impl ChurnConfig {
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(format!("[jobs.churn_scores] {m}")));
        if !(7..=730).contains(&self.churn_window_days) {
            return bad(format!("churn_window_days = {} must be 7..730 (days without a purchase that make a churner)", self.churn_window_days));
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return bad(format!("l2 = {} must be 0 or more (0: no penalty)", self.l2));
        }
        if self.max_iterations == 0 {
            return bad("max_iterations must be at least 1".into());
        }
        if self.retrain_every_days == 0 {
            return bad("retrain_every_days must be at least 1 (1: train every night)".into());
        }
        Ok(())
    }
}

impl Default for ChurnConfig {
    fn default() -> Self {
        ChurnConfig { churn_window_days: 90, l2: 1.0, max_iterations: 300, retrain_every_days: 7 }
    }
}

/// `[jobs.recommendations]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecommendationsConfig {
    /// Purchases and views of the last N days make the histories.
    pub lookback_days: u32,
    pub similarity: Similarity,
    /// Similar products kept per product.
    pub neighbours: usize,
    /// Recommendations per customer.
    pub top_n: usize,
    /// Products bought in the last N days are not recommended again.
    pub exclude_days: u32,
    /// Weight of a product viewed but not bought (a purchase weighs 1; 0 ignores views).
    pub view_weight: f32,
    /// Most recent products per customer used for similarity (caps heavy buyers' pairs).
    pub max_items_per_customer: usize,
    /// recall@N is measured by hiding the last N days (0: no evaluation).
    pub holdout_days: u32,
    /// Train again (similarity, popularity, backtest) when the model is this many days old;
    /// the nights between recommend from the stored model. 1: train every night.
    pub retrain_every_days: u32,
}

impl Default for RecommendationsConfig {
    fn default() -> Self {
        RecommendationsConfig {
            lookback_days: 365,
            similarity: Similarity::Cosine,
            neighbours: 20,
            top_n: 10,
            exclude_days: 90,
            view_weight: 0.5,
            max_items_per_customer: 200,
            holdout_days: 30,
            retrain_every_days: 7,
        }
    }
}

impl RecommendationsConfig {
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(format!("[jobs.recommendations] {m}")));
        for (name, v) in [("lookback_days", self.lookback_days as usize), ("neighbours", self.neighbours), ("top_n", self.top_n)] {
            if v == 0 {
                return bad(format!("{name} must be at least 1"));
            }
        }
        if self.max_items_per_customer < 2 {
            return bad(format!("max_items_per_customer = {} must be at least 2 (a pair needs two products)", self.max_items_per_customer));
        }
        if !(0.0..=1.0).contains(&self.view_weight) {
            return bad(format!("view_weight = {} must be in [0, 1] (0 ignores views; a purchase weighs 1)", self.view_weight));
        }
        if self.holdout_days >= self.lookback_days {
            return bad(format!("holdout_days = {} must be below lookback_days = {} (0: no evaluation)", self.holdout_days, self.lookback_days));
        }
        if self.retrain_every_days == 0 {
            return bad("retrain_every_days must be at least 1 (1: train every night)".into());
        }
        Ok(())
    }
}

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
    fn check(&self, destinations: &BTreeMap<String, toml::Table>) -> Result<()> {
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

fn default_warehouse() -> String {
    DEFAULT_WAREHOUSE.to_string()
}
fn default_timezone() -> String {
    "UTC".to_string()
}
fn default_rows_per_file() -> usize {
    1_000_000
}
fn default_formats() -> BTreeMap<String, String> {
    [
        ("customers", "csv"),
        ("products", "parquet"),
        ("orders", "jsonl"),
        ("order_items", "csv"),
        ("events", "jsonl.gz"),
        ("suppressions", "csv"),
        ("identifies", "jsonl"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub const RAW_FORMATS: &[&str] = &["csv", "jsonl", "jsonl.gz", "parquet"];

impl Default for Config {
    fn default() -> Self {
        toml::from_str("").expect("empty config has defaults")
    }
}

fn default_engine() -> String {
    "local".into()
}

impl Config {
    /// The config file to read: the explicit one, else `ecomwh.toml` in the current folder
    /// when present.
    pub fn find(explicit: Option<&Path>) -> Option<PathBuf> {
        match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let p = PathBuf::from(DEFAULT_CONFIG_FILE);
                p.exists().then_some(p)
            }
        }
    }

    /// Load from an explicit file, or `ecomwh.toml` in the current folder when present.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let cfg = match Self::find(explicit) {
            None => Config::default(),
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| Error::ConfigFile { path: path.clone(), source })?;
                let base = path.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p }).map(Path::to_path_buf);
                Self::parse_in(&text, base).map_err(|e| match e {
                    Error::Config(message) => Error::ConfigParse { path, message },
                    other => other,
                })?
            }
        };
        Ok(cfg)
    }

    pub fn parse(text: &str) -> Result<Config> {
        Self::parse_in(text, None)
    }

    /// Parse a config whose relative paths start at `base_dir` (else the current folder).
    pub fn parse_in(text: &str, base_dir: Option<PathBuf>) -> Result<Config> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        cfg.base_dir = base_dir;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> Result<()> {
        self.tz()?;
        crate::engine::EngineKind::parse(&self.engine)?;
        for (table, format) in &self.generate.formats {
            if !crate::schemas::RAW_TABLES.contains(&table.as_str()) {
                return Err(Error::Config(format!("generate.formats names unknown raw table '{table}' (known: {})", crate::schemas::RAW_TABLES.join(", "))));
            }
            if !RAW_FORMATS.contains(&format.as_str()) {
                return Err(Error::Config(format!("generate.formats.{table} = '{format}' is not one of {}", RAW_FORMATS.join(", "))));
            }
        }
        if let Some(m) = &self.memory_limit {
            parse_bytes(m)?;
        }
        if self.jobs.staging.rows_per_file == 0 {
            return Err(Error::Config("[jobs.staging] rows_per_file must be at least 1".into()));
        }
        if self.jobs.user_profiles.preference_days == 0 {
            return Err(Error::Config("[jobs.user_profiles] preference_days must be at least 1".into()));
        }
        self.jobs.association_rules.check()?;
        self.jobs.churn_scores.check()?;
        self.jobs.recommendations.check()?;
        self.jobs.rfm_segments.check()?;
        self.jobs.sales_forecast.check()?;
        let mut names = std::collections::BTreeSet::new();
        for a in &self.audiences {
            a.check(&self.destinations)?;
            if !names.insert(a.name.as_str()) {
                return Err(Error::Config(format!("[[audiences]] name '{}' is used twice", a.name)));
            }
        }
        crate::sources::Source::all(self)?;
        for (name, table) in &self.destinations {
            if !is_plain_name(name) {
                return Err(Error::Config(format!("[destinations.{name}]: names are letters, digits, '_' or '-'")));
            }
            crate::export::DestinationConfig::parse(name, table)?;
        }
        Ok(())
    }

    pub fn tz(&self) -> Result<chrono_tz::Tz> {
        self.timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| Error::Config(format!("timezone '{}' is not an IANA time zone name (for example 'UTC' or 'Europe/Berlin')", self.timezone)))
    }

    pub fn memory_limit_bytes(&self) -> Result<Option<usize>> {
        self.memory_limit.as_deref().map(parse_bytes).transpose()
    }
}

/// Parse "512MiB", "4GiB", "2GB", "1000000".
pub fn parse_bytes(s: &str) -> Result<usize> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| Error::Config(format!("'{s}' is not a size like 512MiB or 4GiB")))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "kib" | "k" => 1024.0,
        "mb" => 1e6,
        "mib" | "m" => 1024.0 * 1024.0,
        "gb" => 1e9,
        "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(Error::Config(format!("unknown size unit '{other}' in '{s}'"))),
    };
    Ok((n * mult) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses_with_two_audiences_one_with_a_holdout() {
        let cfg = Config::parse(EXAMPLE).expect("examples/ecomwh.toml parses");
        assert_eq!(cfg.audiences.len(), 2);
        assert!(cfg.audiences.iter().any(|a| a.holdout_pct > 0.0) && cfg.audiences.iter().any(|a| a.holdout_pct == 0.0));
        assert!(cfg.audiences.iter().all(|a| a.destinations == ["files"]));
        assert!(cfg.destinations.contains_key("files"));
    }

    #[test]
    fn design_example_parses() {
        let text = r#"
warehouse = "file://./warehouse"
timezone = "UTC"

[jobs.rfm_segments]
lookback_days = 365

[jobs.association_rules]
level = "product"
lookback_days = 90
min_support = 0.01
min_confidence = 0.2
min_lift = 1.0
max_len = 3

[[audiences]]
name = "win_back"
from = "rfm_segments"
where = "segment IN ('At Risk')"

destinations = ["newsletter"]

[destinations.newsletter]
kind = "mailchimp"                    # mailchimp, klaviyo, sendgrid, file, webhook
base_url = "https://us1.api.mailchimp.com/3.0"
api_key_env = "MAILCHIMP_API_KEY"
list_id = "abc123"
mode = "mirror"                       # upsert, mirror, add_only
max_remove_pct = 20                   # mirror refuses to remove more of the audience unless forced
"#;
        let cfg = Config::parse(text).unwrap();
        assert_eq!(cfg.audiences.len(), 1);
        assert_eq!(cfg.jobs.rfm_segments.lookback_days, 365);
        assert_eq!(cfg.jobs.rfm_segments.segments, default_segment_map());
        assert_eq!(cfg.jobs.association_rules.max_len, 3);
        assert_eq!(cfg.audiences[0].destinations, ["newsletter"]);
        let e = Config::parse(&text.replace("list_id = \"abc123\"", "list_id = \"abc123\"\nbatch_size = 501")).unwrap_err().to_string();
        assert!(e.contains("batch_size = 501") && e.contains("1..500"), "{e}");
        let e = Config::parse(&text.replace("list_id", "list")).unwrap_err().to_string();
        assert!(e.contains("newsletter") && e.contains("list"), "{e}");
        let e = Config::parse(&text.replace("\"mailchimp\"  ", "\"mailchump\"")).unwrap_err().to_string();
        assert!(e.contains("mailchump"), "{e}");
        let e = Config::parse(&text.replace("destinations = [\"newsletter\"]", "destinations = [\"news\"]")).unwrap_err().to_string();
        assert!(e.contains("news"), "{e}");
        let e = Config::parse("[jobs.association_rules]\nmin_suport = 0.1").unwrap_err().to_string();
        assert!(e.contains("min_suport"), "{e}");
        let e = Config::parse("[jobs.association_rules]\nlevel = 'brand'").unwrap_err().to_string();
        assert!(e.contains("brand"), "{e}");
    }

    #[test]
    fn documented_configuration_parses_and_shows_the_default_map() {
        let doc = include_str!("../docs/configuration.md");
        let block = doc.split("```toml").nth(1).and_then(|b| b.split("```").next()).expect("toml block");
        let cfg = Config::parse(block).unwrap();
        assert_eq!(cfg.jobs.rfm_segments.segments, default_segment_map());
    }

    #[test]
    fn segment_map_must_cover_every_cell() {
        let cfg = RfmConfig::default();
        cfg.check().unwrap();
        // Each of the 125 cells has exactly one rule in the default map.
        for r in 1..=5 {
            for f in 1..=5 {
                let n = cfg.segments.iter().filter(|s| s.matches(r, f, 3)).count();
                assert_eq!(n, 1, "cell {r}{f}");
            }
        }
        assert_eq!(cfg.segment(5, 5, 1), "Champions");
        assert_eq!(cfg.segment(1, 5, 5), "Cannot Lose Them");
        assert_eq!(cfg.segment(1, 1, 1), "Lost");
        let text = "[jobs.rfm_segments]\nsegments = [{ segment = 'Best', r = [4, 5], f = [1, 5] }]";
        let e = Config::parse(text).unwrap_err().to_string();
        assert!(e.contains("without a segment") && e.contains("111"), "{e}");
        let text = "[jobs.rfm_segments]\nsegments = [{ segment = 'All', r = [1, 5], f = [1, 5], m = [1, 5] }]";
        assert_eq!(Config::parse(text).unwrap().jobs.rfm_segments.segment(2, 3, 4), "All");
    }

    #[test]
    fn unknown_key_and_bad_timezone_are_refused() {
        let e = Config::parse("warehose = 'x'").unwrap_err().to_string();
        assert!(e.contains("warehose"), "{e}");
        let e = Config::parse("timezone = 'Mars/Base'").unwrap_err().to_string();
        assert!(e.contains("Mars/Base"), "{e}");
        let e = Config::parse("[generate.formats]\norders = 'xml'").unwrap_err().to_string();
        assert!(e.contains("xml"), "{e}");
        let e = Config::parse("[jobs.rfm_segmets]\nlookback_days = 3").unwrap_err().to_string();
        assert!(e.contains("rfm_segmets"), "{e}");
    }

    /// Closed sets are enums, sections of jobs without settings are refused, numbers are
    /// range-checked with what to change; lengths have no arbitrary cap.
    #[test]
    fn settings_are_typed_and_checked() {
        for (text, says) in [
            ("[jobs.clv]\nx = 1", "clv"),
            ("[jobs.audiences]\nx = 1", "audiences"),
            ("[jobs.daily_aggregates]\nx = 1", "daily_aggregates"),
            ("[jobs.association_rules]\nalgorithm = 'eclat'", "eclat"),
            ("[jobs.sales_forecast]\ngrain = 'hour'", "hour"),
            ("[jobs.recommendations]\nsimilarity = 'pearson'", "pearson"),
            ("[jobs.recommendations]\ntop_n = 0", "top_n must be at least 1"),
            ("[jobs.recommendations]\nholdout_days = 400", "below lookback_days"),
            ("[jobs.churn_scores]\nl2 = -1.0", "0 or more"),
            ("[jobs.churn_scores]\nretrain_every_days = 0", "retrain_every_days"),
            ("[jobs.association_rules]\nmax_len = 0", "max_len = 0"),
            ("[jobs.staging]\nrows_per_file = 0", "rows_per_file"),
        ] {
            let e = Config::parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
        let cfg = Config::parse("[jobs.association_rules]\nmax_len = 25\nlevel = 'category'\nalgorithm = 'fpgrowth'").unwrap();
        assert_eq!(cfg.jobs.association_rules.max_len, 25);
        assert_eq!((cfg.jobs.association_rules.level, cfg.jobs.association_rules.algorithm), (Level::Category, Algorithm::Fpgrowth));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_bytes("512MiB").unwrap(), 512 << 20);
        assert!(parse_bytes("lots").is_err());
    }
}
