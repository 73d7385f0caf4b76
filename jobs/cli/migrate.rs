//! `ecomwh migrate`: convert a warehouse written by an older ecomwh to Delta tables, in place.

use crate::error::Result;

/// Convert the tables of a warehouse written before Delta tables (JSON manifests) in place
#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(app: &super::app::App, _a: Args) -> Result<()> {
    let wh = app.warehouse()?;
    let m = crate::storage::maintain::migrate(&wh).await?;
    println!("converted {} tables ({} partitions, {} files added as they are); {} were Delta tables already", m.tables, m.partitions, m.files, m.skipped);
    Ok(())
}
