//! Where data lives: the warehouse store, raw inputs, atomic publishing as Delta tables.

pub mod delta;
pub mod maintain;
pub mod manifest;
pub mod nested;
pub mod publish;
pub mod raw;
pub mod scratch_memory;
pub mod snapshot;
pub mod warehouse;
