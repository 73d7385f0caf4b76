//! The tables are Delta Lake tables: other engines' Delta readers (DuckDB's delta_scan, the
//! deltalake package, polars) see exactly what `ecomwh sql` sees, on a local folder and on S3
//! (moto); a publish killed at any point leaves them the previous version whole; concurrent
//! runs of different dates both commit, of the same date one wins; time travel, vacuum.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::s3::*;
use common::*;

/// Every Delta table of a local warehouse, as `layer/table`.
fn local_tables(wh: &LocalWh) -> Vec<String> {
    let mut out = vec![];
    for layer in ["staging", "quarantine", "marts"] {
        let Ok(dir) = std::fs::read_dir(wh.path(layer)) else { continue };
        for t in dir {
            let t = t.unwrap().file_name().to_string_lossy().to_string();
            if wh.path(&format!("{layer}/{t}/_delta_log")).exists() {
                out.push(format!("{layer}/{t}"));
            }
        }
    }
    out.sort();
    out
}

/// The readers' comparison (tests/py/delta_readers.py) over `tables`; returns its JSON.
fn compare_readers(endpoint: Option<&str>, wh: &str, tables: &[String]) -> serde_json::Value {
    let mut c = Command::new(python());
    c.arg(script("delta_readers.py")).arg(bin()).arg(wh).args(tables);
    match endpoint {
        Some(ep) => s3_env(&mut c, ep),
        None => {
            c.env_remove("AWS_ENDPOINT_URL");
        }
    }
    let out = c.output().unwrap();
    assert!(out.status.success(), "the Delta readers disagree with ecomwh sql:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn delta_readers_see_every_table_as_ecomwh_sql_does_on_a_local_folder() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "400", "--days", "3", "--start", "2025-03-01"]);
    ok(&wh.url, &["backfill", "--from", "2025-03-01", "--to", "2025-03-03"]);
    // A rerun replaces its partitions: readers must not see the replaced files.
    ok(&wh.url, &["run", "--date", "2025-03-03"]);
    let tables = local_tables(&wh);
    assert!(tables.iter().filter(|t| t.starts_with("marts/")).count() >= 20, "{tables:?}");
    let v = compare_readers(None, &wh.url, &tables);
    for t in &tables {
        assert_eq!(v[t]["readers"].as_array().map(|r| r.len()), Some(3), "{t}: {v}");
    }
    assert!(v["staging/orders"]["rows"].as_u64().unwrap() > 100);
}

#[test]
fn time_travel_and_vacuum() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "200", "--days", "2", "--start", "2025-03-01"]);
    ok(&wh.url, &["run", "--date", "2025-03-01", "--jobs", "staging"]);
    let day1 = count(&wh.url, "SELECT count(*) FROM staging.orders");
    ok(&wh.url, &["run", "--date", "2025-03-02", "--jobs", "staging"]);
    let both = count(&wh.url, "SELECT count(*) FROM staging.orders");
    assert!(both > day1);
    // Version 0 of staging.orders is the first night's commit.
    let old = ok(&wh.url, &["sql", "--as-of", "staging.orders@0", "SELECT count(*) AS n, count(DISTINCT dt) AS d FROM staging.orders", "--format", "csv"]);
    assert_eq!(old.lines().nth(1), Some(format!("{day1},1").as_str()), "{old}");
    let listed = ok(&wh.url, &["tables", "--as-of", "staging.orders@0"]);
    let line = listed.lines().find(|l| l.starts_with("staging.orders ")).unwrap();
    assert_eq!(line.split_whitespace().nth(1), Some("0"), "{listed}");
    let bad = run(&wh.url, &["sql", "--as-of", "staging.orders@yesterday", "SELECT 1"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("neither a table version nor a time"));

    // A rerun replaces day 2: its old file stays for time travel until a vacuum.
    ok(&wh.url, &["run", "--date", "2025-03-02", "--jobs", "staging"]);
    let folder = wh.path("staging/orders/dt=2025-03-02");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 2);
    let kept = ok(&wh.url, &["vacuum", "--dry-run"]);
    assert!(kept.contains("0 files would be deleted") || kept.contains(" 0 files"), "{kept}");
    let gone = ok(&wh.url, &["vacuum", "--retain-hours", "0"]);
    assert!(gone.lines().any(|l| l.starts_with("staging.orders") && l.contains("deleted 1 files")), "{gone}");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);
    assert_eq!(count(&wh.url, "SELECT count(*) FROM staging.orders"), both);
}

/// Every table's rows, sorted, as `ecomwh sql` prints them (CSV).
fn dump(ep: &str, wh: &str, table: &str) -> Vec<String> {
    let (layer, name) = table.split_once('/').unwrap();
    let text = s3_ok(ep, wh, &["sql", &format!("SELECT * FROM {layer}.{name}"), "--format", "csv"]);
    let mut rows: Vec<String> = text.lines().map(str::to_string).collect();
    rows.sort();
    rows
}

const S3_TABLES: &[&str] = &[
    "staging/customers",
    "staging/orders",
    "staging/events",
    "marts/user_profiles",
    "marts/rfm_segments",
    "marts/product_day",
    "quarantine/orders",
    "marts/model_metrics",
];

#[test]
fn a_publish_killed_at_random_points_on_s3_leaves_delta_readers_the_previous_version() {
    let moto = start_moto();
    let ep = moto.endpoint.as_str();
    for bucket in ["killed", "clean"] {
        py(ep, &[script("s3_admin.py").to_str().unwrap(), "create", bucket]);
    }
    let (killed, clean) = ("s3://killed/wh", "s3://clean/wh");
    for wh in [killed, clean] {
        s3_ok(ep, wh, &["generate", "--customers", "200", "--days", "3", "--start", "2025-02-01"]);
        s3_ok(ep, wh, &["backfill", "--from", "2025-02-01", "--to", "2025-02-02"]);
    }
    s3_ok(ep, clean, &["run", "--date", "2025-02-03"]);
    let tables: Vec<String> = S3_TABLES.iter().map(|t| t.to_string()).collect();
    let before = s3_count(ep, killed, "SELECT count(*) FROM staging.orders");
    let full = s3_count(ep, clean, "SELECT count(*) FROM staging.orders");

    // Killed at points spread over a night's run: whatever was committed is whole.
    let seed = std::process::id() as u64;
    let watched: Vec<String> = ["staging/orders", "marts/user_profiles", "marts/model_metrics"].iter().map(|t| t.to_string()).collect();
    for i in 0..4u64 {
        let delay = 300 + (seed.wrapping_mul(2654435761).wrapping_add(i * 977) % 1000) + i * 1100;
        let mut child = s3_cmd(ep, killed, &["run", "--date", "2025-02-03"]).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = Command::new("kill").args(["-9", &child.id().to_string()]).status();
        child.wait().unwrap();
        let n = s3_count(ep, killed, "SELECT count(*) FROM staging.orders");
        assert!(n == before || n == full, "after a kill at {delay} ms: {n} orders (before {before}, whole {full})");
        // DuckDB, deltalake and polars read the same snapshot as ecomwh: never a half-written version.
        compare_readers(Some(ep), killed, &watched);
    }
    // The rerun converges to what an uninterrupted run built.
    s3_ok(ep, killed, &["run", "--date", "2025-02-03"]);
    for t in &tables {
        assert_eq!(dump(ep, killed, t), dump(ep, clean, t), "{t} differs from the uninterrupted run's");
    }
    // Every table of the shop, as the other engines read it from S3.
    let listed = s3_ok(ep, killed, &["tables"]);
    let every: Vec<String> = listed.lines().skip(1).filter_map(|l| l.split_whitespace().next()).map(|t| t.replacen('.', "/", 1)).collect();
    assert!(every.iter().filter(|t| t.starts_with("marts/")).count() >= 20, "{listed}");
    let v = compare_readers(Some(ep), killed, &every);
    assert_eq!(v["staging/orders"]["rows"].as_u64(), Some(full));
}

/// Two staging runs lined up right before their commits of `table` (both have read the same
/// snapshot of it), then let go together.
fn race(ep: &str, wh: &str, dates: [&str; 2], table: &str, release: &std::path::Path) -> Vec<std::process::Output> {
    let point = format!("publish:snapshot_read:{table}");
    let children: Vec<_> = dates
        .iter()
        .map(|d| {
            let mut c = s3_cmd(ep, wh, &["run", "--date", d, "--jobs", "staging"]);
            c.env("ECOMWH_PAUSE_AT", &point).env("ECOMWH_PAUSE_UNTIL", release).stderr(Stdio::piped()).stdout(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    let mut readers = vec![];
    let mut children = children;
    for c in children.iter_mut() {
        let mut lines = BufReader::new(c.stderr.take().unwrap()).lines();
        let mut seen = vec![];
        for l in lines.by_ref() {
            let l = l.unwrap();
            let paused = l.contains(&format!("paused at {point}"));
            seen.push(l);
            if paused {
                break;
            }
        }
        assert!(seen.last().is_some_and(|l| l.contains("paused at")), "a run did not reach its commit:\n{}", seen.join("\n"));
        readers.push(lines);
    }
    std::fs::write(release, b"go").unwrap();
    let outs: Vec<_> = children
        .into_iter()
        .zip(readers)
        .map(|(c, lines)| {
            let rest: Vec<String> = lines.map_while(|l| l.ok()).collect();
            let mut o = c.wait_with_output().unwrap();
            o.stderr = rest.join("\n").into_bytes();
            o
        })
        .collect();
    let _ = std::fs::remove_file(release);
    outs
}

#[test]
fn concurrent_commits_on_s3_other_dates_both_land_the_same_date_once() {
    let moto = start_moto();
    let ep = moto.endpoint.as_str();
    py(ep, &[script("s3_admin.py").to_str().unwrap(), "create", "shop"]);
    let wh = "s3://shop/wh";
    s3_ok(ep, wh, &["generate", "--customers", "300", "--days", "3", "--start", "2025-05-01"]);
    s3_ok(ep, wh, &["run", "--date", "2025-05-01", "--jobs", "staging"]);
    let dir = tempfile::tempdir().unwrap();

    let outs = race(ep, wh, ["2025-05-02", "2025-05-03"], "staging.orders", &dir.path().join("go1"));
    for o in &outs {
        assert!(o.status.success(), "a run of another date failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    let dts = s3_count(ep, wh, "SELECT count(DISTINCT dt) FROM staging.orders");
    assert_eq!(dts, 3);

    // The same date: they meet at the first table a staging run publishes.
    let outs = race(ep, wh, ["2025-05-03", "2025-05-03"], "quarantine.customers", &dir.path().join("go2"));
    let won: Vec<_> = outs.iter().filter(|o| o.status.success()).collect();
    assert_eq!(won.len(), 1, "exactly one of two runs of the same date commits");
    let lost = outs.iter().find(|o| !o.status.success()).unwrap();
    let err = String::from_utf8_lossy(&lost.stderr);
    assert!(err.contains("concurrent commit to quarantine.customers dt=2025-05-03") && err.contains("rerun this date"), "{err}");
    compare_readers(Some(ep), wh, &["staging/orders".to_string(), "quarantine/customers".to_string()]);
    // The winner's partition is one run's rows, whole: a run alone builds the same.
    let raced = s3_count(ep, wh, "SELECT count(*) FROM staging.orders WHERE dt = '2025-05-03'");
    s3_ok(ep, wh, &["run", "--date", "2025-05-03", "--jobs", "staging"]);
    assert_eq!(s3_count(ep, wh, "SELECT count(*) FROM staging.orders WHERE dt = '2025-05-03'"), raced);
}

/// Copy a folder tree (the fixture is read-only in the repository).
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// A warehouse the last release before Delta tables built (tests/fixtures/manifest_warehouse:
/// 80 customers, two nights, its tables listed by JSON manifests) is refused until `migrate`
/// converts it in place; then every table reads as before, in ecomwh and in Delta readers, and
/// the next night runs on it.
#[test]
fn migrate_converts_a_manifest_warehouse_in_place() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest_warehouse");
    let wh = local_wh();
    copy_tree(&fixture.join("warehouse"), &wh.path(""));
    let expected: serde_json::Value = serde_json::from_slice(&std::fs::read(fixture.join("rows.json")).unwrap()).unwrap();
    let parquet_before: Vec<_> = walk(&wh.path("marts"));

    let refused = run(&wh.url, &["sql", "SELECT 1"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("ecomwh migrate"), "{}", String::from_utf8_lossy(&refused.stderr));

    let out = ok(&wh.url, &["migrate"]);
    let tables = expected.as_object().unwrap();
    assert!(out.starts_with(&format!("converted {} tables", tables.len())), "{out}");
    for (table, rows) in tables {
        let (layer, name) = table.split_once('.').unwrap();
        assert_eq!(count(&wh.url, &format!("SELECT count(*) FROM {layer}.{name}")), rows.as_u64().unwrap(), "{table}");
    }
    // No Parquet file was rewritten: the same files, byte for byte, plus the logs.
    let parquet_after: Vec<_> = walk(&wh.path("marts")).into_iter().filter(|(p, _)| !p.contains("_delta_log")).collect();
    assert_eq!(parquet_after, parquet_before);
    compare_readers(None, &wh.url, &local_tables(&wh));
    assert!(ok(&wh.url, &["migrate"]).starts_with("converted 0 tables"));

    ok(&wh.url, &["run", "--date", "2025-01-03"]);
    assert_eq!(count(&wh.url, "SELECT count(DISTINCT dt) FROM staging.orders"), 3);
}

/// Every file under `dir` with its size, sorted.
fn walk(dir: &std::path::Path) -> Vec<(String, u64)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path().strip_prefix(dir).unwrap().display().to_string(), e.metadata().unwrap().len()));
            }
        }
    }
    out.sort();
    out
}

/// A reader that stops early (`ecomwh sql ... | head`) ends the command quietly: exit 0, no
/// panic and no error, whether the output is written with println! (`tables`) or a writer (`sql`).
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    for args in [&["tables"][..], &["sql", "--format", "csv", "SELECT value FROM generate_series(1, 100000)"]] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        // The reader is gone before the command writes its first line.
        drop(reader);
        let out = cmd("memory://", args).stdout(writer).stderr(Stdio::piped()).output().expect("ecomwh runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {:?}: {stderr}", out.status);
        assert!(!stderr.contains("panicked") && !stderr.contains("error"), "{args:?}: {stderr}");
    }
}
