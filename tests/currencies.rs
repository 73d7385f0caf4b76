//! Currencies: a shop in EUR with USD, GBP and SEK orders. Rates come from the European Central
//! Bank's reference-rate CSV (the historical file on the first night, the daily file after),
//! written here in the format the ECB publishes at
//! https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html
//! Every mart's money must equal the amounts converted by hand at the rate of each order day
//! (the latest earlier one on weekends), rounded to the cent.

mod common;
use common::raw_header::*;
use common::*;

use chrono::{Datelike, NaiveDate};

const N1: &str = "2025-03-14"; // Friday: the first load
const N2: &str = "2025-03-15"; // Saturday: the ECB has no new rate
const N3: &str = "2025-03-17"; // Monday

/// The test's rates, units per euro, for weekdays from 2025-03-03.
fn rate(currency: &str, day: NaiveDate) -> f64 {
    let k = (day - NaiveDate::from_ymd_opt(2025, 3, 3).unwrap()).num_days() as f64;
    match currency {
        "USD" => 1.08 + 0.001 * k,
        "JPY" => 160.0 + k,
        "GBP" => 0.84 + 0.0005 * k,
        "SEK" => 11.0 + 0.01 * k,
        _ => unreachable!(),
    }
}

/// The rate that applies on `day`: that of the latest weekday on or before it.
fn rate_on(currency: &str, mut day: NaiveDate) -> f64 {
    if currency == "EUR" {
        return 1.0;
    }
    while day.weekday().number_from_monday() > 5 {
        day = day.pred_opt().unwrap();
    }
    rate(currency, day)
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn weekdays(from: &str, to: &str) -> Vec<NaiveDate> {
    d(from).iter_days().take_while(|x| *x <= d(to)).filter(|x| x.weekday().number_from_monday() <= 5).collect()
}

/// eurofxref-hist.csv: newest first, ISO dates, `N/A` where a currency has no rate (here a
/// retired one, CYP), a trailing comma.
fn ecb_history(days: &[NaiveDate], currencies: &[&str]) -> String {
    let mut s = format!("Date,CYP,{},\n", currencies.join(","));
    for day in days.iter().rev() {
        let cells: Vec<String> = currencies.iter().map(|c| format!("{:.4}", rate(c, *day))).collect();
        s.push_str(&format!("{},N/A,{},\n", day.format("%Y-%m-%d"), cells.join(",")));
    }
    s
}

/// eurofxref.csv: "Date, USD, ..." with spaces, the date spelt out, a trailing ", ".
fn ecb_daily(day: NaiveDate, currencies: &[&str]) -> String {
    let cells: Vec<String> = currencies.iter().map(|c| format!("{:.4}", rate(c, day))).collect();
    format!("Date, {}, \n{}, {}, \n", currencies.join(", "), day.format("%d %B %Y"), cells.join(", "))
}

/// An order: (id, customer, order_ts, status, currency, total, shipping, refunded, lines of (product, qty, unit price)).
type Order<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, f64, f64, f64, Vec<(&'a str, i64, f64)>);

fn order_row(o: &Order, updated: &str) -> String {
    let refunded = if o.7 > 0.0 { format!("{:.2}", o.7) } else { String::new() };
    format!("{},{},{},{},{},{:.2},0.00,{:.2},{refunded},web,DE,{updated}", o.0, o.1, o.2, o.3, o.4, o.5, o.6)
}

fn item_rows(o: &Order) -> Vec<String> {
    o.8.iter().enumerate().map(|(i, (p, q, u))| format!("{},{},{p},{q},{u:.2},0.00", o.0, i + 1)).collect()
}

/// Net revenue in EUR of an order and its lines (product, revenue): the amounts as delivered,
/// converted at the day's rate and rounded to the cent once.
fn by_hand(o: &Order) -> (f64, Vec<(String, f64)>) {
    let r = rate_on(o.4, d(&o.2[..10]));
    let kept = if o.7 > 0.0 { 1.0 - o.7 / (o.5 - o.6) } else { 1.0 };
    let lines = o.8.iter().map(|(p, q, u)| (p.to_string(), cents(*q as f64 * u * kept / r))).collect();
    (cents((o.5 - o.6 - o.7) / r), lines)
}

fn write(wh: &LocalWh, rel: &str, body: &str) {
    let p = wh.path(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

fn night(wh: &LocalWh, cfg: &str, dt: &str, orders: &[String], items: &[String]) {
    if dt != N1 {
        wh.write_raw_csv("customers", dt, CUSTOMERS, &[]);
        wh.write_raw_csv("products", dt, PRODUCTS, &[]);
    }
    let o: Vec<&str> = orders.iter().map(String::as_str).collect();
    let i: Vec<&str> = items.iter().map(String::as_str).collect();
    wh.write_raw_csv("orders", dt, ORDERS, &o);
    wh.write_raw_csv("order_items", dt, ITEMS, &i);
    wh.write_raw_csv("events", dt, EVENTS, &[]);
    ok(&wh.url, &["--config", cfg, "run", "--date", dt, "--jobs", "staging,daily_aggregates,user_profiles,rfm_segments"]);
}

fn config(wh: &LocalWh, base: Option<&str>) -> String {
    let base = base.map(|b| format!("base_currency = \"{b}\"\n")).unwrap_or_default();
    let text = format!(
        "{base}[sources.shop]\npreset = \"ecomwh\"\nlocation = \"file://{}\"\n\n[sources.rates]\npreset = \"ecb\"\nlocation = \"file://{}\"\noptional = true\n",
        wh.path("raw").display(),
        wh.path("ecb").display()
    );
    let p = wh.path(if base.is_empty() { "plain.toml" } else { "ecomwh.toml" });
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_euro_shop_converts_every_order_at_its_days_ecb_rate() {
    let wh = local_wh();
    let cfg = config(&wh, Some("EUR"));
    wh.write_raw_csv(
        "customers",
        N1,
        CUSTOMERS,
        &[
            "A,a@example.com,Ann,Alpha,DE,2025-01-01T10:00:00Z,1990,f,true,2025-01-01T10:00:00Z",
            "B,b@example.com,Bob,Beta,US,2025-01-01T10:00:00Z,1985,m,true,2025-01-01T10:00:00Z",
            "C,c@example.com,Cat,Gamma,GB,2025-01-01T10:00:00Z,1995,f,true,2025-01-01T10:00:00Z",
        ],
    );
    wh.write_raw_csv(
        "products",
        N1,
        PRODUCTS,
        &["P1,Beans,Coffee,Acme,10.00,EUR,2025-01-01T00:00:00Z", "P2,Grinder,Coffee,Acme,60.00,EUR,2025-01-01T00:00:00Z"],
    );
    let o1: Order = ("O1", "A", "2025-03-10T10:00:00Z", "paid", "EUR", 25.0, 5.0, 0.0, vec![("P1", 2, 10.0)]);
    let o2: Order = ("O2", "B", "2025-03-12T15:00:00Z", "shipped", "USD", 113.5, 5.0, 0.0, vec![("P1", 1, 38.5), ("P2", 1, 70.0)]);
    let o3: Order = ("O3", "C", "2025-03-14T09:00:00Z", "paid", "GBP", 42.0, 0.0, 0.0, vec![("P2", 1, 42.0)]);
    // Saturday: Friday's rate. O5 is in a currency without any rate yet: held.
    let o4: Order = ("O4", "B", "2025-03-15T12:00:00Z", "paid", "USD", 54.25, 4.25, 0.0, vec![("P1", 2, 25.0)]);
    let o5: Order = ("O5", "A", "2025-03-15T13:00:00Z", "paid", "SEK", 100.0, 0.0, 0.0, vec![("P1", 1, 100.0)]);
    let o6: Order = ("O6", "C", "2025-03-17T10:00:00Z", "paid", "GBP", 21.0, 0.0, 0.0, vec![("P1", 1, 21.0)]);
    // On N3, O2 is refunded 10.85 USD in part.
    let o2r: Order = ("O2", "B", "2025-03-12T15:00:00Z", "shipped", "USD", 113.5, 5.0, 10.85, vec![("P1", 1, 38.5), ("P2", 1, 70.0)]);

    write(&wh, &format!("ecb/{N1}/eurofxref-hist.csv"), &ecb_history(&weekdays("2025-03-03", N1), &["USD", "JPY", "GBP"]));
    let rows = |os: &[&Order], at: &str| -> (Vec<String>, Vec<String>) {
        (os.iter().map(|o| order_row(o, at)).collect(), os.iter().flat_map(|o| item_rows(o)).collect())
    };
    let (o, i) = rows(&[&o1, &o2, &o3], "2025-03-14T18:00:00Z");
    // The preview converts with the rates of the same night's files (nothing staged yet).
    for (table, rows) in [("orders", o.clone()), ("order_items", i.clone())] {
        wh.write_raw_csv(table, N1, if table == "orders" { ORDERS } else { ITEMS }, &rows.iter().map(String::as_str).collect::<Vec<_>>());
    }
    wh.write_raw_csv("events", N1, EVENTS, &[]);
    let preview = ok(&wh.url, &["--config", &cfg, "sources", "preview", "--date", N1, "--source", "shop"]);
    assert!(preview.contains("-> orders: 1 file(s), 3 row(s): 3 mapped, 0 quarantined"), "{preview}");
    night(&wh, &cfg, N1, &o, &i);
    let fx = wh.table_report(N1, "fx_rates");
    assert_eq!(fx["rows_out"], 40, "10 weekdays x (USD, JPY, GBP and EUR = 1): {fx}");

    // Saturday's daily file repeats Friday's rates: nothing new is staged. A broken line (two
    // fields where the header has four) is quarantined once.
    write(&wh, &format!("ecb/{N2}/eurofxref.csv"), &(ecb_daily(d(N1), &["USD", "JPY", "GBP"]) + "15 March 2025, 1.0900\n"));
    let (o, i) = rows(&[&o4, &o5], "2025-03-15T18:00:00Z");
    night(&wh, &cfg, N2, &o, &i);
    let fx = wh.table_report(N2, "fx_rates");
    assert_eq!((fx["rows_out"].as_u64(), fx["superseded"].as_u64(), fx["quarantined"].as_u64()), (Some(0), Some(4), Some(1)), "{fx}");
    let q = sql(&wh.url, &format!("SELECT reason FROM quarantine.fx_rates WHERE dt = '{N2}'"));
    assert!(q.len() == 1 && q[0]["reason"].starts_with("malformed CSV row"), "{q:?}");
    let held = sql(&wh.url, &format!("SELECT reason FROM quarantine.orders WHERE dt = '{N2}'"));
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["reason"], "unknown currency");

    // Monday: the daily file, and the history again, now with SEK: O5 is staged with the
    // rate of its Saturday (Friday's); the re-sent history stages only its new SEK rates.
    write(&wh, &format!("ecb/{N3}/eurofxref.csv"), &ecb_daily(d(N3), &["USD", "JPY", "GBP", "SEK"]));
    write(&wh, &format!("ecb/{N3}/eurofxref-hist.csv"), &ecb_history(&weekdays("2025-03-03", N1), &["USD", "JPY", "GBP", "SEK"]));
    // O7 is dated five weeks after the last USD rate: a stale rate is not used, it waits.
    let o7: Order = ("O7", "B", "2025-04-22T10:00:00Z", "paid", "USD", 10.0, 0.0, 0.0, vec![("P1", 1, 10.0)]);
    let (o, i) = rows(&[&o6, &o2r, &o7], "2025-03-17T18:00:00Z");
    night(&wh, &cfg, N3, &o, &i);
    let fx = wh.table_report(N3, "fx_rates");
    assert_eq!((fx["rows_out"].as_u64(), fx["superseded"].as_u64()), (Some(15), Some(40)), "{fx}");
    assert_eq!(wh.table_report(N3, "orders")["released"], 1);
    let q = sql(&wh.url, &format!("SELECT reason, raw FROM quarantine.orders WHERE dt = '{N3}'"));
    assert!(q.len() == 1 && q[0]["reason"] == "unknown currency" && q[0]["raw"].starts_with("O7,"), "{q:?}");

    // Staging keeps the amount as delivered and adds it in EUR.
    let s = sql(
        &wh.url,
        "SELECT order_id, currency, CAST(total_amount AS VARCHAR) AS t, CAST(total_amount_base AS VARCHAR) AS tb, fx_rate FROM staging.orders \
         WHERE order_id IN ('O1', 'O5') ORDER BY order_id",
    );
    assert_eq!((s[0]["t"].as_str(), s[0]["tb"].as_str()), ("25.00", "25.00"), "{s:?}");
    assert_eq!(s[0]["fx_rate"].parse::<f64>().unwrap(), 1.0);
    assert_eq!(s[1]["currency"], "SEK");
    assert_eq!(s[1]["tb"], format!("{:.2}", cents(100.0 / rate("SEK", d(N1)))));

    // Every mart, against the hand-converted figures.
    let orders = [&o1, &o2r, &o3, &o4, &o5, &o6];
    let mut per_customer_day: std::collections::BTreeMap<(String, String), f64> = Default::default();
    let mut per_customer: std::collections::BTreeMap<String, f64> = Default::default();
    let mut per_product_day: std::collections::BTreeMap<(String, String), f64> = Default::default();
    for o in orders {
        let (net, lines) = by_hand(o);
        *per_customer_day.entry((o.1.to_string(), o.2[..10].to_string())).or_default() += net;
        *per_customer.entry(o.1.to_string()).or_default() += net;
        for (p, rev) in lines {
            *per_product_day.entry((p, o.2[..10].to_string())).or_default() += rev;
        }
    }
    let current = |table: &str, key: &str, val: &str| -> std::collections::BTreeMap<(String, String), f64> {
        sql(
            &wh.url,
            &format!(
                "SELECT {key} AS k, CAST(day AS VARCHAR) AS day, CAST({val} AS DOUBLE) AS v FROM marts.{table} t \
                 WHERE dt = (SELECT max(dt) FROM marts.{table} m WHERE m.day = t.day AND m.{key} = t.{key} AND m.dt <= '{N3}')"
            ),
        )
        .into_iter()
        .map(|r| ((r["k"].clone(), r["day"].clone()), r["v"].parse().unwrap()))
        .collect()
    };
    let close = |a: f64, b: f64| (a - b).abs() < 0.005;
    let cod = current("customer_orders_day", "customer_id", "net_revenue");
    assert_eq!(cod.len(), per_customer_day.len(), "{cod:?}");
    for (k, v) in &per_customer_day {
        assert!(close(cod[k], *v), "customer_orders_day {k:?}: {} vs {v} by hand", cod[k]);
    }
    let pd = current("product_day", "product_id", "revenue");
    for (k, v) in &per_product_day {
        assert!(close(pd[k], *v), "product_day {k:?}: {} vs {v} by hand", pd[k]);
    }
    // Per customer, product and day: its current row is that of its newest partition.
    let cpd: f64 = sql(
        &wh.url,
        &format!(
            "SELECT sum(CAST(revenue AS DOUBLE)) AS v FROM marts.customer_product_day t WHERE dt = (SELECT max(dt) FROM marts.customer_product_day m \
             WHERE m.day = t.day AND m.customer_id = t.customer_id AND m.product_id = t.product_id AND m.dt <= '{N3}')"
        ),
    )[0]["v"]
        .parse()
        .unwrap();
    let lines_total: f64 = per_product_day.values().sum();
    assert!(close(cpd, lines_total), "customer_product_day {cpd} vs {lines_total}");
    for (table, col) in [("customer_order_totals", "net_revenue"), ("rfm_segments", "monetary"), ("user_profiles", "net_revenue")] {
        let got: std::collections::BTreeMap<String, f64> =
            sql(&wh.url, &format!("SELECT customer_id, CAST({col} AS DOUBLE) AS v FROM marts.{table} WHERE dt = '{N3}'"))
                .into_iter()
                .map(|r| (r["customer_id"].clone(), r["v"].parse().unwrap()))
                .collect();
        for (c, v) in &per_customer {
            assert!(close(got[c], *v), "{table}.{col} of {c}: {} vs {v} by hand", got[c]);
        }
    }
    // A full refresh gives the same.
    ok(&wh.url, &["--config", &cfg, "run", "--date", N3, "--jobs", "daily_aggregates,rfm_segments", "--full-refresh"]);
    let again = current("customer_orders_day", "customer_id", "net_revenue");
    assert_eq!(again, cod);
}

#[test]
fn without_a_base_currency_two_currencies_stop_the_night() {
    let wh = local_wh();
    let cfg = config(&wh, None);
    wh.write_raw_csv("customers", N1, CUSTOMERS, &["A,a@example.com,Ann,Alpha,DE,2025-01-01T10:00:00Z,1990,f,true,2025-01-01T10:00:00Z"]);
    wh.write_raw_csv("products", N1, PRODUCTS, &["P1,Beans,Coffee,Acme,10.00,EUR,2025-01-01T00:00:00Z"]);
    wh.write_raw_csv(
        "orders",
        N1,
        ORDERS,
        &[
            "O1,A,2025-03-14T10:00:00Z,paid,EUR,10.00,0.00,0.00,,web,DE,2025-03-14T10:00:00Z",
            "O2,A,2025-03-14T11:00:00Z,paid,usd,10.00,0.00,0.00,,web,DE,2025-03-14T11:00:00Z",
        ],
    );
    wh.write_raw_csv("order_items", N1, ITEMS, &[]);
    wh.write_raw_csv("events", N1, EVENTS, &[]);
    let out = run(&wh.url, &["--config", &cfg, "run", "--date", N1, "--jobs", "staging"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("base_currency") && err.contains("EUR, USD"), "{err}");
    assert!(!wh.path(&format!("staging/orders/dt={N1}")).exists(), "nothing half-published");
}
