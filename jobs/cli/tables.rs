//! `ecomwh tables`: every table with its partitions and row counts.

use crate::error::Result;
use crate::storage::manifest::Manifests;

/// List the tables with their partitions and row counts
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also list every partition
    #[arg(long)]
    pub partitions: bool,
    /// Show a table as it was: TABLE@VERSION or TABLE@TIME (2026-12-01T03:00:00Z), repeatable
    #[arg(long, value_name = "TABLE@WHEN", value_parser = crate::storage::delta::parse_table_as_of)]
    pub as_of: Vec<(String, String, crate::storage::delta::AsOf)>,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let wh = app.warehouse()?;
    let manifests = Manifests::load(&wh).await?;
    for (layer, table, at) in a.as_of {
        let old = Manifests::load_table(&wh, &layer, &table, at).await?;
        let m = old.get(&layer, &table).ok_or_else(|| crate::error::Error::Usage(format!("{layer}.{table}: no such table")))?;
        manifests.put_table(m);
    }
    println!("{:<32} {:>8} {:>10} {:>12} {:>12} {:>14}", "table", "version", "partitions", "first dt", "last dt", "rows");
    for (layer, table) in manifests.tables() {
        let Some(m) = manifests.get(&layer, &table) else { continue };
        let rows: u64 = m.partitions.values().map(|p| p.rows).sum();
        let first = m.partitions.keys().next().cloned().unwrap_or_default();
        let last = m.partitions.keys().next_back().cloned().unwrap_or_default();
        println!("{:<32} {:>8} {:>10} {:>12} {:>12} {:>14}", format!("{layer}.{table}"), m.version, m.partitions.len(), first, last, rows);
        if a.partitions {
            for (dt, p) in &m.partitions {
                println!("    dt={dt} {:>12} rows  {} files  run {}", p.rows, p.files.len(), p.run_id);
            }
        }
    }
    Ok(())
}
