//! End-to-end: sales forecasts and their backtests on a generated shop.

mod common;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use common::*;

const LAST: &str = "2026-11-22";

/// A generated shop with 400 days of history up to `last`, loaded at once and aggregated.
fn shop(last: &str, config: &[&str]) -> LocalWh {
    let wh = local_wh();
    let start = NaiveDate::parse_from_str(last, "%Y-%m-%d").unwrap() - chrono::Duration::days(399);
    ok(&wh.url, &["generate", "--customers", "3000", "--days", "400", "--start", &start.to_string(), "--first-load"]);
    let mut args: Vec<&str> = config.to_vec();
    args.extend(["run", "--date", last, "--jobs", "staging,daily_aggregates,sales_forecast"]);
    ok(&wh.url, &args);
    wh
}

fn f(r: &BTreeMap<String, String>, c: &str) -> f64 {
    r[c].parse().unwrap_or_else(|_| panic!("{c} = '{}' in {r:?}", r[c]))
}

#[test]
fn daily_forecasts_backtests_and_their_coverage() {
    let wh = shop(LAST, &[]);
    // Series: total, every category, top 50 products; two measures each.
    let series = count(&wh.url, "SELECT count(DISTINCT series_key || measure) FROM marts.forecast_backtest");
    let categories = count(&wh.url, "SELECT count(DISTINCT category) FROM marts.product_day");
    assert_eq!(series, 2 * (1 + categories + 50));
    // 28 days after the run date for every series.
    let rows = sql(
        &wh.url,
        "SELECT series_key, measure, count(*) AS n, min(period_start) AS first, max(period_start) AS last, \
        count(DISTINCT model) AS models FROM marts.sales_forecast GROUP BY series_key, measure",
    );
    assert_eq!(rows.len() as u64, series);
    for r in &rows {
        assert_eq!((r["n"].as_str(), r["first"].as_str(), r["last"].as_str(), r["models"].as_str()), ("28", "2026-11-23", "2026-12-20", "1"), "{r:?}");
    }
    // Intervals nest around the forecast and never go below zero.
    let bad = count(
        &wh.url,
        "SELECT count(*) FROM marts.sales_forecast WHERE NOT (0 <= yhat_lo95 AND yhat_lo95 <= yhat_lo80 \
        AND yhat_lo80 <= yhat AND yhat <= yhat_hi80 AND yhat_hi80 <= yhat_hi95) OR yhat_lo95 IS NULL",
    );
    assert_eq!(bad, 0);
    // Per series one chosen candidate, which sales_forecast uses: the mean of models with the
    // lowest MASE among those that may be chosen (on intermittent series not the regression,
    // ARIMA or their means: the note says so), unless Croston, in no mean, is more than 5%
    // below it; seasonal naive does not challenge.
    let chosen = sql(
        &wh.url,
        "SELECT b.series_key, b.measure, b.model, b.mase, \
        (SELECT min(x.mase) FROM marts.forecast_backtest x WHERE x.series_key = b.series_key AND x.measure = b.measure \
           AND x.note IS NULL AND x.model LIKE '%+%') AS base, \
        (SELECT max(s.model) FROM marts.sales_forecast s WHERE s.series_key = b.series_key AND s.measure = b.measure) AS used \
        FROM marts.forecast_backtest b WHERE b.chosen",
    );
    assert_eq!(chosen.len() as u64, series);
    let mut challenged = 0;
    for r in &chosen {
        assert_eq!(r["model"], r["used"], "{r:?}");
        if r["mase"].is_empty() || r["base"].is_empty() {
            continue;
        }
        if r["model"].contains('+') {
            assert_eq!(f(r, "mase"), f(r, "base"), "{r:?}");
        } else {
            assert_eq!(r["model"], "croston", "{r:?}");
            assert!(f(r, "mase") < 0.95 * f(r, "base"), "{r:?}");
            challenged += 1;
        }
    }
    eprintln!("Croston replaced the best mean on {challenged} of {} series", chosen.len());
    let excluded = count(
        &wh.url,
        "SELECT count(*) FROM marts.forecast_backtest WHERE note LIKE 'not chosen on intermittent sales%' \
        AND model IN ('seasonal_naive', 'regression', 'ets+regression') AND mase IS NOT NULL",
    );
    assert!(excluded > 0, "the slow products of this shop are intermittent");
    // Three folds of 28 days for every series of this 400-day shop.
    assert_eq!(count(&wh.url, "SELECT count(*) FROM marts.forecast_backtest WHERE folds <> 3"), 0);
    // Coverage of the backtest intervals (from the other folds' errors) within 10 points of nominal.
    let cov = &sql(&wh.url, "SELECT avg(coverage80) AS c80, avg(coverage95) AS c95, avg(mase) AS mase FROM marts.forecast_backtest WHERE chosen")[0];
    eprintln!("chosen models: coverage80 {} coverage95 {} mean MASE {}", cov["c80"], cov["c95"], cov["mase"]);
    assert!((f(cov, "c80") - 0.80).abs() <= 0.10, "{cov:?}");
    assert!((f(cov, "c95") - 0.95).abs() <= 0.10, "{cov:?}");
    // The total's models all beat "same day last week" on this seasonal, growing shop.
    let total = sql(&wh.url, "SELECT model, mase FROM marts.forecast_backtest WHERE series_key = 'total' AND measure = 'revenue' AND chosen");
    assert!(f(&total[0], "mase") < 1.2, "{total:?}");
}

#[test]
fn weekly_grain_forecasts_the_weeks_after_the_last_complete_one() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("weekly.toml");
    std::fs::write(&cfg, "[jobs.sales_forecast]\ngrain = \"week\"\nhorizon = 6\nseries = [\"total\", \"top_products:3\"]\n").unwrap();
    let cfg = cfg.display().to_string();
    // Saturday 2026-11-21: the week of Mon 16th is not complete, so it is forecast, not history.
    let wh = shop("2026-11-21", &["--config", &cfg]);
    let rows = sql(&wh.url, "SELECT DISTINCT period_start FROM marts.sales_forecast WHERE dt = '2026-11-21' ORDER BY period_start");
    let weeks: Vec<&str> = rows.iter().map(|r| r["period_start"].as_str()).collect();
    assert_eq!(weeks, ["2026-11-16", "2026-11-23", "2026-11-30", "2026-12-07", "2026-12-14", "2026-12-21"]);
    for w in &weeks {
        assert_eq!(NaiveDate::parse_from_str(w, "%Y-%m-%d").unwrap().weekday(), chrono::Weekday::Mon);
    }
    assert_eq!(count(&wh.url, "SELECT count(DISTINCT series_key) FROM marts.forecast_backtest WHERE dt = '2026-11-21'"), 4);
    assert_eq!(count(&wh.url, "SELECT count(*) FROM marts.forecast_backtest WHERE dt = '2026-11-21' AND grain <> 'week'"), 0);
    // A rerun of the date replaces its partition.
    ok(&wh.url, &["--config", &cfg, "run", "--date", "2026-11-21", "--jobs", "sales_forecast"]);
    assert_eq!(count(&wh.url, "SELECT count(*) FROM marts.sales_forecast WHERE dt = '2026-11-21'"), 4 * 2 * 6);
}

#[test]
fn a_bad_series_setting_is_refused_with_exit_2() {
    let wh = local_wh();
    let cfg = wh.path("bad.toml");
    std::fs::write(&cfg, "[jobs.sales_forecast]\nseries = [\"total\", \"top_products:many\"]\n").unwrap();
    let out = run(&wh.url, &["--config", &cfg.display().to_string(), "run", "--date", LAST, "--jobs", "sales_forecast"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("top_products:many") && err.contains("top_products:N"), "{err}");
}

#[test]
fn the_model_choice_is_kept_between_backtests() {
    let wh = local_wh();
    let url = wh.url.as_str();
    let cfg = wh.path("cadence.toml");
    let every = |n: u32| {
        std::fs::write(&cfg, format!("[jobs.sales_forecast]\nseries = [\"total\", \"category\", \"top_products:5\"]\nbacktest_every_days = {n}\n")).unwrap()
    };
    every(3);
    let c = cfg.to_str().unwrap();
    ok(url, &["generate", "--customers", "2000", "--days", "200", "--start", "2025-01-01", "--first-load-days", "196"]);
    let nights = ["2025-07-15", "2025-07-16", "2025-07-17", "2025-07-18"];
    ok(url, &["--config", c, "backfill", "--from", nights[0], "--to", nights[3], "--jobs", "staging,daily_aggregates,sales_forecast"]);
    let backtested = |dt: &str| -> (u64, u64) {
        let t = wh.table_report(dt, "forecast_backtest");
        (t["recomputed"].as_u64().unwrap(), t["rows_out"].as_u64().unwrap())
    };
    let scores = |dt: &str, trained: &str| {
        sql(
            url,
            &format!(
                "SELECT series_key, measure, model, mase, smape, coverage80, coverage95, chosen, spec, folds, note, error_q10, error_q90, \
                 error_q025, error_q975, error_q80, error_q95, zero_share, fitted_spec FROM marts.forecast_backtest \
                 WHERE dt = '{dt}' AND trained_on = '{trained}' ORDER BY 1, 2, 3"
            ),
        )
    };
    for (i, dt) in nights.iter().enumerate() {
        let trained_on = nights[i - i % 3];
        let (fresh, rows) = backtested(dt);
        eprintln!("{dt}: backtested {fresh} of {rows} rows");
        // The total and the categories are always forecast; only top products can be new.
        let q = format!(
            "SELECT count(*) FROM marts.forecast_backtest WHERE dt = '{dt}' AND (series_key = 'total' OR series_key LIKE 'category=%') \
             AND trained_on <> '{trained_on}'"
        );
        assert_eq!(count(url, &q), 0, "{dt}");
        // The daily history is last night's with the changed days read again (the top products
        // are chosen with the models): it equals all of product_day's current rows.
        let q = format!("SELECT count(*) FROM marts.sales_series WHERE dt = '{dt}' AND products_from <> '{trained_on}'");
        assert_eq!(count(url, &q), 0, "{dt}");
        // (the history starts where it did: the first day with sales, kept by the nights between)
        let q = format!("SELECT count(*) FROM marts.sales_series WHERE dt = '{dt}' AND data_from <> (SELECT min(day) FROM marts.product_day)");
        assert_eq!(count(url, &q), 0, "{dt}");
        assert_eq!(count(url, &format!("SELECT count(*) FROM marts.sales_series WHERE dt = '{dt}' AND series_key = 'total' AND day = '{dt}'")), 1);
        let q = format!("SELECT count(DISTINCT series_key) FROM marts.sales_series WHERE dt = '{dt}' AND series_key LIKE 'product=%'");
        assert_eq!(count(url, &q), 5, "{dt}");
        if i % 3 != 0 {
            // (tonight's product_day restates earlier days, which replace last night's rows)
            let q = format!("SELECT count(DISTINCT day) FROM marts.product_day WHERE dt = '{dt}' AND day < DATE '{dt}' - INTERVAL '1' DAY");
            assert!(count(url, &q) > 0, "{dt}: no day restated");
        }
        let q = format!(
            "WITH cur AS (SELECT day, max(dt) AS cdt FROM marts.product_day WHERE dt <= '{dt}' GROUP BY day), \
             d AS (SELECT p.product_id, coalesce(p.category, 'unknown') AS category, p.day, CAST(p.revenue AS DOUBLE) AS r, \
                   CAST(p.units AS DOUBLE) AS u FROM cur JOIN marts.product_day p ON p.day = cur.day AND p.dt = cur.cdt), \
             o AS (SELECT 'total' AS k, day, sum(r) AS r, sum(u) AS u FROM d GROUP BY day \
                   UNION ALL SELECT 'category=' || category, day, sum(r), sum(u) FROM d GROUP BY category, day \
                   UNION ALL SELECT 'product=' || product_id, day, sum(r), sum(u) FROM d GROUP BY product_id, day), \
             a AS (SELECT o.* FROM o WHERE o.k IN (SELECT series_key FROM marts.sales_series WHERE dt = '{dt}')), \
             b AS (SELECT series_key AS k, day, revenue AS r, units AS u FROM marts.sales_series WHERE dt = '{dt}') \
             SELECT count(*) FROM a FULL JOIN b ON a.k = b.k AND a.day = b.day \
             WHERE a.k IS NULL OR b.k IS NULL OR abs(a.r - b.r) > 1e-6 OR abs(a.u - b.u) > 1e-6"
        );
        assert_eq!(count(url, &q), 0, "{dt}: sales_series differs from product_day's current rows");
        if i % 3 == 0 {
            // Every choice 3 days old is made again (one made since, for a new series, is kept).
            assert!(fresh * 2 > rows, "{dt}: {fresh} of {rows}");
            let old = format!("SELECT count(*) FROM marts.forecast_backtest WHERE dt = '{dt}' AND trained_on <= DATE '{dt}' - INTERVAL '3' DAY");
            assert_eq!(count(url, &old), 0, "{dt}");
        } else {
            assert!(fresh < rows / 2, "{dt}: {fresh} of {rows}");
            // The kept choices' backtest is the training night's, error quantiles included.
            let kept = scores(dt, trained_on);
            assert!(kept.len() as u64 >= rows - fresh && !kept.is_empty());
            let then = scores(trained_on, trained_on);
            let missing = kept.iter().filter(|r| !then.contains(r)).count();
            assert_eq!(missing, 0, "{dt}: {missing} of {} kept rows differ from {trained_on}'s", kept.len());
        }
        // Every series is forecast with its chosen model; the chosen row has its quantiles.
        let q = format!(
            "SELECT count(*) FROM marts.forecast_backtest b JOIN (SELECT DISTINCT series_key, measure, model FROM marts.sales_forecast \
             WHERE dt = '{dt}') f ON f.series_key = b.series_key AND f.measure = b.measure \
             WHERE b.dt = '{dt}' AND b.chosen AND b.model = f.model AND b.error_q95 IS NOT NULL AND b.zero_share IS NOT NULL"
        );
        assert_eq!(count(url, &q), count(url, &format!("SELECT count(DISTINCT series_key || measure) FROM marts.sales_forecast WHERE dt = '{dt}'")));
    }
    // The forecast moves on with the newest day even with the same model.
    let yhat = |dt: &str| {
        sql(
            url,
            &format!(
                "SELECT f.series_key, f.measure, f.model, b.fitted_spec, f.period_start, f.yhat, f.yhat_lo80 FROM marts.sales_forecast f \
                 JOIN marts.forecast_backtest b ON b.dt = f.dt AND b.series_key = f.series_key AND b.measure = f.measure AND b.chosen \
                 WHERE f.dt = '{dt}' ORDER BY 1, 2, 5"
            ),
        )
    };
    let kept = yhat(nights[1]);
    // (the same periods of the total, forecast on both nights)
    let total = |rows: &[BTreeMap<String, String>]| -> BTreeMap<(String, String), String> {
        rows.iter().filter(|r| r["series_key"] == "total").map(|r| ((r["measure"].clone(), r["period_start"].clone()), r["yhat"].clone())).collect()
    };
    let (before, after) = (total(&yhat(nights[0])), total(&kept));
    let common: Vec<_> = after.keys().filter(|k| before.contains_key(*k)).collect();
    assert!(common.len() >= 2 * 27, "{}", common.len());
    assert!(common.iter().any(|k| before[*k] != after[*k]), "the total was not refitted");
    // Backtesting that night again: where it chooses the same model and variant, the same
    // forecast (the intervals come from the new backtest's errors).
    every(1);
    ok(url, &["--config", c, "run", "--date", nights[1], "--jobs", "sales_forecast"]);
    let (fresh, rows) = backtested(nights[1]);
    assert_eq!(fresh, rows);
    let again = yhat(nights[1]);
    assert_eq!(kept.len(), again.len());
    let same: Vec<_> = kept.iter().zip(&again).filter(|(a, b)| a["fitted_spec"] == b["fitted_spec"]).collect();
    assert!(same.len() * 2 > kept.len(), "{} of {} rows kept their model", same.len(), kept.len());
    for (a, b) in same {
        assert_eq!((&a["series_key"], &a["period_start"], &a["yhat"]), (&b["series_key"], &b["period_start"], &b["yhat"]));
    }
    assert_ne!(kept, again, "intervals from another backtest");

    // After an upgrade the newest partition lacks the kept choice's columns (rewritten here
    // without fitted_spec): the night backtests every series instead of failing.
    // (and the newest sales_series partition lacks data_from: the series are read from all of
    // product_day, as on a night that chooses the top products)
    every(3);
    for (table, column) in [("forecast_backtest", "fitted_spec"), ("sales_series", "data_from")] {
        for f in std::fs::read_dir(wh.path(&format!("marts/{table}/dt={}", nights[3]))).unwrap() {
            let script = format!(
                "import duckdb, os, sys; f = sys.argv[1]; duckdb.sql(f\"COPY (SELECT * EXCLUDE ({column}) FROM \
                 read_parquet('{{f}}', hive_partitioning = false)) TO '{{f}}.old' (FORMAT parquet)\"); os.replace(f + '.old', f)"
            );
            let out = std::process::Command::new(python()).args(["-c", &script]).arg(f.unwrap().path()).output().expect("python runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    ok(url, &["--config", c, "run", "--date", nights[2], "--jobs", "sales_forecast"]);
    let (fresh, rows) = backtested(nights[2]);
    assert_eq!(fresh, rows, "backtested after the upgrade");
    let q = format!("SELECT count(*) FROM marts.sales_series WHERE dt = '{}' AND products_from <> dt", nights[2]);
    assert_eq!(count(url, &q), 0);
}
