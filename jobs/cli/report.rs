//! `ecomwh report --date D [--out FILE]`: the morning report of a date, as one HTML file.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::error::Result;

/// Write the morning report of a date: one self-contained HTML page with charts
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_parser = super::app::parse_date)]
    pub date: NaiveDate,
    /// Also write it to this file (it always goes to reports/dt=D/index.html in the warehouse)
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let engine = app.engine().await?;
    let t0 = std::time::Instant::now();
    let page = crate::nightly::report::build(&engine, a.date, &[]).await?;
    let rel = crate::nightly::report::write(&engine, a.date, &page).await?;
    if let Some(out) = &a.out {
        std::fs::write(out, &page)?;
        println!("report written to {} ({} bytes, {:.2}s)", out.display(), page.len(), t0.elapsed().as_secs_f64());
    }
    println!("report: {}/{rel}", engine.wh.url);
    Ok(())
}
