//! `ecomwh forecast --series FILE`: the sales_forecast models, backtests and intervals on any
//! series file in statsforecast's long format (for benchmarks and ad-hoc forecasting).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::ml::forecast::{BacktestOptions, Grain};
use crate::nightly::sales_forecast::{backtest_batch, forecast_all, forecast_batch, Series};

/// Forecast every series of a CSV file with the sales_forecast job's models
#[derive(Debug, clap::Args)]
pub struct Args {
    /// CSV with the header unique_id,ds,y (ds as YYYY-MM-DD); a missing period counts as 0
    #[arg(long)]
    pub series: PathBuf,
    /// day, week, month or quarter (ds is mapped to the start of its period)
    #[arg(long, default_value = "day")]
    pub grain: String,
    #[arg(long, default_value_t = 28)]
    pub horizon: usize,
    /// Backtest windows of `horizon` periods
    #[arg(long, default_value_t = 3)]
    pub folds: usize,
    /// Candidate models, comma-separated (seasonal_naive is always one: the fallback)
    #[arg(long, default_value = "seasonal_naive,croston,theta,regression,arima,ets")]
    pub models: String,
    /// How each series' candidate is chosen: robust (the mean of models with the lowest
    /// backtest MASE; on intermittent sales Croston when clearly and consistently better),
    /// lowest (the lowest backtest MASE), or a candidate's name (ets, ets+theta+arima ...:
    /// that one wherever it fits)
    #[arg(long, default_value = "robust")]
    pub choice: String,
    /// Under robust: the share by which Croston's backtest MASE must be lower than the mean's
    #[arg(long, default_value_t = 0.05)]
    pub choice_margin: f64,
    /// Let forecasts and interval bounds go below zero (for series that are not sales)
    #[arg(long)]
    pub allow_negative: bool,
    /// Write forecasts.csv and backtest.csv into this folder
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Read unique_id,ds,y rows into zero-filled series at `grain`.
pub fn read_series(path: &std::path::Path, grain: Grain) -> Result<Vec<Series>> {
    let bad = |m: String| Error::Usage(format!("{}: {m}", path.display()));
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let headers = rdr.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| bad(format!("no column {name} (want unique_id,ds,y)")));
    let (ci, cd, cy) = (col("unique_id")?, col("ds")?, col("y")?);
    let mut by_id: BTreeMap<String, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let row = line + 2;
        let ds = rec.get(cd).unwrap_or("");
        let day = NaiveDate::parse_from_str(ds.get(..10).unwrap_or(ds), "%Y-%m-%d").map_err(|_| bad(format!("line {row}: ds '{ds}' is not a date")))?;
        let y: f64 = rec.get(cy).unwrap_or("").trim().parse().map_err(|_| bad(format!("line {row}: y is not a number")))?;
        if !y.is_finite() {
            return Err(bad(format!("line {row}: y is not finite")));
        }
        *by_id.entry(rec.get(ci).unwrap_or("").to_string()).or_default().entry(grain.start(day)).or_insert(0.0) += y;
    }
    let mut out = vec![];
    for (key, points) in by_id {
        let (Some((&first, _)), Some((&last, _))) = (points.first_key_value(), points.last_key_value()) else { continue };
        let mut values = vec![0.0; grain.periods_between(first, last) as usize + 1];
        for (d, y) in points {
            values[grain.periods_between(first, d) as usize] = y;
        }
        out.push(Series { key, measure: "y", first, values });
    }
    Ok(out)
}

pub async fn run(_app: &super::app::App, a: Args) -> Result<()> {
    let grain = Grain::parse(&a.grain).ok_or_else(|| Error::Usage(format!("--grain {}: use day, week, month or quarter", a.grain)))?;
    if a.horizon == 0 || a.folds == 0 {
        return Err(Error::Usage("--horizon and --folds must be at least 1".into()));
    }
    let t0 = Instant::now();
    let series = read_series(&a.series, grain)?;
    let load = t0.elapsed().as_secs_f64();
    let selection = crate::ml::forecast::Selection::parse(&a.choice, a.choice_margin)
        .ok_or_else(|| Error::Usage(format!("--choice {}: use robust, lowest or a model or combination's name", a.choice)))?;
    let o = BacktestOptions { horizon: a.horizon, folds: a.folds, nonnegative: !a.allow_negative, selection };
    let models = crate::ml::forecast::models_named(&super::app::parse_list(&a.models)).map_err(|e| Error::Usage(format!("--models: {e}")))?;
    let t1 = Instant::now();
    let (series, results) = tokio::task::spawn_blocking(move || {
        let r = forecast_all(&series, &models, &o, &[], grain, None);
        (series, r)
    })
    .await
    .map_err(|e| Error::job("forecast", format!("forecasting stopped: {e}")))?;
    let fit = t1.elapsed().as_secs_f64();
    let mut chosen: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &results {
        *chosen.entry(r.model).or_default() += 1;
    }
    println!("series {} | load {load:.3}s forecast {fit:.3}s | chosen {chosen:?}", series.len());
    if let Some(dir) = a.out {
        std::fs::create_dir_all(&dir)?;
        let batches =
            [("forecasts.csv", forecast_batch(&series, &results, grain)?), ("backtest.csv", backtest_batch(&series, &results, grain, a.horizon, &[])?)];
        for (name, batch) in batches {
            let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(name))?);
            crate::output::render(&[batch], crate::output::Format::Csv, &mut f)?;
        }
    }
    Ok(())
}
