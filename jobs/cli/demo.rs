//! `ecomwh demo`: generate a sample shop, run the nightly pipeline over its days, and
//! show what was built.

use chrono::{Duration, NaiveDate};

use crate::error::Result;
use crate::generate::generate;

/// Generate sample raw data, run the nightly pipeline up to its last day, print a summary
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 2000)]
    pub customers: usize,
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Fraction of damaged rows, to see quarantine at work
    #[arg(long, default_value_t = 0.002)]
    pub dirty_rate: f64,
}

pub async fn run(app: &super::App, a: Args) -> Result<()> {
    let wh = app.warehouse()?;
    let last = chrono::Utc::now().date_naive() - Duration::days(1);
    let start: NaiveDate = last - Duration::days(a.days as i64 - 1);
    let opts = super::generate::options(app, a.customers, a.days, start, 42, a.dirty_rate, None)?;
    println!("generating {} customers over {} days ({start} .. {last}) into {}", a.customers, a.days, wh.url);
    generate(&wh, &opts).await?;
    let engine = app.engine().await?;
    println!("running the nightly pipeline for each of the {} dates ...", a.days);
    // Earlier days first, as the nightly schedule would have run them; then the last day.
    let reports = crate::pipeline::backfill(&engine, &app.cfg, start, last, None, false).await?;
    if let Some(r) = reports.last() {
        print!("{}", r.summary());
    }
    println!("\ntables built:");
    super::tables::run(app, super::tables::Args { partitions: false }).await?;
    println!("\nwarehouse: {} (run reports under _state/runs/)", wh.url);
    if app.cfg.jobs.report.enabled {
        if let Some(dir) = wh.local_path(&format!("reports/dt={last}/index.html")) {
            println!("morning report: open file://{} in a browser", dir.display());
        }
    }
    println!("\ntry:\n  ecomwh sql \"SELECT status, count(*) AS orders FROM staging.orders GROUP BY status\"");
    println!("  ecomwh sql \"SELECT reason, count(*) FROM quarantine.orders GROUP BY reason\"");
    println!("  ecomwh sql \"SELECT segment, customers, revenue_share FROM rfm_segment_summary WHERE dt = '{last}'\"");
    println!("  ecomwh sql \"SELECT * FROM user_profiles WHERE dt = '{last}' AND purchases > 1 LIMIT 3\" --format json");
    Ok(())
}
