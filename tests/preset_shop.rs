//! The same generated shop, written as Shopify's order export plus a Segment log and read
//! through those presets, gives the same marts as in ecomwh's own layout. What cannot match is
//! stated where it is left out:
//! - Shopify's export knows customers only through their orders, by lower-cased email: the
//!   own layout's customer ids are translated to emails, and customers without an order exist
//!   only in the own layout;
//! - it has no product categories (category marts and category series are left out) and no
//!   sales channel for marketplace orders (`purchases_marketplace`);
//! - events of customers the export does not know (they never ordered) are quarantined; the
//!   buyers' events per day match, sessions included (Segment's by the 30-minute rule).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;

const LAST: &str = "2024-02-29";

/// Sorted rows of `query` as text, with `customer_id` translated by `ids` when given.
fn rows(wh: &str, query: &str, ids: Option<&BTreeMap<String, String>>) -> Vec<String> {
    let mut out: Vec<String> = sql(wh, query)
        .into_iter()
        .map(|mut r| {
            if let (Some(ids), Some(c)) = (ids, r.get("customer_id").cloned()) {
                r.insert("customer_id".into(), ids.get(&c).cloned().unwrap_or(format!("untranslated {c}")));
            }
            r.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_shop_read_from_shopify_and_segment_files_gives_the_marts_of_its_own_layout() {
    let wh = local_wh();
    let out = ok(&wh.url, &["generate", "--customers", "1500", "--days", "60", "--start", "2024-01-01", "--first-load", "--preset", "shopify_csv,segment"]);
    assert!(out.contains("[sources.shopify_csv]") && out.contains("[sources.segment]"), "{out}");
    // The feeds are where the presets look by default; nothing in the own layout.
    assert!(std::fs::read_dir(wh.path(&format!("raw/shopify_csv/{LAST}"))).unwrap().count() >= 1);
    assert!(std::fs::read_dir(wh.path("raw/segment/1709164800000")).unwrap().count() >= 1);
    assert!(!wh.path("raw/orders").exists() && !wh.path("raw/events").exists());

    let cfg = wh.path("_generator/sources.toml").display().to_string();
    let own = format!("{}/_generator/own", wh.url);
    let jobs = "staging,daily_aggregates,rfm_segments,association_rules,sales_forecast";
    ok(&wh.url, &["--config", &cfg, "run", "--date", LAST, "--jobs", jobs]);
    ok(&own, &["run", "--date", LAST, "--jobs", jobs]);
    // Events of customers without an order are quarantined, nothing else.
    let reasons = rows(&wh.url, "SELECT DISTINCT reason FROM quarantine.events", None);
    assert_eq!(reasons, ["reason=unknown customer_id"]);

    // Own ids -> the emails Shopify's export keys customers by.
    let ids: BTreeMap<String, String> = sql(&own, "SELECT customer_id, lower(trim(email)) AS email FROM staging.customers")
        .into_iter()
        .map(|r| (r["customer_id"].clone(), r["email"].clone()))
        .collect();
    let buyers: BTreeSet<String> = sql(&wh.url, "SELECT customer_id FROM staging.customers").into_iter().map(|r| r["customer_id"].clone()).collect();
    assert!(buyers.len() > 500 && buyers.len() < ids.len(), "{} of {} customers ordered", buyers.len(), ids.len());

    // (Shopify's export gives a refunded order's whole total as refunded; only purchases' refunds count.)
    let q = "SELECT order_id, customer_id, order_ts, status, total_amount, discount_amount, shipping_amount, \
             CASE WHEN status IN ('paid', 'shipped') THEN coalesce(refunded_amount, 0) END AS refunded FROM staging.orders";
    let (orders, own_orders) = (rows(&wh.url, q, None), rows(&own, q, Some(&ids)));
    assert!(orders.len() > 1000, "{} orders", orders.len());
    assert_eq!(orders, own_orders);
    let partial = count(&wh.url, "SELECT count(*) FROM staging.orders WHERE status IN ('paid', 'shipped') AND refunded_amount > 0");
    assert!(partial > 0, "the sample shop's partial refunds reach staging through the export");

    let same = |query: &str, per_customer: bool| {
        let a = rows(&wh.url, query, None);
        let mut b = rows(&own, query, per_customer.then_some(&ids));
        if per_customer {
            // Customers without an order are not in Shopify's export.
            b.retain(|r| buyers.iter().any(|c| r.contains(&format!("customer_id={c} "))));
        }
        assert!(!a.is_empty(), "{query}");
        assert_eq!(a.len(), b.len(), "{query}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "{query}");
        }
    };
    same("SELECT * EXCLUDE (purchases_marketplace) FROM marts.customer_orders_day", true);
    same("SELECT * FROM marts.customer_order_totals", true);
    same("SELECT * FROM marts.customer_events_day", true);
    same("SELECT * EXCLUDE (category) FROM marts.product_day", false);
    same("SELECT customer_id, recency_days, frequency, monetary, repeat_purchase_days, days_first_to_last_purchase FROM marts.rfm_segments", true);
    same("SELECT * FROM marts.association_rules", false);
    // Sums in another order differ in the last bits of a double, which the models' fits carry on.
    let q = "SELECT series_key, measure, grain, period_start, model, yhat, yhat_lo95, yhat_hi95 FROM marts.sales_forecast \
             WHERE series_key NOT LIKE 'category%'";
    assert_rows_close(&rows(&wh.url, q, None), &rows(&own, q, None), 1e-6, q);
}

#[test]
fn a_shop_whose_events_come_from_rudderstack_gives_the_same_event_marts() {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "800", "--days", "20", "--start", "2024-02-10", "--first-load", "--preset", "rudderstack"]);
    // RudderStack's day folders; the other tables in the own layout, with the shop's own ids.
    assert!(std::fs::read_dir(wh.path(&format!("raw/rudderstack/{LAST}"))).unwrap().count() >= 1);
    assert!(wh.path(&format!("raw/orders/dt={LAST}")).exists() && !wh.path("raw/events").exists());
    let cfg = wh.path("_generator/sources.toml").display().to_string();
    let own = format!("{}/_generator/own", wh.url);
    ok(&wh.url, &["--config", &cfg, "run", "--date", LAST, "--jobs", "staging,daily_aggregates"]);
    ok(&own, &["run", "--date", LAST, "--jobs", "staging,daily_aggregates"]);
    for q in ["SELECT count(*) AS n FROM quarantine.events", "SELECT count(*) AS n FROM staging.identifies"] {
        assert_eq!(rows(&wh.url, q, None), rows(&own, q, None), "{q}");
    }
    // Sessions come from the SDK's context.sessionId: the same sessions as the shop's own.
    let q = "SELECT * FROM marts.customer_events_day";
    let (a, b) = (rows(&wh.url, q, None), rows(&own, q, None));
    assert!(a.len() > 100, "{} rows", a.len());
    assert_eq!(a, b);
}
