//! ecomwh: a nightly marketing warehouse for online shops, on Apache DataFusion.
//!
//! The binary (`jobs/main.rs`) is a thin shell over this library.

pub mod association_rules;
pub mod audiences;
pub mod churn_scores;
pub mod cli;
pub mod clv;
pub mod config;
pub mod daily_aggregates;
pub mod engine;
pub mod error;
pub mod export;
pub mod generate;
pub mod logging;
pub mod ml;
pub mod model_metrics;
pub mod output;
pub mod pipeline;
pub mod recommendations;
pub mod registry;
pub mod report;
pub mod rfm_segments;
pub mod sales_forecast;
pub mod schemas;
pub mod sources;
pub mod sqlfiles;
pub mod staging;
pub mod storage;
pub mod user_profiles;

pub use error::{Error, Result};
