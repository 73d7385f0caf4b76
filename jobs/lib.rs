//! ecomwh: a nightly marketing warehouse for online shops, on Apache DataFusion.
//!
//! The binary (`jobs/main.rs`) is a thin shell over this library.

pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod export;
pub mod generate;
pub mod logging;
pub mod ml;
pub mod nightly;
pub mod output;
pub mod pipeline;
pub mod runtime;
pub mod schemas;
pub mod sources;
pub mod sqlfiles;
pub mod storage;

pub use error::{Error, Result};
