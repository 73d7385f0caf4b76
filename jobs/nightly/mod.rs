//! The jobs of the nightly pipeline. A new job is its file here, its SQL under `sql/`, its
//! contract under `schemas/` and one line in [`jobs`]; the pipeline, `ecomwh jobs --json`, the
//! Airflow DAG and the docs follow from them.

pub mod association_rules;
pub mod audiences;
pub mod churn_scores;
pub mod clv;
pub mod daily_aggregates;
pub mod recommendations;
pub mod report;
pub mod rfm_segments;
pub mod sales_forecast;
pub mod shared;
pub mod staging;
pub mod user_profiles;

use crate::runtime::Job;

/// Every job, in an order that respects `depends_on`.
pub fn jobs() -> Vec<Box<dyn Job>> {
    vec![
        Box::new(staging::Staging),
        Box::new(daily_aggregates::DailyAggregates),
        Box::new(user_profiles::UserProfiles),
        Box::new(rfm_segments::RfmSegments),
        Box::new(association_rules::AssociationRules),
        Box::new(sales_forecast::SalesForecast),
        Box::new(recommendations::Recommendations),
        Box::new(churn_scores::ChurnScores),
        Box::new(clv::Clv),
        Box::new(audiences::Audiences),
        Box::new(report::Report),
    ]
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
