//! The rows the generator writes for orders and events, in the raw contracts' column order.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::model::{Customer, COUNTRIES};
use super::{money, Order};

const CHANNELS: [&str; 3] = ["web", "app", "marketplace"];
const DEVICES: [&str; 3] = ["mobile", "desktop", "tablet"];
const OS: [[&str; 2]; 3] = [["iOS", "Android"], ["Windows", "macOS"], ["iPadOS", "Android"]];

pub(super) fn order_row(o: &Order, c: &Customer, order_ts: String, updated_at: String) -> Vec<Option<String>> {
    vec![
        Some(o.id.clone()),
        Some(c.id.clone()),
        Some(order_ts),
        Some(o.status.as_str().to_string()),
        Some(o.currency.clone()),
        Some(money(o.total)),
        Some(money(o.discount)),
        Some(money(o.shipping)),
        (o.refunded > 0).then(|| money(o.refunded)),
        Some(CHANNELS[c.channel].to_string()),
        Some(COUNTRIES[c.country].0.to_string()),
        Some(updated_at),
    ]
}

#[allow(clippy::too_many_arguments)]
pub(super) fn event_row(
    n: u64,
    ts: String,
    customer: Option<&str>,
    session: &str,
    kind: &str,
    product: Option<&str>,
    query: Option<&str>,
    device: usize,
    country: usize,
    referrer: &str,
    rng: &mut ChaCha8Rng,
) -> Vec<Option<String>> {
    let page = match (kind, product) {
        (_, Some(p)) => format!("https://shop.example.com/p/{p}"),
        ("search", _) => "https://shop.example.com/search".to_string(),
        ("checkout_start" | "purchase", _) => "https://shop.example.com/checkout".to_string(),
        _ => "https://shop.example.com/".to_string(),
    };
    let props = match (kind, query) {
        (_, Some(q)) => serde_json::json!({ "query_length": q.len() }).to_string(),
        ("purchase", _) => {
            let payment = ["card", "paypal", "klarna"][rng.gen_range(0..3)];
            serde_json::json!({ "payment": payment }).to_string()
        }
        _ => "{}".to_string(),
    };
    vec![
        Some(format!("E{:012}", n)),
        Some(ts),
        customer.map(str::to_string),
        customer.map(|c| format!("A{}", &c[1..])),
        Some(session.to_string()),
        Some(kind.to_string()),
        product.map(str::to_string),
        query.map(str::to_string),
        Some(page),
        Some(referrer.to_string()),
        Some(DEVICES[device].to_string()),
        Some(OS[device][rng.gen_range(0..2)].to_string()),
        Some(COUNTRIES[country].0.to_string()),
        Some(props),
    ]
}

/// Half the refunds of shipped orders are partial (an item sent back, a goodwill credit): a
/// quarter, half or three quarters of the goods' value, the order staying shipped. Chosen by
/// the order id, not drawn from the shop's random stream, so everything else stays as it was.
pub(super) fn partial_refund(o: &super::Order) -> Option<i64> {
    let h = o.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3));
    let goods = o.total - o.shipping;
    (h % 2 == 0 && goods > 0).then(|| goods * (1 + ((h >> 8) % 3) as i64) / 4)
}
