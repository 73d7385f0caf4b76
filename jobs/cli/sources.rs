//! `ecomwh sources preview --date D [--source S] [--limit N]`.

use chrono::NaiveDate;

use crate::error::Result;

/// The config's feeds: what their mappings make of a day's files
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Mapped rows, quarantined rows with their reasons and ignored names of a day's files,
    /// without publishing anything
    Preview {
        /// The date (YYYY-MM-DD)
        #[arg(long, value_parser = super::app::parse_date)]
        date: NaiveDate,
        /// Only this source (`[sources.<name>]`)
        #[arg(long)]
        source: Option<String>,
        /// Sample rows shown per table
        #[arg(long, default_value_t = 5)]
        limit: usize,
    },
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    match a.command {
        Command::Preview { date, source, limit } => {
            let tables = crate::sources::preview::preview(&app.warehouse()?, &app.cfg, date, source.as_deref(), limit).await?;
            for t in &tables {
                println!("{}", t.render());
            }
            Ok(())
        }
    }
}
