//! The SQL of `sql/`, compiled into the binary: one file per table a job builds.

use crate::error::{Error, Result};

/// Every file of `sql/` as (`<folder>/<name>` without `.sql`, text), listed by `build.rs`.
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/sql_files.rs"));

/// The SQL that builds `<layer>.<table>`, without its comment header.
/// `<layer>/<dir>/<name>` with each `{{part}}` replaced by `<layer>/<dir>/_part` (placeholders
/// without such a file are left for the caller).
pub fn with_parts(layer: &str, dir: &str, name: &str) -> Result<String> {
    let at = |n: &str| if dir.is_empty() { n.to_string() } else { format!("{dir}/{n}") };
    let mut sql = self::sql(layer, &at(name))?;
    let mut from = 0;
    while let Some(start) = sql[from..].find("{{").map(|i| from + i) {
        let Some(len) = sql[start..].find("}}") else { break };
        match self::sql(layer, &at(&format!("_{}", &sql[start + 2..start + len]))) {
            Ok(part) => sql.replace_range(start..start + len + 2, &part),
            Err(_) => from = start + len,
        }
    }
    Ok(sql)
}

pub fn sql(layer: &str, table: &str) -> Result<String> {
    let key = format!("{layer}/{table}");
    FILES
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, text)| text.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .ok_or_else(|| Error::Config(format!("no SQL file sql/{key}.sql")))
}
