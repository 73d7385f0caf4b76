//! `ecomwh jobs`: the jobs in dependency order, one per line (the DAG's task ids); with
//! `--json`, what each needs, publishes and runs with (the DAG is built from it).

use crate::error::Result;

/// List the jobs in dependency order, one name a line
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A JSON array of {name, needs, outputs, settings} in dependency order (outputs as
    /// layer.table; settings as the loaded config gives them, defaults filled in)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    if !a.json {
        for name in crate::nightly::job_names() {
            println!("{name}");
        }
        return Ok(());
    }
    let mut jobs = vec![];
    for j in crate::nightly::jobs() {
        jobs.push(serde_json::json!({ "name": j.name(), "needs": j.depends_on(), "outputs": j.outputs()?, "settings": j.settings(&app.cfg)? }));
    }
    println!("{}", serde_json::to_string_pretty(&jobs).map_err(|source| crate::error::Error::Json { what: "jobs".into(), source })?);
    Ok(())
}
