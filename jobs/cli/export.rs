//! `ecomwh export --date D [--audience A] [--destination X] [--dry-run] [--force]`

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::export::sync::{export, ExportOptions};

/// Sync the date's audience members to their destinations (mailchimp, klaviyo, sendgrid,
/// file, webhook): only the changes since the last confirmed sync are sent. Exit 1 when a
/// contact could not be delivered for a reason a rerun may fix (a timeout, a 5xx after every
/// retry, a wrong key), or a mirror sync refused to remove too many contacts. Contacts refused
/// for good (an invalid address, a vendor's permanent 4xx) do not fail the run: they are in
/// export_failures, and the sync's status is `partial`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run date whose audience_members are sent (YYYY-MM-DD)
    #[arg(long, value_parser = super::app::parse_date)]
    pub date: NaiveDate,
    /// Only this audience
    #[arg(long)]
    pub audience: Option<String>,
    /// Only this destination
    #[arg(long)]
    pub destination: Option<String>,
    /// Print the plan (counts and a sample of the exact requests) and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Let a mirror sync remove more than the destination's max_remove_pct
    #[arg(long)]
    pub force: bool,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let engine = app.engine().await?;
    let opts = ExportOptions { date: a.date, audience: a.audience, destination: a.destination, dry_run: a.dry_run, force: a.force };
    let mut out = std::io::stdout();
    let reports = export(&engine, &app.cfg, &opts, &mut out).await?;
    let bad: Vec<String> = reports
        .iter()
        .filter(|r| r.status == "failed" || r.status == "refused")
        .map(|r| format!("{} -> {}: {}", r.audience, r.destination, r.message.clone().unwrap_or_default()))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Error::Export(bad.join("; ")))
    }
}
