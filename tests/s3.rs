//! End-to-end on S3: a real S3 server (moto) on 127.0.0.1, raw inputs read from S3, tables
//! written to S3, commits by conditional puts, and DuckDB reading the tables back.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::s3::*;
use common::*;

#[test]
fn pipeline_on_s3_with_atomic_commits_and_duckdb_readback() {
    let moto = start_moto();
    let ep = moto.endpoint.as_str();
    py(ep, &[script("s3_admin.py").to_str().unwrap(), "create", "shop"]);
    let wh = "s3://shop/warehouse";

    s3_ok(ep, wh, &["generate", "--customers", "800", "--days", "3", "--start", "2025-02-01", "--dirty-rate", "0.02"]);
    s3_ok(ep, wh, &["check-inputs", "--date", "2025-02-03"]);
    s3_ok(ep, wh, &["backfill", "--from", "2025-02-01", "--to", "2025-02-03"]);
    let orders = s3_count(ep, wh, "SELECT count(*) FROM staging.orders");
    assert!(orders > 100, "{orders} orders staged");
    let q = s3_count(ep, wh, "SELECT count(*) FROM quarantine.orders");
    assert!(q > 0, "damaged orders reached quarantine");

    // A run killed after writing its files but before the commit: its files are in the
    // partition folder, yet ecomwh's readers see the old partition, whole.
    let old = s3_count(ep, wh, "SELECT count(*) FROM staging.orders WHERE dt = '2025-02-03'");
    // The first partition a staging run publishes is quarantine.customers.
    let old_q = s3_count(ep, wh, "SELECT count(*) FROM quarantine.customers WHERE dt = '2025-02-03'");
    let mut child = s3_cmd(ep, wh, &["run", "--date", "2025-02-03"]).env("ECOMWH_PAUSE_AT", "publish:before_commit").stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().contains("paused at publish:before_commit")));
    child.kill().unwrap();
    child.wait().unwrap();
    let folder = "warehouse/quarantine/customers/dt=2025-02-03/";
    let keys = py(ep, &[script("s3_admin.py").to_str().unwrap(), "list", "shop", folder]);
    assert_eq!(keys.lines().count(), 2, "the killed run left its uncommitted file beside the committed one:\n{keys}");
    assert_eq!(s3_count(ep, wh, "SELECT count(*) FROM quarantine.customers WHERE dt = '2025-02-03'"), old_q);
    assert_eq!(s3_count(ep, wh, "SELECT count(*) FROM staging.orders WHERE dt = '2025-02-03'"), old);

    // The next good run commits; the replaced file and the orphan stay (time travel) until a
    // vacuum removes them.
    s3_ok(ep, wh, &["run", "--date", "2025-02-03"]);
    let keys = py(ep, &[script("s3_admin.py").to_str().unwrap(), "list", "shop", folder]);
    assert_eq!(keys.lines().count(), 3, "{keys}");
    s3_ok(ep, wh, &["vacuum", "--retain-hours", "0"]);
    let keys = py(ep, &[script("s3_admin.py").to_str().unwrap(), "list", "shop", folder]);
    assert_eq!(keys.lines().count(), 1, "{keys}");
    assert_eq!(s3_count(ep, wh, "SELECT count(*) FROM quarantine.customers WHERE dt = '2025-02-03'"), old_q);
    assert_eq!(s3_count(ep, wh, "SELECT count(*) FROM staging.orders WHERE dt = '2025-02-03'"), old);

    // DuckDB reads the published Delta tables from S3 (delta_scan).
    let out = py(ep, &[script("duckdb_readback.py").to_str().unwrap(), wh, "staging/orders", "staging/customers", "quarantine/orders"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["staging/orders"]["rows"].as_u64(), Some(orders));
    assert_eq!(v["quarantine/orders"]["rows"].as_u64(), Some(q));
    assert_eq!(v["staging/orders"]["dt_type"], "DATE");
    let by_dt = v["staging/orders"]["by_dt"].as_object().unwrap();
    assert_eq!(by_dt.len(), 3);
    for (dt, n) in by_dt {
        let ours = s3_count(ep, wh, &format!("SELECT count(*) FROM staging.orders WHERE dt = '{dt}'"));
        assert_eq!(n.as_u64(), Some(ours), "dt={dt}");
    }
}

#[test]
fn duckdb_reads_a_local_warehouse() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "200", "--days", "2", "--start", "2025-02-01"]);
    ok(&wh.url, &["backfill", "--from", "2025-02-01", "--to", "2025-02-02"]);
    let out = Command::new(python())
        .args([script("duckdb_readback.py").to_str().unwrap(), &wh.url, "staging/events"])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["staging/events"]["rows"].as_u64(), Some(count(&wh.url, "SELECT count(*) FROM staging.events")));
}

/// A feed on S3 (a Shopify order export), the warehouse on a local folder.
#[test]
fn a_feed_on_s3_fills_a_local_warehouse() {
    let moto = start_moto();
    let ep = moto.endpoint.as_str();
    py(ep, &[script("s3_admin.py").to_str().unwrap(), "create", "exports"]);
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shopify_csv/orders_export_1.csv");
    py(ep, &[script("s3_admin.py").to_str().unwrap(), "put", "exports", "shopify/2024-03-22/orders_export_1.csv", fixture.to_str().unwrap()]);
    let wh = local_wh();
    let cfg = wh.path("ecomwh.toml");
    std::fs::write(&cfg, "[sources.shop]\npreset = \"shopify_csv\"\nlocation = \"s3://exports/shopify\"\n").unwrap();
    let cfg = cfg.display().to_string();
    let out = s3_cmd(ep, &wh.url, &["--config", &cfg, "check-inputs", "--date", "2024-03-23"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(2) && err.contains("[sources.shop]") && err.contains("s3://exports/shopify/2024-03-23/"), "{err}");
    s3_ok(ep, &wh.url, &["--config", &cfg, "run", "--date", "2024-03-22", "--jobs", "staging"]);
    assert_eq!(s3_count(ep, &wh.url, "SELECT count(*) FROM staging.orders"), 4);
    assert_eq!(s3_count(ep, &wh.url, "SELECT count(*) FROM staging.order_items"), 7);
    assert_eq!(s3_count(ep, &wh.url, "SELECT count(*) FROM staging.customers WHERE marketing_consent"), 1);
    assert!(wh.path("staging/orders/dt=2024-03-22").exists());
}
