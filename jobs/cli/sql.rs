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
    /// Read a table as it was: TABLE@VERSION or TABLE@TIME (2026-12-01T03:00:00Z), repeatable
    #[arg(long, value_name = "TABLE@WHEN", value_parser = crate::storage::delta::parse_table_as_of)]
    pub as_of: Vec<(String, String, crate::storage::delta::AsOf)>,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let engine = app.engine().await?;
    for (layer, table, at) in a.as_of {
        engine.as_of(&layer, &table, at).await?;
    }
    let df = engine.query_readonly(&a.query).await?;
    let batches = df.collect().await?;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    render(&batches, a.format, &mut lock)?;
    Ok(())
}
