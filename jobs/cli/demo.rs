//! `ecomwh demo`: generate a sample shop with a year of history, run the nightly pipeline and
//! the exports over its last nights, and show what was built.

use std::time::Instant;

use chrono::{Duration, NaiveDate};
use futures::TryStreamExt;
use object_store::ObjectStore;

use crate::error::{Error, Result};
use crate::export::sync::{export, ExportOptions};
use crate::generate::generate;

/// Generate a sample shop, run the nightly pipeline and the audience exports over its last
/// nights, print a summary
#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 2000)]
    pub customers: usize,
    /// Days of history, ending yesterday: enough for every model to train (churn needs twice
    /// its 90-day window)
    #[arg(long, default_value_t = 400)]
    pub days: u32,
    /// The last N days are run night by night (exports and uplift need a few); the days before
    /// them arrive as one first load
    #[arg(long, default_value_t = 15)]
    pub nights: u32,
    /// Fraction of damaged rows, to see quarantine at work
    #[arg(long, default_value_t = 0.002)]
    pub dirty_rate: f64,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    if a.nights == 0 || a.nights >= a.days {
        return Err(super::app::usage(format!("--nights {} must be at least 1 and less than --days {}", a.nights, a.days)));
    }
    let cfg = &app.cfg;
    let wh = app.warehouse()?;
    let last = chrono::Utc::now().date_naive() - Duration::days(1);
    let start: NaiveDate = last - Duration::days(a.days as i64 - 1);
    let first_load = a.days - a.nights;
    let first_night = start + Duration::days(first_load as i64 - 1);
    match &app.config_file {
        Some(p) => println!("config: {}", p.display()),
        None => println!("config: the built-in example (examples/ecomwh.toml; copy it to ./ecomwh.toml to change it)"),
    }
    let mut opts = super::generate::options(app, a.customers, a.days, start, 42, a.dirty_rate, None)?;
    opts.first_load_days = Some(first_load);
    opts.damage_every_table = true;
    opts.real_world = true;
    println!("generating {} customers over {} days ({start} .. {last}) into {}", a.customers, a.days, wh.url);
    generate(&wh, &opts).await?;

    let engine = app.engine().await?;
    let exporting = cfg.audiences.iter().any(|x| !x.destinations.is_empty());
    println!(
        "running the nightly pipeline{} for {} nights: {first_night} (a first load of {first_load} days), then each day to {last}",
        if exporting { " and the exports" } else { "" },
        a.nights + 1
    );
    let mut report = None;
    let mut d = first_night;
    while d <= last {
        let t0 = Instant::now();
        let r = crate::pipeline::run_date(&engine, cfg, d, None, false).await?;
        let mut line = format!("  {d}: {} jobs {} in {:.1} s", r.jobs.len(), r.status, t0.elapsed().as_secs_f64());
        if exporting {
            let opts = ExportOptions { date: d, audience: None, destination: None, dry_run: false, force: false };
            let syncs = export(&engine, cfg, &opts, &mut std::io::sink()).await?;
            let failed: Vec<String> = syncs
                .iter()
                .filter(|s| s.status != "ok" && s.status != "partial")
                .map(|s| format!("{} -> {}: {}", s.audience, s.destination, s.message.clone().unwrap_or_else(|| s.status.clone())))
                .collect();
            if !failed.is_empty() {
                return Err(Error::Export(failed.join("; ")));
            }
            let parts: Vec<String> = syncs
                .iter()
                .map(|s| {
                    let refused = match s.failed {
                        0 => String::new(),
                        1 => " (1 invalid address, see export_failures)".to_string(),
                        n => format!(" ({n} invalid addresses, see export_failures)"),
                    };
                    format!("{} +{} ~{} -{}{refused}", s.audience, s.adds, s.updates, s.removes)
                })
                .collect();
            line.push_str(&format!("; exported {}", parts.join(", ")));
        }
        println!("{line}");
        report = Some(r);
        d += Duration::days(1);
    }
    if let Some(r) = report {
        print!("\nthe last night:\n{}", r.summary());
    }
    println!("\ntables built:");
    super::tables::run(app, super::tables::Args { partitions: false, as_of: vec![] }).await?;

    println!("\nwarehouse: {} (run reports under _state/runs/)", wh.url);
    if cfg.jobs.report.enabled {
        match wh.local_path(&format!("reports/dt={last}/index.html")) {
            Some(p) => println!("morning report: open file://{} in a browser", p.display()),
            None => println!("morning report: {}/reports/dt={last}/index.html", wh.url),
        }
    }
    let files = exported_files(&wh, last).await?;
    if !files.is_empty() {
        println!("exported files of {last}:");
        for f in files {
            println!("  {f}");
        }
    }
    println!("\nqueries to start with (ecomwh sql \"...\", or cargo run -q -- sql \"...\"):");
    println!("  who to win back:   SELECT segment, customers, round(revenue_share, 3) AS revenue_share FROM rfm_segment_summary WHERE dt = '{last}' ORDER BY customers DESC");
    println!("  bought together:   SELECT antecedent_names, consequent_names, round(lift, 1) AS lift FROM association_rules WHERE dt = '{last}' ORDER BY lift DESC LIMIT 5");
    println!("  what they complain about: SELECT product_id, reviews_window, round(negative_share_trend, 2) AS trend, top_negative_phrases FROM product_reviews WHERE dt = '{last}' AND reviews_window >= 5 ORDER BY negative_share_trend DESC LIMIT 5");
    println!("  did it work:       SELECT audience, exported_members, holdout_members, conversion_diff, conversion_diff_lo95, conversion_diff_hi95 FROM audience_uplift WHERE dt = '{last}'");
    Ok(())
}

/// Files the exports wrote for `date`: local paths, or URLs under the warehouse.
async fn exported_files(wh: &crate::storage::warehouse::Warehouse, date: NaiveDate) -> Result<Vec<String>> {
    let prefix = wh.path("exports");
    let metas: Vec<_> = wh.store.list(Some(&prefix)).try_collect().await.map_err(|e| Error::storage(prefix.to_string(), e))?;
    let marker = format!("/dt={date}/");
    let root = wh.root.as_ref().to_string();
    let mut files: Vec<String> = metas
        .iter()
        .map(|m| m.location.to_string())
        .filter(|p| p.contains(&marker))
        .map(|p| {
            let rel = if root.is_empty() { p.as_str() } else { p.strip_prefix(&format!("{root}/")).unwrap_or(&p) };
            match wh.local_path(rel) {
                Some(local) => local.display().to_string(),
                None => format!("{}/{rel}", wh.url.trim_end_matches('/')),
            }
        })
        .collect();
    files.sort();
    Ok(files)
}
