//! Identity stitching: events of an anonymous visitor count for the customer they are linked to
//! (by an identify call or an event carrying both ids), also the events of nights before the
//! link, back to `stitch_lookback_days`. A shared device follows the stated rule: the latest
//! link wins from its first_seen on. Figures are checked value by value, and a full refresh
//! gives the same tables.

mod common;
use common::raw_header::*;
use common::*;

const D0: &str = "2025-06-01";
const D1: &str = "2025-06-02";
const D2: &str = "2025-06-03";
const D3: &str = "2025-06-04";

/// An event row: (id, ts, customer, anonymous id, session, type, product).
fn ev(id: &str, ts: &str, customer: &str, anon: &str, session: &str, kind: &str, product: &str) -> String {
    format!("{id},{ts},{customer},{anon},{session},{kind},{product},,https://shop.example.com/,google,mobile,iOS,DE,{{}}")
}

fn night(wh: &LocalWh, cfg: &str, dt: &str, orders: &[&str], items: &[&str], events: &[String], identifies: &[&str]) {
    if dt != D0 {
        wh.write_raw_csv("customers", dt, CUSTOMERS, &[]);
        wh.write_raw_csv("products", dt, PRODUCTS, &[]);
    }
    wh.write_raw_csv("orders", dt, ORDERS, orders);
    wh.write_raw_csv("order_items", dt, ITEMS, items);
    let e: Vec<&str> = events.iter().map(String::as_str).collect();
    wh.write_raw_csv("events", dt, EVENTS, &e);
    wh.write_raw_csv("identifies", dt, IDENTIFIES, identifies);
    ok(&wh.url, &["--config", cfg, "run", "--date", dt, "--jobs", "staging,daily_aggregates,user_profiles,recommendations"]);
}

/// Rows of a query, columns in the query's order, as text.
fn rows(wh: &LocalWh, q: &str) -> Vec<Vec<String>> {
    let text = ok(&wh.url, &["sql", q, "--format", "csv"]);
    csv::Reader::from_reader(text.as_bytes()).records().map(|r| r.unwrap().iter().map(String::from).collect()).collect()
}

#[test]
fn anonymous_browsing_counts_for_the_customer_once_linked() {
    let wh = local_wh();
    let cfg = wh.path("ecomwh.toml");
    std::fs::write(&cfg, "[jobs.daily_aggregates]\nstitch_lookback_days = 2\n").unwrap();
    let cfg = cfg.display().to_string();
    wh.write_raw_csv(
        "customers",
        D0,
        CUSTOMERS,
        &["A", "B", "C", "D", "E"]
            .map(|c| format!("{c},{}@example.com,N,N,DE,2025-01-01T10:00:00Z,1990,f,true,2025-01-01T10:00:00Z", c.to_lowercase()))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    wh.write_raw_csv(
        "products",
        D0,
        PRODUCTS,
        &[
            "P1,Beans,Coffee,Acme,10.00,EUR,2025-01-01T00:00:00Z",
            "P2,Grinder,Coffee,Acme,30.00,EUR,2025-01-01T00:00:00Z",
            "P3,Mug,Kitchen,Acme,5.00,EUR,2025-01-01T00:00:00Z",
        ],
    );
    // D0: visitor Q browses; Q is linked to C on D3, when D0 is past the 2-day lookback.
    night(&wh, &cfg, D0, &[], &[], &[ev("E00", "2025-06-01T10:00:00Z", "", "Q", "SQ", "product_view", "P3")], &[]);
    // D1: three customers buy P1 with P2 (so P2 is P1's neighbour). Visitor X (B, from D3 on)
    // looks at P1 and puts it in the cart. Visitor Z logs in as A at noon and browses on.
    let buys = ["A", "C", "D"]
        .iter()
        .enumerate()
        .map(|(i, c)| format!("O{i},{c},2025-06-02T08:00:00Z,paid,EUR,40.00,0.00,0.00,,web,DE,2025-06-02T08:00:00Z"))
        .collect::<Vec<_>>();
    let lines = (0..3).flat_map(|i| [format!("O{i},1,P1,1,10.00,0.00"), format!("O{i},2,P2,1,30.00,0.00")]).collect::<Vec<_>>();
    night(
        &wh,
        &cfg,
        D1,
        &buys.iter().map(String::as_str).collect::<Vec<_>>(),
        &lines.iter().map(String::as_str).collect::<Vec<_>>(),
        &[
            ev("E10", "2025-06-02T10:00:00Z", "", "X", "SX1", "page_view", ""),
            ev("E11", "2025-06-02T10:01:00Z", "", "X", "SX1", "product_view", "P1"),
            ev("E12", "2025-06-02T10:02:00Z", "", "X", "SX1", "add_to_cart", "P1"),
            ev("E13", "2025-06-02T12:05:00Z", "", "Z", "SZ1", "page_view", ""),
        ],
        &["I1,2025-06-02T12:00:00Z,Z,A"],
    );
    // D2: Z browses anonymously: A's (the only link).
    night(&wh, &cfg, D2, &[], &[], &[ev("E20", "2025-06-03T09:00:00Z", "", "Z", "SZ2", "product_view", "P3")], &[]);
    // D3: X logs in as B (an identify, then B's own page view carrying both ids). Z is shared:
    // E logs in on it at 08:00; Z's 07:00 view stays A's, its 10:00 view is E's. Q logs in as C.
    night(
        &wh,
        &cfg,
        D3,
        &[],
        &[],
        &[
            ev("E30", "2025-06-04T09:05:00Z", "B", "X", "SX2", "page_view", ""),
            ev("E31", "2025-06-04T07:00:00Z", "", "Z", "SZ3", "product_view", "P1"),
            ev("E32", "2025-06-04T10:00:00Z", "", "Z", "SZ4", "product_view", "P2"),
            ev("E33", "2025-06-04T11:00:00Z", "C", "Q", "SQ2", "page_view", ""),
        ],
        &["I2,2025-06-04T09:00:00Z,X,B", "I3,2025-06-04T08:00:00Z,Z,E"],
    );

    // The graph: where each link was first seen.
    let ids =
        rows(&wh, &format!("SELECT anonymous_id, customer_id, CAST(first_seen AS VARCHAR), source FROM marts.identities WHERE dt = '{D3}' ORDER BY 1, 2"));
    assert_eq!(
        ids,
        [
            ["Q", "C", "2025-06-04T11:00:00Z", "event"],
            ["X", "B", "2025-06-04T09:00:00Z", "identify"],
            ["Z", "A", "2025-06-02T12:00:00Z", "identify"],
            ["Z", "E", "2025-06-04T08:00:00Z", "identify"]
        ]
        .map(|r| r.map(String::from).to_vec())
    );
    // Each anonymous event linked once, in the partition of the night it was linked.
    let stitched = rows(&wh, "SELECT CAST(dt AS VARCHAR) AS night, event_id, customer_id FROM marts.stitched_events ORDER BY dt, event_id");
    assert_eq!(
        stitched,
        [
            [D1, "E13", "A"], // tonight's link
            [D2, "E20", "A"],
            [D3, "E10", "B"], // D1's browsing, once X is B
            [D3, "E11", "B"],
            [D3, "E12", "B"],
            [D3, "E31", "A"], // before E's link on the shared device
            [D3, "E32", "E"], // from E's link on
        ]
        .map(|r| r.map(String::from).to_vec())
    );
    // Q's view of D0 is before the 2-day lookback: not counted for C.
    assert_eq!(count(&wh.url, "SELECT count(*) FROM marts.stitched_events WHERE event_id = 'E00'"), 0);

    // B's events per day: D1's anonymous session counted on the night of the link.
    let b = rows(
        &wh,
        "SELECT CAST(dt AS VARCHAR) AS night, CAST(day AS VARCHAR) AS d, events, sessions, product_views, add_to_carts, cart_sessions \
         FROM marts.customer_events_day WHERE customer_id = 'B' ORDER BY day",
    );
    assert_eq!(b, [[D3, D1, "3", "1", "1", "1", "1"], [D3, D3, "1", "1", "0", "0", "0"]].map(|r| r.map(String::from).to_vec()));
    // Profiles: B's views and carts include D1's, A's include Z's views before E's link.
    let profile = |c: &str| {
        rows(
            &wh,
            &format!(
                "SELECT sessions_7d, product_views_7d, add_to_carts_7d, CAST(last_visit_date AS VARCHAR) FROM marts.user_profiles \
                 WHERE dt = '{D3}' AND customer_id = '{c}'"
            ),
        )
    };
    assert_eq!(profile("B"), [["2", "1", "1", D3].map(String::from).to_vec()]);
    assert_eq!(profile("A"), [["3", "2", "0", D3].map(String::from).to_vec()]);
    assert_eq!(profile("E"), [["1", "1", "0", D3].map(String::from).to_vec()]);
    // B's recommendations come from B's own (stitched) history: P1 viewed, so P2, its neighbour.
    let recs = rows(&wh, &format!("SELECT product_id, source FROM marts.product_recommendations WHERE dt = '{D3}' AND customer_id = 'B' ORDER BY rank"));
    assert_eq!(recs.first(), Some(&vec!["P2".to_string(), "history".to_string()]), "{recs:?}");

    // A full refresh of D3 gives the same tables.
    let snapshot = |wh: &LocalWh| {
        (
            rows(wh, &format!("SELECT * FROM marts.customer_events_day WHERE dt = '{D3}' ORDER BY customer_id, day")),
            rows(wh, &format!("SELECT * FROM marts.user_profiles WHERE dt = '{D3}' ORDER BY customer_id")),
            rows(wh, &format!("SELECT * FROM marts.identities WHERE dt = '{D3}' ORDER BY anonymous_id, customer_id")),
            rows(wh, &format!("SELECT * FROM marts.stitched_events WHERE dt = '{D3}' ORDER BY event_id")),
        )
    };
    let before = snapshot(&wh);
    ok(&wh.url, &["--config", &cfg, "run", "--date", D3, "--jobs", "daily_aggregates,user_profiles", "--full-refresh"]);
    assert_eq!(snapshot(&wh), before);
}

/// A first load puts a year of a 20,000-customer shop's events into one night: about 137,000
/// of them anonymous. The night's stitching sorts those within a 256 MB memory limit. (With
/// `NOT IN`, DataFusion's null-aware anti join handed the sort one batch of them all, which it
/// counted many times over and gave up on: "Failed to allocate additional 560.0 MB".)
#[test]
fn a_first_load_of_a_year_stitches_within_a_small_memory_limit() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "20000", "--days", "365", "--start", "2025-12-07", "--first-load"]);
    let cfg = wh.path("ecomwh.toml");
    std::fs::write(&cfg, "memory_limit = \"256MB\"\n").unwrap();
    let cfg = cfg.to_string_lossy().to_string();
    ok(&wh.url, &["--config", &cfg, "run", "--date", "2026-12-06", "--jobs", "staging,daily_aggregates"]);
    let anonymous = count(&wh.url, "SELECT count(*) FROM marts.anonymous_events WHERE dt = '2026-12-06'");
    let unlinked = count(
        &wh.url,
        "SELECT count(*) FROM staging.events e WHERE dt = '2026-12-06' AND customer_id IS NULL AND anonymous_id IS NOT NULL \
         AND anonymous_id NOT IN (SELECT anonymous_id FROM marts.identities WHERE dt = '2026-12-06')",
    );
    assert!(anonymous > 100_000, "{anonymous} anonymous events");
    assert_eq!(anonymous, unlinked);
}
