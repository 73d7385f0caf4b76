//! `ecomwh tables`: every table with its partitions and row counts.

use crate::error::Result;

/// List the tables with their partitions and row counts
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also list every partition
    #[arg(long)]
    pub partitions: bool,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let wh = app.warehouse()?;
    let manifests = crate::storage::manifest::Manifests::load(&wh).await?;
    println!("{:<32} {:>10} {:>12} {:>12} {:>14}", "table", "partitions", "first dt", "last dt", "rows");
    for (layer, table) in manifests.tables() {
        let Some(m) = manifests.get(&layer, &table) else { continue };
        let rows: u64 = m.partitions.values().map(|p| p.rows).sum();
        let first = m.partitions.keys().next().cloned().unwrap_or_default();
        let last = m.partitions.keys().next_back().cloned().unwrap_or_default();
        println!("{:<32} {:>10} {:>12} {:>12} {:>14}", format!("{layer}.{table}"), m.partitions.len(), first, last, rows);
        if a.partitions {
            for (dt, p) in &m.partitions {
                println!("    dt={dt} {:>12} rows  {} files  run {}", p.rows, p.files.len(), p.run_id);
            }
        }
    }
    Ok(())
}
