//! End-to-end: customer lifetime value (and the other customer models) on a generated shop.

mod common;

use common::*;

const LAST: &str = "2026-11-20";

/// A generated shop with 400 days of history loaded at once, and the jobs the models read.
fn shop(jobs: &str) -> LocalWh {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "4000", "--days", "400", "--start", "2025-10-17", "--first-load"]);
    ok(&wh.url, &["run", "--date", LAST, "--jobs", jobs]);
    wh
}

/// BG/NBD and Gamma-Gamma parameters, expected purchases and values within 1% of lifetimes'.
#[test]
fn clv_matches_lifetimes() {
    let wh = shop("staging,daily_aggregates,rfm_segments,clv");
    let out = std::process::Command::new(python())
        .arg(script("clv_compare.py"))
        .args([wh.dir.path().to_str().unwrap(), LAST])
        .output()
        .expect("python runs");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "ecomwh and lifetimes differ:\n{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["repeat_customers"].as_u64().unwrap() > 300, "{v}");
    // Every customer has a value; probabilities are probabilities.
    let bad = count(&wh.url, &format!(
        "SELECT count(*) FROM marts.clv WHERE dt = '{LAST}' AND NOT (probability_alive BETWEEN 0 AND 1 \
         AND expected_purchases_365 >= 0 AND expected_avg_value > 0 AND expected_value_365 >= 0)"));
    assert_eq!(bad, 0);
    let n = count(&wh.url, &format!("SELECT count(*) FROM marts.clv WHERE dt = '{LAST}'"));
    assert_eq!(n, count(&wh.url, &format!("SELECT count(*) FROM marts.rfm_segments WHERE dt = '{LAST}'")));
}

/// Churn: trained at D-180, judged at D-90 (AUC above 0.7 on the generated shop), every
/// customer scored at D, the calibration table written.
#[test]
fn churn_model_separates_churners_on_a_time_split() {
    let wh = shop("staging,daily_aggregates,churn_scores");
    let m: std::collections::BTreeMap<String, f64> =
        sql(&wh.url, &format!("SELECT metric, value FROM marts.model_metrics WHERE dt = '{LAST}' AND model = 'churn_logistic'"))
            .into_iter()
            .map(|r| (r["metric"].clone(), r["value"].parse().unwrap_or(f64::NAN)))
            .collect();
    eprintln!("{m:?}");
    assert!(m["auc"] > 0.7, "AUC {}", m["auc"]);
    assert!(m["log_loss"] < (2f64).ln(), "log loss {}", m["log_loss"]);
    assert!(m["train_customers"] > 1000.0 && m["eval_customers"] > m["train_customers"]);
    let binned: f64 = m.iter().filter(|(k, _)| k.ends_with("_customers") && k.starts_with("calibration")).map(|(_, v)| v).sum();
    assert_eq!(binned, m["eval_customers"]);
    let scored = count(&wh.url, &format!("SELECT count(*) FROM marts.churn_scores WHERE dt = '{LAST}' AND churn_probability BETWEEN 0 AND 1"));
    let known = count(&wh.url, "SELECT count(DISTINCT customer_id) FROM staging.customers");
    assert_eq!(scored, known);
}
