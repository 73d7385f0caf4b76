//! The `ecomwh` binary: parse, set up logging, run the library, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Printing into a closed pipe (`ecomwh tables | head`) panics in println!: end quietly, as
    // command-line tools do. (SIGPIPE stays ignored: network writes must fail, not kill.)
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<String>().map(String::as_str).unwrap_or_default();
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        hook(info)
    }));
    let cli = ecomwh::cli::Cli::parse();
    // The demo prints its own summary; nightly commands log each job for Airflow.
    let default = match cli.command {
        ecomwh::cli::Command::Demo(_) => "warn",
        // Ballista's scheduler logs each job's stage plan at info.
        ecomwh::cli::Command::Cluster(_) => "warn,ecomwh=info,ballista_scheduler=info,ballista_executor=info",
        _ => "warn,ecomwh=info",
    };
    let repeats = ecomwh::logging::init(default);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(ecomwh::cli::run(cli));
    let repeated = repeats.summary();
    if !repeated.is_empty() {
        tracing::warn!("{}", repeated.join("; "));
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of the output went away (`ecomwh sql ... | head`): nothing went wrong here.
        Err(ecomwh::error::Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
