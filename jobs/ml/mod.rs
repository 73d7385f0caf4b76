//! Algorithms with no I/O: they take plain data and are unit-tested beside their code.

pub mod apriori;
pub mod baskets;
pub mod churn;
pub mod clv;
pub mod forecast;
pub mod fpgrowth;
pub mod kmeans;
pub mod recs;
pub mod review_text;
pub mod rules;
pub mod vader;
