//! Helpers of the feed tests: fixtures, configs and what staging made of them.

use std::collections::BTreeMap;
use std::path::Path;

use super::{sql, LocalWh};

/// A file of tests/fixtures/.
pub fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// The config text as the warehouse's ecomwh.toml; its path.
pub fn write_config(wh: &LocalWh, text: &str) -> String {
    let p = wh.path("ecomwh.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Rows of a staging table for `date` keyed by `key`, every column as text.
pub fn staged(wh: &LocalWh, date: &str, table: &str, key: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    sql(&wh.url, &format!("SELECT * FROM staging.{table} WHERE dt = '{date}'")).into_iter().map(|r| (r[key].clone(), r)).collect()
}

/// The row has these values.
pub fn has(row: &BTreeMap<String, String>, want: &[(&str, &str)]) {
    for (k, v) in want {
        assert_eq!(row.get(*k).map(String::as_str), Some(*v), "{k} of {row:?}");
    }
}

/// The staging tables' counts in the run report add up.
pub fn accounting_adds_up(wh: &LocalWh, date: &str) -> BTreeMap<String, serde_json::Value> {
    let report = wh.report(date);
    let staging = report["jobs"].as_array().unwrap().iter().find(|j| j["job"] == "staging").expect("staging in the report");
    let mut out = BTreeMap::new();
    for t in staging["tables"].as_array().unwrap() {
        let n = |k: &str| t[k].as_u64().unwrap_or(0);
        assert_eq!(n("rows_in"), n("rows_out") + n("quarantined") + n("superseded") + n("ignored"), "{t}");
        out.insert(t["table"].as_str().unwrap().to_string(), t.clone());
    }
    out
}

/// The shop's own customers and products in the own layout, which the events reference; the
/// config text of their source.
pub fn shop_tables(wh: &LocalWh, date: &str, customer: &str, products: &[&str]) -> String {
    let dir = wh.path(&format!("raw/customers/dt={date}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("customers.csv"),
        format!(
            "customer_id,email,first_name,last_name,country,signup_ts,birth_year,gender,marketing_consent,updated_at\n\
             {customer},peter@example.com,Peter,Gibbons,US,{date}T08:00:00Z,,,true,{date}T08:00:00Z\n"
        ),
    )
    .unwrap();
    let dir = wh.path(&format!("raw/products/dt={date}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = String::from("product_id,title,category,brand,price,currency,updated_at\n");
    for p in products {
        csv.push_str(&format!("{p},{p},games,Hasbro,18.99,USD,{date}T08:00:00Z\n"));
    }
    std::fs::write(dir.join("products.csv"), csv).unwrap();
    "[sources.shop]\npreset = \"ecomwh\"\noptional = true\n".to_string()
}

/// `src` gzipped into `dst`.
pub fn gzip_to(src: &Path, dst: &Path) {
    use std::io::Write;
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(dst).unwrap(), flate2::Compression::default());
    gz.write_all(&std::fs::read(src).unwrap()).unwrap();
    gz.finish().unwrap();
}

/// Quarantined rows of `table` on `date` as "<file> <line> <reason>", sorted.
pub fn quarantined(wh: &LocalWh, table: &str, date: &str) -> Vec<String> {
    let mut v: Vec<String> = sql(&wh.url, &format!("SELECT source_file, line_no, reason FROM quarantine.{table} WHERE dt = '{date}'"))
        .into_iter()
        .map(|r| format!("{} {} {}", r["source_file"].rsplit('/').next().unwrap_or(""), r["line_no"], r["reason"]))
        .collect();
    v.sort();
    v
}

/// The keys of rows from [`staged`].
pub fn keys(rows: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<&str> {
    rows.keys().map(String::as_str).collect()
}
