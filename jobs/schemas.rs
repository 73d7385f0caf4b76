//! Contracts of the raw inputs, kept as TOML in `schemas/raw/` and compiled into the binary.

use serde::Deserialize;

use crate::error::{Error, Result};

/// Raw tables in the order staging processes them (references point backwards).
pub const RAW_TABLES: &[&str] = &["customers", "products", "orders", "order_items", "events", "suppressions", "identifies"];

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    String,
    Int,
    Bool,
    Money,
    Timestamp,
}

const SOURCES: &[(&str, &str)] = &[
    ("customers", include_str!("../schemas/raw/customers.toml")),
    ("products", include_str!("../schemas/raw/products.toml")),
    ("orders", include_str!("../schemas/raw/orders.toml")),
    ("order_items", include_str!("../schemas/raw/order_items.toml")),
    ("events", include_str!("../schemas/raw/events.toml")),
    ("suppressions", include_str!("../schemas/raw/suppressions.toml")),
    ("identifies", include_str!("../schemas/raw/identifies.toml")),
];

pub fn raw_contract(table: &str) -> Result<RawContract> {
    let (_, text) = SOURCES.iter().find(|(t, _)| *t == table).ok_or_else(|| Error::Usage(format!("unknown raw table '{table}'")))?;
    let c: RawContract = toml::from_str(text).map_err(|e| Error::Config(format!("schemas/raw/{table}.toml: {e}")))?;
    Ok(c)
}

pub fn raw_contracts() -> Result<Vec<RawContract>> {
    RAW_TABLES.iter().map(|t| raw_contract(t)).collect()
}

impl RawContract {
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
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
                if matches!(col.kind, ColumnType::Timestamp | ColumnType::Money | ColumnType::Int) {
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
            for col in &c.columns {
                if let Some(r) = &col.references {
                    let pos = |t: &str| RAW_TABLES.iter().position(|x| *x == t).unwrap();
                    assert!(pos(r) < pos(&c.table), "{} references a later table", c.table);
                }
            }
        }
    }
}
