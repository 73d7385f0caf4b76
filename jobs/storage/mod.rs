//! Where data lives: the warehouse store, raw inputs, atomic publishing, table manifests.

pub mod manifest;
pub mod nested;
pub mod publish;
pub mod raw;
pub mod scratch_memory;
pub mod warehouse;
