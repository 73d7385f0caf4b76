//! A source with `settle_days` reads the files of the days before again each night (GA4's
//! export keeps changing a day for 3 days): rows added or changed since are staged, rows staged
//! already are superseded, a bad row is quarantined once, and the counts still add up.

mod common;
use common::raw_header::*;
use common::*;

const N1: &str = "2025-07-01";
const N2: &str = "2025-07-02";
const N3: &str = "2025-07-03";

fn ev(id: &str, ts: &str, kind: &str) -> String {
    format!("{id},{ts},A,XA,S-{id},{kind},,,https://shop.example.com/,google,mobile,iOS,DE,{{}}")
}

fn files(wh: &LocalWh, dt: &str, orders: &[&str], events: &[String]) {
    wh.write_raw_csv("customers", dt, CUSTOMERS, &[]);
    wh.write_raw_csv("products", dt, PRODUCTS, &[]);
    wh.write_raw_csv("orders", dt, ORDERS, orders);
    wh.write_raw_csv("order_items", dt, ITEMS, &[]);
    let e: Vec<&str> = events.iter().map(String::as_str).collect();
    wh.write_raw_csv("events", dt, EVENTS, &e);
}

fn run_night(wh: &LocalWh, cfg: &str, dt: &str) {
    ok(&wh.url, &["--config", cfg, "run", "--date", dt, "--jobs", "staging,daily_aggregates"]);
    // Every table's counts add up, re-read rows included.
    for t in wh.report(dt)["jobs"][0]["tables"].as_array().unwrap() {
        let n = |k: &str| t[k].as_u64().unwrap_or(0);
        assert_eq!(n("rows_in") + n("released"), n("rows_out") + n("quarantined") + n("superseded") + n("ignored"), "{dt}: {t}");
    }
}

#[test]
fn a_settling_source_restates_what_changed_without_duplicates() {
    let wh = local_wh();
    let cfg = wh.path("ecomwh.toml");
    std::fs::write(&cfg, format!("[sources.shop]\npreset = \"ecomwh\"\nlocation = \"file://{}\"\nsettle_days = 2\n", wh.path("raw").display())).unwrap();
    let cfg = cfg.display().to_string();
    let placed = "O1,A,2025-07-01T09:00:00Z,placed,EUR,20.00,0.00,0.00,,web,DE,2025-07-01T09:00:00Z";
    let paid = "O1,A,2025-07-01T09:00:00Z,paid,EUR,20.00,0.00,0.00,,web,DE,2025-07-02T01:00:00Z";
    files(
        &wh,
        N1,
        &[placed],
        &[ev("E1", "2025-07-01T10:00:00Z", "page_view"), ev("E2", "2025-07-01T10:01:00Z", "page_view"), ev("EX", "2025-07-01T10:02:00Z", "bogus")],
    );
    wh.write_raw_csv("customers", N1, CUSTOMERS, &["A,a@example.com,Ann,A,DE,2025-01-01T00:00:00Z,1990,f,true,2025-01-01T00:00:00Z"]);
    wh.write_raw_csv("products", N1, PRODUCTS, &["P1,Beans,Coffee,Acme,10.00,EUR,2025-01-01T00:00:00Z"]);
    run_night(&wh, &cfg, N1);
    assert_eq!(count(&wh.url, &format!("SELECT count(*) FROM quarantine.events WHERE dt = '{N1}'")), 1);

    // Night 2: the feed rewrote day 1 in time order: two late hits (E0 on the first line, which
    // moves the bad row EX down; E3 last) and the order, now paid.
    files(
        &wh,
        N1,
        &[paid],
        &[
            ev("E0", "2025-07-01T09:59:00Z", "page_view"),
            ev("E1", "2025-07-01T10:00:00Z", "page_view"),
            ev("E2", "2025-07-01T10:01:00Z", "page_view"),
            ev("EX", "2025-07-01T10:02:00Z", "bogus"),
            ev("E3", "2025-07-01T23:00:00Z", "page_view"),
        ],
    );
    files(&wh, N2, &[], &[ev("E4", "2025-07-02T08:00:00Z", "page_view")]);
    run_night(&wh, &cfg, N2);
    let staged = |dt: &str| -> Vec<String> {
        sql(&wh.url, &format!("SELECT event_id FROM staging.events WHERE dt = '{dt}' ORDER BY event_id")).into_iter().map(|r| r["event_id"].clone()).collect()
    };
    assert_eq!(staged(N2), ["E0", "E3", "E4"], "day 1's new hits and day 2's; not day 1's again");
    let events = wh.table_report(N2, "events");
    assert_eq!((events["rows_in"].as_u64(), events["superseded"].as_u64(), events["quarantined"].as_u64()), (Some(6), Some(3), Some(0)), "{events}");
    assert_eq!(count(&wh.url, &format!("SELECT count(*) FROM quarantine.events WHERE dt = '{N2}'")), 0, "the bad row is quarantined once");
    let o = sql(&wh.url, "SELECT CAST(dt AS VARCHAR) AS dt, status FROM staging.orders ORDER BY dt");
    assert_eq!(o.iter().map(|r| (r["dt"].as_str(), r["status"].as_str())).collect::<Vec<_>>(), [(N1, "placed"), (N2, "paid")]);
    // Day 1 counts each of its events once over the partitions.
    assert_eq!(count(&wh.url, &format!("SELECT sum(events) FROM marts.customer_events_day WHERE customer_id = 'A' AND day = '{N1}'")), 4);

    // Night 3: days 1 and 2 read again, unchanged: nothing of them is staged again.
    files(&wh, N3, &[], &[ev("E5", "2025-07-03T08:00:00Z", "page_view")]);
    run_night(&wh, &cfg, N3);
    assert_eq!(staged(N3), ["E5"]);
    assert_eq!(count(&wh.url, &format!("SELECT count(*) FROM staging.orders WHERE dt = '{N3}'")), 0);
    assert_eq!(wh.table_report(N3, "events")["superseded"], 6, "day 1's five rows and day 2's E4, read again");
}
