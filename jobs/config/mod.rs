//! `ecomwh.toml`: read and checked once, then passed down by reference.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

mod audiences;
mod job_settings;
mod review_settings;

pub use audiences::*;
pub use job_settings::*;
pub use review_settings::*;

pub const DEFAULT_CONFIG_FILE: &str = "ecomwh.toml";
pub const DEFAULT_WAREHOUSE: &str = "file://./warehouse";
/// The documented example config (`examples/ecomwh.toml`): the demo's when the user has none.
pub const EXAMPLE: &str = include_str!("../../examples/ecomwh.toml");

/// The whole configuration. Unknown keys are refused so a typo never passes silently.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Warehouse URL: file://, s3://bucket/prefix, gs://, az://, memory://
    #[serde(default = "default_warehouse")]
    pub warehouse: String,
    /// The shop's day boundary for dt and daily aggregates (IANA name).
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// The currency every mart's money is in (ISO 4217, e.g. "EUR"); orders in other currencies
    /// are converted with the raw `fx_rates`. None: nothing is converted, and a night whose
    /// orders carry more than one currency fails.
    #[serde(default)]
    pub base_currency: Option<String>,
    /// Memory the query engine may use before spilling, e.g. "4GiB". Default: half of RAM.
    #[serde(default)]
    pub memory_limit: Option<String>,
    /// Where the SQL runs: `local` (default), `ballista-standalone`, or `ballista://HOST:PORT`
    /// (a cluster started with `ecomwh cluster`). The `--engine` flag overrides it.
    #[serde(default = "default_engine")]
    pub engine: String,
    /// Parallelism of the engine (default: number of cores).
    #[serde(default)]
    pub target_partitions: Option<usize>,
    /// Object store settings; environment variables fill what is missing.
    #[serde(default)]
    pub storage: StorageConfig,
    /// The published tables (Delta Lake): how long replaced files are kept.
    #[serde(default)]
    pub tables: TablesConfig,
    #[serde(default)]
    pub generate: GenerateConfig,
    #[serde(default)]
    pub jobs: JobsConfig,
    /// Audiences: customers selected by a predicate over the marts, synced to destinations.
    #[serde(default)]
    pub audiences: Vec<AudienceConfig>,
    /// Where audiences are synced; each entry's settings are checked by its kind.
    #[serde(default)]
    pub destinations: BTreeMap<String, toml::Table>,
    /// Feeds the raw tables are read from (`[sources.<name>]`); none: the own layout under raw/.
    #[serde(default)]
    pub sources: BTreeMap<String, toml::Table>,
    /// The folder of the config file: paths in it (a source's `sql`) are relative to it.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// `[tables]`: maintenance of the Delta tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TablesConfig {
    /// Replaced files are kept this long, so snapshots this old can be read (time travel);
    /// `ecomwh vacuum` deletes older ones.
    #[serde(default = "default_retain_hours")]
    pub retain_hours: u32,
    /// Vacuum every table at the end of each `ecomwh run` (else only `ecomwh vacuum` does).
    #[serde(default)]
    pub vacuum_after_run: bool,
}

impl Default for TablesConfig {
    fn default() -> Self {
        TablesConfig { retain_hours: default_retain_hours(), vacuum_after_run: false }
    }
}

fn default_retain_hours() -> u32 {
    168
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// S3-compatible endpoint (else AWS_ENDPOINT_URL).
    pub endpoint: Option<String>,
    /// Region (else AWS_REGION, else us-east-1).
    pub region: Option<String>,
    /// Allow plain http endpoints (else AWS_ALLOW_HTTP).
    pub allow_http: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateConfig {
    /// Format per raw table: csv, jsonl, jsonl.gz or parquet.
    #[serde(default = "default_formats")]
    pub formats: BTreeMap<String, String>,
    /// Rows per raw file before a new part file starts.
    #[serde(default = "default_rows_per_file")]
    pub rows_per_file: usize,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        Self { formats: default_formats(), rows_per_file: default_rows_per_file() }
    }
}

fn default_warehouse() -> String {
    DEFAULT_WAREHOUSE.to_string()
}
fn default_timezone() -> String {
    "UTC".to_string()
}
fn default_formats() -> BTreeMap<String, String> {
    [
        ("customers", "csv"),
        ("products", "parquet"),
        ("orders", "jsonl"),
        ("order_items", "csv"),
        ("events", "jsonl.gz"),
        ("suppressions", "csv"),
        ("identifies", "jsonl"),
        ("fx_rates", "csv"),
        ("reviews", "jsonl"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

pub const RAW_FORMATS: &[&str] = &["csv", "jsonl", "jsonl.gz", "parquet"];

impl Default for Config {
    fn default() -> Self {
        toml::from_str("").expect("empty config has defaults")
    }
}

/// Ballista's usual scheduler port.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// Where the SQL runs. Only this module knows the difference: jobs see a `SessionContext`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineKind {
    /// DataFusion in this process (the default).
    Local,
    /// Ballista with an in-process scheduler and executor: to try it out, and for tests.
    BallistaStandalone,
    /// A Ballista cluster: the scheduler's `host:port` (see `ecomwh cluster`).
    Ballista { host: String, port: u16 },
}

impl EngineKind {
    pub fn parse(s: &str) -> Result<EngineKind> {
        let bad = || Error::Config(format!("engine '{s}' is not one of: local, ballista-standalone, ballista://HOST:PORT"));
        match s.trim() {
            "" | "local" => Ok(EngineKind::Local),
            "ballista-standalone" => Ok(EngineKind::BallistaStandalone),
            other => {
                let rest = other.strip_prefix("ballista://").ok_or_else(bad)?.trim_end_matches('/');
                let (host, port) = match rest.rsplit_once(':') {
                    Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
                    None => (rest, DEFAULT_SCHEDULER_PORT),
                };
                if host.is_empty() || host.contains('/') {
                    return Err(bad());
                }
                Ok(EngineKind::Ballista { host: host.to_string(), port })
            }
        }
    }

    pub fn is_local(&self) -> bool {
        *self == EngineKind::Local
    }

    /// Ballista engines need a binary built with the `cluster` feature: say so, not "unknown".
    pub fn check_built(&self) -> Result<()> {
        if self.is_local() || cfg!(feature = "cluster") {
            return Ok(());
        }
        Err(Error::Config(
            "this ecomwh was built without Ballista: build it with `cargo build --release --features cluster` for \
             `ecomwh cluster` and --engine ballista-standalone or ballista://HOST:PORT"
                .into(),
        ))
    }
}

fn default_engine() -> String {
    "local".into()
}

impl Config {
    /// The config file to read: the explicit one, else `ecomwh.toml` in the current folder
    /// when present.
    pub fn find(explicit: Option<&Path>) -> Option<PathBuf> {
        match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let p = PathBuf::from(DEFAULT_CONFIG_FILE);
                p.exists().then_some(p)
            }
        }
    }

    /// Load from an explicit file, or `ecomwh.toml` in the current folder when present.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let cfg = match Self::find(explicit) {
            None => Config::default(),
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| Error::ConfigFile { path: path.clone(), source })?;
                let base = path.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p }).map(Path::to_path_buf);
                Self::parse_in(&text, base).map_err(|e| match e {
                    Error::Config(message) => Error::ConfigParse { path, message },
                    other => other,
                })?
            }
        };
        Ok(cfg)
    }

    pub fn parse(text: &str) -> Result<Config> {
        Self::parse_in(text, None)
    }

    /// Parse a config whose relative paths start at `base_dir` (else the current folder).
    pub fn parse_in(text: &str, base_dir: Option<PathBuf>) -> Result<Config> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        cfg.base_dir = base_dir;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> Result<()> {
        self.tz()?;
        self.base_currency()?;
        EngineKind::parse(&self.engine)?;
        for (table, format) in &self.generate.formats {
            if !crate::schemas::RAW_TABLES.contains(&table.as_str()) {
                return Err(Error::Config(format!("generate.formats names unknown raw table '{table}' (known: {})", crate::schemas::RAW_TABLES.join(", "))));
            }
            if !RAW_FORMATS.contains(&format.as_str()) {
                return Err(Error::Config(format!("generate.formats.{table} = '{format}' is not one of {}", RAW_FORMATS.join(", "))));
            }
        }
        if let Some(m) = &self.memory_limit {
            parse_bytes(m)?;
        }
        if self.jobs.staging.rows_per_file == 0 {
            return Err(Error::Config("[jobs.staging] rows_per_file must be at least 1".into()));
        }
        if self.jobs.user_profiles.preference_days == 0 {
            return Err(Error::Config("[jobs.user_profiles] preference_days must be at least 1".into()));
        }
        self.jobs.daily_aggregates.check()?;
        self.jobs.association_rules.check()?;
        self.jobs.churn_scores.check()?;
        self.jobs.reviews.check()?;
        self.jobs.recommendations.check()?;
        self.jobs.rfm_segments.check()?;
        self.jobs.sales_forecast.check()?;
        let mut names = std::collections::BTreeSet::new();
        for a in &self.audiences {
            a.check(&self.destinations)?;
            if !names.insert(a.name.as_str()) {
                return Err(Error::Config(format!("[[audiences]] name '{}' is used twice", a.name)));
            }
        }
        for name in self.destinations.keys() {
            if !is_plain_name(name) {
                return Err(Error::Config(format!("[destinations.{name}]: names are letters, digits, '_' or '-'")));
            }
        }
        Ok(())
    }

    /// `base_currency` as written (checked: three letters, upper-cased).
    pub fn base_currency(&self) -> Result<Option<String>> {
        match self.base_currency.as_deref().map(str::trim) {
            None => Ok(None),
            Some(c) if c.len() == 3 && c.chars().all(|x| x.is_ascii_alphabetic()) => Ok(Some(c.to_ascii_uppercase())),
            Some(c) => Err(Error::Config(format!("base_currency '{c}' is not an ISO 4217 code such as 'EUR' or 'USD'"))),
        }
    }

    pub fn tz(&self) -> Result<chrono_tz::Tz> {
        self.timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| Error::Config(format!("timezone '{}' is not an IANA time zone name (for example 'UTC' or 'Europe/Berlin')", self.timezone)))
    }

    pub fn memory_limit_bytes(&self) -> Result<Option<usize>> {
        self.memory_limit.as_deref().map(parse_bytes).transpose()
    }
}

/// Parse "512MiB", "4GiB", "2GB", "1000000".
pub fn parse_bytes(s: &str) -> Result<usize> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| Error::Config(format!("'{s}' is not a size like 512MiB or 4GiB")))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "kib" | "k" => 1024.0,
        "mb" => 1e6,
        "mib" | "m" => 1024.0 * 1024.0,
        "gb" => 1e9,
        "gib" | "g" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(Error::Config(format!("unknown size unit '{other}' in '{s}'"))),
    };
    Ok((n * mult) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parsed and checked as the CLI checks it (sources and destinations too).
    fn full(text: &str) -> Result<Config> {
        let cfg = Config::parse(text)?;
        crate::pipeline::check_config(&cfg)?;
        Ok(cfg)
    }

    #[test]
    fn the_example_config_parses_with_three_audiences_one_with_a_holdout() {
        let cfg = full(EXAMPLE).expect("examples/ecomwh.toml parses");
        assert_eq!(cfg.audiences.len(), 3);
        assert!(cfg.audiences.iter().any(|a| a.holdout_pct > 0.0) && cfg.audiences.iter().any(|a| a.holdout_pct == 0.0));
        assert!(cfg.audiences.iter().all(|a| a.destinations == ["files"]));
        assert!(cfg.destinations.contains_key("files"));
    }

    #[test]
    fn design_example_parses() {
        let text = r#"
warehouse = "file://./warehouse"
timezone = "UTC"

[jobs.rfm_segments]
lookback_days = 365

[jobs.association_rules]
level = "product"
lookback_days = 90
min_support = 0.01
min_confidence = 0.2
min_lift = 1.0
max_len = 3

[[audiences]]
name = "win_back"
from = "rfm_segments"
where = "segment IN ('At Risk')"

destinations = ["newsletter"]

[destinations.newsletter]
kind = "mailchimp"                    # mailchimp, klaviyo, sendgrid, file, webhook
base_url = "https://us1.api.mailchimp.com/3.0"
api_key_env = "MAILCHIMP_API_KEY"
list_id = "abc123"
mode = "mirror"                       # upsert, mirror, add_only
max_remove_pct = 20                   # mirror refuses to remove more of the audience unless forced
"#;
        let cfg = full(text).unwrap();
        assert_eq!(cfg.audiences.len(), 1);
        assert_eq!(cfg.jobs.rfm_segments.lookback_days, 365);
        assert_eq!(cfg.jobs.rfm_segments.segments, default_segment_map());
        assert_eq!(cfg.jobs.association_rules.max_len, 3);
        assert_eq!(cfg.audiences[0].destinations, ["newsletter"]);
        let e = full(&text.replace("list_id = \"abc123\"", "list_id = \"abc123\"\nbatch_size = 501")).unwrap_err().to_string();
        assert!(e.contains("batch_size = 501") && e.contains("1..500"), "{e}");
        let e = full(&text.replace("list_id", "list")).unwrap_err().to_string();
        assert!(e.contains("newsletter") && e.contains("list"), "{e}");
        let e = full(&text.replace("\"mailchimp\"  ", "\"mailchump\"")).unwrap_err().to_string();
        assert!(e.contains("mailchump"), "{e}");
        let e = full(&text.replace("destinations = [\"newsletter\"]", "destinations = [\"news\"]")).unwrap_err().to_string();
        assert!(e.contains("news"), "{e}");
        let e = full("[jobs.association_rules]\nmin_suport = 0.1").unwrap_err().to_string();
        assert!(e.contains("min_suport"), "{e}");
        let e = full("[jobs.association_rules]\nlevel = 'brand'").unwrap_err().to_string();
        assert!(e.contains("brand"), "{e}");
    }

    #[test]
    fn documented_configuration_parses_and_shows_the_default_map() {
        let doc = include_str!("../../docs/configuration.md");
        let block = doc.split("```toml").nth(1).and_then(|b| b.split("```").next()).expect("toml block");
        let cfg = full(block).unwrap();
        assert_eq!(cfg.jobs.rfm_segments.segments, default_segment_map());
    }

    #[test]
    fn segment_map_must_cover_every_cell() {
        let cfg = RfmConfig::default();
        cfg.check().unwrap();
        // Each of the 125 cells has exactly one rule in the default map.
        for r in 1..=5 {
            for f in 1..=5 {
                let n = cfg.segments.iter().filter(|s| s.matches(r, f, 3)).count();
                assert_eq!(n, 1, "cell {r}{f}");
            }
        }
        assert_eq!(cfg.segment(5, 5, 1), "Champions");
        assert_eq!(cfg.segment(1, 5, 5), "Cannot Lose Them");
        assert_eq!(cfg.segment(1, 1, 1), "Lost");
        let text = "[jobs.rfm_segments]\nsegments = [{ segment = 'Best', r = [4, 5], f = [1, 5] }]";
        let e = full(text).unwrap_err().to_string();
        assert!(e.contains("without a segment") && e.contains("111"), "{e}");
        let text = "[jobs.rfm_segments]\nsegments = [{ segment = 'All', r = [1, 5], f = [1, 5], m = [1, 5] }]";
        assert_eq!(full(text).unwrap().jobs.rfm_segments.segment(2, 3, 4), "All");
    }

    #[test]
    fn unknown_key_and_bad_timezone_are_refused() {
        let e = full("warehose = 'x'").unwrap_err().to_string();
        assert!(e.contains("warehose"), "{e}");
        let e = full("timezone = 'Mars/Base'").unwrap_err().to_string();
        assert!(e.contains("Mars/Base"), "{e}");
        let e = full("[generate.formats]\norders = 'xml'").unwrap_err().to_string();
        assert!(e.contains("xml"), "{e}");
        let e = full("[jobs.rfm_segmets]\nlookback_days = 3").unwrap_err().to_string();
        assert!(e.contains("rfm_segmets"), "{e}");
    }

    /// Closed sets are enums, sections of jobs without settings are refused, numbers are
    /// range-checked with what to change; lengths have no arbitrary cap.
    #[test]
    fn settings_are_typed_and_checked() {
        for (text, says) in [
            ("[jobs.clv]\nx = 1", "clv"),
            ("[jobs.audiences]\nx = 1", "audiences"),
            ("[jobs.daily_aggregates]\nstitch_lookback_day = 3", "stitch_lookback_day"),
            ("[jobs.association_rules]\nalgorithm = 'eclat'", "eclat"),
            ("[jobs.sales_forecast]\ngrain = 'hour'", "hour"),
            ("[jobs.recommendations]\nsimilarity = 'pearson'", "pearson"),
            ("[jobs.recommendations]\ntop_n = 0", "top_n must be at least 1"),
            ("[jobs.recommendations]\nholdout_days = 400", "below lookback_days"),
            ("[jobs.churn_scores]\nl2 = -1.0", "0 or more"),
            ("[jobs.churn_scores]\nretrain_every_days = 0", "retrain_every_days"),
            ("[jobs.association_rules]\nmax_len = 0", "max_len = 0"),
            ("[jobs.staging]\nrows_per_file = 0", "rows_per_file"),
        ] {
            let e = full(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
        let cfg = full("[jobs.association_rules]\nmax_len = 25\nlevel = 'category'\nalgorithm = 'fpgrowth'").unwrap();
        assert_eq!(cfg.jobs.association_rules.max_len, 25);
        assert_eq!((cfg.jobs.association_rules.level, cfg.jobs.association_rules.algorithm), (Level::Category, Algorithm::Fpgrowth));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("4GiB").unwrap(), 4 << 30);
        assert_eq!(parse_bytes("512MiB").unwrap(), 512 << 20);
        assert!(parse_bytes("lots").is_err());
    }
}
