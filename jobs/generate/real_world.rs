//! What real shops' data does that a tidy sample does not (`--real-world`, and currencies
//! whenever `base_currency` is set): visitors browse anonymously before they sign up, some
//! customer rows arrive a night or two after the customer's first order, and customers in
//! Great Britain and the US pay in GBP and USD. Chosen by hashes of ids, so the shop's own
//! random stream, and everything else it generates, stays the same.

use chrono::{Datelike, Duration, NaiveDate};

/// FNV-1a of `s` mixed with `salt`: a stable choice per id.
pub fn hash(s: &str, salt: u64) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64 ^ salt, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// Nights (1 or 2) a new customer's row arrives after their signup; None for most.
pub fn late_nights(customer_id: &str) -> Option<i64> {
    let h = hash(customer_id, 0x1a7e);
    h.is_multiple_of(12).then(|| 1 + ((h >> 12) % 2) as i64)
}

/// Days before signup (1 or 2) on which the future customer browsed anonymously; None for
/// about half of them.
pub fn browsed_before(customer_id: &str) -> Option<i64> {
    let h = hash(customer_id, 0xb40e);
    h.is_multiple_of(2).then(|| 1 + ((h >> 9) % 2) as i64)
}

/// The generated exchange rates: three currencies around their usual levels per euro, quoted
/// on weekdays as the European Central Bank does, relative to the shop's base currency.
pub struct Fx {
    pub base: String,
}

const PER_EURO: [(&str, f64); 3] = [("EUR", 1.0), ("USD", 1.08), ("GBP", 0.85)];

impl Fx {
    /// The currencies with a rate (all but the base).
    pub fn quoted(&self) -> Vec<&'static str> {
        PER_EURO.iter().map(|c| c.0).filter(|c| *c != self.base).collect()
    }

    /// Units of `currency` per unit of the base on weekday `day`, to 4 decimals as quoted.
    pub fn rate(&self, currency: &str, day: NaiveDate) -> f64 {
        let wobble = |c: &str| {
            let t = day.num_days_from_ce() as f64;
            match c {
                "USD" => 1.0 + 0.04 * (t / 41.0).sin(),
                "GBP" => 1.0 + 0.02 * (t / 59.0).cos(),
                _ => 1.0,
            }
        };
        let per_euro = |c: &str| PER_EURO.iter().find(|x| x.0 == c).map(|x| x.1 * wobble(c)).unwrap_or(1.0);
        let r = per_euro(currency) / per_euro(&self.base);
        (r * 10_000.0).round() / 10_000.0
    }

    /// The rate that applies on `day`: that of the latest weekday on or before it.
    pub fn rate_on(&self, currency: &str, day: NaiveDate) -> f64 {
        if currency == self.base {
            return 1.0;
        }
        let mut d = day;
        while d.weekday().number_from_monday() > 5 {
            d -= Duration::days(1);
        }
        self.rate(currency, d)
    }

    /// What a customer of `country` pays in.
    pub fn currency_of(&self, country: &str) -> &'static str {
        match country {
            "GB" => "GBP",
            "US" => "USD",
            _ => "EUR",
        }
    }
}

pub fn is_weekday(day: NaiveDate) -> bool {
    day.weekday().number_from_monday() <= 5
}
