//! Damaged rows, as real feeds deliver them. Each damaged row is an extra, corrupted copy
//! of a clean row, so the clean data does not depend on the dirty rate; every one is logged
//! with the reason staging must give it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::sink::Damage;

/// The kinds of damage the generator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Malformed,
    BadTimestamp,
    MissingField,
    NegativeAmount,
    NonPositiveQuantity,
    UnknownCustomer,
    UnknownProduct,
    Duplicate,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Malformed => "malformed",
            Kind::BadTimestamp => "bad_timestamp",
            Kind::MissingField => "missing_field",
            Kind::NegativeAmount => "negative_amount",
            Kind::NonPositiveQuantity => "non_positive_quantity",
            Kind::UnknownCustomer => "unknown_customer",
            Kind::UnknownProduct => "unknown_product",
            Kind::Duplicate => "duplicate",
        }
    }
}

/// Which damage applies to which column of a table.
struct Plan {
    id: &'static str,
    ts: &'static str,
    amount: Option<&'static str>,
    quantity: Option<&'static str>,
    customer: Option<&'static str>,
    product: Option<&'static str>,
}

fn plan(table: &str) -> Plan {
    let p = |id, ts, amount, quantity, customer, product| Plan { id, ts, amount, quantity, customer, product };
    match table {
        "customers" => p("customer_id", "signup_ts", None, None, None, None),
        "products" => p("product_id", "updated_at", Some("price"), None, None, None),
        "orders" => p("order_id", "order_ts", Some("total_amount"), None, Some("customer_id"), None),
        "order_items" => p("order_id", "", Some("unit_price"), Some("quantity"), None, Some("product_id")),
        "events" => p("event_id", "event_ts", None, None, Some("customer_id"), Some("product_id")),
        "identifies" => p("event_id", "ts", None, None, None, None),
        "fx_rates" => p("currency", "date", None, None, None, None),
        "reviews" => p("review_id", "created_at", None, None, None, None),
        _ => p("email", "ts", None, None, None, None),
    }
}

/// A damaged copy: its values, how the writer must break it, and the expected reason
/// (None: staging accepts it as a superseded duplicate).
pub struct Damaged {
    pub kind: Kind,
    pub values: Vec<Option<String>>,
    pub damage: Damage,
    pub reason: Option<String>,
}

/// `quarantined`: only damage staging quarantines (no duplicate, which it supersedes).
pub fn damage(table: &str, format: &str, columns: &[String], clean: &[Option<String>], quarantined: bool, rng: &mut ChaCha8Rng) -> Damaged {
    let pl = plan(table);
    let col = |name: &str| columns.iter().position(|c| c == name);
    let mut kinds = vec![Kind::MissingField];
    if !quarantined {
        kinds.push(Kind::Duplicate);
    }
    if format != "parquet" {
        kinds.push(Kind::Malformed);
    }
    if !pl.ts.is_empty() {
        kinds.push(Kind::BadTimestamp);
    }
    if pl.amount.is_some() {
        kinds.push(Kind::NegativeAmount);
    }
    if pl.quantity.is_some() {
        kinds.push(Kind::NonPositiveQuantity);
    }
    if pl.customer.is_some() {
        kinds.push(Kind::UnknownCustomer);
    }
    if let Some(p) = pl.product {
        if col(p).and_then(|i| clean[i].as_ref()).is_some() {
            kinds.push(Kind::UnknownProduct);
        }
    }
    let kind = kinds[rng.gen_range(0..kinds.len())];
    let mut values = clean.to_vec();
    let mut set = |name: &str, v: Option<String>| {
        if let Some(i) = col(name) {
            values[i] = v;
        }
    };
    let malformed = if format == "csv" { "malformed CSV row" } else { "malformed JSON line" };
    let (damage, reason) = match kind {
        Kind::Malformed => (Damage::Malformed, Some(malformed.to_string())),
        Kind::BadTimestamp => {
            let bad = ["2024-13-45T25:61:00Z", "yesterday", "31/02/2024 10:00", "1700000000x"][rng.gen_range(0..4)];
            set(pl.ts, Some(bad.to_string()));
            (Damage::None, Some(format!("unparseable {}", pl.ts)))
        }
        Kind::MissingField => {
            set(pl.id, None);
            (Damage::None, Some(format!("missing {}", pl.id)))
        }
        Kind::NegativeAmount => {
            let a = pl.amount.expect("planned");
            set(a, Some(format!("-{}.{:02}", rng.gen_range(1..500), rng.gen_range(0..100))));
            (Damage::None, Some(format!("negative {a}")))
        }
        Kind::NonPositiveQuantity => {
            set(pl.quantity.expect("planned"), Some(["0", "-1", "-3"][rng.gen_range(0..3)].to_string()));
            (Damage::None, Some("non-positive quantity".to_string()))
        }
        Kind::UnknownCustomer => {
            set(pl.customer.expect("planned"), Some(format!("C-UNKNOWN-{:06}", rng.gen_range(0..1_000_000))));
            (Damage::None, Some("unknown customer_id".to_string()))
        }
        Kind::UnknownProduct => {
            set(pl.product.expect("planned"), Some(format!("P-UNKNOWN-{:06}", rng.gen_range(0..1_000_000))));
            (Damage::None, Some("unknown product_id".to_string()))
        }
        Kind::Duplicate => (Damage::None, None),
    };
    Damaged { kind, values, damage, reason }
}
