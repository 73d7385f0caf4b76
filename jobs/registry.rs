//! The jobs of the nightly pipeline, in dependency order. A new job is one file plus one
//! line in `jobs()`.

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::Result;
use crate::storage::report::TableStats;

/// What a job gets to run one date.
pub struct RunContext<'a> {
    pub engine: &'a Engine,
    pub cfg: &'a Config,
    pub date: NaiveDate,
    pub run_id: &'a str,
    pub progress: &'a indicatif::ProgressBar,
}

impl RunContext<'_> {
    pub fn dt(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }

    pub fn progress(&self, msg: &str) {
        self.progress.set_message(msg.to_string());
    }
}

#[async_trait]
pub trait Job: Send + Sync {
    /// The job's name: also its CLI name, Airflow task id and (usually) its table.
    fn name(&self) -> &'static str;
    /// Jobs whose published tables this one reads.
    fn depends_on(&self) -> &'static [&'static str];
    /// Build and publish the job's partitions for `rc.date`; return counts per table.
    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>>;
}

/// Every job, in an order that respects `depends_on`.
pub fn jobs() -> Vec<Box<dyn Job>> {
    vec![Box::new(crate::staging::Staging)]
}

pub fn job_names() -> Vec<&'static str> {
    jobs().iter().map(|j| j.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_come_first() {
        let names = job_names();
        for (i, j) in jobs().iter().enumerate() {
            for d in j.depends_on() {
                let pos = names.iter().position(|n| n == d).expect("dependency is a job");
                assert!(pos < i, "{} depends on later job {d}", j.name());
            }
        }
    }
}
