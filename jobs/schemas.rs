//! Contracts of the raw inputs, kept as TOML in `schemas/raw/` and compiled into the binary.

use serde::Deserialize;

use crate::error::{Error, Result};

/// Raw tables in the order staging processes them (references point backwards).
pub const RAW_TABLES: &[&str] = &["customers", "products", "fx_rates", "orders", "order_items", "events", "suppressions", "identifies", "reviews"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    pub table: String,
    /// Columns that identify a row; duplicates beyond the latest are superseded.
    pub key: Vec<String>,
    /// Column whose highest value wins across days (absent: dedup within the day only).
    pub version: Option<String>,
    /// A missing optional table is not an error for `check-inputs`.
    #[serde(default)]
    pub optional: bool,
    pub columns: Vec<ColumnContract>,
    /// A row equal to the key's current staged row is superseded, not staged again (a feed that
    /// sends its whole history every night stages only what changed).
    #[serde(default)]
    pub changes_only: bool,
    /// Columns staging adds to the raw ones (computed, never read from a feed).
    #[serde(default)]
    pub staged: Vec<ColumnContract>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnContract {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    #[serde(default)]
    pub required: bool,
    /// Accepted values (after normalisation).
    #[serde(default)]
    pub values: Vec<String>,
    /// Staged table whose key this column references.
    pub references: Option<String>,
    /// A staged table this column finds its row in, by the column of the same name; read for
    /// that, never staged (an email that finds its customer).
    pub lookup: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    String,
    Int,
    Bool,
    Money,
    Timestamp,
    Date,
    /// A decimal number that is not money (a rate).
    Number,
}

/// Every file of `schemas/` as (`<layer>/<table>` without `.toml`, text), listed by `build.rs`.
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/schema_files.rs"));

pub fn raw_contract(table: &str) -> Result<RawContract> {
    let key = format!("raw/{table}");
    let (_, text) = FILES.iter().find(|(t, _)| *t == key).ok_or_else(|| Error::Usage(format!("unknown raw table '{table}'")))?;
    let c: RawContract = toml::from_str(text).map_err(|e| Error::Config(format!("schemas/raw/{table}.toml: {e}")))?;
    Ok(c)
}

pub fn raw_contracts() -> Result<Vec<RawContract>> {
    RAW_TABLES.iter().map(|t| raw_contract(t)).collect()
}

/// What the jobs need of a mart's contract (`schemas/marts/<table>.toml`): its table and the
/// job (or command) that builds it. Tests read the columns.
#[derive(Debug, Clone, Deserialize)]
pub struct MartContract {
    pub table: String,
    pub built_by: BuiltBy,
}

/// One job, or the jobs that each publish their own slice of the table (`model_metrics`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum BuiltBy {
    One(String),
    Slices(Vec<String>),
}

impl BuiltBy {
    pub fn names(&self) -> Vec<&str> {
        match self {
            BuiltBy::One(j) => vec![j.as_str()],
            BuiltBy::Slices(js) => js.iter().map(String::as_str).collect(),
        }
    }
}

pub fn mart_contracts() -> Result<Vec<MartContract>> {
    FILES
        .iter()
        .filter(|(k, _)| k.starts_with("marts/"))
        .map(|(k, text)| toml::from_str::<MartContract>(text).map_err(|e| Error::Config(format!("schemas/{k}.toml: {e}"))))
        .collect()
}

/// The marts `job` builds, as `marts.<table>`, from the contracts' `built_by`.
pub fn marts_built_by(job: &str) -> Result<Vec<String>> {
    Ok(mart_contracts()?.into_iter().filter(|c| c.built_by.names().contains(&job)).map(|c| format!("marts.{}", c.table)).collect())
}

impl RawContract {
    /// The raw columns (what feeds deliver).
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The columns of the staged table: the raw ones, then those staging adds.
    pub fn staged_names(&self) -> Vec<&str> {
        self.columns.iter().filter(|c| c.lookup.is_none()).chain(&self.staged).map(|c| c.name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The staging SQL enforces what each contract declares.
    #[test]
    fn staging_sql_enforces_the_contracts() {
        for c in raw_contracts().unwrap() {
            let sql = crate::sqlfiles::sql("staging", &c.table).unwrap();
            for col in &c.columns {
                assert!(sql.contains(&col.name), "{}.{} is not in the SQL", c.table, col.name);
                if col.required {
                    assert!(sql.contains(&format!("'missing {}'", col.name)), "{}.{} required but not checked", c.table, col.name);
                }
                if matches!(col.kind, ColumnType::Timestamp | ColumnType::Money | ColumnType::Int | ColumnType::Date | ColumnType::Number) {
                    assert!(sql.contains(&format!("'unparseable {}", col.name)), "{}.{}: parse not checked", c.table, col.name);
                }
                for v in &col.values {
                    assert!(sql.contains(&format!("'{v}'")), "{}.{}: value {v} not accepted", c.table, col.name);
                }
                if col.values.is_empty() == false {
                    assert!(sql.contains(&format!("'unknown {}'", col.name)), "{}.{}: values not checked", c.table, col.name);
                }
                if col.references.is_some() {
                    assert!(sql.contains(&format!("'unknown {}'", col.name)), "{}.{}: reference not checked", c.table, col.name);
                }
            }
        }
    }

    #[test]
    fn all_contracts_parse_and_keys_are_columns() {
        for c in raw_contracts().unwrap() {
            let names = c.column_names();
            for k in c.key.iter().chain(c.version.iter()) {
                assert!(names.contains(&k.as_str()), "{}: {k} not a column", c.table);
            }
            for col in &c.staged {
                assert!(crate::sqlfiles::sql("staging", &c.table).unwrap().contains(&col.name), "{}.{} is not computed", c.table, col.name);
            }
            for col in &c.columns {
                let pos = |t: &str| RAW_TABLES.iter().position(|x| *x == t).unwrap();
                if let Some(r) = &col.references {
                    assert!(pos(r) < pos(&c.table), "{} references a later table", c.table);
                }
                if let Some(t) = &col.lookup {
                    assert!(pos(t) < pos(&c.table), "{} looks up a later table", c.table);
                    assert!(raw_contract(t).unwrap().column_names().contains(&col.name.as_str()), "{t} has no column {}", col.name);
                }
            }
        }
    }
}
