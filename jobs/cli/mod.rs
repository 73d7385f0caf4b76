//! The command line: one file per subcommand. Nothing else in the crate knows clap.

mod app;
mod backfill;
mod check_inputs;
#[cfg(feature = "cluster")]
mod cluster;
mod demo;
mod export;
mod forecast;
mod generate;
mod jobs;
mod migrate;
mod mine;
mod report;
mod run;
mod sentiment;
mod sources;
mod sql;
mod tables;
mod vacuum;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::error::Result;
use app::App;

/// ecomwh: nightly marketing warehouse for online shops (Apache DataFusion).
#[derive(Debug, Parser)]
#[command(name = "ecomwh", version, about, long_about = None)]
pub struct Cli {
    /// Config file (default: ecomwh.toml in the current folder, when present)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Warehouse URL, overriding the config: file://PATH, s3://BUCKET/PREFIX, gs://, az://, memory://
    #[arg(long, global = true, value_name = "URL")]
    pub warehouse: Option<String>,
    /// Where the SQL runs, overriding the config's `engine`: local, ballista-standalone,
    /// ballista://HOST:PORT (Ballista needs a build with `--features cluster`)
    #[arg(long, global = true, value_name = "ENGINE", env = "ECOMWH_ENGINE")]
    pub engine: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Demo(demo::Args),
    Generate(generate::Args),
    CheckInputs(check_inputs::Args),
    Sources(sources::Args),
    Run(run::Args),
    Backfill(backfill::Args),
    Sql(sql::Args),
    Tables(tables::Args),
    Vacuum(vacuum::Args),
    Migrate(migrate::Args),
    Jobs(jobs::Args),
    Mine(mine::Args),
    Sentiment(sentiment::Args),
    Forecast(forecast::Args),
    Report(report::Args),
    Export(export::Args),
    #[cfg(feature = "cluster")]
    Cluster(cluster::Args),
    /// Ballista's processes: only in builds with the `cluster` feature
    #[cfg(not(feature = "cluster"))]
    #[command(hide = true)]
    Cluster(NoCluster),
}

/// `ecomwh cluster ...` in a build without Ballista: say how to get one.
#[cfg(not(feature = "cluster"))]
#[derive(Debug, clap::Args)]
pub struct NoCluster {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<String>,
}

pub async fn run(cli: Cli) -> Result<()> {
    let config_file = Config::find(cli.config.as_deref());
    // Without a config of the user's, the demo shows everything with the documented example.
    let mut cfg = match (&cli.command, &config_file) {
        (Command::Demo(_), None) => Config::parse(crate::config::EXAMPLE)?,
        _ => Config::load(config_file.as_deref())?,
    };
    crate::pipeline::check_config(&cfg)?;
    if let Some(w) = cli.warehouse {
        cfg.warehouse = w;
    }
    if let Some(e) = cli.engine {
        crate::engine::EngineKind::parse(&e)?;
        cfg.engine = e;
    }
    let app = App { cfg, config_file };
    match cli.command {
        Command::Demo(a) => demo::run(&app, a).await,
        Command::Generate(a) => generate::run(&app, a).await,
        Command::CheckInputs(a) => check_inputs::run(&app, a).await,
        Command::Sources(a) => sources::run(&app, a).await,
        Command::Run(a) => run::run(&app, a).await,
        Command::Backfill(a) => backfill::run(&app, a).await,
        Command::Sql(a) => sql::run(&app, a).await,
        Command::Tables(a) => tables::run(&app, a).await,
        Command::Vacuum(a) => vacuum::run(&app, a).await,
        Command::Migrate(a) => migrate::run(&app, a).await,
        Command::Jobs(a) => jobs::run(&app, a).await,
        Command::Mine(a) => mine::run(&app, a).await,
        Command::Sentiment(a) => sentiment::run(&app, a).await,
        Command::Forecast(a) => forecast::run(&app, a).await,
        Command::Report(a) => report::run(&app, a).await,
        Command::Export(a) => export::run(&app, a).await,
        #[cfg(feature = "cluster")]
        Command::Cluster(a) => cluster::run(&app, a).await,
        #[cfg(not(feature = "cluster"))]
        Command::Cluster(_) => crate::engine::EngineKind::BallistaStandalone.check_built(),
    }
}
