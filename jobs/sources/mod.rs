//! Feeds: where the raw tables' rows come from. A source (`[sources.<name>]`) names a preset,
//! a location and a path template. The `ecomwh` preset reads the own layout as it is; the
//! others land the feed's files as text columns (the reader extracts the columns the preset
//! names) and map them to the raw contract with one SQL file per raw table
//! (`sql/sources/<preset>/<table>.sql`), so staging, quarantine and the marts stay the same.

pub mod land;
pub mod presets;
pub mod preview;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use futures::TryStreamExt;
use object_store::ObjectMeta;
use serde::Deserialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::storage::raw::RawFormat;
use crate::storage::warehouse::Warehouse;
pub use presets::Preset;

/// `[sources.<name>]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceConfig {
    preset: String,
    /// A folder URL; default `<warehouse>/raw/<name>` (`<warehouse>/raw` for `ecomwh`).
    location: Option<String>,
    /// A template under the location; default per preset.
    path: Option<String>,
    /// `check-inputs` does not require a file of this source.
    #[serde(default)]
    optional: bool,
    /// Events: a new session after this many minutes without one, where the feed has no
    /// session id.
    session_gap_minutes: Option<u32>,
    /// Each night also reads the files of the N days before (a feed that keeps changing a day
    /// for a while, as GA4's export does for 3 days): what they add or change is staged, what
    /// was staged already is superseded.
    /// Default: the preset's (3 for GA4, whose export changes a day for up to 3 days).
    settle_days: Option<u32>,
    /// `sql`: the raw table the user's SQL fills.
    table: Option<String>,
    /// `sql`: csv, tsv (no header: `columns` in order), jsonl, jsonl.gz or parquet (default: by
    /// each file's ending).
    format: Option<String>,
    /// `sql`: the SQL file (relative to the config file) that reads `feed`.
    sql: Option<String>,
    /// `sql`: the columns the reader extracts (CSV headers, JSON keys or dotted paths);
    /// default: a CSV's header, a Parquet file's columns; JSON lines: none (read `_raw` with
    /// the json_* functions).
    columns: Option<Vec<String>>,
}

/// One source, checked.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub preset: &'static Preset,
    pub location: Option<String>,
    pub path: String,
    pub optional: bool,
    pub session_gap_minutes: u32,
    /// Nights after its own a date's files are read again.
    pub settle_days: u32,
    /// Raw tables it fills, in staging order.
    pub tables: Vec<String>,
    /// The raw table whose quarantine takes the feed's unparseable lines.
    pub errors_to: String,
    /// Reader format (None: by file ending).
    pub format: Option<RawFormat>,
    /// Columns the reader extracts (None: the raw contract's, for `ecomwh`; or discovered).
    pub columns: Option<Vec<String>>,
    /// `sql`: the user's mapping SQL.
    pub user_sql: Option<String>,
}

impl Source {
    /// Every source of the config; without `[sources]`, the own layout under raw/.
    pub fn all(cfg: &Config) -> Result<Vec<Source>> {
        if cfg.sources.is_empty() {
            let preset = &presets::ECOMWH;
            return Ok(vec![Source {
                name: "ecomwh".into(),
                preset,
                location: None,
                path: preset.default_path.into(),
                optional: false,
                session_gap_minutes: 30,
                settle_days: 0,
                tables: crate::schemas::RAW_TABLES.iter().map(|t| t.to_string()).collect(),
                errors_to: String::new(),
                format: None,
                columns: None,
                user_sql: None,
            }]);
        }
        cfg.sources.iter().map(|(name, t)| Source::parse(cfg, name, t)).collect()
    }

    fn parse(cfg: &Config, name: &str, table: &toml::Table) -> Result<Source> {
        let bad = |m: String| Error::Config(format!("[sources.{name}] {m}"));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(bad("names are letters, digits, '_' or '-'".into()));
        }
        let c: SourceConfig = toml::Value::Table(table.clone()).try_into().map_err(|e| bad(e.to_string()))?;
        let preset = presets::find(&c.preset).ok_or_else(|| bad(format!("preset = '{}': use one of {}", c.preset, presets::names().join(", "))))?;
        let user_keys = c.table.is_some() || c.format.is_some() || c.sql.is_some() || c.columns.is_some();
        if preset.name != "sql" && user_keys {
            return Err(bad("table, format, sql and columns are settings of preset = 'sql' only".into()));
        }
        let path = c.path.clone().unwrap_or_else(|| preset.default_path.to_string());
        check_template(&path).map_err(bad)?;
        if let Some(l) = &c.location {
            if !l.contains("://") {
                return Err(bad(format!("location = '{l}' is not a folder URL (file://, s3://, gs://, az://)")));
            }
        }
        let gap = c.session_gap_minutes.unwrap_or(30);
        if gap == 0 || gap > 24 * 60 {
            return Err(bad(format!("session_gap_minutes = {gap} must be 1..1440")));
        }
        let settle_days = c.settle_days.unwrap_or(preset.settle_days);
        if settle_days > 31 {
            return Err(bad(format!("settle_days = {settle_days}: at most 31")));
        }
        let mut s = Source {
            name: name.to_string(),
            preset,
            location: c.location,
            path,
            optional: c.optional,
            session_gap_minutes: gap,
            settle_days,
            tables: preset.tables.iter().map(|t| t.to_string()).collect(),
            errors_to: preset.errors_to.to_string(),
            format: preset.format,
            columns: (!preset.columns.is_empty()).then(|| preset.columns.iter().map(|c| c.to_string()).collect()),
            user_sql: None,
        };
        if preset.name == "sql" {
            let table = c.table.ok_or_else(|| bad("preset = 'sql' needs table = '<raw table>'".into()))?;
            if !crate::schemas::RAW_TABLES.contains(&table.as_str()) {
                return Err(bad(format!("table = '{table}' is not a raw table ({})", crate::schemas::RAW_TABLES.join(", "))));
            }
            let file = c.sql.ok_or_else(|| bad("preset = 'sql' needs sql = '<file>.sql' (relative to the config file)".into()))?;
            let path = cfg.base_dir.clone().unwrap_or_else(|| PathBuf::from(".")).join(&file);
            let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("sql = '{file}': cannot read {}: {e}", path.display())))?;
            s.user_sql = Some(text);
            s.errors_to = table.clone();
            s.tables = vec![table];
            s.format = match c.format.as_deref() {
                None => None,
                Some(f) => {
                    Some(RawFormat::from_name(&format!("x.{f}")).ok_or_else(|| bad(format!("format = '{f}': use csv, tsv, jsonl, jsonl.gz or parquet")))?)
                }
            };
            if s.format == Some(RawFormat::Tsv) && c.columns.is_none() {
                return Err(bad("format = 'tsv' has no header: name its columns in order with columns = [...]".into()));
            }
            s.columns = c.columns;
        }
        Ok(s)
    }

    pub fn fills(&self, table: &str) -> bool {
        self.tables.iter().any(|t| t == table)
    }

    /// The mapping SQL for `table` (None: the files are in the raw contract's own columns).
    pub fn mapping(&self, table: &str) -> Result<Option<String>> {
        if let Some(sql) = &self.user_sql {
            return Ok(Some(sql.clone()));
        }
        if self.preset.name == "ecomwh" {
            return Ok(None);
        }
        crate::sqlfiles::sql("sources", &format!("{}/{table}", self.preset.sql_dir)).map(Some)
    }

    /// Where the source's files are: the warehouse itself or a store of its own, rooted at the
    /// location; and whether file names in quarantine are relative to the warehouse.
    pub fn open(&self, wh: &Warehouse, cfg: &Config) -> Result<(Warehouse, bool)> {
        match &self.location {
            None => {
                let rel = if self.preset.name == "ecomwh" { "raw".to_string() } else { format!("raw/{}", self.name) };
                Ok((wh.sub(&rel), true))
            }
            Some(url) => {
                let w = Warehouse::open(url, &cfg.storage).map_err(|e| Error::Config(format!("[sources.{}] location: {e}", self.name)))?;
                Ok((w, false))
            }
        }
    }

    /// The files a night reads: those of `date` and, with `settle_days`, of the days before
    /// (older days first; a file listed under two dates once).
    pub async fn files_settling(&self, loc: &Warehouse, date: NaiveDate, table: &str) -> Result<Vec<(ObjectMeta, RawFormat)>> {
        let mut out: Vec<(ObjectMeta, RawFormat)> = vec![];
        for back in (0..=self.settle_days as i64).rev() {
            for f in self.files(loc, date - chrono::Duration::days(back), table).await? {
                if !out.iter().any(|(m, _)| m.location == f.0.location) {
                    out.push(f);
                }
            }
        }
        Ok(out)
    }

    /// The files of `date` (for `table`, with the own layout), in delivery order: by
    /// modification time, then name.
    pub async fn files(&self, loc: &Warehouse, date: NaiveDate, table: &str) -> Result<Vec<(ObjectMeta, RawFormat)>> {
        let rel = expand(&self.path, date, table);
        let (dir, pattern) = match rel.rfind('/') {
            Some(i) => (&rel[..i], &rel[i + 1..]),
            None => ("", rel.as_str()),
        };
        let prefix = loc.path(dir);
        let metas: Vec<ObjectMeta> = match loc.store.list(Some(&prefix)).try_collect().await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => vec![],
            Err(e) => return Err(Error::storage(prefix.to_string(), e)),
        };
        let mut metas: Vec<ObjectMeta> = metas
            .into_iter()
            .filter(|m| {
                let name = m.location.filename().unwrap_or_default();
                let below = m.location.as_ref().strip_prefix(prefix.as_ref()).unwrap_or("").trim_start_matches('/');
                // A pattern matches file names directly in the folder; an empty one or `*`
                // takes every file below it.
                let matched = if pattern.is_empty() || pattern == "*" { true } else { !below.contains('/') && glob(pattern, name) };
                matched && !name.starts_with('_') && !name.starts_with('.')
            })
            .collect();
        metas.sort_by(|a, b| a.last_modified.cmp(&b.last_modified).then_with(|| a.location.cmp(&b.location)));
        let mut out = vec![];
        for m in metas {
            let name = m.location.filename().unwrap_or_default().to_string();
            let format = match (self.format, RawFormat::from_name(&name)) {
                (Some(f), _) => f,
                // Headerless TSV only where the source says so (its columns are not in the file).
                (None, Some(f)) if f != RawFormat::Tsv => f,
                (None, _) => {
                    return Err(Error::MissingInput(format!(
                        "[sources.{}] {}: unknown file type (expected .csv, .jsonl, .jsonl.gz or .parquet); \
                         move it away or rename it with a leading '_' to skip it",
                        self.name, m.location
                    )))
                }
            };
            out.push((m, format));
        }
        Ok(out)
    }
}

/// Placeholders a path template may use.
const PLACEHOLDERS: &[&str] = &["date", "yyyy", "mm", "dd", "epoch_ms", "table"];

fn check_template(t: &str) -> std::result::Result<(), String> {
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { return Err(format!("path = '{t}': a '{{' without '}}'")) };
        let name = &rest[i + 1..i + j];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "path = '{t}': unknown placeholder {{{name}}} (use {})",
                PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join(" ")
            ));
        }
        rest = &rest[i + j + 1..];
    }
    Ok(())
}

/// A path template for a run date: `{date}` YYYY-MM-DD, `{yyyy}` `{mm}` `{dd}`, `{epoch_ms}`
/// the date's UTC midnight in milliseconds (Segment's day folders), `{table}` the raw table.
pub fn expand(template: &str, date: NaiveDate, table: &str) -> String {
    let midnight = date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis();
    template
        .replace("{date}", &date.format("%Y-%m-%d").to_string())
        .replace("{yyyy}", &date.format("%Y").to_string())
        .replace("{mm}", &date.format("%m").to_string())
        .replace("{dd}", &date.format("%d").to_string())
        .replace("{epoch_ms}", &midnight.to_string())
        .replace("{table}", table)
}

/// `*` (any run of characters) and `?` (one character) against a file name.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Rows a source's mapping left out on purpose, per name (an event the preset does not map).
pub type Ignored = BTreeMap<String, u64>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_every_placeholder() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        assert_eq!(expand("{yyyy}/{mm}/{dd}/{date}/{epoch_ms}/{table}", d, "orders"), "2024/03/05/2024-03-05/1709596800000/orders");
        assert!(check_template("x/{day}/").unwrap_err().contains("{day}"));
        assert!(check_template("{epoch_ms}/*").is_ok());
    }

    #[test]
    fn globs_match_file_names() {
        assert!(glob("*.csv", "orders_export_1.csv"));
        assert!(glob("orders_export_?.csv", "orders_export_1.csv"));
        assert!(!glob("*.csv", "orders.csv.gz"));
        assert!(glob("*", "x"));
    }
}
