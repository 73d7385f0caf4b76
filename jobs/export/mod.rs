//! Audience exports: one file per destination kind, one shared sender (batching, retries,
//! limits), the sync state and the plan. `ecomwh export` calls [`sync::export`].

pub mod address;
pub mod destination;
pub mod file;
pub mod kinds;
pub mod klaviyo;
pub mod mailchimp;
pub mod plan;
pub mod sender;
pub mod sendgrid;
pub mod state;
pub mod sync;
pub mod tables;
pub mod webhook;

pub use destination::*;
