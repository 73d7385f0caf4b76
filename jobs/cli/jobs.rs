//! `ecomwh jobs`: the jobs in dependency order, one per line (the DAG's task ids).

use crate::error::Result;

/// List the jobs in dependency order, one name a line
#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_app: &super::App, _a: Args) -> Result<()> {
    for name in crate::registry::job_names() {
        println!("{name}");
    }
    Ok(())
}
