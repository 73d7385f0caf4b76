//! Partial refunds: an order refunded in part stays a purchase and counts its net of refund in
//! every mart (one definition of net revenue); bad refund amounts go to quarantine.

mod common;
use common::raw_header::*;
use common::*;

const D1: &str = "2025-05-01";
const D2: &str = "2025-05-02";
const D3: &str = "2025-05-03";

fn night(wh: &LocalWh, dt: &str, orders: &[&str], items: &[&str]) {
    if dt != D1 {
        wh.write_raw_csv("customers", dt, CUSTOMERS, &[]);
        wh.write_raw_csv("products", dt, PRODUCTS, &[]);
    }
    wh.write_raw_csv("orders", dt, ORDERS, orders);
    wh.write_raw_csv("order_items", dt, "order_id,line_no,product_id,quantity,unit_price,discount", items);
    wh.write_raw_csv(
        "events",
        dt,
        "event_id,event_ts,customer_id,anonymous_id,session_id,event_type,product_id,search_query,page_url,referrer,device,os,country,properties",
        &[],
    );
    let jobs = "staging,daily_aggregates,user_profiles,rfm_segments";
    ok(&wh.url, &["run", "--date", dt, "--jobs", jobs]);
}

fn one(wh: &LocalWh, q: &str) -> String {
    let rows = sql(&wh.url, q);
    assert_eq!(rows.len(), 1, "{q}: {rows:?}");
    rows[0].values().next().unwrap().clone()
}

/// A buys on D1 (O0, 20.00 of goods) and on D2 (O1: 2 x P1 at 10.00 + 1 x P2 at 30.00 = 50.00 of
/// goods, 5.00 shipping, 55.00 total). On D3 O1 is refunded 15.00 in part and stays shipped:
/// net revenue 55 - 5 - 15 = 35.00; the goods keep 1 - 15/50 = 70% of their value (P1 14.00,
/// P2 21.00). Orders with a negative, unreadable or too large refund are quarantined.
#[test]
fn a_partial_refund_counts_net_in_every_mart() {
    let wh = local_wh();
    wh.write_raw_csv("customers", D1, CUSTOMERS, &["A,a@example.com,Ann,Alpha,DE,2025-01-01T10:00:00Z,1990,f,true,2025-01-01T10:00:00Z"]);
    wh.write_raw_csv(
        "products",
        D1,
        PRODUCTS,
        &["P1,Beans,Coffee,Acme,10.00,EUR,2025-01-01T00:00:00Z", "P2,Grinder,Coffee,Acme,30.00,EUR,2025-01-01T00:00:00Z"],
    );
    night(&wh, D1, &["O0,A,2025-05-01T09:00:00Z,shipped,EUR,25.00,0.00,5.00,,web,DE,2025-05-01T09:00:00Z"], &["O0,1,P1,2,10.00,0.00"]);
    night(&wh, D2, &["O1,A,2025-05-02T09:00:00Z,shipped,EUR,55.00,0.00,5.00,,web,DE,2025-05-02T09:00:00Z"], &["O1,1,P1,2,10.00,0.00", "O1,2,P2,1,30.00,0.00"]);
    let before = one(&wh, &format!("SELECT CAST(net_revenue AS VARCHAR) FROM marts.customer_orders_day WHERE dt = '{D2}' AND day = '{D2}'"));
    assert_eq!(before, "50.00");
    night(
        &wh,
        D3,
        &[
            "O1,A,2025-05-02T09:00:00Z,shipped,EUR,55.00,0.00,5.00,15.00,web,DE,2025-05-03T12:00:00Z",
            "O2,A,2025-05-03T09:00:00Z,paid,EUR,10.00,0.00,0.00,-1.00,web,DE,2025-05-03T09:00:00Z",
            "O3,A,2025-05-03T09:00:00Z,paid,EUR,10.00,0.00,0.00,ten,web,DE,2025-05-03T09:00:00Z",
            "O4,A,2025-05-03T09:00:00Z,paid,EUR,10.00,0.00,0.00,10.01,web,DE,2025-05-03T09:00:00Z",
        ],
        &[],
    );
    // Staged with its refund; the bad ones quarantined with their reasons.
    assert_eq!(one(&wh, &format!("SELECT CAST(refunded_amount AS VARCHAR) FROM staging.orders WHERE dt = '{D3}'")), "15.00");
    let reasons: Vec<String> =
        sql(&wh.url, &format!("SELECT reason FROM quarantine.orders WHERE dt = '{D3}' ORDER BY line_no")).into_iter().map(|r| r["reason"].clone()).collect();
    assert_eq!(reasons, ["negative refunded_amount", "unparseable refunded_amount", "refunded_amount above total_amount"]);

    // D2's customer-day is restated on D3 with the refund.
    let current = |table: &str, cols: &str, key: &str| {
        sql(
            &wh.url,
            &format!(
                "SELECT {cols} FROM marts.{table} t WHERE dt = (SELECT max(dt) FROM marts.{table} m WHERE m.day = t.day AND m.{key} = t.{key} AND m.dt <= '{D3}') \
                 AND day = '{D2}' ORDER BY {key}"
            ),
        )
    };
    let cod = current("customer_orders_day", "CAST(net_revenue AS VARCHAR) AS net, purchases, refunded", "customer_id");
    assert_eq!(cod.len(), 1);
    assert_eq!((cod[0]["net"].as_str(), cod[0]["purchases"].as_str(), cod[0]["refunded"].as_str()), ("35.00", "1", "0"), "a partial refund is no refund");
    let cpd = current("customer_product_day", "product_id, CAST(revenue AS VARCHAR) AS revenue, units", "product_id");
    let got: Vec<(&str, &str, &str)> = cpd.iter().map(|r| (r["product_id"].as_str(), r["revenue"].as_str(), r["units"].as_str())).collect();
    assert_eq!(got, [("P1", "14.00", "2"), ("P2", "21.00", "1")]);
    let pd = current("product_day", "product_id, CAST(revenue AS VARCHAR) AS revenue", "product_id");
    let got: Vec<(&str, &str)> = pd.iter().map(|r| (r["product_id"].as_str(), r["revenue"].as_str())).collect();
    assert_eq!(got, [("P1", "14.00"), ("P2", "21.00")]);

    // All-time totals, RFM monetary and the repeat purchase value CLV is fitted on.
    assert_eq!(one(&wh, &format!("SELECT CAST(net_revenue AS VARCHAR) FROM marts.customer_order_totals WHERE dt = '{D3}'")), "55.00");
    let rfm = sql(
        &wh.url,
        &format!("SELECT CAST(monetary AS DOUBLE) AS m, CAST(avg_repeat_purchase_value AS DOUBLE) AS r FROM marts.rfm_segments WHERE dt = '{D3}'"),
    );
    assert_eq!(rfm.len(), 1);
    assert_eq!(rfm[0]["m"].parse::<f64>().unwrap(), 55.0);
    assert_eq!(rfm[0]["r"].parse::<f64>().unwrap(), 35.0, "the repeat purchase counts net of its refund");
    let profile = one(&wh, &format!("SELECT CAST(net_revenue AS VARCHAR) FROM marts.user_profiles WHERE dt = '{D3}'"));
    assert_eq!(profile.parse::<f64>().unwrap(), 55.0);

    // A full refresh gives the same.
    ok(&wh.url, &["run", "--date", D3, "--jobs", "daily_aggregates,rfm_segments", "--full-refresh"]);
    assert_eq!(one(&wh, &format!("SELECT CAST(net_revenue AS VARCHAR) FROM marts.customer_order_totals WHERE dt = '{D3}'")), "55.00");
}
