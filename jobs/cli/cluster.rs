//! `ecomwh cluster scheduler|executor`: the processes of a Ballista cluster, with ecomwh's
//! functions and warehouse settings built in. Point the pipeline at it with
//! `--engine ballista://HOST:PORT`.

use crate::engine::cluster::{self, ExecutorSettings, Listen, DEFAULT_SCHEDULER_PORT};
use crate::error::Result;

/// Run a Ballista scheduler or executor that knows ecomwh's functions and warehouse
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub role: Role,
}

#[derive(Debug, clap::Subcommand)]
pub enum Role {
    /// The scheduler: plans each query into stages and hands tasks to executors
    Scheduler {
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Name or address the scheduler advertises as its own (default: --bind)
        #[arg(long)]
        external_host: Option<String>,
        #[arg(long, default_value_t = DEFAULT_SCHEDULER_PORT)]
        port: u16,
    },
    /// An executor: runs tasks and serves their shuffle output (Arrow Flight) to the others
    Executor {
        /// The scheduler, HOST:PORT
        #[arg(long, default_value = "127.0.0.1:50050")]
        scheduler: String,
        /// Address to listen on
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Name or address others use to fetch this one's shuffle output (default: the address
        /// the scheduler sees the executor connect from)
        #[arg(long)]
        external_host: Option<String>,
        /// Arrow Flight port (shuffle data)
        #[arg(long, default_value_t = 50051)]
        port: u16,
        /// gRPC port
        #[arg(long, default_value_t = 50052)]
        grpc_port: u16,
        /// Tasks run at once (default: number of cores)
        #[arg(long, default_value_t = 0)]
        concurrent_tasks: usize,
        /// Folder for shuffle files (default: a folder under the system temp folder, removed
        /// when the executor stops)
        #[arg(long)]
        work_dir: Option<String>,
    },
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    match a.role {
        Role::Scheduler { bind, external_host, port } => cluster::run_scheduler(&app.cfg, &Listen { bind_host: bind, external_host, port }).await,
        Role::Executor { scheduler, bind, external_host, port, grpc_port, concurrent_tasks, work_dir } => {
            let (host, sport) = match scheduler.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().map_err(|_| super::app::usage(format!("--scheduler '{scheduler}' is not HOST:PORT")))?),
                None => (scheduler.clone(), DEFAULT_SCHEDULER_PORT),
            };
            let s = ExecutorSettings {
                listen: Listen { bind_host: bind, external_host, port },
                grpc_port,
                scheduler_host: host,
                scheduler_port: sport,
                concurrent_tasks,
                work_dir,
            };
            cluster::run_executor(&app.cfg, &s).await
        }
    }
}
