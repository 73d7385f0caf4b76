//! Feeds as they land: each preset on fixtures that reproduce the vendor's documented format
//! (tests/fixtures/<preset>/SOURCE.md cites the pages), checked field by field after staging,
//! with the damaged rows in quarantine and the counts adding up.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

const DATE: &str = "2024-03-22";

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

fn write_config(wh: &LocalWh, text: &str) -> String {
    let p = wh.path("ecomwh.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Rows of a staging table for DATE keyed by `key`, every column as text.
fn staged(wh: &LocalWh, table: &str, key: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    sql(&wh.url, &format!("SELECT * FROM staging.{table} WHERE dt = '{DATE}'")).into_iter().map(|r| (r[key].clone(), r)).collect()
}

fn has(row: &BTreeMap<String, String>, want: &[(&str, &str)]) {
    for (k, v) in want {
        assert_eq!(row.get(*k).map(String::as_str), Some(*v), "{k} of {row:?}");
    }
}

/// The staging tables' counts in the run report add up.
fn accounting_adds_up(wh: &LocalWh) -> BTreeMap<String, serde_json::Value> {
    let report = wh.report(DATE);
    let staging = report["jobs"].as_array().unwrap().iter().find(|j| j["job"] == "staging").expect("staging in the report");
    let mut out = BTreeMap::new();
    for t in staging["tables"].as_array().unwrap() {
        let n = |k: &str| t[k].as_u64().unwrap_or(0);
        assert_eq!(n("rows_in"), n("rows_out") + n("quarantined") + n("superseded") + n("ignored"), "{t}");
        out.insert(t["table"].as_str().unwrap().to_string(), t.clone());
    }
    out
}

#[test]
fn shopify_order_export_fills_orders_lines_customers_and_products() {
    let wh = local_wh();
    let day = wh.path(&format!("feeds/shopify/{DATE}"));
    std::fs::create_dir_all(&day).unwrap();
    for f in ["orders_export_1.csv", "orders_export_damaged.csv"] {
        std::fs::copy(fixture(&format!("shopify_csv/{f}")), day.join(f)).unwrap();
    }
    let cfg = write_config(&wh, &format!("[sources.shop]\npreset = \"shopify_csv\"\nlocation = \"file://{}\"\n", wh.path("feeds/shopify").display()));
    ok(&wh.url, &["--config", &cfg, "run", "--date", DATE, "--jobs", "staging"]);

    // Orders: Id as order_id, the status rules, UTC timestamps, the latest event as updated_at.
    let orders = staged(&wh, "orders", "order_id");
    assert_eq!(orders.keys().collect::<Vec<_>>(), ["5550000000001", "5550000000002", "5550000000003", "5550000000004"], "{orders:?}");
    has(
        &orders["5550000000001"],
        &[
            ("customer_id", "ann@example.com"),
            ("status", "shipped"),
            ("order_ts", "2024-03-15T14:22:30Z"),
            ("updated_at", "2024-03-16T18:05:12Z"),
            ("currency", "USD"),
            ("total_amount", "62.59"),
            ("discount_amount", "5.50"),
            ("shipping_amount", "5.00"),
            ("channel", "web"),
            ("country", "US"),
        ],
    );
    has(&orders["5550000000002"], &[("status", "cancelled"), ("updated_at", "2024-03-18T15:45:03Z"), ("total_amount", "34.75")]);
    // A partial refund leaves the order shipped and its total as it was.
    has(&orders["5550000000003"], &[("status", "shipped"), ("total_amount", "111.56"), ("shipping_amount", "0.00"), ("customer_id", "cara@example.com")]);
    has(&orders["5550000000004"], &[("status", "placed"), ("updated_at", "2024-03-22T12:15:45Z"), ("customer_id", "dev@example.com")]);

    // Line items: every row of the export, numbered within the order; no SKU: the name.
    let items = sql(
        &wh.url,
        &format!(
            "SELECT order_id, line_no, product_id, quantity, unit_price, discount FROM staging.order_items WHERE dt = '{DATE}' ORDER BY order_id, line_no"
        ),
    );
    let got: Vec<String> = items
        .iter()
        .map(|r| format!("{} {} {} {} {} {}", r["order_id"], r["line_no"], r["product_id"], r["quantity"], r["unit_price"], r["discount"]))
        .collect();
    assert_eq!(
        got,
        [
            "5550000000001 1 TEE-BLK-M 2 20.00 4.00",
            "5550000000001 2 TOTE-NAT 1 15.00 1.50",
            "5550000000001 3 Gift Wrap 1 5.00 0.00",
            "5550000000002 1 HAT-GRY 1 28.00 0.00",
            "5550000000003 1 JKT-NVY-M 1 85.00 0.00",
            "5550000000003 2 TEE-WHT-L 1 20.00 0.00",
            "5550000000004 1 MUG-ENM-WHT 2 12.00 0.00",
        ]
    );

    // Customers: by email, names from the billing name, consent from Accepts Marketing.
    let customers = staged(&wh, "customers", "customer_id");
    assert_eq!(customers.keys().collect::<Vec<_>>(), ["ann@example.com", "bob@example.com", "cara@example.com", "dev@example.com"], "{customers:?}");
    has(
        &customers["ann@example.com"],
        &[
            ("email", "ann@example.com"),
            ("first_name", "Ann"),
            ("last_name", "Example"),
            ("country", "US"),
            ("marketing_consent", "true"),
            ("signup_ts", "2024-03-15T14:22:30Z"),
        ],
    );
    has(&customers["bob@example.com"], &[("marketing_consent", "false"), ("first_name", "Bob"), ("last_name", "Sample")]);

    // Products: SKU or name, title, vendor as brand, the latest unit price; no category in the export.
    let products = staged(&wh, "products", "product_id");
    assert_eq!(products.len(), 7, "{products:?}");
    has(
        &products["TEE-BLK-M"],
        &[("title", "Crew Tee - Black / M"), ("brand", "Example Apparel"), ("price", "20.00"), ("currency", "USD"), ("category", "uncategorized")],
    );
    has(&products["Gift Wrap"], &[("title", "Gift Wrap"), ("price", "5.00")]);
    has(&products["JKT-NVY-M"], &[("brand", "Example Outerwear"), ("price", "85.00")]);

    // The damaged orders are in quarantine with their reason, file and raw text.
    let q = sql(&wh.url, &format!("SELECT reason, source_file, raw FROM quarantine.orders WHERE dt = '{DATE}' ORDER BY line_no"));
    let reasons: Vec<&str> = q.iter().map(|r| r["reason"].as_str()).collect();
    assert_eq!(reasons.len(), 5, "{q:?}");
    for want in ["unparseable order_ts", "missing customer_id", "negative total_amount", "missing currency", "malformed CSV row"] {
        assert!(reasons.iter().any(|r| r.starts_with(want)), "{want} not in {reasons:?}");
    }
    assert!(q.iter().all(|r| r["source_file"].ends_with("orders_export_damaged.csv") && r["raw"].contains('#')), "{q:?}");
    let stats = accounting_adds_up(&wh);
    assert_eq!(stats["orders"]["rows_in"], 4 + 4 + 1);
    assert_eq!(stats["orders"]["files_in"], 2);
}

#[test]
fn a_sql_source_maps_a_feed_of_any_layout() {
    let wh = local_wh();
    let day = wh.path(&format!("crm/{DATE}"));
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(
        day.join("members.csv"),
        "Member Email,Given,Family,Opt In,Joined\n\
         ANA@Example.com ,Ana,Lopez,Y,2023-05-01 09:00:00 +0200\n\
         ben@example.com,Ben,Okafor,N,1683000000\n\
         ,No,Email,Y,2023-05-03\n\
         qa@example.com,Test,Account,Y,2023-05-04\n",
    )
    .unwrap();
    std::fs::create_dir_all(wh.path("mappings")).unwrap();
    std::fs::write(
        wh.path("mappings/members.sql"),
        "SELECT lower(trim(\"Member Email\")) AS customer_id, trim(\"Member Email\") AS email, \"Given\" AS first_name,\n\
         \"Family\" AS last_name, feed_timestamp(\"Joined\") AS signup_ts, \"Opt In\" = 'Y' AS marketing_consent,\n\
         feed_timestamp(\"Joined\") AS updated_at, _raw, _error, _file, _line, _seq,\n\
         CASE WHEN \"Given\" = 'Test' THEN 'test account' END AS _ignored\n\
         FROM feed WHERE _error IS NULL\n",
    )
    .unwrap();
    let cfg = write_config(
        &wh,
        &format!(
            "[sources.loyalty]\npreset = \"sql\"\ntable = \"customers\"\nformat = \"csv\"\nlocation = \"file://{}\"\npath = \"{{date}}/*.csv\"\nsql = \"mappings/members.sql\"\n",
            wh.path("crm").display()
        ),
    );
    ok(&wh.url, &["--config", &cfg, "run", "--date", DATE, "--jobs", "staging"]);
    let c = staged(&wh, "customers", "customer_id");
    assert_eq!(c.keys().collect::<Vec<_>>(), ["ana@example.com", "ben@example.com"]);
    has(&c["ana@example.com"], &[("first_name", "Ana"), ("marketing_consent", "true"), ("signup_ts", "2023-05-01T07:00:00Z")]);
    has(&c["ben@example.com"], &[("marketing_consent", "false"), ("signup_ts", "2023-05-02T04:00:00Z")]);
    let q = sql(&wh.url, &format!("SELECT reason FROM quarantine.customers WHERE dt = '{DATE}'"));
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["reason"], "missing customer_id");
    // The row the mapping leaves out on purpose is counted by name, not quarantined.
    let stats = accounting_adds_up(&wh);
    assert_eq!(stats["customers"]["ignored"], 1);
    assert_eq!(stats["customers"]["ignored_names"], serde_json::json!([["test account", 1]]));
    assert_eq!(stats["customers"]["rows_in"], 4);

    // A mapping that does not run names the source and the table.
    std::fs::write(wh.path("mappings/members.sql"), "SELECT nope FROM feed").unwrap();
    let out = run(&wh.url, &["--config", &cfg, "run", "--date", DATE, "--jobs", "staging"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[sources.loyalty]") && err.contains("customers"), "{err}");
}
