//! user_profiles, rfm_segments and the daily aggregates on a hand-written shop whose every
//! figure is computed by hand below, including a refund that restates an earlier day.

mod common;
use common::*;

const D1: &str = "2025-03-01"; // a Saturday
const D2: &str = "2025-03-02";
const D3: &str = "2025-03-03"; // a Monday

const HEADERS: &[(&str, &str)] = &[
    ("customers", "customer_id,email,first_name,last_name,country,signup_ts,birth_year,gender,marketing_consent,updated_at"),
    ("products", "product_id,title,category,brand,price,currency,updated_at"),
    ("orders", "order_id,customer_id,order_ts,status,currency,total_amount,discount_amount,shipping_amount,channel,country,updated_at"),
    ("order_items", "order_id,line_no,product_id,quantity,unit_price,discount"),
    ("events", "event_id,event_ts,customer_id,anonymous_id,session_id,event_type,product_id,search_query,page_url,referrer,device,os,country,properties"),
];

fn write(wh: &LocalWh, table: &str, dt: &str, rows: &[String]) {
    let header = HEADERS.iter().find(|(t, _)| *t == table).unwrap().1;
    let dir = wh.path(&format!("raw/{table}/dt={dt}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(dir.join("part-00000.csv"), text).unwrap();
}

fn order(id: &str, c: &str, ts: &str, status: &str, total: &str, disc: &str, ship: &str, ch: &str, upd: &str) -> String {
    format!("{id},{c},{ts},{status},EUR,{total},{disc},{ship},{ch},DE,{upd}")
}

fn event(id: u32, ts: &str, c: &str, session: &str, kind: &str, product: &str, query: &str, device: &str) -> String {
    format!("E{id},{ts},{c},anon-{c},{session},{kind},{product},{query},https://shop.example.com/,,{device},Linux,DE,{{}}")
}

/// The shop: customers A, B, C (no orders) and E1..E5 (one purchase each on D1).
fn shop() -> LocalWh {
    let wh = local_wh();
    let mut customers = vec![
        "A,a@example.com,Ann,Alpha,de,2024-03-01T10:00:00Z,1990,f,true,2024-03-01T10:00:00Z".to_string(),
        "B,b@example.com,Bob,Beta,US,2025-02-01T08:00:00Z,,,false,2025-02-01T08:00:00Z".to_string(),
        "C,c@example.com,Cy,Gamma,FR,2025-03-01T23:00:00Z,2010,,true,2025-03-01T23:00:00Z".to_string(),
    ];
    for i in 1..=5 {
        customers.push(format!("E{i},e{i}@example.com,E,E,DE,2025-01-01T00:00:00Z,1980,,true,2025-01-01T00:00:00Z"));
    }
    write(&wh, "customers", D1, &customers);
    write(
        &wh,
        "products",
        D1,
        &[
            "P1,Acme beans,Coffee,Acme,10.00,EUR,2025-01-01T00:00:00Z".into(),
            "P2,Brew tea,Tea,Brew,5.00,EUR,2025-01-01T00:00:00Z".into(),
            "P3,Brew grinder beans,Coffee,Brew,20.00,EUR,2025-01-01T00:00:00Z".into(),
        ],
    );
    let mut orders = vec![
        // A: 2 x P1 + 1 x P2 = 25.00, shipping 4.99 (refunded on D3).
        order("O1", "A", "2025-03-01T09:15:00Z", "paid", "29.99", "0.00", "4.99", "web", "2025-03-01T09:15:00Z"),
        // A: 1 x P3 = 20.00 less a 2.00 line discount.
        order("O2", "A", "2025-03-01T18:30:00Z", "paid", "18.00", "2.00", "0.00", "app", "2025-03-01T18:30:00Z"),
        // B: 2 x P2 = 10.00 + 4.99 shipping, placed (paid on D2).
        order("O3", "B", "2025-03-01T12:00:00Z", "placed", "14.99", "0.00", "4.99", "web", "2025-03-01T12:00:00Z"),
    ];
    let mut items = vec!["O1,1,P1,2,10.00,0.00".to_string(), "O1,2,P2,1,5.00,0.00".into(), "O2,1,P3,1,20.00,2.00".into(), "O3,1,P2,2,5.00,0.00".into()];
    for (i, qty) in [(1, 2), (2, 4), (3, 4), (4, 8), (5, 10)] {
        let total = format!("{}.00", qty * 5);
        orders.push(order(&format!("OE{i}"), &format!("E{i}"), "2025-03-01T14:00:00Z", "paid", &total, "0.00", "0.00", "web", "2025-03-01T14:00:00Z"));
        items.push(format!("OE{i},1,P2,{qty},5.00,0.00"));
    }
    write(&wh, "orders", D1, &orders);
    write(&wh, "order_items", D1, &items);
    write(
        &wh,
        "events",
        D1,
        &[
            event(1, "2025-03-01T09:00:00Z", "A", "S1", "page_view", "", "", "desktop"),
            event(2, "2025-03-01T09:05:00Z", "A", "S1", "product_view", "P1", "", "desktop"),
            event(3, "2025-03-01T09:10:00Z", "A", "S1", "add_to_cart", "P1", "", "desktop"),
            event(4, "2025-03-01T09:12:00Z", "A", "S1", "checkout_start", "", "", "desktop"),
            event(5, "2025-03-01T09:15:00Z", "A", "S1", "purchase", "", "", "desktop"),
            event(6, "2025-03-01T17:00:00Z", "A", "S2", "search", "", "Espresso ", "mobile"),
            event(7, "2025-03-01T17:01:00Z", "A", "S2", "product_view", "P3", "", "mobile"),
            event(8, "2025-03-01T17:02:00Z", "A", "S2", "add_to_cart", "P3", "", "mobile"),
            event(9, "2025-03-01T11:00:00Z", "B", "S7", "page_view", "", "", "tablet"),
        ],
    );

    for t in ["customers", "products"] {
        write(&wh, t, D2, &[]);
        write(&wh, t, D3, &[]);
    }
    write(
        &wh,
        "orders",
        D2,
        &[
            order("O3", "B", "2025-03-01T12:00:00Z", "paid", "14.99", "0.00", "4.99", "web", "2025-03-02T08:00:00Z"),
            // B: 1 x P1 = 10.00 + shipping.
            order("O4", "B", "2025-03-02T20:00:00Z", "paid", "14.99", "0.00", "4.99", "marketplace", "2025-03-02T20:00:00Z"),
        ],
    );
    write(&wh, "order_items", D2, &["O4,1,P1,1,10.00,0.00".into()]);
    write(&wh, "events", D2, &[event(20, "2025-03-02T07:00:00Z", "A", "M1", "email_open", "", "", "mobile")]);

    write(
        &wh,
        "orders",
        D3,
        &[
            order("O1", "A", "2025-03-01T09:15:00Z", "refunded", "29.99", "0.00", "4.99", "web", "2025-03-03T08:00:00Z"),
            // A: 3 x P1 = 30.00 less 3.00.
            order("O5", "A", "2025-03-03T09:45:00Z", "paid", "27.00", "3.00", "0.00", "web", "2025-03-03T09:45:00Z"),
            // B: cancelled the same day.
            order("O6", "B", "2025-03-03T10:00:00Z", "cancelled", "9.99", "0.00", "4.99", "web", "2025-03-03T10:30:00Z"),
        ],
    );
    write(&wh, "order_items", D3, &["O5,1,P1,3,10.00,3.00".into(), "O6,1,P2,1,5.00,0.00".into()]);
    write(
        &wh,
        "events",
        D3,
        &[
            event(30, "2025-03-03T09:30:00Z", "A", "S3", "search", "", "espresso", "mobile"),
            event(31, "2025-03-03T09:31:00Z", "A", "S3", "search", "", "tea", "mobile"),
            event(32, "2025-03-03T09:32:00Z", "A", "S3", "product_view", "P1", "", "mobile"),
            event(33, "2025-03-03T09:33:00Z", "A", "S3", "add_to_cart", "P1", "", "mobile"),
            event(34, "2025-03-03T09:45:00Z", "A", "S3", "purchase", "", "", "mobile"),
            event(35, "2025-03-03T12:00:00Z", "A", "S6", "email_click", "", "", "desktop"),
            // Late events of earlier days, staged tonight.
            event(36, "2025-02-20T10:00:00Z", "A", "S4", "search", "", "tea", "desktop"),
            event(37, "2025-02-20T10:01:00Z", "A", "S4", "page_view", "", "", "desktop"),
            event(38, "2025-01-20T10:00:00Z", "A", "S5", "search", "", "mug", "tablet"),
            event(39, "2025-01-20T10:01:00Z", "A", "S5", "product_view", "P2", "", "tablet"),
        ],
    );
    for d in [D1, D2, D3] {
        ok(&wh.url, &["run", "--date", d]);
    }
    wh
}

fn one(url: &str, q: &str) -> std::collections::BTreeMap<String, String> {
    let rows = sql(url, q);
    assert_eq!(rows.len(), 1, "{q}: {rows:?}");
    rows.into_iter().next().unwrap()
}

fn check(row: &std::collections::BTreeMap<String, String>, expected: &[(&str, &str)]) {
    for (k, v) in expected {
        let got = row.get(*k).unwrap_or_else(|| panic!("no column {k} in {row:?}"));
        // Floats: compare as numbers.
        match (got.parse::<f64>(), v.parse::<f64>()) {
            (Ok(g), Ok(e)) if v.contains('.') => assert!((g - e).abs() < 1e-12, "{k}: got {got}, expected {v}"),
            _ => assert_eq!(got, v, "column {k}"),
        }
    }
}

#[test]
fn profiles_rfm_and_restated_days_match_hand_computed_values() {
    let wh = shop();
    let url = &wh.url;
    let profile = |c: &str, dt: &str| one(url, &format!("SELECT * FROM user_profiles WHERE dt = '{dt}' AND customer_id = '{c}'"));
    let rfm = |c: &str| one(url, &format!("SELECT * FROM rfm_segments WHERE dt = '{D3}' AND customer_id = '{c}'"));

    // --- the late refund: on D2, A's day D1 counted O1 and O2; on D3 only O2.
    check(&profile("A", D2), &[("purchases", "2"), ("net_revenue", "43.00"), ("items", "4")]);
    let day1 = one(
        url,
        &format!(
            "SELECT c.* FROM marts.customer_orders_day c WHERE customer_id = 'A' AND day = '{D1}' \
         AND dt = (SELECT max(dt) FROM marts.customer_orders_day WHERE customer_id = 'A' AND day = '{D1}')"
        ),
    );
    check(
        &day1,
        &[
            ("dt", D3),
            ("orders", "2"),
            ("purchases", "1"),
            ("refunded", "1"),
            ("net_revenue", "18.00"),
            ("discount_amount", "2.00"),
            ("units", "1"),
            ("purchases_app", "1"),
            ("purchases_web", "0"),
            ("purchase_hours", "[18]"),
        ],
    );
    // Product P1 on D1: its 2 units were refunded; the day is restated for every product.
    let p1 = one(
        url,
        &format!(
            "SELECT * FROM marts.product_day WHERE product_id = 'P1' AND day = '{D1}' \
         AND dt = (SELECT max(dt) FROM marts.product_day WHERE day = '{D1}')"
        ),
    );
    check(&p1, &[("units", "0"), ("revenue", "0.00"), ("units_ordered", "2")]);
    let p2 = one(
        url,
        &format!(
            "SELECT * FROM marts.product_day WHERE product_id = 'P2' AND day = '{D1}' \
         AND dt = (SELECT max(dt) FROM marts.product_day WHERE day = '{D1}')"
        ),
    );
    // P2 on D1: O1's 1 (refunded) + O3's 2 + OE1..OE5's 28 units; revenue 150.00 of purchases.
    check(&p2, &[("units", "30"), ("units_ordered", "31"), ("revenue", "150.00"), ("customers", "6")]);

    // --- user_profiles on D3, group by group.
    let a = profile("A", D3);
    // identity (no contact data)
    check(&a, &[("country", "DE"), ("signup_date", "2024-03-01"), ("tenure_days", "367"), ("age_band", "35-44")]);
    for contact in ["email", "first_name", "last_name"] {
        assert!(!a.contains_key(contact), "user_profiles must not carry {contact}");
    }
    // purchase behaviour
    check(
        &a,
        &[
            ("first_order_date", D1),
            ("last_order_date", D3),
            ("orders", "3"),
            ("purchases", "2"),
            ("items", "4"),
            ("net_revenue", "45.00"),
            ("avg_order_value", "22.5"),
            ("mean_days_between_orders", "2.0"),
            ("discount_share", "0.1"),
            ("cancellation_rate", "0.0"),
            ("refund_rate", &(1.0f64 / 3.0).to_string()),
        ],
    );
    // preferences: Coffee only (O2's P3 18.00 + O5's P1 27.00); channel, weekday and hour tie 1-1
    check(
        &a,
        &[
            ("top_category_1", "Coffee"),
            ("top_category_1_share", "1.0"),
            ("top_category_2", ""),
            ("favourite_brand", "Acme"),
            ("preferred_channel", "app"),
            ("preferred_device", "desktop"),
            ("preferred_weekday", "Monday"),
            ("preferred_hour", "9"),
        ],
    );
    // browsing: 7 days = S1, S2, S3, S6; 30 days + S4 (Feb 20); 90 days + S5 (Jan 20)
    check(
        &a,
        &[
            ("sessions_7d", "4"),
            ("sessions_30d", "5"),
            ("sessions_90d", "6"),
            ("product_views_7d", "3"),
            ("product_views_30d", "3"),
            ("product_views_90d", "4"),
            ("searches_7d", "3"),
            ("searches_30d", "4"),
            ("searches_90d", "5"),
            ("top_search_terms_7d", r#"["espresso","tea"]"#),
            ("top_search_terms_30d", r#"["espresso","tea"]"#),
            ("top_search_terms_90d", r#"["espresso","tea","mug"]"#),
            ("add_to_carts_7d", "3"),
            ("add_to_carts_30d", "3"),
            ("add_to_carts_90d", "3"),
            ("cart_abandonment_rate_7d", &(1.0f64 / 3.0).to_string()),
            ("cart_abandonment_rate_90d", &(1.0f64 / 3.0).to_string()),
            ("view_to_purchase_rate_7d", &(2.0f64 / 3.0).to_string()),
            ("view_to_purchase_rate_90d", "0.5"),
            ("last_visit_date", D3),
            ("days_since_last_visit", "0"),
        ],
    );
    // email engagement
    check(&a, &[("email_opens_30d", "1"), ("email_clicks_30d", "1")]);

    let b = profile("B", D3);
    check(
        &b,
        &[
            ("country", "US"),
            ("age_band", ""),
            ("tenure_days", "30"),
            ("orders", "3"),
            ("purchases", "2"),
            ("items", "3"),
            ("net_revenue", "20.00"),
            ("avg_order_value", "10.0"),
            ("mean_days_between_orders", "1.0"),
            ("discount_share", "0.0"),
            ("cancellation_rate", &(1.0f64 / 3.0).to_string()),
            ("refund_rate", "0.0"),
            ("top_category_1", "Coffee"),
            ("top_category_1_share", "0.5"),
            ("top_category_2", "Tea"),
            ("top_category_2_share", "0.5"),
            ("favourite_brand", "Acme"),
            ("preferred_channel", "marketplace"),
            ("preferred_weekday", "Saturday"),
            ("preferred_hour", "12"),
            ("preferred_device", "tablet"),
            ("sessions_7d", "1"),
            ("cart_abandonment_rate_7d", ""),
            // B's only visit was on D1: carried forward from the D2 profiles.
            ("last_visit_date", D1),
            ("days_since_last_visit", "2"),
            ("email_opens_30d", "0"),
        ],
    );
    let c = profile("C", D3);
    check(
        &c,
        &[
            ("age_band", "under 18"),
            ("tenure_days", "2"),
            ("orders", "0"),
            ("purchases", "0"),
            ("net_revenue", "0.00"),
            ("avg_order_value", ""),
            ("first_order_date", ""),
            ("discount_share", ""),
            ("cancellation_rate", ""),
        ],
    );
    assert_eq!(count(url, &format!("SELECT count(*) FROM user_profiles WHERE dt = '{D3}'")), 8);
    // Published sorted by customer_id (in file order: no ORDER BY here).
    let ids: Vec<String> =
        sql(url, &format!("SELECT customer_id FROM user_profiles WHERE dt = '{D3}'")).into_iter().map(|r| r["customer_id"].clone()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // --- rfm_segments on D3: 7 customers with purchases; C has none and is not scored.
    // Scores: 1 + floor(5 * worse / 7). Recency: E* 2 days (worse 0), B 1 (5), A 0 (6).
    // Frequency: E* 1 (0), A and B 2 (5). Monetary: E1 10, B = E2 = E3 20, E4 40, A 45, E5 50.
    check(
        &rfm("A"),
        &[
            ("recency_days", "0"),
            ("frequency", "2"),
            ("monetary", "45.00"),
            ("r_score", "5"),
            ("f_score", "4"),
            ("m_score", "4"),
            ("rfm_cell", "544"),
            ("segment", "Champions"),
            ("repeat_purchase_days", "1"),
            ("days_first_to_last_purchase", "2"),
            ("days_since_first_purchase", "2"),
            ("avg_repeat_purchase_value", "27.0"),
        ],
    );
    check(
        &rfm("B"),
        &[
            ("recency_days", "1"),
            ("frequency", "2"),
            ("monetary", "20.00"),
            ("r_score", "4"),
            ("f_score", "4"),
            ("m_score", "1"),
            ("rfm_cell", "441"),
            ("segment", "Loyal Customers"),
            ("repeat_purchase_days", "1"),
            ("days_first_to_last_purchase", "1"),
            ("days_since_first_purchase", "2"),
            ("avg_repeat_purchase_value", "10.0"),
        ],
    );
    for (e, m_score) in [("E1", "1"), ("E2", "1"), ("E3", "1"), ("E4", "3"), ("E5", "5")] {
        check(
            &rfm(e),
            &[
                ("recency_days", "2"),
                ("frequency", "1"),
                ("r_score", "1"),
                ("f_score", "1"),
                ("m_score", m_score),
                ("rfm_cell", &format!("11{m_score}")),
                ("segment", "Lost"),
                ("repeat_purchase_days", "0"),
                ("days_first_to_last_purchase", "0"),
                ("days_since_first_purchase", "2"),
                ("avg_repeat_purchase_value", "0.0"),
            ],
        );
    }
    assert_eq!(count(url, &format!("SELECT count(*) FROM rfm_segments WHERE dt = '{D3}'")), 7);
    // Clusters: every scored customer has one, and the centroid table describes each.
    let k = count(url, &format!("SELECT count(*) FROM rfm_clusters WHERE dt = '{D3}'"));
    assert!((1..=5).contains(&k), "{k} clusters");
    assert_eq!(count(url, &format!("SELECT count(*) FROM rfm_segments s JOIN rfm_clusters c ON s.cluster = c.cluster AND s.dt = c.dt WHERE s.dt = '{D3}'")), 7);
    assert_eq!(count(url, &format!("SELECT sum(customers) FROM rfm_clusters WHERE dt = '{D3}'")), 7);

    // --- rfm_segment_summary: every segment of the map, shares adding up.
    let lost = one(url, &format!("SELECT * FROM rfm_segment_summary WHERE dt = '{D3}' AND segment = 'Lost'"));
    check(
        &lost,
        &[
            ("customers", "5"),
            ("revenue", "140.00"),
            ("customer_share", &(5.0f64 / 7.0).to_string()),
            ("revenue_share", &(140.0f64 / 205.0).to_string()),
            ("score_ranges", "r 1, f 1-2, m 1-5"),
        ],
    );
    check(
        &one(url, &format!("SELECT * FROM rfm_segment_summary WHERE dt = '{D3}' AND segment = 'Promising'")),
        &[("customers", "0"), ("revenue", "0.00"), ("customer_share", "0.0")],
    );
    assert_eq!(count(url, &format!("SELECT count(*) FROM rfm_segment_summary WHERE dt = '{D3}'")), 11);
}

/// The four BG/NBD columns equal lifetimes' summary on a generated shop whose orders change
/// status over the following nights, in a shop time zone that is not UTC.
#[test]
fn bg_nbd_columns_match_lifetimes() {
    let wh = local_wh();
    let cfg = wh.path("ecomwh.toml");
    let tz = "America/New_York";
    std::fs::write(&cfg, format!("timezone = \"{tz}\"\n")).unwrap();
    let cfg = cfg.to_str().unwrap();
    let url = &wh.url;
    ok(url, &["--config", cfg, "generate", "--customers", "1500", "--days", "40", "--start", "2025-05-01", "--seed", "11"]);
    ok(url, &["--config", cfg, "backfill", "--from", "2025-05-01", "--to", "2025-06-09", "--jobs", "staging,daily_aggregates"]);
    ok(url, &["--config", cfg, "run", "--date", "2025-06-09", "--jobs", "rfm_segments"]);
    let out = std::process::Command::new(python())
        .arg(script("lifetimes_compare.py"))
        .args([wh.dir.path().to_str().unwrap(), "2025-06-09", tz])
        .output()
        .expect("python runs");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "ecomwh and lifetimes differ:\n{text}");
    // The comparison covered real repeat buyers, not only one-time customers.
    let repeat = count(url, "SELECT count(*) FROM rfm_segments WHERE dt = '2025-06-09' AND repeat_purchase_days > 0");
    assert!(repeat > 50, "only {repeat} repeat buyers");
}

/// Every marts table the jobs published matches its contract in schemas/marts/.
#[test]
fn published_marts_match_their_contracts() {
    let wh = shop();
    // export_runs and export_failures are written by `ecomwh export`: tests/export.rs. Every
    // other contract is checked (a table a job did not publish has no columns, and fails).
    let contracts = std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/marts")).unwrap().count();
    assert_eq!(check_contracts(&wh, |built_by| built_by != "export"), contracts - 2);
}

/// Order lines that arrive a night after their order, and an order version that moves the order
/// to another day, restate the right customer-days; totals of untouched customers carry over.
#[test]
fn late_lines_and_moved_orders_restate_their_days() {
    let wh = local_wh();
    write(
        &wh,
        "customers",
        D1,
        &[
            "X,x@example.com,X,X,DE,2025-01-01T00:00:00Z,1980,,true,2025-01-01T00:00:00Z".into(),
            "Y,y@example.com,Y,Y,DE,2025-01-01T00:00:00Z,1980,,true,2025-01-01T00:00:00Z".into(),
        ],
    );
    write(&wh, "products", D1, &["P1,Acme beans,Coffee,Acme,10.00,EUR,2025-01-01T00:00:00Z".into()]);
    write(
        &wh,
        "orders",
        D1,
        &[
            order("Q1", "X", "2025-03-01T10:00:00Z", "paid", "10.00", "0.00", "0.00", "web", "2025-03-01T10:00:00Z"),
            order("QY", "Y", "2025-03-01T11:00:00Z", "paid", "30.00", "0.00", "0.00", "web", "2025-03-01T11:00:00Z"),
        ],
    );
    write(&wh, "order_items", D1, &["QY,1,P1,3,10.00,0.00".into()]);
    // Q1's line comes a night late; Q2 is placed for D1, then moved to D2 by its next version.
    write(&wh, "orders", D2, &[order("Q2", "X", "2025-03-01T15:00:00Z", "paid", "20.00", "0.00", "0.00", "app", "2025-03-02T09:00:00Z")]);
    write(&wh, "order_items", D2, &["Q1,1,P1,1,10.00,0.00".into(), "Q2,1,P1,2,10.00,0.00".into()]);
    write(&wh, "orders", D3, &[order("Q2", "X", "2025-03-02T09:00:00Z", "paid", "20.00", "0.00", "0.00", "app", "2025-03-03T08:00:00Z")]);
    write(&wh, "order_items", D3, &[]);
    for d in [D1, D2, D3] {
        for t in ["customers", "products", "events"] {
            if !wh.path(&format!("raw/{t}/dt={d}")).exists() {
                write(&wh, t, d, &[]);
            }
        }
        ok(&wh.url, &["run", "--date", d, "--jobs", "staging,daily_aggregates"]);
    }
    let url = &wh.url;
    let current = |c: &str, day: &str| {
        one(
            url,
            &format!(
                "SELECT * FROM marts.customer_orders_day WHERE customer_id = '{c}' AND day = '{day}' \
         AND dt = (SELECT max(dt) FROM marts.customer_orders_day WHERE customer_id = '{c}' AND day = '{day}')"
            ),
        )
    };
    // After D2: Q1 has its unit, Q2 counts on D1.
    let x1 = one(url, &format!("SELECT * FROM marts.customer_orders_day WHERE customer_id = 'X' AND day = '{D1}' AND dt = '{D2}'"));
    check(&x1, &[("orders", "2"), ("units", "3"), ("lines", "2"), ("net_revenue", "30.00")]);
    // After D3: Q2 moved to D2, so D1 holds Q1 alone.
    check(&current("X", D1), &[("dt", D3), ("orders", "1"), ("units", "1"), ("net_revenue", "10.00"), ("purchases_web", "1")]);
    check(&current("X", D2), &[("dt", D3), ("orders", "1"), ("units", "2"), ("net_revenue", "20.00"), ("purchases_app", "1")]);
    let p1 = one(
        url,
        &format!(
            "SELECT * FROM marts.product_day WHERE product_id = 'P1' AND day = '{D1}' \
         AND dt = (SELECT max(dt) FROM marts.product_day WHERE day = '{D1}')"
        ),
    );
    check(&p1, &[("units", "4"), ("revenue", "40.00"), ("customers", "2")]);
    let totals = |c: &str| one(url, &format!("SELECT * FROM marts.customer_order_totals WHERE dt = '{D3}' AND customer_id = '{c}'"));
    check(
        &totals("X"),
        &[
            ("orders", "2"),
            ("purchases", "2"),
            ("purchase_days", "2"),
            ("units", "3"),
            ("net_revenue", "30.00"),
            ("first_purchase_date", D1),
            ("last_purchase_date", D2),
            ("first_purchase_day_value", "10.00"),
        ],
    );
    // Y was untouched after D1: carried over unchanged.
    check(&totals("Y"), &[("orders", "1"), ("units", "3"), ("net_revenue", "30.00"), ("first_purchase_date", D1)]);
    assert_eq!(count(url, &format!("SELECT count(*) FROM marts.customer_order_totals WHERE dt = '{D3}'")), 2);
}

/// audience_uplift on the hand fixture: the members selected on D1 (consent: everyone but B),
/// measured on D3 with attribution_days = 2. Only A buys in D2..D3 (O5, 27.00 net); B's O4 does
/// not count (B has no consent, so is no member), nor does A's O1 (placed on D1, later refunded).
#[test]
fn audience_uplift_compares_exported_members_with_the_holdout() {
    let wh = shop();
    let cfg = wh.path("ecomwh.toml");
    std::fs::write(&cfg, "[[audiences]]\nname = \"all\"\nfrom = \"user_profiles\"\nholdout_pct = 40\nattribution_days = 2\n").unwrap();
    let cfg = cfg.display().to_string();
    ok(&wh.url, &["--config", &cfg, "run", "--date", D1, "--jobs", "audiences"]);
    let members = sql(&wh.url, &format!("SELECT customer_id, holdout FROM marts.audience_members WHERE dt = '{D1}'"));
    let ids: Vec<&str> = members.iter().map(|m| m["customer_id"].as_str()).collect();
    assert_eq!(ids.len(), 7, "{ids:?}");
    assert!(!ids.contains(&"B"));
    let held = |id: &str| members.iter().any(|m| m["customer_id"] == id && m["holdout"] == "true");
    let (hn, tn) = (members.iter().filter(|m| m["holdout"] == "true").count() as f64, members.iter().filter(|m| m["holdout"] == "false").count() as f64);
    assert!(hn > 0.0 && tn > 0.0, "the fixture needs both groups: {members:?}");

    ok(&wh.url, &["--config", &cfg, "run", "--date", D3, "--jobs", "audiences"]);
    let u = &sql(&wh.url, &format!("SELECT * FROM marts.audience_uplift WHERE dt = '{D3}'"))[0];
    let f = |c: &str| u[c].parse::<f64>().unwrap_or_else(|_| panic!("{c} = {:?}", u[c]));
    assert_eq!(u["cohort_dt"], D1);
    assert_eq!((f("exported_members"), f("holdout_members")), (tn, hn));
    let (a_t, a_h) = if held("A") { (0.0, 1.0) } else { (1.0, 0.0) };
    let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
    assert!(close(f("exported_conversion_rate"), a_t / tn) && close(f("holdout_conversion_rate"), a_h / hn), "{u:?}");
    assert!(close(f("exported_revenue_per_member"), 27.0 * a_t / tn) && close(f("holdout_revenue_per_member"), 27.0 * a_h / hn));
    assert!(close(f("conversion_diff"), a_t / tn - a_h / hn));
    // Wald interval of the difference of two proportions.
    let (pt, ph) = (a_t / tn, a_h / hn);
    let se = (pt * (1.0 - pt) / tn + ph * (1.0 - ph) / hn).sqrt();
    assert!(close(f("conversion_diff_lo95"), pt - ph - 1.959964 * se) && close(f("conversion_diff_hi95"), pt - ph + 1.959964 * se));
    assert!(f("revenue_diff_lo95") <= f("revenue_diff") && f("revenue_diff") <= f("revenue_diff_hi95"));
}

/// user_profiles and rfm_segments are built incrementally (customers whose inputs did not
/// change carry over from the previous partition). Over 95 nights of a generated shop with late
/// and partial refunds, anonymous visitors who sign up later (stitched), customer rows that
/// arrive after their first order (held), and orders in three currencies, with short windows so
/// that days leave them every night, and across a new year (age bands move on), the incremental
/// result is the same, to the last byte of its CSV, as recomputing the last night from all
/// history with --full-refresh (the all-time customer_order_totals and the identity graph too).
#[test]
fn incremental_profiles_and_rfm_equal_a_full_refresh() {
    let wh = local_wh();
    let cfg = wh.path("ecomwh.toml");
    let write_cfg = |pref: u32| {
        let text = format!(
            "base_currency = \"EUR\"\n[jobs.user_profiles]\npreference_days = {pref}\n[jobs.rfm_segments]\nlookback_days = 12\nclusters = 4\n\
             [jobs.daily_aggregates]\nstitch_lookback_days = 3\n"
        );
        std::fs::write(&cfg, text).unwrap();
    };
    write_cfg(9);
    let c = cfg.to_str().unwrap();
    let url = &wh.url;
    let (first, last) = ("2025-10-01", "2026-01-03");
    ok(url, &["--config", c, "generate", "--customers", "400", "--days", "96", "--start", first, "--seed", "5", "--real-world"]);
    let jobs = "staging,daily_aggregates,user_profiles,rfm_segments";
    ok(url, &["--config", c, "backfill", "--from", first, "--to", last, "--jobs", jobs]);
    // The four effects are there.
    let n = |q: &str| count(url, q);
    assert!(n("SELECT count(*) FROM marts.stitched_events WHERE shop_date(event_ts) < dt") > 0, "no browsing stitched from an earlier night");
    assert!(n("SELECT count(*) FROM staging.orders WHERE currency <> 'EUR'") > 0, "no order in another currency");
    assert!(n("SELECT count(*) FROM staging.orders WHERE refunded_amount > 0 AND status = 'shipped'") > 0, "no partial refund");
    assert!(n("SELECT count(*) FROM staging.orders o JOIN quarantine.orders_held h ON h.order_id = o.order_id AND o.dt > h.dt") > 0, "no order released");
    let recomputed = |date: &str, table: &str| -> (u64, u64) {
        let t = wh.table_report(date, table);
        (t["recomputed"].as_u64().unwrap(), t["rows_out"].as_u64().unwrap())
    };
    // The last nights carried most customers over (recomputed < rows), except on 1 January.
    for table in ["user_profiles", "rfm_segments"] {
        let (scope, rows) = recomputed("2026-01-02", table);
        assert!(scope > 0 && scope < rows, "{table}: recomputed {scope} of {rows}");
    }
    let (scope_ny, rows_ny) = recomputed("2026-01-01", "user_profiles");
    assert_eq!(scope_ny, rows_ny, "the first night of a year recomputes every profile");
    let csv = |table: &str| ok(url, &["sql", "--format", "csv", &format!("SELECT * FROM {table} WHERE dt = '{last}' ORDER BY customer_id")]);
    let graph = || ok(url, &["sql", "--format", "csv", &format!("SELECT * FROM identities WHERE dt = '{last}' ORDER BY anonymous_id, customer_id")]);
    let incremental = (csv("user_profiles"), csv("rfm_segments"), csv("customer_order_totals"), graph());
    ok(url, &["--config", c, "run", "--date", last, "--jobs", "daily_aggregates,user_profiles,rfm_segments", "--full-refresh"]);
    for table in ["user_profiles", "rfm_segments"] {
        let (scope, rows) = recomputed(last, table);
        assert_eq!(scope, rows, "--full-refresh recomputes every row of {table}");
    }
    assert!(incremental.0.lines().count() > 300, "{} profiles", incremental.0.lines().count());
    assert_eq!(incremental.0, csv("user_profiles"), "incremental profiles differ from a full refresh");
    assert_eq!(incremental.1, csv("rfm_segments"), "incremental RFM differs from a full refresh");
    assert_eq!(incremental.2, csv("customer_order_totals"), "incremental order totals differ from a full refresh");
    assert_eq!(incremental.3, graph(), "the identity graph differs from a full refresh");
    // A previous partition that lost a file is not carried over (its rows would be lost): the
    // night recomputes everyone instead, and publishes every profile.
    // (A vacuum first, so that the folder holds only the committed file.)
    ok(url, &["--config", c, "vacuum", "--retain-hours", "0"]);
    let dir = wh.path("marts/user_profiles/dt=2026-01-02");
    let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let aside = wh.path("aside.parquet");
    std::fs::rename(&file, &aside).unwrap();
    ok(url, &["--config", c, "run", "--date", last, "--jobs", "user_profiles"]);
    let (scope, rows) = recomputed(last, "user_profiles");
    assert_eq!(scope, rows, "a damaged previous partition was carried over");
    assert_eq!(incremental.0, csv("user_profiles"));
    std::fs::rename(&aside, &file).unwrap();
    // The same when the lost file is the newest partition's only one: the table stays readable
    // (its columns come from the partition before) and the next night recomputes everyone.
    ok(url, &["--config", c, "vacuum", "--retain-hours", "0"]);
    let dir = wh.path(&format!("marts/user_profiles/dt={last}"));
    let file = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    std::fs::rename(&file, &aside).unwrap();
    assert_eq!(count(url, &format!("SELECT count(*) FROM user_profiles WHERE dt = '{last}'")), 0);
    ok(url, &["--config", c, "run", "--date", "2026-01-04", "--jobs", "staging,daily_aggregates,user_profiles"]);
    let (scope, rows) = recomputed("2026-01-04", "user_profiles");
    assert_eq!(scope, rows, "an unreadable newest partition was carried over");
    std::fs::rename(&aside, &file).unwrap();
    // A changed setting is not carried over: the next night recomputes everyone.
    write_cfg(20);
    ok(url, &["--config", c, "run", "--date", "2026-01-04", "--jobs", "staging,daily_aggregates,user_profiles"]);
    let (scope, rows) = recomputed("2026-01-04", "user_profiles");
    assert_eq!(scope, rows, "profiles built with another preference window were carried over");
}
