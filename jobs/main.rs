//! The `ecomwh` binary: parse, set up logging, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = ecomwh::cli::Cli::parse();
    // The demo prints its own summary; nightly commands log each job for Airflow.
    let default = match cli.command {
        ecomwh::cli::Command::Demo(_) => "warn",
        // Ballista's scheduler logs each job's stage plan at info.
        ecomwh::cli::Command::Cluster(_) => "warn,ecomwh=info,ballista_scheduler=info,ballista_executor=info",
        _ => "warn,ecomwh=info",
    };
    let filter = EnvFilter::try_from_env("ECOMWH_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(ecomwh::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
