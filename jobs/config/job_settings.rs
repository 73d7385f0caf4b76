//! `[jobs.<name>]`: the settings of each job, typed and range-checked.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Settings per job: a section for a job without settings, or a misspelt one, is refused.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    #[serde(default)]
    pub staging: StagingConfig,
    #[serde(default)]
    pub daily_aggregates: DailyAggregatesConfig,
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
    #[serde(default)]
    pub reviews: super::ReviewsConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StagingConfig {
    /// Rows per staged Parquet file.
    #[serde(default = "default_rows_per_file")]
    pub rows_per_file: usize,
    /// Nights a row whose customer, product or order is not known yet is tried again (it is
    /// quarantined on its own night and staged on the night its reference arrives); 0: never.
    #[serde(default = "default_late_days")]
    pub late_days: u32,
}

fn default_late_days() -> u32 {
    7
}

impl Default for StagingConfig {
    fn default() -> Self {
        Self { rows_per_file: default_rows_per_file(), late_days: default_late_days() }
    }
}

/// `[jobs.daily_aggregates]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DailyAggregatesConfig {
    /// When an anonymous visitor is linked to a customer, their events of this many days
    /// before are counted for the customer too (0: only the night's own events).
    pub stitch_lookback_days: u32,
}

impl Default for DailyAggregatesConfig {
    fn default() -> Self {
        DailyAggregatesConfig { stitch_lookback_days: 90 }
    }
}

impl DailyAggregatesConfig {
    pub fn check(&self) -> Result<()> {
        if self.stitch_lookback_days > 3660 {
            return Err(Error::Config(format!("[jobs.daily_aggregates] stitch_lookback_days = {}: at most 3660 (ten years)", self.stitch_lookback_days)));
        }
        Ok(())
    }
}

/// `[jobs.report]`
#[derive(Debug, Clone, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
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
#[derive(Debug, Clone, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Deserialize, Serialize)]
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
        if self.min_lift.is_nan() || self.min_lift < 0.0 {
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
#[derive(Debug, Clone, Deserialize, Serialize)]
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
    /// Candidate models (seasonal_naive is always one: the fallback for short series); the
    /// means of ets and theta, and of ets and regression, are candidates too.
    pub models: Vec<String>,
    /// How a series' candidate is chosen: "robust" (the mean of ets and theta unless another
    /// candidate's backtest MASE is lower by more than `choice_margin` and lower in most
    /// windows) or "lowest" (the lowest backtest MASE).
    pub choice: String,
    /// The share by which a candidate must beat the combination under "robust".
    pub choice_margin: f64,
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
            "{} {} {:?} {} {:?} {} {} {} {} {:?}",
            self.grain.name(),
            self.horizon,
            self.series,
            self.backtest_folds,
            self.models,
            self.choice,
            self.choice_margin,
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
            choice: "robust".into(),
            choice_margin: 0.05,
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
    pub fn choice_rule(&self) -> Result<crate::ml::forecast::Selection> {
        if !(0.0..1.0).contains(&self.choice_margin) {
            return Err(Error::Config(format!("[jobs.sales_forecast] choice_margin = {} must be in [0, 1)", self.choice_margin)));
        }
        crate::ml::forecast::Selection::parse(&self.choice, self.choice_margin).ok_or_else(|| {
            Error::Config(format!("[jobs.sales_forecast] choice = \"{}\": use \"robust\", \"lowest\" or a model or combination's name", self.choice))
        })
    }

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
        self.choice_rule()?;
        self.selection().map(|_| ())
    }
}

/// `[jobs.churn_scores]`
#[derive(Debug, Clone, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Deserialize, Serialize)]
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
    pub view_weight: f64,
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

pub(crate) fn default_rows_per_file() -> usize {
    1_000_000
}
