//! The destination kinds, and configuring one from its `[destinations.<name>]` section.

use super::destination::{BuildFn, Destination, DestinationConfig, Purpose};
use crate::error::{Error, Result};

/// Every destination kind of `[destinations.*]`: one file in `jobs/export/` and one line here.
pub fn kinds() -> Vec<(&'static str, BuildFn)> {
    vec![
        ("mailchimp", super::mailchimp::build),
        ("klaviyo", super::klaviyo::build),
        ("sendgrid", super::sendgrid::build),
        ("file", super::file::build),
        ("webhook", super::webhook::build),
    ]
}

/// Parse and check one `[destinations.<name>]` section (secrets are not read).
pub fn configure(name: &str, table: &toml::Table) -> Result<DestinationConfig> {
    let mut c: DestinationConfig = toml::Value::Table(table.clone()).try_into().map_err(|e| Error::Config(format!("[destinations.{name}] {e}")))?;
    c.name = name.to_string();
    let bad = |m: String| Err(Error::Config(format!("[destinations.{name}] {m}")));
    if !(0.0..=100.0).contains(&c.max_remove_pct) {
        return bad(format!("max_remove_pct = {} must be in [0, 100]", c.max_remove_pct));
    }
    if c.max_attempts == 0 || c.max_attempts > 20 {
        return bad(format!("max_attempts = {} must be 1..20", c.max_attempts));
    }
    build(&c, Purpose::Check)?;
    Ok(c)
}

pub fn build(c: &DestinationConfig, purpose: Purpose) -> Result<Box<dyn Destination>> {
    let kinds = kinds();
    match kinds.iter().find(|(k, _)| *k == c.kind) {
        Some((_, build)) => build(c, purpose),
        None => Err(Error::Config(format!(
            "[destinations.{}] kind = '{}': use one of {}",
            c.name,
            c.kind,
            kinds.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
        ))),
    }
}
