//! `ecomwh sql "QUERY"`: read-only SQL over every table of the warehouse.

use crate::error::Result;
use crate::output::{render, Format};

/// Run a read-only SQL query over the warehouse tables (staging.x, quarantine.x, marts.x or x)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The query; DDL, DML, COPY and SET are refused
    pub query: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let engine = app.engine().await?;
    let df = engine.query_readonly(&a.query).await?;
    let batches = df.collect().await?;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    render(&batches, a.format, &mut lock)?;
    Ok(())
}
