//! Helpers for the end-to-end tests: run the built `ecomwh` binary against a warehouse.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ecomwh")
}

/// A command for the binary with quiet logs and the given warehouse.
pub fn cmd(warehouse: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.arg("--warehouse").arg(warehouse).args(args);
    c.env("ECOMWH_LOG", "warn").env_remove("ECOMWH_FAIL_AT").env_remove("ECOMWH_PAUSE_AT").env_remove("ECOMWH_ENGINE");
    // No ecomwh.toml from the developer's folder.
    c.current_dir(std::env::temp_dir());
    c
}

pub fn run(warehouse: &str, args: &[&str]) -> Output {
    cmd(warehouse, args).output().expect("ecomwh runs")
}

/// Run and insist on success; return stdout.
pub fn ok(warehouse: &str, args: &[&str]) -> String {
    let out = run(warehouse, args);
    assert!(
        out.status.success(),
        "ecomwh {args:?} failed ({:?}):\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// Query through `ecomwh sql --format csv`; rows as maps from column to text.
pub fn sql(warehouse: &str, query: &str) -> Vec<BTreeMap<String, String>> {
    let text = ok(warehouse, &["sql", query, "--format", "csv"]);
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().expect("header").clone();
    rdr.records()
        .map(|r| {
            let r = r.expect("csv row");
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()
        })
        .collect()
}

pub fn count(warehouse: &str, query: &str) -> u64 {
    let rows = sql(warehouse, query);
    rows[0].values().next().expect("one column").parse().expect("a count")
}

/// A fresh local warehouse folder.
pub struct LocalWh {
    pub dir: tempfile::TempDir,
    pub url: String,
}

pub fn local_wh() -> LocalWh {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", dir.path().display());
    LocalWh { dir, url }
}

impl LocalWh {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn report(&self, dt: &str) -> serde_json::Value {
        let p = self.path(&format!("_state/runs/dt={dt}/latest.json"));
        serde_json::from_slice(&std::fs::read(&p).expect("run report")).expect("json")
    }

    /// The counts of `table` (as the run report names it) in the latest run report of `dt`.
    pub fn table_report(&self, dt: &str, table: &str) -> serde_json::Value {
        let r = self.report(dt);
        let t = r["jobs"].as_array().unwrap().iter().flat_map(|j| j["tables"].as_array().unwrap().iter()).find(|t| t["table"] == table).cloned();
        t.unwrap_or_else(|| panic!("{table} not in the report of {dt}"))
    }

    /// A raw CSV file `raw/<table>/dt=<dt>/part-00000.csv`: `header`, then `rows`.
    pub fn write_raw_csv(&self, table: &str, dt: &str, header: &str, rows: &[&str]) {
        let dir = self.path(&format!("raw/{table}/dt={dt}"));
        std::fs::create_dir_all(&dir).unwrap();
        let body: String = rows.iter().map(|r| format!("{r}\n")).collect();
        std::fs::write(dir.join("part-00000.csv"), format!("{header}\n{body}")).unwrap();
    }
}

/// The generator's log of damaged rows: (table, kind, file, line, reason).
pub fn ledger(path: &Path) -> Vec<[String; 5]> {
    let mut rdr = csv::Reader::from_path(path).expect("ledger");
    rdr.records()
        .map(|r| {
            let r = r.expect("row");
            [r[0].to_string(), r[1].to_string(), r[2].to_string(), r[3].to_string(), r[4].to_string()]
        })
        .collect()
}

pub const RAW_TABLES: &[&str] = &["customers", "products", "fx_rates", "orders", "order_items", "events", "suppressions", "identifies", "reviews"];

/// The dt=YYYY-MM-DD inside a raw file path.
pub fn dt_of(file: &str) -> String {
    file.split('/').find_map(|p| p.strip_prefix("dt=")).expect("dt in path").to_string()
}

/// Python with the test tools (moto, duckdb), installed by scripts/test.sh.
pub fn python() -> PathBuf {
    venv_python("ECOMWH_TEST_PYTHON", "venv-test-", "moto, duckdb and mlxtend")
}

/// Python with statsforecast (the forecasting reference), installed by scripts/test.sh.
pub fn forecast_python() -> PathBuf {
    venv_python("ECOMWH_FORECAST_PYTHON", "venv-forecast-", "statsforecast")
}

/// The interpreter `env` names, else the virtualenv scripts/test.sh made last (under
/// ~/.cache/ecomwh) whose name starts with `prefix`, for `cargo test` alone.
fn venv_python(env: &str, prefix: &str, what: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return PathBuf::from(p);
    }
    let cache =
        std::env::var("ECOMWH_CACHE").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/ecomwh"));
    let newest = std::fs::read_dir(&cache).ok().and_then(|entries| {
        entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .map(|e| e.path().join("bin/python"))
            .filter(|p| p.exists())
            .max_by_key(|p| std::fs::symlink_metadata(p).and_then(|m| m.modified()).ok())
    });
    newest.unwrap_or_else(|| panic!("no Python with {what}: run scripts/test.sh once (it makes the virtualenv and sets {env})"))
}

pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py").join(name)
}

/// A vendor API emulator (tests/emulators/<vendor>.py) on 127.0.0.1, killed when dropped.
pub struct Emulator {
    child: std::process::Child,
    pub port: u16,
}

impl Emulator {
    pub fn start(vendor: &str, args: &[&str]) -> Emulator {
        use std::io::BufRead;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulators").join(format!("{vendor}.py"));
        let mut child = Command::new(python())
            .arg(script)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("emulator starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout).read_line(&mut line).expect("emulator says where it listens");
        let port = line.trim().strip_prefix("LISTENING ").and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("emulator said {line:?}"));
        Emulator { child, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// GET /_emulator/state: members, request log and stats.
    pub fn state(&self) -> serde_json::Value {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(s, "GET /_emulator/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).expect("answer");
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).expect("body");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("state is not JSON ({e}): {body:.300}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The arrow type name of information_schema, in the contracts' words.
pub fn contract_type(t: &str) -> String {
    let t = t.trim();
    if let Some(inner) = t.strip_prefix("List(").and_then(|x| x.strip_suffix(')')) {
        return format!("list<{}>", contract_type(inner));
    }
    if t.starts_with("Utf8") || t == "LargeUtf8" {
        return "string".into();
    }
    if t.starts_with("Decimal128") {
        let n: Vec<&str> = t.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).collect();
        return format!("decimal({},{})", n[1], n[2]);
    }
    if t.starts_with("Timestamp") {
        return "timestamp".into();
    }
    match t {
        "Int64" => "int64",
        "Int32" => "int32",
        "Float64" => "double",
        "Date32" => "date",
        "Boolean" => "bool",
        other => other,
    }
    .into()
}

/// Check the published marts tables whose contract (schemas/marts/) `built_by` selects;
/// returns how many were checked.
pub fn check_contracts(wh: &LocalWh, select: impl Fn(&str) -> bool) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/marts");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let contract: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // One job, or a list of jobs that each publish a slice of the table.
        let by = match &contract["built_by"] {
            toml::Value::String(j) => vec![j.as_str()],
            v => v.as_array().unwrap().iter().map(|j| j.as_str().unwrap()).collect(),
        };
        if !by.into_iter().any(&select) {
            continue;
        }
        let table = contract["table"].as_str().unwrap();
        let expected: Vec<(String, String)> = contract["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap().to_string(), c["type"].as_str().unwrap().to_string()))
            .collect();
        let got: Vec<(String, String)> = sql(
            &wh.url,
            &format!(
                "SELECT column_name, data_type FROM information_schema.columns \
             WHERE table_schema = 'marts' AND table_name = '{table}' AND column_name <> 'dt' ORDER BY ordinal_position"
            ),
        )
        .into_iter()
        .map(|r| (r["column_name"].clone(), contract_type(&r["data_type"])))
        .collect();
        assert_eq!(got, expected, "marts.{table} differs from {}", path.display());
        checked += 1;
    }
    checked
}

/// A free TCP port on 127.0.0.1, outside the ephemeral range (a just-freed ephemeral port can
/// "connect" to itself), starting the search at `seed`.
pub fn free_port(seed: u16) -> u16 {
    (0..500u16)
        .map(|i| 20_000 + (seed.wrapping_add(i.wrapping_mul(37))) % 10_000)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port")
}

/// moto's S3 server on a free local port; stopped when dropped.
pub struct Moto {
    child: std::process::Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_moto() -> Moto {
    let seed = std::process::id() as u16 ^ (std::time::Instant::now().elapsed().subsec_nanos() as u16);
    let port = free_port(seed);
    let child = std::process::Command::new(python())
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start moto_server");
    let endpoint = format!("http://127.0.0.1:{port}");
    let t0 = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < std::time::Duration::from_secs(60), "moto did not start");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    Moto { child, endpoint }
}

pub fn s3_env(c: &mut std::process::Command, endpoint: &str) {
    c.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ALLOW_HTTP", "true");
}

/// Header lines of the raw tables' CSV files, in the contracts' column order (`write_raw_csv`).
pub mod feeds;
pub mod s3;

pub mod raw_header {
    pub const CUSTOMERS: &str = "customer_id,email,first_name,last_name,country,signup_ts,birth_year,gender,marketing_consent,updated_at";
    pub const PRODUCTS: &str = "product_id,title,category,brand,price,currency,updated_at";
    pub const ORDERS: &str =
        "order_id,customer_id,order_ts,status,currency,total_amount,discount_amount,shipping_amount,refunded_amount,channel,country,updated_at";
    pub const ITEMS: &str = "order_id,line_no,product_id,quantity,unit_price,discount";
    pub const EVENTS: &str =
        "event_id,event_ts,customer_id,anonymous_id,session_id,event_type,product_id,search_query,page_url,referrer,device,os,country,properties";
    pub const IDENTIFIES: &str = "event_id,ts,anonymous_id,customer_id";
}

/// Rows as `rows` prints them ("k=v k=v ..."), equal except that numbers may differ by `rel`
/// (relative): a model fitted by numerical optimisation turns last-bit differences of its input
/// (sums in another order) into differences in the seventh digit.
pub fn assert_rows_close(a: &[String], b: &[String], rel: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        let (xs, ys): (Vec<&str>, Vec<&str>) = (x.split(' ').collect(), y.split(' ').collect());
        let same = xs.len() == ys.len()
            && xs.iter().zip(&ys).all(|(p, q)| {
                p == q
                    || match (p.split_once('='), q.split_once('=')) {
                        (Some((kp, vp)), Some((kq, vq))) if kp == kq => match (vp.parse::<f64>(), vq.parse::<f64>()) {
                            (Ok(u), Ok(v)) => (u - v).abs() <= rel * u.abs().max(v.abs()).max(1.0),
                            _ => false,
                        },
                        _ => false,
                    }
            });
        assert!(same, "{what}:\n  {x}\n  {y}");
    }
}
