//! The jobs of the nightly pipeline. A new job is its file here, its SQL under `sql/`, its
//! contract under `schemas/` and one line in `registry!` below; the pipeline, `ecomwh jobs --json`, the
//! Airflow DAG and the docs follow from them.

pub mod shared;

use crate::runtime::Job;

/// Declares each job's module and lists the jobs, in an order that respects `depends_on`:
/// `module::Type` per job, one line each.
macro_rules! registry {
    ($($module:ident :: $job:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every job, in an order that respects `depends_on`.
        pub fn jobs() -> Vec<Box<dyn Job>> {
            vec![$(Box::new($module::$job)),*]
        }
    };
}

registry! {
    staging::Staging,
    daily_aggregates::DailyAggregates,
    reviews::Reviews,
    user_profiles::UserProfiles,
    rfm_segments::RfmSegments,
    association_rules::AssociationRules,
    sales_forecast::SalesForecast,
    recommendations::Recommendations,
    churn_scores::ChurnScores,
    clv::Clv,
    audiences::Audiences,
    report::Report,
}

pub fn job_names() -> Vec<&'static str> {
    jobs().iter().map(|j| j.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `[jobs.<name>]` section is the declared settings of the job of that name, so a
    /// section no job reads cannot be accepted (JobsConfig refuses unknown ones).
    #[test]
    fn every_settings_section_is_a_jobs_declared_settings() {
        let cfg = crate::config::Config::default();
        let sections = serde_json::to_value(&cfg.jobs).unwrap();
        let sections = sections.as_object().unwrap();
        for (name, value) in sections {
            let job = jobs().into_iter().find(|j| j.name() == name).unwrap_or_else(|| panic!("[jobs.{name}] belongs to no job"));
            assert_eq!(&job.settings(&cfg).unwrap(), value, "{name}");
        }
        for j in jobs() {
            let declared = j.settings(&cfg).unwrap();
            assert!(declared.is_null() || sections.contains_key(j.name()), "{} declares settings outside [jobs.{}]", j.name(), j.name());
        }
        assert!(sections.len() >= 8);
    }

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
