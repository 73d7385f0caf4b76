//! Where data lives: the warehouse store, raw inputs, atomic publishing, run reports.

pub mod manifest;
pub mod publish;
pub mod raw;
pub mod report;
pub mod scratch_memory;
pub mod warehouse;
