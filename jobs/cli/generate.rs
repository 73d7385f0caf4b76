//! `ecomwh generate`: realistic raw data under raw/, deterministic for a seed.

use chrono::NaiveDate;

use crate::error::Result;
use crate::generate::{generate, GenerateOptions};

/// Write realistic raw shop data under raw/ (deterministic for a seed)
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of customers
    #[arg(long)]
    pub customers: usize,
    /// Number of days
    #[arg(long)]
    pub days: u32,
    /// First day (YYYY-MM-DD)
    #[arg(long, value_parser = super::app::parse_date)]
    pub start: NaiveDate,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fraction of rows that get a damaged copy (malformed, bad timestamps, unknown ids ...)
    #[arg(long, default_value_t = 0.0)]
    pub dirty_rate: f64,
    /// Formats per table, e.g. orders=csv,events=parquet (default from config)
    #[arg(long)]
    pub formats: Option<String>,
    /// Write all history into the last day's partition, as a first load does
    #[arg(long)]
    pub first_load: bool,
    /// Write the first N days into day N's partition (a first load), later days one by one
    #[arg(long)]
    pub first_load_days: Option<u32>,
    /// Write the shop as these feeds write it (shopify_csv, shopify_json, woocommerce_json,
    /// segment, rudderstack, ga4, snowplow; comma-separated, one per raw table),
    /// under raw/<preset>/, with the [sources] to read them in _generator/sources.toml
    #[arg(long, value_parser = |s: &str| Ok::<_, String>(super::app::parse_list(s)))]
    pub preset: Option<std::vec::Vec<String>>,
    /// Data as real shops deliver it: visitors browse anonymously before they sign up (and are
    /// linked when they log in), some customer rows arrive a night or two after the
    /// customer's first order. (Orders in several currencies come with base_currency.)
    #[arg(long)]
    pub real_world: bool,
}

pub async fn run(app: &super::app::App, a: Args) -> Result<()> {
    let wh = app.warehouse()?;
    let mut opts = options(app, a.customers, a.days, a.start, a.seed, a.dirty_rate, a.formats.as_deref())?;
    opts.first_load = a.first_load;
    opts.first_load_days = a.first_load_days;
    opts.real_world = a.real_world;
    if let Some(presets) = &a.preset {
        let (s, toml) = crate::generate::presets::generate_in_presets(&wh, &app.cfg, &opts, presets).await?;
        println!(
            "generated {} customers, {} products, {} days ({} .. {}) into {} as {}; read them with:\n{toml}",
            s.customers,
            s.products,
            s.days,
            s.first_date,
            s.last_date,
            wh.url,
            presets.join(" + ")
        );
        return Ok(());
    }
    let s = generate(&wh, &opts).await?;
    println!("generated {} customers, {} products, {} days ({} .. {}) into {}", s.customers, s.products, s.days, s.first_date, s.last_date, wh.url);
    for (t, n) in &s.rows {
        println!("  raw/{t:<14} {n:>12} rows");
    }
    if s.damaged_rows > 0 {
        println!("  damaged rows: {} (listed in _generator/dirty_rows.csv)", s.damaged_rows);
    }
    Ok(())
}

pub(super) fn options(
    app: &super::app::App,
    customers: usize,
    days: u32,
    start: NaiveDate,
    seed: u64,
    dirty_rate: f64,
    formats: Option<&str>,
) -> Result<GenerateOptions> {
    let mut f = app.cfg.generate.formats.clone();
    if let Some(spec) = formats {
        for pair in super::app::parse_list(spec) {
            let (t, v) = pair.split_once('=').ok_or_else(|| super::app::usage(format!("--formats wants table=format pairs, got '{pair}'")))?;
            if !crate::schemas::RAW_TABLES.contains(&t) || !crate::config::RAW_FORMATS.contains(&v) {
                return Err(super::app::usage(format!(
                    "--formats: '{pair}' is not a raw table ({}) = a format ({})",
                    crate::schemas::RAW_TABLES.join(", "),
                    crate::config::RAW_FORMATS.join(", ")
                )));
            }
            f.insert(t.to_string(), v.to_string());
        }
    }
    Ok(GenerateOptions {
        customers,
        days,
        start,
        seed,
        dirty_rate,
        formats: f,
        rows_per_file: app.cfg.generate.rows_per_file,
        timezone: app.cfg.tz()?,
        first_load: false,
        first_load_days: None,
        damage_every_table: false,
        real_world: false,
        base_currency: app.cfg.base_currency()?,
    })
}
