//! Review feeds: Judge.me's reviews CSV and WooCommerce's REST API product reviews, each preset
//! on fixtures that follow the vendor's documented format (tests/fixtures/<preset>/SOURCE.md
//! cites the pages), checked field by field after staging, damaged rows in quarantine with
//! their reason, and the counts adding up.

mod common;

use common::feeds::*;
use common::*;

const DATE: &str = "2024-03-05";

/// The shop's customer whose email a review names (`peter@example.com`, see `shop_tables`).
const PETER: &str = "CUST_1001";

#[test]
fn judgeme_csv_reviews_get_stable_ids_curation_statuses_and_their_customer() {
    let wh = local_wh();
    let mut cfg = shop_tables(&wh, DATE, PETER, &["P1"]);
    // Two exports of the night (the second has an edited, curated version of one review), and
    // a file of damaged rows.
    let day = wh.path(&format!("feeds/judgeme/{DATE}"));
    std::fs::create_dir_all(&day).unwrap();
    for f in ["export_1.csv", "export_2.csv", "damaged.csv"] {
        std::fs::copy(fixture(&format!("judgeme_csv/{f}")), day.join(f)).unwrap();
    }
    cfg.push_str(&format!("[sources.judgeme]\npreset = \"judgeme_csv\"\nlocation = \"file://{}\"\n", wh.path("feeds/judgeme").display()));
    let cfg = write_config(&wh, &cfg);
    ok(&wh.url, &["--config", &cfg, "run", "--date", DATE, "--jobs", "staging"]);

    // review_id = md5("<product_id, else product_handle>|<lower-cased email>|<review_date in UTC>").
    let olivia = "e6ba88cd3926c90a4002e28172d72628"; // 7981234567890|olivia.chen@example.com|2024-03-05T09:14:22Z
    let marcus = "14be6dc64c3f00e321d2a33a06181b57"; // 7981234567891|marcus.bell@example.com|2024-03-05T10:40:05Z
    let spam = "187b1456be80bd9b85f8fbffbe8a8c5e"; // 7981234567890|sales@replica-watches.example|2024-03-05T03:12:40Z
    let sofia = "0e571ef00dcef884428a115408b9f49c"; // wool-beanie|sofia.rossi@example.com|2024-03-04T22:05:00Z
    let james = "5c248fda24b310eadacd89648ec094d3"; // 7981234567892|james.whitaker@example.com|2024-03-05T12:30:00Z
    let peter = "35d4890c256763ad8c73a027e307bdb6"; // 7981234567892|peter@example.com|2024-03-05T14:45:10Z
    let r = staged(&wh, DATE, "reviews", "review_id");
    let mut want = vec![olivia, marcus, spam, sofia, james, peter];
    want.sort();
    assert_eq!(keys(&r), want);
    has(
        &r[olivia],
        &[
            ("product_id", "7981234567890"),
            ("customer_id", ""),
            ("rating", "5"),
            ("title", "Love it"),
            ("body", "Soft, warm and exactly the colour in the photos."),
            ("language", ""),
            ("status", "published"),
            ("created_at", "2024-03-05T09:14:22Z"),
            ("updated_at", "2024-03-05T09:14:22Z"),
        ],
    );
    // not-yet curated in the first export; edited and curated ok in the second: the later file
    // wins, under the same id.
    has(
        &r[marcus],
        &[
            ("product_id", "7981234567891"),
            ("rating", "3"),
            ("title", "Runs small"),
            ("body", "Order a size up: the sleeves run short."),
            ("status", "published"),
            ("created_at", "2024-03-05T10:40:05Z"),
        ],
    );
    has(&r[spam], &[("status", "hidden"), ("rating", "5"), ("title", "Best replica watches"), ("created_at", "2024-03-05T03:12:40Z")]);
    // No product id: the handle. A quoted body with a comma, quotes and a line break.
    has(
        &r[sofia],
        &[
            ("product_id", "wool-beanie"),
            ("title", "Great gift"),
            ("body", "My daughter loves it.\nShe says it's \"the comfiest hat\", five stars."),
            ("status", "published"),
            ("created_at", "2024-03-04T22:05:00Z"),
        ],
    );
    // A rating without words.
    has(
        &r[james],
        &[("product_id", "7981234567892"), ("rating", "4"), ("title", ""), ("body", ""), ("status", "published"), ("created_at", "2024-03-05T12:30:00Z")],
    );
    // The email (any case) finds the shop's customer; it is not staged itself.
    has(&r[peter], &[("customer_id", PETER), ("rating", "4"), ("title", "Solid"), ("body", "Does what it should."), ("created_at", "2024-03-05T14:45:10Z")]);
    assert!(!r[peter].contains_key("email"), "{:?}", r[peter]);

    assert_eq!(
        quarantined(&wh, "reviews", DATE),
        [
            "damaged.csv 2 rating not 1 to 5",
            "damaged.csv 3 rating not 1 to 5",
            "damaged.csv 4 unparseable rating",
            "damaged.csv 5 missing product_id",
            "damaged.csv 6 unparseable created_at",
            "damaged.csv 7 malformed CSV row: 3 fields where the header has 16",
        ]
    );
    let stats = accounting_adds_up(&wh, DATE);
    assert_eq!(stats["reviews"]["rows_in"], 13);
    assert_eq!(stats["reviews"]["rows_out"], 6);
    assert_eq!(stats["reviews"]["quarantined"], 6);
    assert_eq!(stats["reviews"]["superseded"], 1);
}

#[test]
fn woocommerce_reviews_map_statuses_html_bodies_and_emails() {
    let wh = local_wh();
    let mut cfg = shop_tables(&wh, DATE, PETER, &["P1"]);
    let day = wh.path(&format!("feeds/woo-reviews/{DATE}"));
    std::fs::create_dir_all(&day).unwrap();
    std::fs::copy(fixture("woocommerce_reviews/reviews.jsonl"), day.join("reviews.jsonl")).unwrap();
    std::fs::copy(fixture("woocommerce_reviews/damaged.jsonl"), day.join("damaged.jsonl")).unwrap();
    cfg.push_str(&format!("[sources.reviews]\npreset = \"woocommerce_reviews\"\nlocation = \"file://{}\"\n", wh.path("feeds/woo-reviews").display()));
    let cfg = write_config(&wh, &cfg);
    ok(&wh.url, &["--config", &cfg, "run", "--date", DATE, "--jobs", "staging"]);

    let r = staged(&wh, DATE, "reviews", "review_id");
    let status: Vec<String> = r.iter().map(|(k, v)| format!("{k} {}", v["status"])).collect();
    assert_eq!(
        status,
        [
            "20 published",   // the documented list example's second review
            "22 published",   // and its first
            "4201 published", // approved
            "4202 hidden",    // hold: awaiting moderation
            "4203 hidden",    // spam
            "4204 hidden",    // trash: staged, so that an approved version stops counting
            "4205 published", // hold, then approved later in the file: the later line wins
            "4206 published", // approved, no text
            "4208 published",
        ]
    );
    // The documented example: wpautop's paragraph removed.
    has(
        &r["22"],
        &[
            ("product_id", "22"),
            ("customer_id", ""),
            ("rating", "5"),
            ("title", ""),
            ("body", "Nice album!"),
            ("language", ""),
            ("created_at", "2018-10-18T20:59:17Z"),
            ("updated_at", "2018-10-18T20:59:17Z"),
        ],
    );
    has(&r["20"], &[("product_id", "31"), ("rating", "1"), ("body", "Now works just fine."), ("created_at", "2018-09-09T00:47:19Z")]);
    // Tags removed, entities decoded, paragraphs on their own lines.
    has(
        &r["4201"],
        &[
            ("product_id", "66"),
            ("rating", "4"),
            ("title", ""),
            ("body", "Warm & soft \u{2013} fits true to size. Didn\u{2019}t shrink in the wash.\nThe zipper is a bit stiff <but> works. \"Best hoodie\" I've owned\u{2026}"),
            ("created_at", "2024-03-05T09:14:09Z"),
        ],
    );
    has(&r["4202"], &[("product_id", "60"), ("rating", "5"), ("body", "Arrived quickly, good quality."), ("created_at", "2024-03-05T10:02:45Z")]);
    has(&r["4203"], &[("product_id", "58"), ("body", "Cheap watches at replica-watches.example"), ("created_at", "2024-03-05T03:12:40Z")]);
    has(&r["4205"], &[("product_id", "44"), ("rating", "4"), ("body", "Nice fit, runs a little large."), ("created_at", "2024-03-05T11:30:00Z")]);
    has(&r["4206"], &[("product_id", "48"), ("rating", "3"), ("body", ""), ("created_at", "2024-03-05T12:30:00Z")]);
    // `Peter@Example.com` is the shop's customer; a `<br />` is a line break.
    has(&r["4208"], &[("customer_id", PETER), ("product_id", "73"), ("body", "Great record.\nThe vinyl sounds warm."), ("created_at", "2024-03-05T14:45:10Z")]);
    assert!(!r.contains_key("4207"), "a review without stars is left out: {:?}", keys(&r));

    let q = quarantined(&wh, "reviews", DATE);
    assert_eq!(q.len(), 6, "{q:?}");
    assert!(q[0].starts_with("damaged.jsonl 1 malformed JSON line: EOF"), "{q:?}");
    assert_eq!(
        q[1..],
        [
            "damaged.jsonl 2 malformed JSON line: not a JSON object",
            "damaged.jsonl 3 rating not 1 to 5",
            "damaged.jsonl 4 unparseable rating",
            "damaged.jsonl 5 missing product_id",
            "damaged.jsonl 6 unparseable created_at",
        ]
    );
    let stats = accounting_adds_up(&wh, DATE);
    assert_eq!(stats["reviews"]["rows_in"], 17);
    assert_eq!(stats["reviews"]["rows_out"], 9);
    assert_eq!(stats["reviews"]["superseded"], 1);
    assert_eq!(stats["reviews"]["ignored_names"], serde_json::json!([["unrated", 1]]));

    // The next night the shop approves 4202 (held for moderation) and resends 22 unchanged:
    // without a modification date the approval still counts, as a change; 22 is superseded.
    let next = "2024-03-06";
    let day = wh.path(&format!("feeds/woo-reviews/{next}"));
    std::fs::create_dir_all(&day).unwrap();
    let lines = std::fs::read_to_string(fixture("woocommerce_reviews/reviews.jsonl")).unwrap();
    let find = |id: &str| lines.lines().find(|l| l.starts_with(&format!("{{\"id\":{id},"))).unwrap_or_else(|| panic!("review {id} in the fixture")).to_string();
    let approved = find("4202").replace("\"status\":\"hold\"", "\"status\":\"approved\"");
    std::fs::write(day.join("reviews.jsonl"), format!("{approved}\n{}\n", find("22"))).unwrap();
    ok(&wh.url, &["--config", &cfg, "run", "--date", next, "--jobs", "staging"]);
    let r = staged(&wh, next, "reviews", "review_id");
    assert_eq!(keys(&r), ["4202"]);
    has(&r["4202"], &[("status", "published"), ("updated_at", "2024-03-05T10:02:45Z")]);
    let stats = accounting_adds_up(&wh, next);
    assert_eq!((stats["reviews"]["rows_in"].as_u64(), stats["reviews"]["superseded"].as_u64()), (Some(2), Some(1)));
}
