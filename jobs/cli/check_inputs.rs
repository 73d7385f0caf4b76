//! `ecomwh check-inputs --date D`: exit 0 when the raw inputs of D are there, else 2.

use chrono::NaiveDate;

use crate::error::Result;

/// Check that the raw inputs for a date are present and readable (exit 2 names what is missing)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The date (YYYY-MM-DD)
    #[arg(long, value_parser = super::app::parse_date)]
    pub date: NaiveDate,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    crate::pipeline::check_inputs(&app.warehouse()?, &app.cfg, a.date).await?;
    println!("inputs for {} are present", a.date);
    Ok(())
}
