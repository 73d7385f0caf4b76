//! One error type for the library, grouped by what the operator must do next.

use std::path::PathBuf;

/// Everything the library can fail with. `exit_code` maps it to the documented exit codes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line or a setting is wrong: fix the invocation or `ecomwh.toml`.
    #[error("bad configuration: {0}")]
    Config(String),

    #[error("cannot read config file {path}: {source}")]
    ConfigFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("config file {path} is invalid: {message}")]
    ConfigParse { path: PathBuf, message: String },

    /// Bad usage of a command (for example DDL given to `ecomwh sql`).
    #[error("{0}")]
    Usage(String),

    /// Raw inputs for a date are missing or unreadable: wait for the feed or fix it.
    #[error("missing input: {0}")]
    MissingInput(String),

    /// A job needs a table that no earlier run has published.
    #[error("table {table} has no published partition on or before {date}: run the jobs it depends on first ({hint})")]
    MissingDependency { table: String, date: String, hint: String },

    /// The object store failed (network, permissions, a missing bucket).
    #[error("storage error at {location}: {source}")]
    Storage {
        location: String,
        #[source]
        source: object_store::Error,
    },

    /// Another run committed the same table at the same time; rerun.
    #[error("concurrent commit to {table} dt={dt}: another run published it first; rerun this date")]
    CommitConflict { table: String, dt: String },

    /// A table's Delta log could not be read or written.
    #[error("table {table}: {source}")]
    Delta {
        table: String,
        #[source]
        source: Box<deltalake_core::DeltaTableError>,
    },

    #[error("query failed: {0}")]
    Query(#[from] datafusion::error::DataFusionError),

    #[error("arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    #[error("parquet error: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),

    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    #[error("invalid JSON in {what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// A job ran but could not finish (its message says why).
    #[error("job {job} failed: {message}")]
    Job { job: String, message: String },

    /// An export ran but some contacts were not delivered (or a mirror sync refused).
    #[error("export incomplete: {0}")]
    Export(String),

    /// The Ballista cluster could not be reached or stopped (retry when it is back).
    #[error("cluster: {0}")]
    Cluster(String),

    /// A failure injected on purpose by tests through ECOMWH_FAIL_AT.
    #[error("injected failure at {0} (ECOMWH_FAIL_AT)")]
    Injected(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// 2 for usage, configuration and missing input; 1 for failures while running.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_)
            | Error::ConfigFile { .. }
            | Error::ConfigParse { .. }
            | Error::Usage(_)
            | Error::MissingInput(_)
            | Error::MissingDependency { .. } => 2,
            _ => 1,
        }
    }

    pub fn storage(location: impl Into<String>, source: object_store::Error) -> Self {
        Error::Storage { location: location.into(), source }
    }

    pub fn job(job: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Job { job: job.into(), message: message.into() }
    }
}

/// Test hook: fail at a named point when `ECOMWH_FAIL_AT` names it.
pub fn fail_point(name: &str) -> Result<()> {
    match std::env::var("ECOMWH_FAIL_AT") {
        Ok(v) if v.split(',').any(|p| p.trim() == name) => Err(Error::Injected(name.to_string())),
        _ => Ok(()),
    }
}

/// Test hook: stop at a named point when `ECOMWH_PAUSE_AT` names it, so a test can kill the
/// process exactly there, or line two processes up (they go on once the file
/// `ECOMWH_PAUSE_UNTIL` exists; else after 10 minutes). Announced on stderr.
pub fn pause_point(name: &str) {
    if let Ok(v) = std::env::var("ECOMWH_PAUSE_AT") {
        if v.split(',').any(|p| p.trim() == name) {
            eprintln!("ecomwh: paused at {name}");
            let until = std::env::var_os("ECOMWH_PAUSE_UNTIL").map(std::path::PathBuf::from);
            let t0 = std::time::Instant::now();
            while t0.elapsed() < std::time::Duration::from_secs(600) {
                if until.as_ref().is_some_and(|f| f.exists()) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}
