//! The same generated shop, written as a shop platform's API objects (Shopify's Admin API
//! Orders, WooCommerce's REST orders) plus an event collector's log, read through those
//! presets, gives the same marts as in ecomwh's own layout. What cannot match is stated:
//! - the platforms' ids are numbers: the own layout's `C00000011` / `O0000000002` are `11` /
//!   `2` there, and customers without an order exist only in the own layout (an order object
//!   carries its customer);
//! - order objects have no product categories (category marts and series are left out);
//! - Shopify has no channel for marketplace orders (`purchases_marketplace`); WooCommerce
//!   tells only its own checkout from the rest (app orders come through the REST API), so
//!   `purchases_app` and `purchases_marketplace` are left out there.

mod common;

use std::collections::BTreeSet;

use common::*;

const LAST: &str = "2024-02-29";

/// The platform's id of an own-layout id: its number.
fn number(id: &str) -> String {
    id.get(1..).and_then(|n| n.parse::<u64>().ok()).map(|n| n.to_string()).unwrap_or(format!("untranslated {id}"))
}

/// Sorted rows of `query` as text; `ids` translates the own layout's customer and order ids.
fn rows(wh: &str, query: &str, ids: bool) -> Vec<String> {
    let mut out: Vec<String> = sql(wh, query)
        .into_iter()
        .map(|mut r| {
            for k in ["customer_id", "order_id"] {
                if let (true, Some(c)) = (ids, r.get(k).cloned()) {
                    r.insert(k.into(), number(&c));
                }
            }
            r.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
        })
        .collect();
    out.sort();
    out
}

/// Generate the shop as `presets`, run the nightly jobs on both layouts, compare.
fn same_marts_as_own_layout(presets: &str, platform: &str, channel_columns: &str) {
    let wh = local_wh();
    let out = ok(&wh.url, &["generate", "--customers", "1500", "--days", "60", "--start", "2024-01-01", "--first-load", "--preset", presets]);
    assert!(out.contains(&format!("[sources.{platform}]")), "{out}");
    assert!(std::fs::read_dir(wh.path(&format!("raw/{platform}/{LAST}"))).unwrap().count() >= 1);
    assert!(!wh.path("raw/orders").exists() && !wh.path("raw/customers").exists());

    let cfg = wh.path("_generator/sources.toml").display().to_string();
    let own = format!("{}/_generator/own", wh.url);
    let jobs = "staging,daily_aggregates,rfm_segments,association_rules,sales_forecast";
    ok(&wh.url, &["--config", &cfg, "run", "--date", LAST, "--jobs", jobs]);
    ok(&own, &["run", "--date", LAST, "--jobs", jobs]);
    // Events of customers who never ordered are quarantined (the platform does not know them).
    let reasons = rows(&wh.url, "SELECT DISTINCT reason FROM quarantine.events", false);
    assert_eq!(reasons, ["reason=unknown customer_id"]);
    for t in ["orders", "order_items", "customers", "products"] {
        assert_eq!(count(&wh.url, &format!("SELECT count(*) FROM quarantine.{t}")), 0, "{t}");
    }

    let buyers: BTreeSet<String> = sql(&wh.url, "SELECT customer_id FROM staging.customers").into_iter().map(|r| r["customer_id"].clone()).collect();
    let all = count(&own, "SELECT count(DISTINCT customer_id) FROM staging.customers") as usize;
    assert!(buyers.len() > 300 && buyers.len() < all, "{} of {all} customers ordered", buyers.len());

    // Orders with their real updated_at; refunds of purchases (a refunded order's are its total).
    let q = "SELECT order_id, customer_id, order_ts, status, total_amount, discount_amount, shipping_amount, country, updated_at, \
             CASE WHEN status IN ('paid', 'shipped') THEN coalesce(refunded_amount, 0) END AS refunded FROM staging.orders";
    let (orders, own_orders) = (rows(&wh.url, q, false), rows(&own, q, true));
    assert!(orders.len() > 500, "{} orders", orders.len());
    assert_eq!(orders, own_orders);
    let partial = count(&wh.url, "SELECT count(*) FROM staging.orders WHERE status IN ('paid', 'shipped') AND refunded_amount > 0");
    assert!(partial > 0, "the sample shop's partial refunds reach staging");
    let q = "SELECT order_id, line_no, product_id, quantity, unit_price, discount FROM staging.order_items";
    assert_eq!(rows(&wh.url, q, false), rows(&own, q, true));

    let same = |query: &str, per_customer: bool| {
        let a = rows(&wh.url, query, false);
        let mut b = rows(&own, query, per_customer);
        if per_customer {
            b.retain(|r| buyers.iter().any(|c| r.contains(&format!("customer_id={c} "))));
        }
        assert!(!a.is_empty(), "{query}");
        assert_eq!(a.len(), b.len(), "{query}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{query}");
        }
    };
    same(&format!("SELECT * EXCLUDE ({channel_columns}) FROM marts.customer_orders_day"), true);
    same("SELECT * FROM marts.customer_order_totals", true);
    same("SELECT * FROM marts.customer_events_day", true);
    same("SELECT * EXCLUDE (category) FROM marts.product_day", false);
    same("SELECT customer_id, recency_days, frequency, monetary, repeat_purchase_days, days_first_to_last_purchase FROM marts.rfm_segments", true);
    same("SELECT * FROM marts.association_rules", false);
    let q = "SELECT series_key, measure, grain, period_start, model, yhat, yhat_lo95, yhat_hi95 FROM marts.sales_forecast \
             WHERE series_key NOT LIKE 'category%'";
    assert_rows_close(&rows(&wh.url, q, false), &rows(&own, q, false), 1e-6, q);
}

#[test]
fn a_shop_read_from_shopify_api_orders_gives_the_marts_of_its_own_layout() {
    same_marts_as_own_layout("shopify_json,rudderstack", "shopify_json", "purchases_marketplace");
}

#[test]
fn a_shop_read_from_woocommerce_api_orders_gives_the_marts_of_its_own_layout() {
    same_marts_as_own_layout("woocommerce_json,segment", "woocommerce_json", "purchases_app, purchases_marketplace");
}

/// Generate the shop's events as `preset` (an analytics export that does not see the email
/// tool's opens and clicks), run the event jobs on both layouts, compare: the same customer
/// days of browsing and buying, with the same sessions, views, carts, searches, checkouts and
/// purchases; the counts that include email events (events, sessions, device sessions, active
/// hours, last event) are left out.
fn same_event_marts_as_own_layout(preset: &str) {
    let wh = local_wh();
    let last = "2024-02-29";
    ok(&wh.url, &["generate", "--customers", "800", "--days", "20", "--start", "2024-02-10", "--first-load", "--preset", preset]);
    assert!(wh.path(&format!("raw/orders/dt={last}")).exists() && !wh.path("raw/events").exists());
    let cfg = wh.path("_generator/sources.toml").display().to_string();
    let own = format!("{}/_generator/own", wh.url);
    ok(&wh.url, &["--config", &cfg, "run", "--date", last, "--jobs", "staging,daily_aggregates"]);
    ok(&own, &["run", "--date", last, "--jobs", "staging,daily_aggregates"]);
    // Everything the export wrote is staged or ignored on purpose (GA4's session_start).
    assert_eq!(count(&wh.url, "SELECT count(*) FROM quarantine.events"), 0);
    let q = "SELECT event_id, event_ts, customer_id, event_type, product_id, search_query, page_url, device, country FROM staging.events \
             WHERE event_type NOT IN ('email_open', 'email_click')";
    let (a, b) = (rows(&wh.url, q, false).len(), rows(&own, q, false).len());
    assert!(a > 1000 && a == b, "{a} events from the export, {b} in the own layout");

    let browsing = "SELECT customer_id, day, page_views, product_views, searches, add_to_carts, remove_from_carts, checkout_starts, \
                    purchase_events, view_sessions, cart_sessions, purchase_sessions, cart_purchase_sessions, search_terms \
                    FROM marts.customer_events_day WHERE page_views + product_views + searches + add_to_carts + checkout_starts + purchase_events > 0";
    let (a, b) = (rows(&wh.url, browsing, false), rows(&own, browsing, false));
    assert!(a.len() > 200, "{} customer days", a.len());
    assert_eq!(a, b);
    let q = "SELECT * FROM marts.product_day";
    assert_eq!(rows(&wh.url, q, false), rows(&own, q, false));
}

#[test]
fn a_shop_whose_events_come_from_ga4_gives_the_same_browsing_marts() {
    same_event_marts_as_own_layout("ga4");
}

#[test]
fn a_shop_whose_events_come_from_snowplow_gives_the_same_browsing_marts() {
    same_event_marts_as_own_layout("snowplow");
}
