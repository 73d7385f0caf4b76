//! End-to-end: generated dirty data through the staging job on a local warehouse.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::*;

const KINDS: &[&str] =
    &["malformed", "bad_timestamp", "missing_field", "negative_amount", "non_positive_quantity", "unknown_customer", "unknown_product", "duplicate"];

/// Every damaged row is in quarantine with its reason (or superseded, for duplicates), and
/// for every table and date: rows read = staged + quarantined + superseded.
fn quarantine_and_counts(formats: &str, seed: &str) {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "2000", "--days", "4", "--start", "2025-03-01", "--seed", seed, "--dirty-rate", "0.05", "--formats", formats]);
    ok(&wh.url, &["backfill", "--from", "2025-03-01", "--to", "2025-03-04"]);

    let ledger = ledger(&wh.path("_generator/dirty_rows.csv"));
    let kinds: BTreeSet<&str> = ledger.iter().map(|r| r[1].as_str()).collect();
    for k in KINDS {
        // Parquet feeds cannot carry a malformed row; every other kind must show up.
        assert!(kinds.contains(k) || *k == "malformed", "the generator produced no '{k}' row");
    }

    // Every quarantined row, keyed by (file, line).
    let mut quarantined: BTreeMap<(String, String), String> = BTreeMap::new();
    for t in RAW_TABLES {
        for r in sql(&wh.url, &format!("SELECT source_file, line_no, reason FROM quarantine.{t}")) {
            quarantined.insert((r["source_file"].clone(), r["line_no"].clone()), r["reason"].clone());
        }
    }
    let mut expected_q: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut expected_dup: BTreeMap<(String, String), u64> = BTreeMap::new();
    for [table, kind, file, line, reason] in &ledger {
        let key = (table.clone(), dt_of(file));
        if kind == "duplicate" {
            *expected_dup.entry(key).or_default() += 1;
            continue;
        }
        *expected_q.entry(key).or_default() += 1;
        let got = quarantined.get(&(file.clone(), line.clone())).unwrap_or_else(|| panic!("{kind} row {file}:{line} is not in quarantine.{table}"));
        assert!(got.starts_with(reason.as_str()), "{file}:{line} ({kind}): reason '{got}', expected '{reason}'");
    }

    for day in 1..=4 {
        let dt = format!("2025-03-0{day}");
        let report = wh.report(&dt);
        assert_eq!(report["status"], "ok");
        let tables = report["jobs"][0]["tables"].as_array().expect("tables");
        assert_eq!(tables.len(), RAW_TABLES.len());
        for t in tables {
            let name = t["table"].as_str().unwrap().to_string();
            let n = |k: &str| t[k].as_u64().unwrap();
            assert_eq!(n("rows_in"), n("rows_out") + n("quarantined") + n("superseded"), "{name} {dt}: {t}");
            let key = (name.clone(), dt.clone());
            assert_eq!(n("quarantined"), *expected_q.get(&key).unwrap_or(&0), "{name} {dt} quarantined");
            assert_eq!(n("superseded"), *expected_dup.get(&key).unwrap_or(&0), "{name} {dt} superseded");
            // The published partitions hold exactly what the report says.
            let staged = count(&wh.url, &format!("SELECT count(*) FROM staging.{name} WHERE dt = '{dt}'"));
            assert_eq!(staged, n("rows_out"), "{name} {dt} staged rows");
            if !["suppressions", "fx_rates", "reviews"].contains(&name.as_str()) && !(name == "products" && day > 1) {
                assert!(n("rows_out") > 0, "{name} {dt}: nothing staged");
            }
        }
    }
    // Extra columns (the feed's `source_system`) are ignored, not fatal.
    let header = std::fs::read_dir(wh.path("raw/customers/dt=2025-03-01")).unwrap().next().unwrap().unwrap().path();
    if header.extension().is_some_and(|e| e == "csv") {
        assert!(std::fs::read_to_string(header).unwrap().lines().next().unwrap().contains("source_system"));
    }
}

#[test]
fn quarantine_and_counts_default_formats() {
    quarantine_and_counts("customers=csv,products=parquet,orders=jsonl,order_items=csv,events=jsonl.gz,suppressions=csv", "7");
}

#[test]
fn quarantine_and_counts_other_formats() {
    quarantine_and_counts("customers=jsonl,products=csv,orders=csv,order_items=jsonl.gz,events=parquet,suppressions=jsonl", "8");
}

/// Normalisation: emails trimmed and lower-cased, countries upper-cased, times in UTC.
#[test]
fn staging_normalises_values() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "300", "--days", "1", "--start", "2025-06-01"]);
    ok(&wh.url, &["run", "--date", "2025-06-01"]);
    let bad = count(&wh.url, "SELECT count(*) FROM staging.customers WHERE email <> lower(trim(email)) OR country <> upper(country)");
    assert_eq!(bad, 0);
    let raw_upper = std::fs::read_to_string(wh.path("raw/customers/dt=2025-06-01/part-00000.csv")).unwrap();
    assert!(raw_upper.contains("@EXAMPLE.COM"), "the generator should send some messy emails");
    let t = sql(&wh.url, "SELECT arrow_typeof(order_ts) AS t FROM staging.orders LIMIT 1");
    assert_eq!(t[0]["t"], "Timestamp(µs, \"UTC\")");
    // A +01:00 timestamp in the feed is stored as the same instant in UTC.
    let raw = std::fs::read_to_string(wh.path("raw/orders/dt=2025-06-01/part-00000.jsonl")).unwrap();
    let line = raw.lines().find(|l| l.contains("+01:00")).expect("an order with +01:00");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let local = chrono::DateTime::parse_from_rfc3339(v["order_ts"].as_str().unwrap()).unwrap();
    let got = sql(&wh.url, &format!("SELECT order_ts FROM staging.orders WHERE order_id = '{}'", v["order_id"].as_str().unwrap()));
    let staged = chrono::DateTime::parse_from_rfc3339(&got[0]["order_ts"]).unwrap();
    assert_eq!(staged, local);
    assert_eq!(staged.offset().local_minus_utc(), 0);
}

fn dump_staging(url: &str, dt: &str) -> Vec<String> {
    RAW_TABLES
        .iter()
        .map(|t| {
            let text = ok(url, &["sql", &format!("SELECT * FROM staging.{t} WHERE dt = '{dt}'"), "--format", "csv"]);
            let mut lines: Vec<&str> = text.lines().collect();
            lines.sort();
            lines.join("\n")
        })
        .collect()
}

#[test]
fn rerunning_a_date_gives_identical_tables() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "400", "--days", "3", "--start", "2025-05-01", "--dirty-rate", "0.02"]);
    ok(&wh.url, &["backfill", "--from", "2025-05-01", "--to", "2025-05-03"]);
    let before = dump_staging(&wh.url, "2025-05-02");
    let run1 = wh.report("2025-05-02")["run_id"].clone();
    ok(&wh.url, &["run", "--date", "2025-05-02"]);
    assert_ne!(wh.report("2025-05-02")["run_id"], run1);
    assert_eq!(dump_staging(&wh.url, "2025-05-02"), before);
    // The replaced file stays for time travel until a vacuum; readers see one run's rows.
    let files: Vec<_> = std::fs::read_dir(wh.path("staging/orders/dt=2025-05-02")).unwrap().collect();
    assert_eq!(files.len(), 2);
    // Later dates are untouched and still consistent.
    assert!(count(&wh.url, "SELECT count(*) FROM staging.orders WHERE dt = '2025-05-03'") > 0);
}

/// Add one valid order line to a date's raw orders, so a rerun publishes one row more.
fn add_order(wh: &LocalWh, dt: &str) {
    let dir = wh.path(&format!("raw/orders/dt={dt}"));
    let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(&file).unwrap();
    let first = text.lines().next().unwrap();
    let mut v: serde_json::Value = serde_json::from_str(first).unwrap();
    v["order_id"] = serde_json::Value::String("O-EXTRA-1".into());
    std::fs::write(&file, format!("{text}{v}\n")).unwrap();
}

fn orders_on(url: &str, dt: &str) -> u64 {
    count(url, &format!("SELECT count(*) FROM staging.orders WHERE dt = '{dt}'"))
}

#[test]
fn a_failed_publish_leaves_the_old_partition() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "300", "--days", "2", "--start", "2025-04-01", "--formats", "orders=jsonl"]);
    ok(&wh.url, &["backfill", "--from", "2025-04-01", "--to", "2025-04-02"]);
    let old = orders_on(&wh.url, "2025-04-02");
    let old_dump = dump_staging(&wh.url, "2025-04-02");
    add_order(&wh, "2025-04-02");
    for point in ["publish:before_commit", "publish:after_first_file"] {
        let out = cmd(&wh.url, &["run", "--date", "2025-04-02"]).env("ECOMWH_FAIL_AT", point).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{point}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("injected failure"));
        assert_eq!(dump_staging(&wh.url, "2025-04-02"), old_dump, "{point}: the old partition changed");
        assert_eq!(wh.report("2025-04-02")["status"], "failed");
    }
    ok(&wh.url, &["run", "--date", "2025-04-02"]);
    assert_eq!(orders_on(&wh.url, "2025-04-02"), old + 1);
}

#[test]
fn a_killed_run_leaves_the_old_partition() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "1500", "--days", "2", "--start", "2025-04-01", "--formats", "orders=jsonl"]);
    ok(&wh.url, &["backfill", "--from", "2025-04-01", "--to", "2025-04-02"]);
    let old = orders_on(&wh.url, "2025-04-02");
    let old_dump = dump_staging(&wh.url, "2025-04-02");
    add_order(&wh, "2025-04-02");

    // Killed exactly between writing all files and committing them.
    let mut child = cmd(&wh.url, &["run", "--date", "2025-04-02"]).env("ECOMWH_PAUSE_AT", "publish:before_commit").stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    assert!(lines.any(|l| l.unwrap().contains("paused at publish:before_commit")));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(dump_staging(&wh.url, "2025-04-02"), old_dump);

    // Killed at arbitrary moments: each table shows the old or the new partition, whole.
    for delay_ms in [40u64, 90, 150, 220, 300, 400] {
        let mut child = cmd(&wh.url, &["run", "--date", "2025-04-02"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let n = orders_on(&wh.url, "2025-04-02");
        assert!(n == old || n == old + 1, "after a kill at {delay_ms} ms: {n} orders (old {old})");
    }
    // Scratch files of killed runs are swept once they are a day old.
    let stale = wh.path("_tmp/20200101T000000-deadbeef/staging/orders/dt=2025-04-02");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("part.parquet"), b"partial").unwrap();
    let recent_before = std::fs::read_dir(wh.path("_tmp")).unwrap().count();
    ok(&wh.url, &["run", "--date", "2025-04-02"]);
    assert_eq!(orders_on(&wh.url, "2025-04-02"), old + 1);
    assert!(!wh.path("_tmp/20200101T000000-deadbeef").exists(), "a day-old scratch folder was kept");
    assert_eq!(std::fs::read_dir(wh.path("_tmp")).unwrap().count(), recent_before - 1, "recent scratch folders must stay");
    // Killed runs' files and replaced ones stay until a vacuum; then the folder holds exactly
    // the committed file, so engines that glob it agree too.
    ok(&wh.url, &["vacuum", "--retain-hours", "0"]);
    let files = std::fs::read_dir(wh.path("staging/orders/dt=2025-04-02")).unwrap().count();
    assert_eq!(files, 1, "after a vacuum: the committed file only");
    assert_eq!(orders_on(&wh.url, "2025-04-02"), old + 1);
}

#[test]
fn check_inputs_names_what_is_missing() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "100", "--days", "1", "--start", "2025-01-10"]);
    ok(&wh.url, &["check-inputs", "--date", "2025-01-10"]);
    let out = run(&wh.url, &["check-inputs", "--date", "2025-01-11"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("raw/orders/dt=2025-01-11"), "{err}");
    // A run for a date without inputs fails the same way, before touching anything.
    let out = run(&wh.url, &["run", "--date", "2025-01-11"]);
    assert_eq!(out.status.code(), Some(2));
    // An unknown file type is refused, not skipped.
    std::fs::write(wh.path("raw/orders/dt=2025-01-10/orders.xml"), "<x/>").unwrap();
    let out = run(&wh.url, &["check-inputs", "--date", "2025-01-10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("orders.xml"));
}

#[test]
fn sql_is_read_only_and_formats_output() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "100", "--days", "1", "--start", "2025-01-10"]);
    ok(&wh.url, &["run", "--date", "2025-01-10"]);
    for q in [
        "DROP TABLE staging.orders",
        "CREATE TABLE t AS SELECT 1",
        "INSERT INTO staging.orders SELECT * FROM staging.orders",
        "COPY (SELECT 1) TO '/tmp/x.csv'",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let out = run(&wh.url, &["sql", q]);
        assert_eq!(out.status.code(), Some(2), "{q} was not refused: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = run(&wh.url, &["sql", "SELEC nothing"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad query"));
    let out = run(&wh.url, &["sql", "SELECT * FROM marts.no_such_table"]);
    assert_eq!(out.status.code(), Some(2));
    let csv = ok(&wh.url, &["sql", "SELECT 1.5 AS a, CAST(NULL AS VARCHAR) AS b, '' AS c, [1, 2] AS l, 1.0/0.0 AS inf", "--format", "csv"]);
    assert_eq!(csv, "a,b,c,l,inf\n1.5,,\"\",\"[1,2]\",\n");
    // Order days are days in the shop's time zone.
    let cfg = wh.path("berlin.toml");
    std::fs::write(&cfg, "timezone = \"Europe/Berlin\"\n").unwrap();
    let q = "SELECT shop_date(arrow_cast('2025-01-01T23:30:00Z', 'Timestamp(Microsecond, Some(\"UTC\"))')) AS d";
    assert!(ok(&wh.url, &["--config", cfg.to_str().unwrap(), "sql", q, "--format", "csv"]).contains("2025-01-02"));
    assert!(ok(&wh.url, &["sql", q, "--format", "csv"]).contains("2025-01-01"));
    let json = ok(&wh.url, &["sql", "SELECT 1 AS a, 'x' AS b", "--format", "json"]);
    assert_eq!(json.trim(), r#"{"a":1,"b":"x"}"#);
    let jobs = ok(&wh.url, &["jobs"]);
    assert_eq!(jobs.lines().next(), Some("staging"));
    let tables = ok(&wh.url, &["tables"]);
    assert!(tables.contains("staging.orders") && tables.contains("quarantine.orders"), "{tables}");
}

/// A blank value in JSON is a missing value, as an empty CSV cell is: an order without a
/// discount is staged, not quarantined as unparseable.
#[test]
fn blank_json_values_are_missing_not_malformed() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "200", "--days", "1", "--start", "2025-06-01", "--formats", "orders=jsonl"]);
    let file = wh.path("raw/orders/dt=2025-06-01/part-00000.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    v["order_id"] = "O-BLANK-1".into();
    v["discount_amount"] = "  ".into();
    v["channel"] = "".into();
    std::fs::write(&file, format!("{text}{v}\n")).unwrap();
    ok(&wh.url, &["run", "--date", "2025-06-01"]);
    let rows = sql(&wh.url, "SELECT discount_amount, channel FROM staging.orders WHERE order_id = 'O-BLANK-1'");
    assert_eq!(rows.len(), 1, "the order was not staged");
    assert_eq!(rows[0]["discount_amount"], "");
    assert_eq!(count(&wh.url, "SELECT count(*) FROM quarantine.orders"), 0);
}

/// Two runs of different dates committing the same tables at once both land (delta-rs rebases
/// the later commit onto the earlier one: different partitions do not conflict).
#[test]
fn concurrent_runs_of_different_dates_both_commit() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "300", "--days", "3", "--start", "2025-06-01"]);
    ok(&wh.url, &["run", "--date", "2025-06-01"]);
    let a = cmd(&wh.url, &["run", "--date", "2025-06-02", "--jobs", "staging"]).spawn().unwrap();
    let b = cmd(&wh.url, &["run", "--date", "2025-06-03", "--jobs", "staging"]).spawn().unwrap();
    for mut c in [a, b] {
        assert!(c.wait().unwrap().success());
    }
    let dts = sql(&wh.url, "SELECT DISTINCT CAST(dt AS VARCHAR) AS dt FROM staging.orders ORDER BY dt");
    let dts: Vec<&str> = dts.iter().map(|r| r["dt"].as_str()).collect();
    assert_eq!(dts, ["2025-06-01", "2025-06-02", "2025-06-03"]);
    assert!(wh.path("staging/orders/_delta_log/00000000000000000000.json").exists());
}
