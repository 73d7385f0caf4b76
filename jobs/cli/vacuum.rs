//! `ecomwh vacuum`: delete the files no recent snapshot of any table needs.

use crate::error::Result;

/// Delete replaced files and killed runs' leftovers that no table snapshot within the retention needs
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep every file a snapshot of the last H hours needs (time travel reaches that far back)
    #[arg(long, value_name = "H")]
    pub retain_hours: Option<u32>,
    /// Only count what would be deleted
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let wh = app.warehouse()?;
    let hours = a.retain_hours.unwrap_or(app.cfg.tables.retain_hours);
    let done = crate::storage::maintain::vacuum(&wh, hours, a.dry_run).await?;
    let verb = if a.dry_run { "would delete" } else { "deleted" };
    for v in &done {
        println!("{:<32} {verb} {} files", v.table, v.files);
    }
    println!("{} tables, {} files {verb} (files older than {hours} h that no snapshot needs)", done.len(), done.iter().map(|v| v.files).sum::<usize>());
    Ok(())
}
