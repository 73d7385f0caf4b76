//! Feeds as they land: each preset on fixtures that reproduce the vendor's documented format
//! (tests/fixtures/<preset>/SOURCE.md cites the pages), checked field by field after staging,
//! with the damaged rows in quarantine and the counts adding up.

mod common;

use std::collections::BTreeMap;

use common::feeds::*;
use common::*;

const DATE: &str = "2024-03-22";

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
    let orders = staged(&wh, DATE, "orders", "order_id");
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
    // A partial refund leaves the order shipped and its total as it was, with what was refunded.
    has(
        &orders["5550000000003"],
        &[("status", "shipped"), ("total_amount", "111.56"), ("shipping_amount", "0.00"), ("refunded_amount", "21.25"), ("customer_id", "cara@example.com")],
    );
    has(&orders["5550000000001"], &[("refunded_amount", "0.00")]);
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
    let customers = staged(&wh, DATE, "customers", "customer_id");
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
    let products = staged(&wh, DATE, "products", "product_id");
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
    let stats = accounting_adds_up(&wh, DATE);
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
    let c = staged(&wh, DATE, "customers", "customer_id");
    assert_eq!(c.keys().collect::<Vec<_>>(), ["ana@example.com", "ben@example.com"]);
    has(&c["ana@example.com"], &[("first_name", "Ana"), ("marketing_consent", "true"), ("signup_ts", "2023-05-01T07:00:00Z")]);
    has(&c["ben@example.com"], &[("marketing_consent", "false"), ("signup_ts", "2023-05-02T04:00:00Z")]);
    let q = sql(&wh.url, &format!("SELECT reason FROM quarantine.customers WHERE dt = '{DATE}'"));
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["reason"], "missing customer_id");
    // The row the mapping leaves out on purpose is counted by name, not quarantined.
    let stats = accounting_adds_up(&wh, DATE);
    assert_eq!(stats["customers"]["ignored"], 1);
    assert_eq!(stats["customers"]["ignored_names"], serde_json::json!([["test account", 1]]));
    assert_eq!(stats["customers"]["rows_in"], 4);

    // A mapping that does not run names the source and the table.
    std::fs::write(wh.path("mappings/members.sql"), "SELECT nope FROM feed").unwrap();
    let out = run(&wh.url, &["--config", &cfg, "run", "--date", DATE, "--jobs", "staging"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("[sources.loyalty]") && err.contains("customers"), "{err}");
}

#[test]
fn segment_logs_fill_events_suppressions_and_identify_links() {
    let wh = local_wh();
    let date = "2015-02-23";
    let mut cfg = shop_tables(&wh, date, "97980cfea0067", &["G-32"]);
    // Segment's day folder is the received day's UTC midnight in epoch ms; its file names are
    // opaque (gzip is recognised by its bytes, not the name).
    let day = wh.path("feeds/segment-logs/src1/1424649600000");
    gzip_to(&fixture("segment/calls.jsonl"), &day.join("1424653234000.gz"));
    gzip_to(&fixture("segment/damaged.jsonl"), &day.join("part-2"));
    cfg.push_str(&format!("[sources.web]\npreset = \"segment\"\nlocation = \"file://{}\"\n", wh.path("feeds/segment-logs/src1").display()));
    let cfg = write_config(&wh, &cfg);
    ok(&wh.url, &["--config", &cfg, "run", "--date", date, "--jobs", "staging"]);

    let ev: BTreeMap<String, BTreeMap<String, String>> =
        sql(&wh.url, &format!("SELECT * FROM staging.events WHERE dt = '{date}'")).into_iter().map(|r| (r["event_id"].clone(), r)).collect();
    let kinds: Vec<String> = {
        let mut v: Vec<(String, String)> = ev.values().map(|r| (r["event_ts"].clone(), r["event_type"].clone())).collect();
        v.sort();
        v.into_iter().map(|(_, t)| t).collect()
    };
    assert_eq!(
        kinds,
        ["page_view", "search", "product_view", "add_to_cart", "remove_from_cart", "checkout_start", "purchase", "email_open", "email_click"],
        "{ev:?}"
    );
    // One browsing session (no gap over 30 minutes), keyed by the browser and its first call.
    let web_session = "507f191e810c19729de860ea:1424730535";
    has(
        &ev["022bb90c-bbac-11e4-8dfc-aa07a5b093db"],
        &[
            ("event_ts", "2015-02-23T22:28:55.111Z"),
            ("customer_id", "97980cfea0067"),
            ("anonymous_id", "507f191e810c19729de860ea"),
            ("session_id", web_session),
            ("page_url", "http://www.example.com"),
            ("device", "desktop"),
            ("os", "macOS"),
        ],
    );
    has(
        &ev["ajs-f8ca1e4de5024d9430b3928bd8ac6b03"],
        &[("search_query", "blue roses"), ("session_id", web_session), ("page_url", "https://segment.com/academy/")],
    );
    has(&ev["ajs-f8ca1e4de5024d9430b3928bd8ac6b04"], &[("product_id", "G-32"), ("event_ts", "2015-02-23T22:31:12.249Z")]);
    assert_eq!(ev["ajs-f8ca1e4de5024d9430b3928bd8ac6b04"]["properties"].contains("\"name\":\"Monopoly: 3rd Edition\""), true);
    has(&ev["ajs-f8ca1e4de5024d9430b3928bd8ac6b05"], &[("event_type", "add_to_cart"), ("product_id", "G-32")]);
    has(&ev["ajs-f8ca1e4de5024d9430b3928bd8ac6b11"], &[("event_type", "purchase"), ("session_id", web_session), ("product_id", "")]);
    // The email tool's events have a userId only: their own session, from the first open.
    has(
        &ev["022bb90c-bbac-11e4-8dfc-aa07a5b09314"],
        &[
            ("event_type", "email_click"),
            ("anonymous_id", ""),
            ("session_id", "97980cfea0067:1424732700"),
            ("page_url", "https://www.buymyshirts.com?promo=NEWCUSTOMER"),
        ],
    );

    // Unsubscribed, Marked as Spam and Bounced for one address: the latest wins.
    let supp = sql(&wh.url, &format!("SELECT email, reason, ts FROM staging.suppressions WHERE dt = '{date}'"));
    assert_eq!(supp.len(), 1, "{supp:?}");
    has(&supp[0], &[("email", "peter@example.com"), ("reason", "bounced"), ("ts", "2015-02-23T23:30:40.249Z")]);

    // The identify call links the browser to the user.
    let links = sql(&wh.url, &format!("SELECT * FROM staging.identifies WHERE dt = '{date}'"));
    assert_eq!(links.len(), 1, "{links:?}");
    has(
        &links[0],
        &[
            ("event_id", "022bb90c-bbac-11e4-8dfc-aa07a5b09302"),
            ("anonymous_id", "507f191e810c19729de860ea"),
            ("customer_id", "97980cfea0067"),
            ("ts", "2015-02-23T22:29:15.111Z"),
        ],
    );

    // Damaged lines: in quarantine with their reason, file and line; the rest counted.
    let q = sql(&wh.url, &format!("SELECT reason, source_file, line_no FROM quarantine.events WHERE dt = '{date}' ORDER BY line_no"));
    let got: Vec<String> = q.iter().map(|r| format!("{} {}", r["line_no"], r["reason"])).collect();
    assert_eq!(got.len(), 4, "{q:?}");
    assert!(got[0].starts_with("1 malformed JSON"), "{got:?}");
    assert_eq!(got[1..], ["2 missing event_id", "3 unparseable event_ts", "6 unknown product_id"]);
    assert!(q.iter().all(|r| r["source_file"].ends_with("part-2")), "{q:?}");
    let q = sql(&wh.url, &format!("SELECT reason, line_no FROM quarantine.suppressions WHERE dt = '{date}'"));
    assert_eq!(q.len(), 1);
    has(&q[0], &[("reason", "missing email"), ("line_no", "5")]);

    let stats = accounting_adds_up(&wh, date);
    // 17 + 6 lines: events take all but 1 identify x2 and 3 + 1 suppression events.
    assert_eq!(stats["events"]["rows_in"], 17);
    assert_eq!(stats["events"]["ignored"], 4);
    assert_eq!(stats["events"]["ignored_names"], serde_json::json!([["Cart Viewed", 1], ["Course Clicked", 1], ["Page Scrolled", 1], ["Report Submitted", 1]]));
    assert_eq!(stats["suppressions"]["rows_in"], 4);
    assert_eq!(stats["suppressions"]["superseded"], 2);
    assert_eq!(stats["identifies"]["rows_in"], 2);
    assert_eq!(stats["identifies"]["ignored"], 1);
}

#[test]
fn rudderstack_logs_keep_the_sdk_sessions() {
    let wh = local_wh();
    let date = "2020-01-09";
    let mut cfg = shop_tables(&wh, date, "hashed_user_id", &["F15"]);
    let day = wh.path(&format!("feeds/rudder-logs/2Pq7sourceid/{date}"));
    gzip_to(&fixture("rudderstack/calls.jsonl"), &day.join("1578571200.2Pq7sourceid.9939afc4-a80f-4f3e-921e-fc24e8e7ff43.json.gz"));
    gzip_to(&fixture("rudderstack/damaged.jsonl"), &day.join("1578574800.2Pq7sourceid.0b7e5a8e-51f4-4a43-9d43-8c1d2a3b4c5d.json.gz"));
    cfg.push_str(&format!("[sources.app]\npreset = \"rudderstack\"\nlocation = \"file://{}\"\n", wh.path("feeds/rudder-logs/2Pq7sourceid").display()));
    let cfg = write_config(&wh, &cfg);
    ok(&wh.url, &["--config", &cfg, "run", "--date", date, "--jobs", "staging"]);

    let ev = sql(&wh.url, &format!("SELECT * FROM staging.events WHERE dt = '{date}' ORDER BY event_ts"));
    let got: Vec<String> =
        ev.iter().map(|r| format!("{} {} {} {} {}", r["event_type"], r["customer_id"], r["session_id"], r["product_id"], r["device"])).collect();
    let (anon, s1, s2) = ("78c53c15-32a1-4b65-adac-bec2d7bb8fab", "1578564113558", "1578567000000");
    assert_eq!(
        got,
        [
            format!("page_view  {anon}:{s1}  mobile"),
            format!("search  {anon}:{s1}  mobile"),
            format!("product_view  {anon}:{s1} F15 mobile"),
            format!("add_to_cart hashed_user_id {anon}:{s1} F15 mobile"),
            format!("remove_from_cart hashed_user_id {anon}:{s1} F15 mobile"),
            format!("checkout_start hashed_user_id {anon}:{s1}  mobile"),
            format!("purchase hashed_user_id {anon}:{s2}  mobile"),
            // Server-side email events: no SDK session, so one by the 30-minute rule.
            "email_open hashed_user_id hashed_user_id:1578567900  ".to_string(),
            "email_click hashed_user_id hashed_user_id:1578567900  ".to_string(),
        ]
    );
    has(
        &ev[1],
        &[
            ("search_query", "HDMI cable"),
            ("event_ts", "2020-01-09T10:03:00.300Z"),
            ("os", "Android"),
            ("referrer", "https://www.google.com/search?q=estore+bestseller"),
            ("page_url", "https://www.estore.com/best-seller/1"),
        ],
    );
    let links = sql(&wh.url, &format!("SELECT anonymous_id, customer_id FROM staging.identifies WHERE dt = '{date}'"));
    assert_eq!(links.len(), 1);
    has(&links[0], &[("anonymous_id", anon), ("customer_id", "hashed_user_id")]);
    let supp = sql(&wh.url, &format!("SELECT email, reason FROM staging.suppressions WHERE dt = '{date}'"));
    assert_eq!(supp.len(), 1);
    has(&supp[0], &[("email", "sample@example.com"), ("reason", "bounced")]);
    // The damaged file: a cut line, no messageId, an unknown SKU; a bounce without an address.
    let q = sql(&wh.url, &format!("SELECT reason, line_no FROM quarantine.events WHERE dt = '{date}' ORDER BY line_no"));
    let got: Vec<String> = q.iter().map(|r| format!("{} {}", r["line_no"], r["reason"].split(':').next().unwrap())).collect();
    assert_eq!(got, ["1 malformed JSON line", "2 missing event_id", "3 unknown product_id"]);
    let q = sql(&wh.url, &format!("SELECT reason FROM quarantine.suppressions WHERE dt = '{date}'"));
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["reason"], "missing email");
    let stats = accounting_adds_up(&wh, date);
    assert_eq!(stats["events"]["rows_in"], 12 + 3);
    assert_eq!(stats["events"]["ignored_names"], serde_json::json!([["Cart Viewed", 1], ["Page Scrolled", 1], ["Product Reviewed", 1]]));
    assert_eq!(stats["events"]["quarantined"], 3);
    assert_eq!(stats["suppressions"]["rows_in"], 3 + 1);
}

#[test]
fn a_preview_shows_what_a_source_makes_of_a_day_and_writes_nothing() {
    let wh = local_wh();
    let date = "2015-02-23";
    let mut cfg = shop_tables(&wh, date, "97980cfea0067", &["G-32"]);
    let day = wh.path("feeds/src1/1424649600000");
    gzip_to(&fixture("segment/calls.jsonl"), &day.join("a.gz"));
    gzip_to(&fixture("segment/damaged.jsonl"), &day.join("b.gz"));
    cfg.push_str(&format!("[sources.web]\npreset = \"segment\"\nlocation = \"file://{}\"\n", wh.path("feeds/src1").display()));
    let cfg = write_config(&wh, &cfg);
    let out = ok(&wh.url, &["--config", &cfg, "sources", "preview", "--date", date, "--source", "web", "--limit", "3"]);
    // The night's customers and products (another source) count as known.
    assert!(out.contains("[sources.web] segment -> events: 2 file(s), 17 row(s): 9 mapped, 4 quarantined, 4 ignored"), "{out}");
    assert!(out.contains("unknown product_id") && out.contains("Cart Viewed") && out.contains("blue roses"), "{out}");
    assert!(out.contains("[sources.web] segment -> suppressions: 2 file(s), 4 row(s): 3 mapped, 1 quarantined, 0 ignored"), "{out}");
    assert!(out.contains("[sources.web] segment -> identifies: 2 file(s), 2 row(s): 1 mapped, 0 quarantined, 1 ignored"), "{out}");
    assert!(!out.contains("[sources.shop]"), "{out}");
    for nothing in ["staging", "quarantine", "_state"] {
        assert!(!wh.path(nothing).exists(), "{nothing} written");
    }
    assert!(!wh.path("_tmp").exists() || std::fs::read_dir(wh.path("_tmp")).unwrap().count() == 0, "scratch left behind");
    let bad = run(&wh.url, &["--config", &cfg, "sources", "preview", "--date", date, "--source", "nope"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("no source 'nope'"));
}
