//! The same pipeline on Apache Ballista: in-process (`ballista-standalone`) and on a cluster of
//! separate processes (`ecomwh cluster scheduler` and two `ecomwh cluster executor`s) over a
//! warehouse on a real S3 server. Both must build exactly the tables the local engine builds.
//! Ballista is the `cluster` feature: `scripts/test.sh` builds and tests with it.
#![cfg(feature = "cluster")]

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const START: &str = "2025-03-01";
const LAST: &str = "2025-03-03";
const CUSTOMERS: &str = "300";

/// An audience, so that the audiences job runs its SQL too.
const CONFIG: &str =
    "[[audiences]]\nname = \"regulars\"\nfrom = \"rfm_segments\"\nwhere = \"frequency >= 1\"\nfields = [\"first_name\", \"segment\"]\nholdout_pct = 10\n";

fn config_file(dir: &std::path::Path) -> String {
    let p = dir.join("ecomwh.toml");
    std::fs::write(&p, CONFIG).unwrap();
    p.display().to_string()
}

/// Generate the shop and run every night of it with `engine` (plus `env` for S3).
fn build(wh: &str, cfg: &str, engine: &str, env: &dyn Fn(&mut Command)) {
    let days = ["generate", "--customers", CUSTOMERS, "--days", "3", "--start", START, "--seed", "11", "--dirty-rate", "0.02"];
    for args in [&days[..], &["--engine", engine, "backfill", "--from", START, "--to", LAST]] {
        let mut c = cmd(wh, args);
        c.arg("--config").arg(cfg);
        env(&mut c);
        let out = c.output().unwrap();
        assert!(out.status.success(), "ecomwh {args:?} ({engine}) failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
}

fn query(wh: &str, env: &dyn Fn(&mut Command), args: &[&str]) -> String {
    let mut c = cmd(wh, args);
    env(&mut c);
    let out = c.output().unwrap();
    assert!(out.status.success(), "ecomwh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Every published table as its sorted CSV rows. Floats are compared to 12 significant digits:
/// engines may add the same numbers in another order.
fn tables(wh: &str, env: &dyn Fn(&mut Command)) -> BTreeMap<String, Vec<String>> {
    let list = query(wh, env, &["tables"]);
    let names: Vec<String> = list.lines().skip(1).filter_map(|l| l.split_whitespace().next().map(str::to_string)).collect();
    assert!(names.len() >= 20, "{list}");
    let mut out = BTreeMap::new();
    for t in names {
        let text = query(wh, env, &["sql", &format!("SELECT * FROM {t}"), "--format", "csv"]);
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        let mut rows: Vec<String> = rdr
            .records()
            .map(|r| {
                let r = r.unwrap();
                r.iter().map(canonical).collect::<Vec<_>>().join("|")
            })
            .collect();
        rows.sort();
        out.insert(t, rows);
    }
    out
}

fn canonical(field: &str) -> String {
    match field.parse::<f64>() {
        Ok(x) if field.contains(['.', 'e', 'E']) && x.is_finite() => format!("{x:.11e}"),
        _ => field.to_string(),
    }
}

fn assert_same(expected: &BTreeMap<String, Vec<String>>, got: &BTreeMap<String, Vec<String>>, what: &str) {
    assert_eq!(expected.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>(), "{what}: other tables");
    for (t, rows) in expected {
        let other = &got[t];
        if rows != other {
            let diff: Vec<_> = rows.iter().zip(other).filter(|(a, b)| a != b).take(3).collect();
            panic!("{what}: {t} differs ({} vs {} rows); first differences: {diff:#?}", rows.len(), other.len());
        }
    }
    let marts = expected.keys().filter(|k| k.starts_with("marts.")).count();
    let rows: usize = expected.values().map(Vec::len).sum();
    assert!(marts >= 15 && rows > 1000, "{marts} marts, {rows} rows");
}

fn no_env(_: &mut Command) {}

#[test]
fn ballista_standalone_builds_the_same_tables_as_local() {
    let local = local_wh();
    let ballista = local_wh();
    let cfg = config_file(local.dir.path());
    build(&local.url, &cfg, "local", &no_env);
    // Ballista's in-process executor leaves its shuffle files in the temp folder: this test's.
    let tmp = tempfile::tempdir().unwrap();
    build(&ballista.url, &cfg, "ballista-standalone", &|c: &mut Command| {
        c.env("TMPDIR", tmp.path());
    });
    let expected = tables(&local.url, &no_env);
    assert_same(&expected, &tables(&ballista.url, &no_env), "ballista-standalone");
    // The run report names the engine each run used.
    assert_eq!(ballista.report(LAST)["engine"], "ballista-standalone");
    assert_eq!(local.report(LAST)["engine"], "local");
}

/// A process of the test cluster, killed when dropped; its log goes to a file.
struct Proc {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn start(name: &str, dir: &std::path::Path, wh: &str, endpoint: &str, args: &[&str]) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let mut c = cmd(wh, args);
        s3_env(&mut c, endpoint);
        c.env("ECOMWH_LOG", "warn,ballista_executor=info,ballista_scheduler=info").stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap());
        Proc { child: c.spawn().unwrap(), log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Wait until `ok`, failing with the processes' logs if one of them stops or it takes too long.
fn wait_for(what: &str, procs: &mut [&mut Proc], ok: impl Fn() -> bool) {
    let t0 = Instant::now();
    while !ok() {
        for p in procs.iter_mut() {
            if let Ok(Some(status)) = p.child.try_wait() {
                panic!("waiting for {what}: {} stopped ({status}):\n{}", p.log.display(), p.log());
            }
        }
        if t0.elapsed() > Duration::from_secs(90) {
            let logs: Vec<String> = procs.iter().map(|p| format!("--- {}\n{}", p.log.display(), p.log())).collect();
            panic!("{what}: not after 90 s\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_scheduler_and_two_executors_on_s3_build_the_same_tables_as_local() {
    let moto = start_moto();
    let ep = moto.endpoint.clone();
    let s3 = |c: &mut Command| s3_env(c, &ep);
    let mut admin = Command::new(python());
    admin.args([script("s3_admin.py").to_str().unwrap(), "create", "shop"]);
    s3_env(&mut admin, &ep);
    assert!(admin.status().unwrap().success());
    let wh = "s3://shop/warehouse";

    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(dir.path());
    let seed = std::process::id() as u16;
    let sport = free_port(seed).to_string();
    let mut scheduler = Proc::start("scheduler", dir.path(), wh, &ep, &["--config", &cfg, "cluster", "scheduler", "--port", &sport]);
    let sp: u16 = sport.parse().unwrap();
    wait_for("the scheduler listens", &mut [&mut scheduler], || std::net::TcpStream::connect(("127.0.0.1", sp)).is_ok());
    let mut executors = vec![];
    for i in 0..2u16 {
        let (port, grpc) = (free_port(seed.wrapping_add(1000 + 100 * i)), free_port(seed.wrapping_add(1050 + 100 * i)));
        let work = dir.path().join(format!("work{i}"));
        std::fs::create_dir_all(&work).unwrap();
        executors.push(Proc::start(
            &format!("executor{i}"),
            dir.path(),
            wh,
            &ep,
            &[
                "--config",
                &cfg,
                "cluster",
                "executor",
                "--scheduler",
                &format!("127.0.0.1:{sport}"),
                "--port",
                &port.to_string(),
                "--grpc-port",
                &grpc.to_string(),
                "--concurrent-tasks",
                "2",
                "--work-dir",
                work.to_str().unwrap(),
            ],
        ));
    }
    let registered = |log: String| log.contains("registration succeed") || log.contains("Starting poll work loop");
    let logs: Vec<std::path::PathBuf> = executors.iter().map(|e| e.log.clone()).collect();
    let mut procs: Vec<&mut Proc> = executors.iter_mut().collect();
    wait_for("both executors registered", &mut procs, || logs.iter().all(|l| registered(std::fs::read_to_string(l).unwrap_or_default())));

    build(wh, &cfg, &format!("ballista://127.0.0.1:{sport}"), &s3);
    let got = tables(wh, &s3);

    let local = local_wh();
    build(&local.url, &cfg, "local", &no_env);
    assert_same(&tables(&local.url, &no_env), &got, "a cluster of two executors on S3");

    // Both executors ran tasks; the scheduler planned jobs in stages.
    for e in &executors {
        let log = e.log();
        let tasks = log.matches("Received task").count() + log.matches("Execute task").count();
        assert!(tasks > 0, "an executor ran no task:\n{}", &log[log.len().saturating_sub(3000)..]);
    }
    let s = scheduler.log();
    assert!(s.matches("Submitting execution graph").count() > 20, "{}", &s[s.len().saturating_sub(3000)..]);
    // Ballista cuts a plan into stages at hash repartitions: those jobs shuffled between executors.
    assert!(s.contains("RepartitionExec: partitioning=Hash"), "no job had more than one stage");
    drop(executors);
    drop(scheduler);
}
