//! The job runtime: what a job declares ([`Job`]), what it gets to run one date
//! ([`RunContext`]: publishing, scratch, progress), incremental tables, model metrics and the
//! run report. Jobs use it; it uses no job.

pub mod context;
pub mod incremental;
pub mod model_metrics;
pub mod run_report;

pub use context::{scratch_dir, Job, RunContext};
pub use run_report::TableStats;
