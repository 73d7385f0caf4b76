//! `ecomwh run --date D [--jobs a,b]`: the nightly pipeline for one date.

use chrono::NaiveDate;

use crate::error::Result;

/// Run the nightly pipeline for a date (all jobs in dependency order, or only the named ones)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shop day that has just ended (YYYY-MM-DD)
    #[arg(long, value_parser = super::app::parse_date)]
    pub date: NaiveDate,
    /// Only these jobs, comma-separated; they read what earlier runs published
    #[arg(long, value_parser = |s: &str| Ok::<_, String>(super::app::parse_list(s)))]
    pub jobs: Option<std::vec::Vec<String>>,
    /// Recompute incremental tables (customer_order_totals, user_profiles, rfm_segments,
    /// sales_series, product_recommendations) from all history instead of carrying yesterday's
    /// rows over, and train every model
    #[arg(long)]
    pub full_refresh: bool,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let engine = app.engine().await?;
    let report = crate::pipeline::run_date(&engine, &app.cfg, a.date, a.jobs.as_deref(), a.full_refresh).await?;
    print!("{}", report.summary());
    if app.cfg.tables.vacuum_after_run {
        let done = crate::storage::maintain::vacuum(&engine.wh, app.cfg.tables.retain_hours, false).await?;
        println!("vacuum: {} files deleted", done.iter().map(|v| v.files).sum::<usize>());
    }
    Ok(())
}
