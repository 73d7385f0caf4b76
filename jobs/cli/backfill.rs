//! `ecomwh backfill --from D --to D`: run each date in order.

use chrono::NaiveDate;

use crate::error::Result;

/// Run the pipeline for every date from --from to --to, in order (stops at the first failure)
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_parser = super::app::parse_date)]
    pub from: NaiveDate,
    #[arg(long, value_parser = super::app::parse_date)]
    pub to: NaiveDate,
    /// Only these jobs, comma-separated
    #[arg(long, value_parser = |s: &str| Ok::<_, String>(super::app::parse_list(s)))]
    pub jobs: Option<std::vec::Vec<String>>,
    /// Recompute incremental tables from all history on the first date (later dates build on it)
    #[arg(long)]
    pub full_refresh: bool,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let engine = app.engine().await?;
    for r in crate::pipeline::backfill(&engine, &app.cfg, a.from, a.to, a.jobs.as_deref(), a.full_refresh).await? {
        print!("{}", r.summary());
    }
    Ok(())
}
