//! What a table's snapshot holds, as ecomwh uses it: its partitions, their files and builds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const LAYERS: &[&str] = &["staging", "quarantine", "marts"];

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableManifest {
    pub layer: String,
    pub table: String,
    /// The Delta version this picture is of.
    #[serde(default)]
    pub version: u64,
    /// dt (YYYY-MM-DD) -> committed partition
    pub partitions: BTreeMap<String, PartitionEntry>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PartitionEntry {
    /// File names inside `<layer>/<table>/dt=<dt>/`.
    pub files: Vec<String>,
    pub rows: u64,
    pub run_id: String,
    pub committed_at: String,
    /// What an incrementally built partition was computed with (its SQL and settings): the
    /// next night carries its rows over only when this still matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_with: Option<String>,
    /// A partition that several jobs fill, each its own slice (`marts.model_metrics`): the
    /// owner (job) -> its files. `files` and `rows` are then the union of the slices.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub slices: BTreeMap<String, Slice>,
}

/// One owner's part of a sliced partition.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Slice {
    pub files: Vec<String>,
    pub rows: u64,
    pub run_id: String,
    pub committed_at: String,
}
