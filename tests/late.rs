//! Late-arriving references: an order whose customer arrives nights later is held, tried again
//! each night for `late_days`, and staged (with its own order_ts) on the night the customer
//! arrives; one whose customer never comes stays quarantined. Counts add up every night.

mod common;
use common::raw_header::*;
use common::*;

const NIGHTS: [&str; 5] = ["2025-06-01", "2025-06-02", "2025-06-03", "2025-06-04", "2025-06-05"];
/// Orders without the optional refunded_amount column.
const ORDERS_NO_REFUNDS: &str = "order_id,customer_id,order_ts,status,currency,total_amount,discount_amount,shipping_amount,channel,country,updated_at";

/// (quarantined, released, held, staged) of a table in a night's run report, checking that its
/// counts add up.
fn counts(wh: &LocalWh, dt: &str, table: &str) -> (u64, u64, u64, u64) {
    let t = wh.table_report(dt, table);
    let n = |k: &str| t[k].as_u64().unwrap_or(0);
    assert_eq!(n("rows_in") + n("released"), n("rows_out") + n("quarantined") + n("superseded") + n("ignored"), "{dt} {table}: {t}");
    (n("quarantined"), n("released"), n("held"), n("rows_out"))
}

#[test]
fn an_order_waits_for_its_late_customer() {
    let wh = local_wh();
    let cfg = wh.path("ecomwh.toml");
    std::fs::write(&cfg, "[jobs.staging]\nlate_days = 3\n").unwrap();
    let c = cfg.to_str().unwrap();
    for (i, dt) in NIGHTS.iter().enumerate() {
        let (customers, orders, items): (Vec<&str>, Vec<&str>, Vec<&str>) = match i {
            // O1's customer B comes two nights late; O2's customer Z never does.
            0 => (
                vec!["A,a@example.com,Ann,A,DE,2025-01-01T00:00:00Z,1990,f,true,2025-01-01T00:00:00Z"],
                vec![
                    "O1,B,2025-06-01T09:00:00Z,paid,EUR,45.00,0.00,5.00,web,DE,2025-06-01T09:00:00Z",
                    "O2,Z,2025-06-01T10:00:00Z,paid,EUR,25.00,0.00,5.00,web,DE,2025-06-01T10:00:00Z",
                    "O3,A,2025-06-01T11:00:00Z,paid,EUR,15.00,0.00,5.00,web,DE,2025-06-01T11:00:00Z",
                ],
                vec!["O1,1,P1,4,10.00,0.00", "O2,1,P1,2,10.00,0.00", "O3,1,P1,1,10.00,0.00"],
            ),
            2 => (vec!["B,b@example.com,Bo,B,DE,2025-05-31T00:00:00Z,1985,m,true,2025-06-03T08:00:00Z"], vec![], vec![]),
            _ => (vec![], vec![], vec![]),
        };
        wh.write_raw_csv("customers", dt, CUSTOMERS, &customers);
        wh.write_raw_csv("products", dt, PRODUCTS, if i == 0 { &["P1,Beans,Coffee,Acme,10.00,EUR,2025-01-01T00:00:00Z"] } else { &[] });
        wh.write_raw_csv("orders", dt, ORDERS_NO_REFUNDS, &orders);
        wh.write_raw_csv("order_items", dt, ITEMS, &items);
        wh.write_raw_csv("events", dt, EVENTS, &[]);
        ok(&wh.url, &["--config", c, "run", "--date", dt, "--jobs", "staging,daily_aggregates,user_profiles,rfm_segments"]);
    }
    // Night 1: O1 and O2 quarantined and held (their items too: their orders are unknown).
    assert_eq!(counts(&wh, NIGHTS[0], "orders"), (2, 0, 2, 1));
    assert_eq!(counts(&wh, NIGHTS[0], "order_items"), (2, 0, 2, 1));
    // Night 2: tried again, still held, not quarantined twice.
    assert_eq!(counts(&wh, NIGHTS[1], "orders"), (0, 0, 2, 0));
    // Night 3: B arrives; O1 and its line are released, under O1's own order_ts.
    assert_eq!(counts(&wh, NIGHTS[2], "orders"), (0, 1, 1, 1));
    assert_eq!(counts(&wh, NIGHTS[2], "order_items"), (0, 1, 1, 1));
    let o1 = sql(&wh.url, "SELECT CAST(dt AS VARCHAR) AS dt, CAST(order_ts AS VARCHAR) AS ts, customer_id FROM staging.orders WHERE order_id = 'O1'");
    assert_eq!(o1.len(), 1);
    assert_eq!((o1[0]["dt"].as_str(), o1[0]["customer_id"].as_str()), (NIGHTS[2], "B"));
    assert!(o1[0]["ts"].starts_with("2025-06-01T09:00:00") || o1[0]["ts"].starts_with("2025-06-01 09:00:00"), "{o1:?}");
    // Night 4: O2's last try (held since night 1, late_days = 3); night 5 no longer tries it.
    assert_eq!(counts(&wh, NIGHTS[3], "orders"), (0, 0, 0, 0));
    assert_eq!(counts(&wh, NIGHTS[4], "orders"), (0, 0, 0, 0));
    // O2 is in quarantine once, from its own night; O1 too (it was quarantined, then released).
    let q = sql(&wh.url, "SELECT CAST(dt AS VARCHAR) AS dt, reason, raw FROM quarantine.orders ORDER BY raw");
    let got: Vec<(&str, &str)> = q.iter().map(|r| (r["dt"].as_str(), r["reason"].as_str())).collect();
    assert_eq!(got, [(NIGHTS[0], "unknown customer_id"), (NIGHTS[0], "unknown customer_id")]);
    assert!(q[0]["raw"].starts_with("O1,B") && q[1]["raw"].starts_with("O2,Z"), "{q:?}");

    // B's order counts on its own day, in the aggregates, profiles and RFM.
    let day = sql(
        &wh.url,
        &format!(
            "SELECT CAST(net_revenue AS VARCHAR) AS net, purchases, units FROM marts.customer_orders_day \
             WHERE customer_id = 'B' AND day = '{}' AND dt <= '{}' ORDER BY dt DESC LIMIT 1",
            NIGHTS[0], NIGHTS[4]
        ),
    );
    assert_eq!((day[0]["net"].as_str(), day[0]["purchases"].as_str(), day[0]["units"].as_str()), ("40.00", "1", "4"));
    let profile = sql(
        &wh.url,
        &format!("SELECT purchases, CAST(first_purchase_date AS VARCHAR) AS first FROM marts.user_profiles WHERE dt = '{}' AND customer_id = 'B'", NIGHTS[2]),
    );
    assert_eq!((profile[0]["purchases"].as_str(), profile[0]["first"].as_str()), ("1", NIGHTS[0]));
    let rfm =
        sql(&wh.url, &format!("SELECT CAST(monetary AS DOUBLE) AS m, recency_days FROM marts.rfm_segments WHERE dt = '{}' AND customer_id = 'B'", NIGHTS[2]));
    assert_eq!((rfm[0]["m"].parse::<f64>().unwrap(), rfm[0]["recency_days"].as_str()), (40.0, "2"));
    let product = sql(&wh.url, &format!("SELECT units FROM marts.product_day WHERE product_id = 'P1' AND day = '{}' ORDER BY dt DESC LIMIT 1", NIGHTS[0]));
    assert_eq!(product[0]["units"], "5", "O3's 1 and O1's 4");

    // Rerunning night 3 releases O1 again into night 3's partition, once.
    ok(&wh.url, &["--config", c, "run", "--date", NIGHTS[2], "--jobs", "staging"]);
    assert_eq!(counts(&wh, NIGHTS[2], "orders"), (0, 1, 1, 1));
    assert_eq!(count(&wh.url, "SELECT count(*) FROM staging.orders WHERE order_id = 'O1'"), 1);
    // Rerunning night 2 after night 3 released O1 does not try it again: only O2 is held.
    ok(&wh.url, &["--config", c, "run", "--date", NIGHTS[1], "--jobs", "staging"]);
    assert_eq!(counts(&wh, NIGHTS[1], "orders"), (0, 0, 1, 0));
    assert_eq!(counts(&wh, NIGHTS[1], "order_items"), (0, 0, 1, 0));
    assert_eq!(count(&wh.url, "SELECT count(*) FROM staging.order_items WHERE order_id = 'O1'"), 1);
}
