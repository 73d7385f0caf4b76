//! What every subcommand shares: the loaded config, and parsers of dates and lists.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::storage::warehouse::Warehouse;

/// What every subcommand gets: the checked config and the warehouse URL to use.
pub struct App {
    pub cfg: Config,
    /// The file the config came from (None: defaults, or the demo's built-in example).
    pub config_file: Option<PathBuf>,
}

impl App {
    pub fn warehouse(&self) -> Result<Warehouse> {
        Warehouse::open(&self.cfg.warehouse, &self.cfg.storage)
    }

    pub async fn engine(&self) -> Result<Engine> {
        Engine::open(&self.cfg, self.warehouse()?).await
    }
}

/// Parse YYYY-MM-DD for clap.
pub fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is not a date like 2025-11-21"))
}

/// Split "a,b" into names.
pub fn parse_list(s: &str) -> Vec<String> {
    s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
}

pub(crate) fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}
