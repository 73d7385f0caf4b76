//! `ecomwh generate`: a realistic, deterministic shop written as raw daily files.
//!
//! Customers sign up over time, buy at individual rates with weekly, yearly and holiday
//! seasonality, and eventually lapse (the BG/NBD story). Orders change status on later
//! days. Baskets carry planted co-purchase affinities (logged under `_generator/`). Web
//! sessions follow a funnel. Everything streams day by day: memory holds the customers'
//! state and the orders still in flight, never the output.

mod dirty;
pub mod model;
pub mod presets;
mod real_world;
mod reviews;
mod rows;
mod sink;

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};
use object_store::{ObjectStoreExt, PutPayload};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::schemas::{raw_contract, RAW_TABLES};
use crate::storage::warehouse::Warehouse;
use model::{seasonality, time_of_day, weighted, Catalogue, Customer, CATEGORIES, COUNTRIES, SEARCH_TERMS};
use rows::{event_row, order_row, partial_refund};
use sink::{Damage, TableSink};

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub customers: usize,
    pub days: u32,
    pub start: NaiveDate,
    pub seed: u64,
    pub dirty_rate: f64,
    pub formats: BTreeMap<String, String>,
    pub rows_per_file: usize,
    pub timezone: chrono_tz::Tz,
    /// Put all history into the last day's partition (a first load).
    pub first_load: bool,
    /// Write the first N days into day N's partition (a first load), the rest day by day.
    pub first_load_days: Option<u32>,
    /// With a dirty rate, damage a copy of the first row of every table too, so that every
    /// quarantine table has rows (the demo shows them all).
    pub damage_every_table: bool,
    /// Anonymous browsing before signup, customer rows arriving after their first order.
    pub real_world: bool,
    /// With a base currency, customers in GB and the US pay in GBP and USD, and `fx_rates`
    /// carries the rates (see `real_world.rs`).
    pub base_currency: Option<String>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GenerateSummary {
    pub customers: usize,
    pub products: usize,
    pub days: u32,
    pub first_date: String,
    pub last_date: String,
    /// Rows written per raw table (damaged copies included).
    pub rows: BTreeMap<String, u64>,
    pub damaged_rows: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    Placed,
    Paid,
    Shipped,
    Cancelled,
    Refunded,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Placed => "placed",
            Status::Paid => "paid",
            Status::Shipped => "shipped",
            Status::Cancelled => "cancelled",
            Status::Refunded => "refunded",
        }
    }
}

/// An order whose status may still change.
#[derive(Debug, Clone)]
struct Order {
    id: String,
    customer: usize,
    ts: i64,
    status: Status,
    total: i64,
    discount: i64,
    shipping: i64,
    /// Refunded so far (cents), by a partial refund.
    refunded: i64,
    currency: String,
    /// Catalogue indexes of its lines (what its customer may review).
    products: Vec<usize>,
}

const REFERRERS: [&str; 5] = ["google", "direct", "newsletter", "instagram", "partner"];

fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// All sinks of one day, plus the damage log.
struct Day<'a> {
    sinks: &'a mut HashMap<&'static str, TableSink>,
    columns: HashMap<&'static str, Vec<String>>,
    formats: &'a BTreeMap<String, String>,
    dirty_rate: f64,
    dirt: &'a mut ChaCha8Rng,
    extra: bool,
    ledger: &'a mut Vec<String>,
    /// Tables still owed a damaged row (`damage_every_table`).
    owed: &'a mut Vec<&'static str>,
}

impl Day<'_> {
    async fn emit(&mut self, table: &'static str, mut values: Vec<Option<String>>) -> Result<()> {
        if self.extra {
            values.push(Some("pos-eu-1".to_string()));
        }
        let sink = self.sinks.get_mut(table).expect("sink per table");
        sink.write(&values, Damage::None).await?;
        let owed = self.owed.iter().position(|t| *t == table);
        if self.dirty_rate > 0.0 && (self.dirt.gen::<f64>() < self.dirty_rate || owed.is_some()) {
            if let Some(i) = owed {
                self.owed.swap_remove(i);
            }
            let format = self.formats.get(table).map(String::as_str).unwrap_or("csv");
            let d = dirty::damage(table, format, &self.columns[table], &values, owed.is_some(), self.dirt);
            let (file, line) = sink.write(&d.values, d.damage).await?;
            self.ledger.push(format!("{table},{},{file},{line},{}", d.kind.name(), d.reason.unwrap_or_default()));
        }
        Ok(())
    }
}

pub async fn generate(wh: &Warehouse, o: &GenerateOptions) -> Result<GenerateSummary> {
    if o.customers == 0 || o.days == 0 {
        return Err(Error::Usage("--customers and --days must be at least 1".into()));
    }
    if !(0.0..=0.5).contains(&o.dirty_rate) {
        return Err(Error::Usage("--dirty-rate must be between 0 and 0.5".into()));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed);
    let mut dirt = ChaCha8Rng::seed_from_u64(o.seed ^ 0x5eed_d127);
    let n_products = (o.customers / 10).clamp(60, 50_000);
    let cat = Catalogue::new(n_products, &mut rng);
    let mut prices: Vec<i64> = cat.products.iter().map(|p| p.price_cents).collect();
    let days = o.days as i64;
    let mut customers: Vec<Customer> = (0..o.customers)
        .map(|i| {
            let signup = if rng.gen_bool(0.4) { -rng.gen_range(1..730) } else { rng.gen_range(0..days) };
            Customer::new(i, signup, &mut rng)
        })
        .collect();
    // With dirt, about one customer in 100 per 0.2% of dirty rate typed the address with a
    // typo the export's address check refuses (a dot before the @, two dots, a comma). Drawn
    // from the dirt stream, so everything else in the shop is the same at any dirty rate.
    if o.dirty_rate > 0.0 {
        let share = (o.dirty_rate * 5.0).min(0.05);
        for c in customers.iter_mut() {
            if dirt.gen::<f64>() < share {
                c.email_typo = dirt.gen_range(1..=3);
            }
        }
    }
    // Customers in signup order, so each day's new customers are a contiguous slice.
    customers.sort_by_key(|c| c.signup_day);

    let mut columns: HashMap<&'static str, Vec<String>> = HashMap::new();
    let extra = o.dirty_rate > 0.0;
    for t in RAW_TABLES {
        let mut cols: Vec<String> = raw_contract(t)?.columns.iter().map(|c| c.name.clone()).collect();
        if extra {
            cols.push("source_system".to_string());
        }
        columns.insert(t, cols);
    }
    let mut summary = GenerateSummary {
        customers: o.customers,
        products: n_products,
        days: o.days,
        first_date: o.start.to_string(),
        last_date: (o.start + Duration::days(days - 1)).to_string(),
        ..Default::default()
    };
    let mut ledger: Vec<String> = vec!["table,kind,file,line,reason".to_string()];
    let mut owed: Vec<&'static str> = if o.damage_every_table { RAW_TABLES.to_vec() } else { vec![] };
    let mut pending: BTreeMap<i64, Vec<Order>> = BTreeMap::new();
    let mut next_order = 0u64;
    let mut next_event = 0u64;
    let mut next_session = 0u64;
    let mut signed = 0usize; // customers[..signed] have signed up
    let offsets: Vec<FixedOffset> = COUNTRIES
        .iter()
        .map(|c| c.2.parse::<FixedOffset>().map_err(|e| Error::Config(format!("generator offset {} of {}: {e}", c.2, c.0))))
        .collect::<Result<_>>()?;
    let started = std::time::Instant::now();
    // Days [0, first_load) go into one partition, that of the last of them.
    let first_load = if o.first_load { days } else { o.first_load_days.map(|n| (n as i64).clamp(1, days)).unwrap_or(0) };
    let last_dt = (o.start + Duration::days(first_load.max(1) - 1)).format("%Y-%m-%d").to_string();
    let mut sinks: HashMap<&'static str, TableSink> = HashMap::new();
    let fx = o.base_currency.clone().map(|base| real_world::Fx { base });
    let base = o.base_currency.clone().unwrap_or_else(|| "EUR".to_string());
    // Customer rows held back (`--real-world`): until the customer's first visit (by index),
    // then until the night they arrive.
    let mut unsent: BTreeMap<usize, Vec<Option<String>>> = BTreeMap::new();
    let mut late_rows: BTreeMap<i64, Vec<Vec<Option<String>>>> = BTreeMap::new();
    let mut world = ChaCha8Rng::seed_from_u64(o.seed ^ 0x7ea1_0001);
    let mut reviews = reviews::Reviews::new(o.seed, &cat, days);

    for day in 0..days {
        let date = o.start + Duration::days(day);
        let dt = date.format("%Y-%m-%d").to_string();
        let midnight = o
            .timezone
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|t| t.timestamp())
            .unwrap_or_else(|| date.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp());
        let season = seasonality(date);
        if sinks.is_empty() {
            let part_dt = if day < first_load { &last_dt } else { &dt };
            for t in RAW_TABLES {
                let format = o.formats.get(*t).map(String::as_str).unwrap_or("csv");
                sinks.insert(t, TableSink::new(wh, t, part_dt, format, columns[t].clone(), o.rows_per_file));
            }
        }
        let mut d = Day {
            sinks: &mut sinks,
            columns: columns.clone(),
            formats: &o.formats,
            dirty_rate: o.dirty_rate,
            dirt: &mut dirt,
            extra,
            ledger: &mut ledger,
            owed: &mut owed,
        };
        let ts = |secs: i64, country: usize| -> String {
            let off = offsets[country];
            off.timestamp_opt(secs, 0).single().map(|t| t.to_rfc3339()).unwrap_or_default()
        };
        let shop_ts = |secs: i64| ts(secs, 0);

        // Products: the whole catalogue on the first day, then price changes.
        for (i, p) in cat.products.iter().enumerate() {
            let changed = day > 0 && rng.gen_bool(0.003);
            if changed {
                let f = rng.gen_range(0.85..1.15);
                prices[i] = ((prices[i] as f64) * f).round().max(99.0) as i64;
            }
            if day == 0 || changed {
                let at = midnight + time_of_day(&mut rng) as i64 / 4;
                d.emit(
                    "products",
                    vec![
                        Some(p.id.clone()),
                        Some(p.title.clone()),
                        Some(CATEGORIES[p.category].0.to_string()),
                        Some(p.brand.clone()),
                        Some(money(prices[i])),
                        Some(base.clone()),
                        Some(shop_ts(at)),
                    ],
                )
                .await?;
            }
        }

        // Exchange rates of the day (a week before it on the first day), on weekdays.
        if let Some(fx) = &fx {
            let from = if day == 0 { -7 } else { 0 };
            for back in from..=0 {
                let q = date + Duration::days(back);
                if real_world::is_weekday(q) {
                    for c in fx.quoted() {
                        d.emit("fx_rates", vec![Some(q.to_string()), Some(c.to_string()), Some(format!("{:.4}", fx.rate(c, q)))]).await?;
                    }
                }
            }
        }
        // Rows of customers who did not come back within three days are sent anyway.
        let overdue: Vec<usize> = unsent.keys().copied().filter(|i| customers[*i].signup_day + 3 <= day).collect();
        for i in overdue {
            if let Some(row) = unsent.remove(&i) {
                late_rows.entry(day).or_default().push(row);
            }
        }
        for row in late_rows.remove(&day).unwrap_or_default() {
            d.emit("customers", row).await?;
        }

        // Customers: sign-ups of the day (everyone earlier on the first day), then changes.
        let first_new = signed;
        while signed < customers.len() && customers[signed].signup_day <= day {
            signed += 1;
        }
        let mut changed: Vec<usize> = vec![];
        if day > 0 {
            let k = ((first_new as f64) * 0.001 * rng.gen_range(0.5..1.5)) as usize;
            for _ in 0..k.min(first_new) {
                let i = rng.gen_range(0..first_new);
                if rng.gen_bool(0.5) {
                    customers[i].consent = !customers[i].consent;
                } else {
                    customers[i].email_version += 1;
                }
                changed.push(i);
            }
        }
        for i in (first_new..signed).chain(changed) {
            let c = &customers[i];
            let signup_secs =
                if c.signup_day < 0 { midnight + c.signup_day * 86_400 + time_of_day(&mut rng) as i64 } else { midnight + time_of_day(&mut rng) as i64 / 2 };
            let updated = if i >= first_new { signup_secs.max(midnight) } else { midnight + time_of_day(&mut rng) as i64 };
            let row = vec![
                Some(c.id.clone()),
                Some(if rng.gen_bool(0.05) { format!("  {}  ", c.email().to_uppercase()) } else { c.email() }),
                Some(c.first_name.to_string()),
                Some(c.last_name.to_string()),
                Some(if rng.gen_bool(0.03) { COUNTRIES[c.country].0.to_lowercase() } else { COUNTRIES[c.country].0.to_string() }),
                Some(ts(signup_secs, c.country)),
                c.birth_year.map(|y| y.to_string()),
                c.gender.map(str::to_string),
                Some(c.consent.to_string()),
                Some(ts(updated, c.country)),
            ];
            // A new customer whose row the shop's CRM sends a night or two after their first visit.
            if o.real_world && i >= first_new && c.signup_day > 0 && real_world::late_nights(&c.id).is_some() {
                unsent.insert(i, row);
            } else {
                d.emit("customers", row).await?;
            }
        }

        // Future customers browsing anonymously a day or two before they sign up; they log
        // in on their signup visit, which links the browser's anonymous id to them.
        if o.real_world {
            let mut j = signed;
            while j < customers.len() && customers[j].signup_day <= day + 2 {
                let c = &customers[j];
                j += 1;
                if real_world::browsed_before(&c.id) != Some(c.signup_day - day) {
                    continue;
                }
                next_session += 1;
                let sid = format!("S{:011}", next_session);
                let mut at = midnight + time_of_day(&mut world) as i64;
                let views: Vec<usize> = (0..world.gen_range(1..4)).map(|_| cat.pick_in(c.fav[world.gen_range(0..2)], &mut world)).collect();
                let mut kinds: Vec<(&str, Option<usize>)> = vec![("page_view", None)];
                kinds.extend(views.iter().map(|v| ("product_view", Some(*v))));
                if world.gen_bool(0.3) {
                    kinds.push(("add_to_cart", Some(views[0])));
                }
                for (kind, pi) in kinds {
                    next_event += 1;
                    at += world.gen_range(5..120);
                    let pid = pi.map(|i| cat.products[i].id.as_str());
                    let mut row = event_row(next_event, ts(at, c.country), None, &sid, kind, pid, None, c.device, c.country, "google", &mut world);
                    row[3] = Some(format!("A{}", &c.id[1..]));
                    d.emit("events", row).await?;
                }
            }
        }

        // Suppressions: a few unsubscribes, bounces and complaints.
        let n_supp = ((signed as f64) * 0.0002 * rng.gen_range(0.5..1.5)).round() as usize;
        for _ in 0..n_supp.min(signed) {
            let c = &customers[rng.gen_range(0..signed)];
            let reason = ["unsubscribed", "unsubscribed", "bounced", "complained"][rng.gen_range(0..4)];
            let at = midnight + time_of_day(&mut rng) as i64;
            d.emit("suppressions", vec![Some(c.email()), Some(reason.into()), Some(shop_ts(at))]).await?;
        }

        // Orders changing status today.
        for mut ord in pending.remove(&day).unwrap_or_default() {
            let next = match ord.status {
                Status::Placed => {
                    if rng.gen_bool(0.3) {
                        Status::Cancelled
                    } else {
                        Status::Paid
                    }
                }
                Status::Paid => {
                    if rng.gen_bool(0.03) {
                        Status::Cancelled
                    } else {
                        Status::Shipped
                    }
                }
                Status::Shipped => match partial_refund(&ord) {
                    Some(cents) => {
                        ord.refunded = cents;
                        Status::Shipped
                    }
                    None => Status::Refunded,
                },
                _ => Status::Refunded,
            };
            let was = ord.status;
            ord.status = next;
            let at = midnight + time_of_day(&mut rng) as i64;
            let c = &customers[ord.customer];
            if was == Status::Paid && next == Status::Shipped {
                reviews.shipped(day, &ord.products, c, COUNTRIES[c.country].0 == "DE");
            }
            d.emit("orders", order_row(&ord, c, ts(ord.ts, c.country), ts(at, c.country))).await?;
            let later = match next {
                Status::Paid => Some(rng.gen_range(1..4)),
                Status::Shipped if ord.refunded == 0 && rng.gen_bool(0.05) => Some(rng.gen_range(5..21)),
                _ => None,
            };
            if let Some(k) = later {
                pending.entry(day + k).or_default().push(ord);
            }
        }

        for row in reviews.rows(day, &cat, &|secs| shop_ts(midnight + secs)) {
            d.emit("reviews", row).await?;
        }

        // New orders, their funnel sessions, browsing, email engagement.
        // By index: a purchase may end the customer (alive = false) while the loop reads it.
        #[allow(clippy::needless_range_loop)]
        for ci in 0..signed {
            let c = &customers[ci];
            if !c.alive {
                continue;
            }
            let mut p_buy = c.rate * season;
            if c.signup_day == day {
                p_buy += 0.35;
            }
            let buys = rng.gen::<f64>() < p_buy.min(0.9);
            let browses = !buys && rng.gen::<f64>() < (c.rate * 2.5 * season + 0.003).min(0.9);
            let campaign = c.consent && matches!(date.format("%a").to_string().as_str(), "Tue" | "Fri");
            if !(buys || browses || campaign) {
                continue;
            }
            let country = c.country;
            let device = c.device;
            if let Some(row) = unsent.remove(&ci) {
                late_rows.entry(day + real_world::late_nights(&c.id).unwrap_or(1)).or_default().push(row);
            }
            let session = |n: &mut u64| {
                *n += 1;
                format!("S{:011}", *n)
            };
            if campaign {
                let r: f64 = rng.gen();
                if r < 0.18 {
                    let at = midnight + 9 * 3600 + rng.gen_range(0..36_000);
                    let sid = session(&mut next_session);
                    let mut types = vec!["email_open"];
                    if r < 0.05 {
                        types.push("email_click");
                    }
                    for (k, t) in types.into_iter().enumerate() {
                        next_event += 1;
                        d.emit(
                            "events",
                            event_row(next_event, ts(at + k as i64 * 20, country), Some(&c.id), &sid, t, None, None, device, country, "newsletter", &mut rng),
                        )
                        .await?;
                    }
                }
            }
            if !(buys || browses) {
                continue;
            }
            // Basket: favourite categories first, popular items, planted companions.
            let n_items = 1 + (rng.gen::<f64>().ln() / 0.45f64.ln()).floor().min(5.0) as usize;
            let mut basket: Vec<usize> = vec![];
            for _ in 0..n_items {
                let pi = if rng.gen_bool(0.7) { cat.pick_in(c.fav[rng.gen_range(0..2)], &mut rng) } else { cat.pick(&mut rng) };
                if !basket.contains(&pi) {
                    basket.push(pi);
                }
            }
            let anchors: Vec<usize> = basket.clone();
            for a in anchors {
                if let Some(comp) = cat.affinity[a] {
                    if !basket.contains(&comp) && rng.gen_bool(0.45) {
                        basket.push(comp);
                    }
                }
            }
            let start = midnight + time_of_day(&mut rng) as i64;
            let sid = session(&mut next_session);
            // A new customer's first visit logs in: the browser's anonymous id meets the account.
            if c.signup_day == day {
                next_event += 1;
                let link = vec![Some(format!("I{:012}", next_event)), Some(ts(start, country)), Some(format!("A{}", &c.id[1..])), Some(c.id.clone())];
                d.emit("identifies", link).await?;
            }
            let referrer = REFERRERS[rng.gen_range(0..REFERRERS.len())];
            let mut t = start;
            fn ev(t: &mut i64, rng: &mut ChaCha8Rng) -> i64 {
                *t += rng.gen_range(5..90);
                *t
            }
            let mut rows: Vec<(i64, &'static str, Option<usize>, Option<&'static str>)> = vec![];
            rows.push((ev(&mut t, &mut rng), "page_view", None, None));
            if rng.gen_bool(0.35) {
                rows.push((ev(&mut t, &mut rng), "search", None, Some(SEARCH_TERMS[rng.gen_range(0..SEARCH_TERMS.len())])));
            }
            for &pi in &basket {
                rows.push((ev(&mut t, &mut rng), "product_view", Some(pi), None));
            }
            for _ in 0..rng.gen_range(0..3) {
                rows.push((ev(&mut t, &mut rng), "product_view", Some(cat.pick(&mut rng)), None));
            }
            let carts = buys || rng.gen_bool(0.3);
            if carts {
                for &pi in &basket {
                    rows.push((ev(&mut t, &mut rng), "add_to_cart", Some(pi), None));
                }
                if !buys && rng.gen_bool(0.2) {
                    rows.push((ev(&mut t, &mut rng), "remove_from_cart", Some(basket[0]), None));
                }
                if buys || rng.gen_bool(0.4) {
                    rows.push((ev(&mut t, &mut rng), "checkout_start", None, None));
                }
            }
            if buys {
                rows.push((ev(&mut t, &mut rng), "purchase", None, None));
            }
            let last_t = t;
            for (at, kind, pi, q) in rows {
                next_event += 1;
                let pid = pi.map(|i| cat.products[i].id.as_str());
                d.emit("events", event_row(next_event, ts(at, country), Some(&c.id), &sid, kind, pid, q, device, country, referrer, &mut rng)).await?;
            }
            if !buys {
                continue;
            }
            next_order += 1;
            let oid = format!("O{:010}", next_order);
            // In the customer's currency, at the day's rate (prices are in the base currency).
            let currency = fx.as_ref().map(|f| f.currency_of(COUNTRIES[country].0).to_string()).unwrap_or_else(|| base.clone());
            let fx_rate = fx.as_ref().map(|f| f.rate_on(&currency, date)).unwrap_or(1.0);
            let local = |cents: i64| if fx_rate == 1.0 { cents } else { ((cents as f64) * fx_rate).round() as i64 };
            let mut gross = 0i64;
            let mut discount = 0i64;
            let free = rng.gen_bool(0.003);
            for (line, &pi) in basket.iter().enumerate() {
                let qty = weighted(&[0.82, 0.14, 0.04], &mut rng) as i64 + 1;
                let unit = local(prices[pi]);
                let disc = if free {
                    unit * qty
                } else if rng.gen_bool(0.2) {
                    unit * qty / 10
                } else {
                    0
                };
                gross += unit * qty;
                discount += disc;
                d.emit(
                    "order_items",
                    vec![
                        Some(oid.clone()),
                        Some((line + 1).to_string()),
                        Some(cat.products[pi].id.clone()),
                        Some(qty.to_string()),
                        Some(money(unit)),
                        Some(money(disc)),
                    ],
                )
                .await?;
            }
            let net = gross - discount;
            let shipping = if free || net >= local(5000) { 0 } else { local(499) };
            let status = if rng.gen_bool(0.1) { Status::Placed } else { Status::Paid };
            let ord =
                Order { id: oid, customer: ci, ts: last_t, status, total: net + shipping, discount, shipping, refunded: 0, currency, products: basket.clone() };
            d.emit("orders", order_row(&ord, c, ts(ord.ts, country), ts(last_t, country))).await?;
            let next_in = if status == Status::Placed { 1 } else { rng.gen_range(1..4) };
            pending.entry(day + next_in).or_default().push(ord);
            // Each purchase may be the last (BG/NBD's dropout after a transaction).
            if rng.gen::<f64>() < customers[ci].dropout {
                customers[ci].alive = false;
            }
        }

        // Visitors who never log in.
        let anon = ((signed as f64) * 0.01 * season) as usize + 1;
        for _ in 0..anon {
            let sid = {
                next_session += 1;
                format!("S{:011}", next_session)
            };
            let anon_id = format!("A{:010}", rng.gen_range(0..(o.customers as u64 * 5 + 10)));
            let country = weighted(&COUNTRIES.iter().map(|c| c.1).collect::<Vec<_>>(), &mut rng);
            let device = weighted(&[0.6, 0.3, 0.1], &mut rng);
            let mut at = midnight + time_of_day(&mut rng) as i64;
            for k in 0..rng.gen_range(1..5) {
                next_event += 1;
                at += rng.gen_range(5..120);
                let (kind, pid) = if k == 0 { ("page_view", None) } else { ("product_view", Some(cat.products[cat.pick(&mut rng)].id.as_str())) };
                let mut row = event_row(next_event, ts(at, country), None, &sid, kind, pid, None, device, country, "google", &mut rng);
                row[3] = Some(anon_id.clone());
                d.emit("events", row).await?;
            }
        }

        if day >= first_load - 1 {
            for (t, s) in d.sinks.drain() {
                let n = s.finish().await?;
                *summary.rows.entry(t.to_string()).or_default() += n;
            }
        }
        tracing::info!(date = %dt, day = day + 1, days, orders = next_order, events = next_event,
            seconds = started.elapsed().as_secs_f64(), "generated day");
    }

    // Ground truth for tests and benchmarks.
    summary.damaged_rows = (ledger.len() - 1) as u64;
    let mut aff = String::from("antecedent,consequent\n");
    for (a, c) in cat.affinity.iter().enumerate() {
        if let Some(c) = c {
            aff.push_str(&format!("{},{}\n", cat.products[a].id, cat.products[*c].id));
        }
    }
    let summary_json = serde_json::to_vec_pretty(&summary).map_err(|source| Error::Json { what: "summary".into(), source })?;
    let planted = serde_json::to_vec_pretty(&reviews.planted(&cat, o.start)).map_err(|source| Error::Json { what: "planted reviews".into(), source })?;
    for (name, body) in [
        ("dirty_rows.csv", ledger.join("\n").into_bytes()),
        ("affinities.csv", aff.into_bytes()),
        ("summary.json", summary_json),
        ("planted_reviews.json", planted),
    ] {
        let p = wh.path(&format!("_generator/{name}"));
        wh.store.put(&p, PutPayload::from(body)).await.map_err(|e| Error::storage(p.to_string(), e))?;
    }
    Ok(summary)
}
