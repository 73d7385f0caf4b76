//! The sales_forecast job: daily series from the daily aggregates (SQL,
//! `sql/marts/sales_forecast.sql`) -> complete periods of the configured grain, zero-filled ->
//! per series a rolling-origin backtest of every model, the one with the lowest MASE refitted
//! and forecast with intervals (`ml::forecast`, series in parallel). Publishes
//! `marts.sales_forecast`, `marts.forecast_backtest` and the daily history it used,
//! `marts.sales_series` (which the nights between two choices of the top products build on).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Schema, SchemaRef};
use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use datafusion::common::ScalarValue;
use rayon::prelude::*;

use crate::engine::{date32, date_param, params};
use crate::error::{Error, Result};
use crate::ml::forecast::{forecast_series, known_model, BacktestOptions, Bands, Calendar, Grain, Model, ModelScore, SeriesForecast, COMBINATIONS};
use crate::runtime::incremental::Incremental;
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};
use crate::sqlfiles;

pub struct SalesForecast;

pub const MEASURES: [&str; 2] = ["revenue", "units"];

/// One series to forecast: complete periods from `first`, zero-filled.
#[derive(Debug, Clone)]
pub struct Series {
    pub key: String,
    /// 'revenue' or 'units' (MEASURES); 'y' for series read from a file.
    pub measure: &'static str,
    pub first: NaiveDate,
    pub values: Vec<f64>,
}

/// A Date32 value as a date; None out of chrono's range (damaged data, not a panic).
fn to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
}

/// The periods the history covers: complete ones only, inside `history_days` and not before
/// the first day with data. None when there is no complete period yet.
pub fn history_periods(grain: Grain, run_date: NaiveDate, history_days: u32, data_start: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    let last = grain.last_complete(run_date);
    let from = (run_date - Duration::days(history_days as i64 - 1)).max(data_start);
    let mut first = grain.start(from);
    if first < from {
        first = grain.add(first, 1);
    }
    (first <= last).then_some((first, last))
}

/// Daily rows (series_key, day, revenue, units) -> one zero-filled series per key and measure,
/// each starting at its first period with sales (a product launched last month has no
/// history before it) and ending at `last`.
/// The same sales summed in another order (another layout, more partitions) differ in their
/// last bits, which a model's optimiser can turn into visibly different forecasts (ARIMA on a
/// flat likelihood: 0.6% on a generated shop's total). Sums are rounded to a millionth: revenue
/// is in cents and units are whole, so nothing real is lost.
fn settle(v: f64) -> f64 {
    if v.abs() < 1e9 {
        (v * 1e6).round() / 1e6
    } else {
        v
    }
}

pub fn build_series(batches: &[RecordBatch], grain: Grain, first: NaiveDate, last: NaiveDate) -> Result<Vec<Series>> {
    let mut sums: HashMap<String, BTreeMap<NaiveDate, [f64; 2]>> = HashMap::new();
    for b in batches {
        let keys = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
        let keys = keys.as_string::<i32>();
        let days = b.column(1).as_primitive::<Date32Type>();
        let rev = b.column(2).as_primitive::<Float64Type>();
        let units = b.column(3).as_primitive::<Float64Type>();
        for i in 0..b.num_rows() {
            if keys.is_null(i) || days.is_null(i) {
                continue;
            }
            let Some(day) = to_date(days.value(i)) else { continue };
            let p = grain.start(day);
            if p < first || p > last {
                continue;
            }
            let e = sums.entry(keys.value(i).to_string()).or_default().entry(p).or_insert([0.0; 2]);
            e[0] += if rev.is_null(i) { 0.0 } else { rev.value(i) };
            e[1] += if units.is_null(i) { 0.0 } else { units.value(i) };
        }
    }
    let mut out = vec![];
    let mut keys: Vec<&String> = sums.keys().collect();
    keys.sort();
    for key in keys {
        let periods = &sums[key];
        let start = if key == "total" { first } else { *periods.keys().next().unwrap_or(&first) };
        let n = grain.periods_between(start, last) as usize + 1;
        for (mi, measure) in MEASURES.iter().enumerate() {
            let mut values = vec![0.0; n];
            for (p, v) in periods {
                values[grain.periods_between(start, *p) as usize] = settle(v[mi]);
            }
            out.push(Series { key: key.clone(), measure, first: start, values });
        }
    }
    Ok(out)
}

fn f64_col(v: impl IntoIterator<Item = Option<f64>>) -> ArrayRef {
    Arc::new(v.into_iter().collect::<Float64Array>())
}

fn str_col<S: AsRef<str>>(v: impl IntoIterator<Item = Option<S>>) -> ArrayRef {
    Arc::new(v.into_iter().collect::<StringArray>())
}

pub fn forecast_schema() -> SchemaRef {
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Arc::new(Schema::new(vec![
        f("series_key", DataType::Utf8, false),
        f("measure", DataType::Utf8, false),
        f("grain", DataType::Utf8, false),
        f("period_start", DataType::Date32, false),
        f("yhat", DataType::Float64, false),
        // NULL when the series has too little history to learn its errors from.
        f("yhat_lo80", DataType::Float64, true),
        f("yhat_hi80", DataType::Float64, true),
        f("yhat_lo95", DataType::Float64, true),
        f("yhat_hi95", DataType::Float64, true),
        f("model", DataType::Utf8, false),
    ]))
}

pub fn backtest_schema() -> SchemaRef {
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Arc::new(Schema::new(vec![
        f("series_key", DataType::Utf8, false),
        f("measure", DataType::Utf8, false),
        f("model", DataType::Utf8, false),
        f("mase", DataType::Float64, true),
        f("smape", DataType::Float64, true),
        f("coverage80", DataType::Float64, true),
        f("coverage95", DataType::Float64, true),
        f("chosen", DataType::Boolean, false),
        f("grain", DataType::Utf8, false),
        f("spec", DataType::Utf8, true),
        f("folds", DataType::Int64, false),
        f("horizon", DataType::Int64, false),
        f("note", DataType::Utf8, true),
        // The chosen row: quantiles of its backtest errors in units of the series' scale, and
        // the share of tested periods without sales, which its intervals are built from.
        f("error_q10", DataType::Float64, true),
        f("error_q90", DataType::Float64, true),
        f("error_q025", DataType::Float64, true),
        f("error_q975", DataType::Float64, true),
        f("error_q80", DataType::Float64, true),
        f("error_q95", DataType::Float64, true),
        f("zero_share", DataType::Float64, true),
        // The chosen row: the variant its final fit on all history chose, which the nights until
        // the next backtest keep (ETS(M,N,A) season 7 ...).
        f("fitted_spec", DataType::Utf8, true),
        f("trained_on", DataType::Date32, true),
    ]))
}

pub fn forecast_batch(series: &[Series], results: &[SeriesForecast], grain: Grain) -> Result<RecordBatch> {
    let rows: Vec<(&Series, &SeriesForecast, usize)> = series.iter().zip(results).flat_map(|(s, r)| (0..r.yhat.len()).map(move |k| (s, r, k))).collect();
    let n_of = |s: &Series| s.values.len() as i64;
    let band = |i: usize| f64_col(rows.iter().map(|(_, r, k)| r.intervals[*k].map(|b| b[i])));
    let cols: Vec<ArrayRef> = vec![
        str_col(rows.iter().map(|(s, _, _)| Some(&s.key))),
        str_col(rows.iter().map(|(s, _, _)| Some(s.measure))),
        str_col(rows.iter().map(|_| Some(grain.name()))),
        Arc::new(rows.iter().map(|(s, _, k)| Some(date32(grain.add(s.first, n_of(s) + *k as i64)))).collect::<Date32Array>()),
        f64_col(rows.iter().map(|(_, r, k)| Some(r.yhat[*k]))),
        band(0),
        band(1),
        band(2),
        band(3),
        str_col(rows.iter().map(|(_, r, _)| Some(r.model))),
    ];
    Ok(RecordBatch::try_new(forecast_schema(), cols)?)
}

/// `trained_on`: per series, the night its backtest ran (None outside the warehouse).
pub fn backtest_batch(series: &[Series], results: &[SeriesForecast], grain: Grain, horizon: usize, trained_on: &[Option<NaiveDate>]) -> Result<RecordBatch> {
    // (series, its forecast, score index, night of its backtest)
    type Row<'a> = (&'a Series, &'a SeriesForecast, usize, Option<NaiveDate>);
    let rows: Vec<Row> = series
        .iter()
        .zip(results)
        .enumerate()
        .flat_map(|(k, (s, r))| (0..r.scores.len()).map(move |i| (s, r, i, trained_on.get(k).copied().flatten())))
        .collect();
    let sc = |(_, r, i, _): &Row| r.scores[*i].clone();
    let band = |(_, r, i, _): &Row| r.bands.filter(|_| r.scores[*i].chosen);
    let mut cols: Vec<ArrayRef> = vec![
        str_col(rows.iter().map(|r| Some(&r.0.key))),
        str_col(rows.iter().map(|r| Some(r.0.measure))),
        str_col(rows.iter().map(|r| Some(sc(r).model))),
        f64_col(rows.iter().map(|r| sc(r).mase)),
        f64_col(rows.iter().map(|r| sc(r).smape)),
        f64_col(rows.iter().map(|r| sc(r).coverage80)),
        f64_col(rows.iter().map(|r| sc(r).coverage95)),
        Arc::new(rows.iter().map(|r| Some(sc(r).chosen)).collect::<BooleanArray>()),
        str_col(rows.iter().map(|_| Some(grain.name()))),
        str_col(rows.iter().map(|r| Some(sc(r).spec).filter(|s| !s.is_empty()))),
        Arc::new(rows.iter().map(|r| Some(sc(r).folds as i64)).collect::<Int64Array>()),
        Arc::new(rows.iter().map(|_| Some(horizon as i64)).collect::<Int64Array>()),
        str_col(rows.iter().map(|r| {
            let s = sc(r);
            s.error.or_else(|| if s.chosen { r.1.note.clone() } else { None })
        })),
    ];
    for i in 0..6 {
        cols.push(f64_col(rows.iter().map(|r| band(r).map(|b| b.q[i]))));
    }
    cols.push(f64_col(rows.iter().map(|r| band(r).map(|b| b.zero_share))));
    cols.push(str_col(rows.iter().map(|(_, r, i, _)| Some(r.spec.as_str()).filter(|_| r.scores[*i].chosen))));
    cols.push(Arc::new(rows.iter().map(|r| r.3.map(date32)).collect::<Date32Array>()));
    Ok(RecordBatch::try_new(backtest_schema(), cols)?)
}

/// Forecast every series in parallel (rayon), reporting progress.
pub fn forecast_all(
    series: &[Series],
    models: &[Box<dyn Model>],
    o: &BacktestOptions,
    holidays: &[NaiveDate],
    grain: Grain,
    progress: Option<&indicatif::ProgressBar>,
) -> Vec<SeriesForecast> {
    let done = AtomicUsize::new(0);
    let total = series.len();
    series
        .par_iter()
        .map(|s| {
            let mut cal = Calendar::new(grain, s.first);
            cal.holidays = holidays.to_vec();
            let r = forecast_series(&s.values, &cal, models, o);
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(p) = progress {
                if d.is_multiple_of(10) || d == total {
                    p.set_message(format!("sales_forecast: {d}/{total} series"));
                }
            }
            r
        })
        .collect()
}

/// A series' model as chosen by an earlier backtest (`forecast_backtest`, partition `dt`).
struct Choice {
    model: &'static str,
    fitted_spec: Option<String>,
    bands: Option<Bands>,
    scores: Vec<ModelScore>,
    folds: usize,
    trained_on: NaiveDate,
}

/// The choices of partition `dt` younger than `every_days`, by (series_key, measure).
async fn stored_choices(rc: &RunContext<'_>, dt: NaiveDate, every_days: u32) -> Result<HashMap<(String, String), Choice>> {
    const COLUMNS: [&str; 20] = [
        "series_key",
        "measure",
        "model",
        "mase",
        "smape",
        "coverage80",
        "coverage95",
        "chosen",
        "spec",
        "folds",
        "note",
        "error_q10",
        "error_q90",
        "error_q025",
        "error_q975",
        "error_q80",
        "error_q95",
        "zero_share",
        "trained_on",
        "fitted_spec",
    ];
    // The newest partition defines the columns: one written before choices were kept lacks some.
    if let Some(c) = rc.engine.missing_column("marts", "forecast_backtest", &COLUMNS).await? {
        tracing::info!(column = c, "marts.forecast_backtest was written by an older version: backtesting every series");
        return Ok(HashMap::new());
    }
    let sql = format!("SELECT {} FROM marts.forecast_backtest WHERE dt = $dt", COLUMNS.join(", "));
    let batches = rc.engine.query(&sql, &params([("dt", date_param(dt))])).await?.collect().await?;
    let mut all: HashMap<(String, String), (Vec<ModelScore>, Option<Choice>)> = HashMap::new();
    for b in &batches {
        let text = |i: usize| arrow::compute::cast(b.column(i), &DataType::Utf8);
        let num = |i: usize| arrow::compute::cast(b.column(i), &DataType::Float64);
        let (key, measure, model, spec, note, fitted) = (text(0)?, text(1)?, text(2)?, text(8)?, text(10)?, text(19)?);
        let [key, measure, model, spec, note, fitted] = [&key, &measure, &model, &spec, &note, &fitted].map(|a| a.as_string::<i32>().clone());
        let nums: Vec<ArrayRef> = [3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 17].iter().map(|&i| num(i)).collect::<std::result::Result<_, _>>()?;
        let v = |k: usize, r: usize| {
            let a = nums[k].as_primitive::<Float64Type>();
            (!a.is_null(r)).then(|| a.value(r))
        };
        let chosen = arrow::compute::cast(b.column(7), &DataType::Boolean)?;
        let chosen = chosen.as_boolean();
        let folds = arrow::compute::cast(b.column(9), &DataType::Int64)?;
        let folds = folds.as_primitive::<arrow::datatypes::Int64Type>();
        let trained = arrow::compute::cast(b.column(18), &DataType::Date32)?;
        let trained = trained.as_primitive::<Date32Type>();
        for r in 0..b.num_rows() {
            let Some(name) = known_model(model.value(r)) else { continue };
            let is_chosen = !chosen.is_null(r) && chosen.value(r);
            let score = ModelScore {
                model: name,
                spec: if spec.is_null(r) { String::new() } else { spec.value(r).to_string() },
                mase: v(0, r),
                smape: v(1, r),
                coverage80: v(2, r),
                coverage95: v(3, r),
                folds: folds.value(r).max(0) as usize,
                chosen: is_chosen,
                error: (!is_chosen && !note.is_null(r)).then(|| note.value(r).to_string()),
            };
            let e = all.entry((key.value(r).to_string(), measure.value(r).to_string())).or_default();
            if let Some(trained_on) = (is_chosen && !trained.is_null(r)).then(|| trained.value_as_date(r)).flatten() {
                let q: Vec<Option<f64>> = (4..10).map(|k| v(k, r)).collect();
                let bands = match (q.iter().copied().collect::<Option<Vec<f64>>>(), v(10, r)) {
                    (Some(q), Some(zero_share)) => q.try_into().ok().map(|q| Bands { q, zero_share }),
                    _ => None,
                };
                let fitted_spec = (!fitted.is_null(r)).then(|| fitted.value(r).to_string());
                e.1 = Some(Choice { model: name, fitted_spec, bands, scores: vec![], folds: score.folds, trained_on });
            }
            e.0.push(score);
        }
    }
    let age = |c: &Choice| (rc.date - c.trained_on).num_days();
    Ok(all
        .into_iter()
        .filter_map(|(k, (mut scores, c))| {
            let mut c = c.filter(|c| c.folds > 0 && age(c) > 0 && age(c) < every_days as i64)?;
            // The order they were scored in: the candidates, then their combination.
            scores.sort_by_key(|s| (COMBINATIONS.iter().position(|c| *c == s.model), crate::ml::forecast::MODEL_NAMES.iter().position(|m| *m == s.model)));
            c.scores = scores;
            Some((k, c))
        })
        .collect())
}

/// Each series with its stored choice fit to tonight's history, or backtested when it has
/// none (new, too old, or the model no longer fits). Returns the forecasts and the night each
/// series' backtest ran.
fn forecast_or_reuse(
    rc_date: NaiveDate,
    series: &[Series],
    choices: &HashMap<(String, String), Choice>,
    models: &[Box<dyn Model>],
    o: &BacktestOptions,
    holidays: &[NaiveDate],
    grain: Grain,
    progress: Option<&indicatif::ProgressBar>,
) -> (Vec<SeriesForecast>, Vec<Option<NaiveDate>>) {
    let reused: Vec<Option<SeriesForecast>> = series
        .par_iter()
        .map(|s| {
            let c = choices.get(&(s.key.clone(), s.measure.to_string()))?;
            let mut cal = Calendar::new(grain, s.first);
            cal.holidays = holidays.to_vec();
            let (yhat, spec, intervals) = crate::ml::forecast::forecast_chosen(&s.values, &cal, models, o, c.model, c.fitted_spec.as_deref(), c.bands)?;
            Some(SeriesForecast { model: c.model, spec, yhat, intervals, scores: c.scores.clone(), folds: c.folds, note: None, bands: c.bands })
        })
        .collect();
    let missing: Vec<usize> = (0..series.len()).filter(|&i| reused[i].is_none()).collect();
    let to_fit: Vec<Series> = missing.iter().map(|&i| series[i].clone()).collect();
    let mut trained: Vec<Option<NaiveDate>> = series.iter().map(|s| choices.get(&(s.key.clone(), s.measure.to_string())).map(|c| c.trained_on)).collect();
    let mut results = reused;
    // forecast_all returns one forecast per series, in order.
    for (i, f) in missing.into_iter().zip(forecast_all(&to_fit, models, o, holidays, grain, progress)) {
        (results[i], trained[i]) = (Some(f), Some(rc_date));
    }
    let results = results.into_iter().flatten().collect();
    (results, trained)
}

/// Last night's `marts.sales_series`, when tonight may build on it: same settings, and its
/// top products chosen fewer than `every` nights ago.
#[derive(Debug, Clone, Copy)]
struct CachedSeries {
    prev: NaiveDate,
    products_from: NaiveDate,
    /// The first day with sales in product_day when the top products were chosen.
    data_from: NaiveDate,
}

async fn cached_series(rc: &RunContext<'_>, inc: &mut Incremental, every: u32) -> Result<Option<CachedSeries>> {
    let cached = cached_series_of(rc, inc.prev(), every).await?;
    if cached.is_none() {
        inc.recompute_all("the top products are chosen again tonight");
    }
    Ok(cached)
}

async fn cached_series_of(rc: &RunContext<'_>, prev: Option<NaiveDate>, every: u32) -> Result<Option<CachedSeries>> {
    if every <= 1 {
        return Ok(None);
    }
    let Some(prev) = prev else { return Ok(None) };
    // The newest partition defines the table's columns: one written by an older version (a
    // backfill after an upgrade) may lack these.
    if let Some(c) = rc.engine.missing_column("marts", "sales_series", &["products_from", "data_from"]).await? {
        tracing::info!(column = c, "the newest marts.sales_series partition was written by an older version: series from all of product_day");
        return Ok(None);
    }
    let p = params([("dt", date_param(prev))]);
    let sql = "SELECT min(products_from), max(products_from), min(data_from), max(data_from) FROM marts.sales_series WHERE dt = $dt";
    let batches = rc.engine.query(sql, &p).await?.collect().await?;
    let Some(b) = batches.iter().find(|b| b.num_rows() > 0) else { return Ok(None) };
    let get = |i: usize| b.column(i).as_primitive_opt::<Date32Type>().filter(|a| !a.is_null(0)).and_then(|a| to_date(a.value(0)));
    let (Some(from), Some(to), Some(data_from), Some(data_to)) = (get(0), get(1), get(2), get(3)) else { return Ok(None) };
    let age = (rc.date - from).num_days();
    if from != to || data_from != data_to || age < 0 || age >= every as i64 {
        tracing::info!(products_from = %from, age, "the top products are chosen again tonight: series from all of product_day");
        return Ok(None);
    }
    Ok(Some(CachedSeries { prev, products_from: from, data_from }))
}

async fn first_data_day(rc: &RunContext<'_>) -> Result<Option<NaiveDate>> {
    let p = params([("run_date", date_param(rc.date))]);
    let sql = "SELECT min(day) FROM marts.product_day WHERE dt <= $run_date";
    let batches = rc.engine.query(sql, &p).await?.collect().await?;
    let day = batches.first().filter(|b| b.num_rows() > 0).and_then(|b| {
        let a = b.column(0).as_primitive_opt::<Date32Type>()?;
        (!a.is_null(0)).then(|| to_date(a.value(0))).flatten()
    });
    Ok(day)
}

#[async_trait]
impl Job for SalesForecast {
    fn name(&self) -> &'static str {
        "sales_forecast"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["daily_aggregates"]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.sales_forecast)
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        let cfg = &rc.cfg.jobs.sales_forecast;
        let grain = cfg.grain;
        let sel = cfg.selection()?;
        rc.require("sales_forecast", &[("marts", "product_day")], "run daily_aggregates first")?;
        rc.progress("sales_forecast: series");
        let t0 = std::time::Instant::now();
        // Between two choices of the top products the daily history is last night's with the
        // days changed since recomputed: reading all of product_day grew with every night.
        let mut series_inc = rc.incremental("marts", "sales_series", &["sales_forecast", "_sales_series"], &[cfg.choice_settings()]).await?;
        let cached = cached_series(rc, &mut series_inc, cfg.backtest_every_days).await?;
        let start = match cached {
            Some(c) => Some(c.data_from),
            None => first_data_day(rc).await?,
        };
        let periods = start.and_then(|s| history_periods(grain, rc.date, cfg.history_days, s));
        let mut series_rows = 0;
        let (series, first, last) = match periods {
            Some((first, last)) => {
                let mut p = params([
                    ("run_date", date_param(rc.date)),
                    ("first_day", date_param(first)),
                    ("last_day", date_param(grain.end(last))),
                    ("top_from", date_param(rc.date - Duration::days(cfg.top_products_days as i64 - 1))),
                    ("top_n", ScalarValue::Int64(Some(sel.top_products as i64))),
                    ("with_total", ScalarValue::Boolean(Some(sel.total))),
                    ("with_category", ScalarValue::Boolean(Some(sel.category))),
                ]);
                let sql = match cached {
                    Some(c) => {
                        p.insert("prev_dt".into(), date_param(c.prev));
                        p.insert("products_from".into(), date_param(c.products_from));
                        p.insert("data_from".into(), date_param(c.data_from));
                        sqlfiles::sql("marts", "_sales_series")?
                    }
                    None => {
                        p.insert("data_from".into(), date_param(start.unwrap_or(first)));
                        sqlfiles::sql("marts", "sales_forecast")?
                    }
                };
                // One row per series and day: small (series x days), so collected.
                let df = rc.engine.query(&sql, &p).await?;
                let schema = df.schema().inner().clone();
                let batches = df.collect().await?;
                series_rows = series_inc.publish_batches(rc, schema, &batches).await?;
                (build_series(&batches, grain, first, last)?, Some(first), Some(last))
            }
            None => (vec![], None, None),
        };
        tracing::info!(series = series.len(), ?first, ?last, grain = grain.name(), carried_from = ?cached.map(|c| c.prev),
            seconds = t0.elapsed().as_secs_f64(), "series built");
        if series.is_empty() {
            tracing::warn!("no complete {} with sales before {}: the forecast tables are empty", grain.name(), rc.dt());
        }
        let t1 = std::time::Instant::now();
        let o = BacktestOptions { horizon: cfg.horizon, folds: cfg.backtest_folds, nonnegative: true, selection: cfg.choice_rule()? };
        let (holidays, pb) = (cfg.holidays.clone(), rc.progress.clone());
        let models = crate::ml::forecast::models_named(&cfg.models).map_err(|e| Error::Config(format!("[jobs.sales_forecast] {e}")))?;
        let fp = crate::runtime::incremental::fingerprint(&["sales_forecast"], &[cfg.choice_settings()])?;
        let choices = match rc.reusable_model("forecast_backtest", cfg.backtest_every_days, &fp).await? {
            Some((prev, _)) => stored_choices(rc, prev, cfg.backtest_every_days).await?,
            None => HashMap::new(),
        };
        let date = rc.date;
        // The series move to the blocking thread and come back with their forecasts.
        let (series, (results, trained_on)) = tokio::task::spawn_blocking(move || {
            let r = forecast_or_reuse(date, &series, &choices, &models, &o, &holidays, grain, Some(&pb));
            (series, r)
        })
        .await
        .map_err(|e| Error::job("sales_forecast", format!("forecasting stopped: {e}")))?;
        let chosen: BTreeMap<&str, usize> = results.iter().fold(BTreeMap::new(), |mut m, r| {
            *m.entry(r.model).or_default() += 1;
            m
        });
        tracing::info!(series = series.len(), ?chosen, seconds = t1.elapsed().as_secs_f64(), "forecast");
        let fb = forecast_batch(&series, &results, grain)?;
        let bb = backtest_batch(&series, &results, grain, cfg.horizon, &trained_on)?;
        let backtested: u64 = results.iter().zip(&trained_on).filter(|(_, t)| **t == Some(rc.date)).map(|(r, _)| r.scores.len() as u64).sum();
        tracing::info!(series = series.len(), backtested_rows = backtested, "backtested tonight; the other series kept their stored choice");
        let nf = rc.publish_batches("marts", "sales_forecast", fb.schema(), &[fb]).await?;
        let nb = rc.publish_batches_built_with("marts", "forecast_backtest", bb.schema(), &[bb], Some(fp)).await?;
        let n = series.len() as u64;
        let stats = |t: &str, out: u64| TableStats { table: t.into(), rows_in: n, rows_out: out, ..Default::default() };
        Ok(vec![stats("sales_forecast", nf), TableStats { recomputed: Some(backtested), ..stats("forecast_backtest", nb) }, stats("sales_series", series_rows)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn history_uses_complete_periods_only() {
        // Run on Sunday 2026-11-22: the week of Mon 16th is complete.
        assert_eq!(history_periods(Grain::Week, d("2026-11-22"), 1095, d("2026-10-01")), Some((d("2026-10-05"), d("2026-11-16"))));
        // Run on Saturday: that week is not complete yet.
        assert_eq!(history_periods(Grain::Week, d("2026-11-21"), 1095, d("2026-10-01")).unwrap().1, d("2026-11-09"));
        assert_eq!(history_periods(Grain::Month, d("2026-11-22"), 1095, d("2026-10-02")), None);
        assert_eq!(history_periods(Grain::Day, d("2026-11-22"), 30, d("2020-01-01")), Some((d("2026-10-24"), d("2026-11-22"))));
    }

    #[test]
    fn series_are_zero_filled_from_their_first_sale() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("series_key", DataType::Utf8, false),
            Field::new("day", DataType::Date32, false),
            Field::new("revenue", DataType::Float64, true),
            Field::new("units", DataType::Float64, true),
        ]));
        let rows = [("total", "2026-11-02", 10.0, 1.0), ("total", "2026-11-05", 5.0, 2.0), ("product=p1", "2026-11-04", 3.0, 1.0)];
        let b = RecordBatch::try_new(
            schema,
            vec![
                str_col(rows.iter().map(|r| Some(r.0))),
                Arc::new(rows.iter().map(|r| Some(date32(d(r.1)))).collect::<Date32Array>()),
                f64_col(rows.iter().map(|r| Some(r.2))),
                f64_col(rows.iter().map(|r| Some(r.3))),
            ],
        )
        .unwrap();
        let s = build_series(&[b], Grain::Day, d("2026-11-01"), d("2026-11-06")).unwrap();
        let get = |k: &str, m: &str| s.iter().find(|x| x.key == k && x.measure == m).unwrap().clone();
        assert_eq!(get("total", "revenue").values, vec![0.0, 10.0, 0.0, 0.0, 5.0, 0.0]);
        assert_eq!(get("total", "units").values, vec![0.0, 1.0, 0.0, 0.0, 2.0, 0.0]);
        let p = get("product=p1", "revenue");
        assert_eq!((p.first, p.values), (d("2026-11-04"), vec![3.0, 0.0, 0.0]));
    }
}
