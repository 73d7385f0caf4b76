//! Running the nightly pipeline for a date: check inputs, run jobs in order, write the
//! run report. Also `backfill` and `check-inputs`.

use std::time::Instant;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use object_store::{ObjectStore, ObjectStoreExt};
use tracing::Instrument;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::nightly::{job_names, jobs};
use crate::runtime::run_report::{JobReport, RunReport};
use crate::runtime::RunContext;
use crate::schemas::raw_contracts;
use crate::storage::publish::new_run_id;
use crate::storage::warehouse::Warehouse;

/// What `Config::parse` cannot check alone: the sources' presets and settings and the
/// destinations' kinds and settings (their modules build on the config, not the other way).
pub fn check_config(cfg: &Config) -> Result<()> {
    crate::sources::Source::all(cfg)?;
    for (name, table) in &cfg.destinations {
        crate::export::kinds::configure(name, table)?;
    }
    Ok(())
}

/// Every source's files for `date` are there and readable: the own layout needs a file per
/// required raw table; any other source at least one file, unless it is `optional`.
pub async fn check_inputs(wh: &Warehouse, cfg: &Config, date: NaiveDate) -> Result<()> {
    let mut problems = vec![];
    let sources = crate::sources::Source::all(cfg)?;
    // A table another source fills is not owed by the own layout.
    let elsewhere = |table: &str| sources.iter().any(|o| o.preset.name != "ecomwh" && o.fills(table));
    for s in &sources {
        let (loc, _) = s.open(wh, cfg)?;
        let tables: Vec<(String, bool)> = if s.preset.name == "ecomwh" {
            raw_contracts()?
                .into_iter()
                .filter(|c| s.fills(&c.table))
                .map(|c| (c.optional || s.optional || elsewhere(&c.table), c.table))
                .map(|(o, t)| (t, o))
                .collect()
        } else {
            vec![(String::new(), s.optional)]
        };
        for (table, optional) in tables {
            let place = format!("{}/{}", loc.url, crate::sources::expand(&s.path, date, &table));
            match s.files(&loc, date, &table).await {
                Ok(files) if files.is_empty() && !optional => {
                    let whose = if s.preset.name == "ecomwh" && cfg.sources.is_empty() { String::new() } else { format!("[sources.{}] ", s.name) };
                    problems.push(format!("{whose}no input file at {place}"))
                }
                Ok(files) => {
                    for (meta, _) in files {
                        if let Err(e) = loc.store.head(&meta.location).await {
                            problems.push(format!("{}: not readable: {e}", meta.location));
                        }
                    }
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::MissingInput(problems.join("; ")))
    }
}

fn progress_bar(n: usize) -> ProgressBar {
    let pb = ProgressBar::new(n as u64);
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        pb.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} jobs  {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
    } else {
        // Airflow logs stay clean: tracing says the same in lines.
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb
}

/// Validate `--jobs` names against the registry.
pub fn select_jobs(only: Option<&[String]>) -> Result<Vec<String>> {
    let all = job_names();
    match only {
        None => Ok(all.iter().map(|s| s.to_string()).collect()),
        Some(names) => {
            for n in names {
                if !all.contains(&n.as_str()) {
                    return Err(Error::Usage(format!("unknown job '{n}'; jobs are: {}", all.join(", "))));
                }
            }
            Ok(all.iter().filter(|a| names.iter().any(|n| n == *a)).map(|s| s.to_string()).collect())
        }
    }
}

/// Run the pipeline (or the selected jobs) for one date. The report is saved even when a
/// job fails; the error is returned after that. With `full_refresh`, incremental tables are
/// recomputed from all history instead of carried over from their previous partition.
pub async fn run_date(engine: &Engine, cfg: &Config, date: NaiveDate, only: Option<&[String]>, full_refresh: bool) -> Result<RunReport> {
    let selected = select_jobs(only)?;
    if selected.iter().any(|j| j == "staging") {
        check_inputs(&engine.wh, cfg, date).await?;
    }
    sweep_scratch(engine).await;
    let run_id = new_run_id();
    let started = Instant::now();
    let mut report = RunReport {
        run_id: run_id.clone(),
        date: date.format("%Y-%m-%d").to_string(),
        started_at: chrono::Utc::now().to_rfc3339(),
        engine: cfg.engine.clone(),
        status: "ok".into(),
        ..Default::default()
    };
    let pb = progress_bar(selected.len());
    let rc = RunContext { engine, cfg, date, run_id: &run_id, progress: &pb, done: Default::default(), full_refresh, outputs: Default::default() };
    let mut failure = None;
    for job in jobs().into_iter().filter(|j| selected.iter().any(|s| s == j.name())) {
        let t0 = Instant::now();
        pb.set_message(job.name().to_string());
        let span = tracing::info_span!("job", job = job.name(), date = %report.date, run_id = %run_id);
        tracing::info!(parent: &span, "job started");
        let outputs = job.outputs();
        let result = match outputs {
            Ok(o) => {
                if let Ok(mut owned) = rc.outputs.lock() {
                    *owned = Some((job.name(), o));
                }
                job.run(&rc).instrument(span.clone()).await
            }
            Err(e) => Err(e),
        };
        let seconds = t0.elapsed().as_secs_f64();
        pb.inc(1);
        match result {
            Ok(tables) => {
                tracing::info!(parent: &span, seconds, "job finished");
                let j = JobReport { job: job.name().into(), status: "ok".into(), seconds, error: None, tables };
                if let Ok(mut d) = rc.done.lock() {
                    d.push(j.clone());
                }
                report.jobs.push(j);
            }
            Err(e) => {
                tracing::error!(parent: &span, seconds, error = %e, "job failed");
                report.jobs.push(JobReport { job: job.name().into(), status: "failed".into(), seconds, error: Some(e.to_string()), tables: vec![] });
                failure = Some(e);
                break;
            }
        }
    }
    pb.finish_and_clear();
    engine.wh.remove_dir(&format!("_tmp/{run_id}")).await;
    report.seconds = started.elapsed().as_secs_f64();
    report.finished_at = chrono::Utc::now().to_rfc3339();
    if let Some(e) = &failure {
        report.status = "failed".into();
        report.error = Some(e.to_string());
    }
    let path = report.save(&engine.wh).await?;
    tracing::info!(report = %path, status = %report.status, seconds = report.seconds, "run report written");
    match failure {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// Run each date from `from` to `to` in order; stop at the first failure.
pub async fn backfill(engine: &Engine, cfg: &Config, from: NaiveDate, to: NaiveDate, only: Option<&[String]>, full_refresh: bool) -> Result<Vec<RunReport>> {
    if to < from {
        return Err(Error::Usage(format!("--to {to} is before --from {from}")));
    }
    let mut reports = vec![];
    let mut d = from;
    while d <= to {
        tracing::info!(date = %d, "backfill date");
        // A full refresh recomputes the first date; the dates after it carry over from it.
        reports.push(run_date(engine, cfg, d, only, full_refresh && d == from).await?);
        d = d.succ_opt().ok_or_else(|| Error::Usage("date out of range".into()))?;
    }
    Ok(reports)
}

/// Scratch folders of runs that were killed: `_tmp/<run_id>` older than a day. Younger ones may
/// belong to a run still going (the DAG's task timeout is 3 hours).
async fn sweep_scratch(engine: &Engine) {
    let prefix = engine.wh.path("_tmp");
    let Ok(listing) = engine.wh.store.list_with_delimiter(Some(&prefix)).await else { return };
    let cutoff = chrono::Utc::now().naive_utc() - chrono::Duration::hours(24);
    for dir in listing.common_prefixes {
        let Some(name) = dir.filename() else { continue };
        let started = name.get(..15).and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%S").ok());
        if started.is_some_and(|t| t < cutoff) {
            let rel = format!("_tmp/{name}");
            tracing::info!(folder = %rel, "removing scratch files of an old run");
            engine.wh.remove_dir(&rel).await;
        }
    }
}
