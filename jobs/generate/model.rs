//! The simulated shop: catalogue, customers with lifecycles, seasonality and holidays.

use chrono::{Datelike, NaiveDate, Weekday};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Gamma, LogNormal};

pub const CATEGORIES: &[(&str, f64, &[&str])] = &[
    ("Electronics", 120.0, &["Headphones", "Charger", "Speaker", "Smartwatch", "Tablet", "Camera"]),
    ("Phone Accessories", 18.0, &["Phone Case", "Screen Protector", "Cable", "Power Bank"]),
    ("Books", 16.0, &["Novel", "Cookbook", "Travel Guide", "Biography", "Comic"]),
    ("Home & Kitchen", 35.0, &["Pan", "Knife Set", "Kettle", "Mug", "Cutting Board"]),
    ("Coffee", 12.0, &["Espresso Beans", "Filter Coffee", "Coffee Filters", "Milk Frother"]),
    ("Beauty", 22.0, &["Face Cream", "Shampoo", "Lipstick", "Perfume", "Serum"]),
    ("Toys", 25.0, &["Puzzle", "Building Blocks", "Doll", "Board Game", "Plush Bear"]),
    ("Sports", 40.0, &["Yoga Mat", "Running Shoes", "Dumbbells", "Water Bottle", "Resistance Band"]),
    ("Garden", 30.0, &["Seeds", "Garden Hose", "Plant Pot", "Pruning Shears"]),
    ("Fashion", 38.0, &["T-Shirt", "Jeans", "Scarf", "Jacket", "Socks"]),
    ("Pet Supplies", 20.0, &["Dog Food", "Cat Litter", "Pet Toy", "Leash"]),
    ("Baby", 24.0, &["Diapers", "Baby Wipes", "Pacifier", "Baby Bottle"]),
    ("Office", 14.0, &["Notebook", "Pen Set", "Desk Lamp", "Stapler"]),
    ("Grocery", 8.0, &["Olive Oil", "Pasta", "Tea", "Chocolate", "Granola"]),
    ("Health", 15.0, &["Vitamins", "First Aid Kit", "Thermometer", "Protein Powder"]),
    ("Gaming", 55.0, &["Controller", "Game", "Gaming Mouse", "Headset"]),
];

const ADJECTIVES: &[&str] = &["Classic", "Pro", "Eco", "Mini", "Max", "Smart", "Deluxe", "Basic", "Ultra", "Essential"];
const BRAND_A: &[&str] = &["Nor", "Vel", "Ka", "Lu", "Zen", "Ori", "Sol", "Ma", "Ter", "Quo", "Bri", "Fen"];
const BRAND_B: &[&str] = &["dex", "ora", "vio", "nix", "la", "tek", "mo", "ra", "sto", "ly"];

/// Countries with their share of customers and a typical UTC offset for their timestamps.
pub const COUNTRIES: &[(&str, f64, &str)] = &[
    ("DE", 0.30, "+01:00"),
    ("FR", 0.15, "+01:00"),
    ("GB", 0.14, "+00:00"),
    ("NL", 0.08, "+01:00"),
    ("US", 0.12, "-05:00"),
    ("ES", 0.06, "+01:00"),
    ("IT", 0.06, "+01:00"),
    ("PL", 0.04, "+01:00"),
    ("SE", 0.03, "+01:00"),
    ("AT", 0.02, "+01:00"),
];

pub const SEARCH_TERMS: &[&str] = &[
    "wireless headphones",
    "phone case",
    "coffee beans",
    "yoga mat",
    "gift for mom",
    "running shoes",
    "board game",
    "face cream",
    "dog food",
    "notebook",
    "vitamins",
    "garden hose",
    "jeans",
    "sale",
];

#[derive(Debug, Clone)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub category: usize,
    pub brand: String,
    pub price_cents: i64,
    pub popularity: f64,
}

pub struct Catalogue {
    pub products: Vec<Product>,
    /// Cumulative popularity over all products, and per category.
    cum_all: Vec<f64>,
    by_cat: Vec<(Vec<usize>, Vec<f64>)>,
    /// anchor product index -> companion product index (planted co-purchases)
    pub affinity: Vec<Option<usize>>,
}

fn pick_cum(cum: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let total = *cum.last().unwrap_or(&1.0);
    let x = rng.gen::<f64>() * total;
    cum.partition_point(|&c| c < x).min(cum.len().saturating_sub(1))
}

fn cumulative(ws: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    ws.map(|w| {
        acc += w;
        acc
    })
    .collect()
}

impl Catalogue {
    pub fn new(n: usize, rng: &mut ChaCha8Rng) -> Catalogue {
        let mut products = Vec::with_capacity(n);
        let brands_per_cat: Vec<Vec<String>> = CATEGORIES
            .iter()
            .map(|_| (0..6).map(|_| format!("{}{}", BRAND_A[rng.gen_range(0..BRAND_A.len())], BRAND_B[rng.gen_range(0..BRAND_B.len())])).collect())
            .collect();
        for i in 0..n {
            let cat = i % CATEGORIES.len();
            let (_, base, nouns) = CATEGORIES[cat];
            let brand = brands_per_cat[cat][rng.gen_range(0..6)].clone();
            let noun = nouns[rng.gen_range(0..nouns.len())];
            let adj = ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())];
            let price: f64 = LogNormal::new(base.ln(), 0.5).expect("valid").sample(rng).clamp(1.0, 2000.0);
            // Zipf-like popularity: a few bestsellers, a long tail.
            let rank = (i / CATEGORIES.len()) as f64 + 1.0;
            let popularity = rank.powf(-0.9) * rng.gen_range(0.5..1.5);
            products.push(Product {
                id: format!("P{:06}", i + 1),
                title: format!("{brand} {adj} {noun}"),
                category: cat,
                brand,
                price_cents: (price * 100.0).round() as i64 - 1,
                popularity,
            });
        }
        let cum_all = cumulative(products.iter().map(|p| p.popularity));
        let by_cat = (0..CATEGORIES.len())
            .map(|c| {
                let idx: Vec<usize> = (0..n).filter(|&i| products[i].category == c).collect();
                let cum = cumulative(idx.iter().map(|&i| products[i].popularity));
                (idx, cum)
            })
            .collect();
        // Planted affinities: popular anchors get a fixed companion, usually in a related category.
        let mut affinity = vec![None; n];
        let anchors = (n / 40).clamp(3, 400);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| products[b].popularity.total_cmp(&products[a].popularity));
        for &a in order.iter().take(anchors * 2).step_by(2) {
            let c = order[rng.gen_range(anchors * 2..n.max(anchors * 2 + 1)).min(n - 1)];
            if c != a && affinity[c].is_none() {
                affinity[a] = Some(c);
            }
        }
        Catalogue { products, cum_all, by_cat, affinity }
    }

    pub fn pick(&self, rng: &mut ChaCha8Rng) -> usize {
        pick_cum(&self.cum_all, rng)
    }

    pub fn pick_in(&self, cat: usize, rng: &mut ChaCha8Rng) -> usize {
        let (idx, cum) = &self.by_cat[cat];
        if idx.is_empty() {
            return self.pick(rng);
        }
        idx[pick_cum(cum, rng)]
    }
}

/// Where a customer is in their life with the shop.
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: String,
    pub signup_day: i64,
    pub country: usize,
    /// Purchases per day while alive.
    pub rate: f64,
    /// Chance to leave after each purchase.
    pub dropout: f64,
    pub alive: bool,
    pub consent: bool,
    pub fav: [usize; 2],
    pub device: usize,
    pub channel: usize,
    pub email_version: u32,
    /// A typo in the address that passes a loose check but no email tool accepts (0: none).
    pub email_typo: u8,
    pub birth_year: Option<i32>,
    pub gender: Option<&'static str>,
    pub first_name: &'static str,
    pub last_name: &'static str,
}

const FIRST: &[&str] =
    &["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Lea", "Max", "Nora", "Oscar", "Paula", "Sofia", "Tom", "Yara"];
const LAST: &[&str] = &["Meyer", "Martin", "Smith", "de Vries", "Garcia", "Rossi", "Nowak", "Svensson", "Huber", "Dubois", "Brown", "Jones"];

impl Customer {
    pub fn new(i: usize, signup_day: i64, rng: &mut ChaCha8Rng) -> Customer {
        let countries = cumulative(COUNTRIES.iter().map(|c| c.1));
        let fav0 = rng.gen_range(0..CATEGORIES.len());
        Customer {
            id: format!("C{:08}", i + 1),
            signup_day,
            country: pick_cum(&countries, rng),
            // Heterogeneous buying rates and dropout, as the BG/NBD model assumes.
            rate: Gamma::new(0.9, 0.012).expect("valid").sample(rng),
            dropout: Beta::new(1.2, 6.0).expect("valid").sample(rng),
            alive: true,
            consent: rng.gen_bool(0.6),
            fav: [fav0, (fav0 + rng.gen_range(1..4)) % CATEGORIES.len()],
            device: pick_cum(&[0.45, 0.9, 1.0], rng),
            channel: pick_cum(&[0.55, 0.9, 1.0], rng),
            email_version: 0,
            email_typo: 0,
            birth_year: rng.gen_bool(0.8).then(|| rng.gen_range(1945..2007)),
            gender: match rng.gen_range(0..10) {
                0..=3 => Some("female"),
                4..=7 => Some("male"),
                8 => Some("diverse"),
                _ => None,
            },
            first_name: FIRST[rng.gen_range(0..FIRST.len())],
            last_name: LAST[rng.gen_range(0..LAST.len())],
        }
    }

    pub fn email(&self) -> String {
        let base = format!("{}.{}", self.first_name, self.last_name.replace(' ', "")).to_lowercase();
        let num = &self.id[1..];
        match (self.email_version, self.email_typo) {
            (0, 1) => format!("{base}.{num}.@example.com"),
            (0, 2) => format!("{base}..{num}@example.com"),
            (0, 3) => format!("{base},{num}@example.com"),
            (0, _) => format!("{base}.{num}@example.com"),
            (v, _) => format!("{base}.{num}+{v}@example.org"),
        }
    }
}

/// Demand multiplier for a day: weekly rhythm, a yearly wave and holiday peaks.
pub fn seasonality(d: NaiveDate) -> f64 {
    let weekly = match d.weekday() {
        Weekday::Mon => 0.95,
        Weekday::Tue => 0.92,
        Weekday::Wed => 0.95,
        Weekday::Thu => 1.0,
        Weekday::Fri => 1.05,
        Weekday::Sat => 1.15,
        Weekday::Sun => 1.2,
    };
    let doy = d.ordinal() as f64;
    let yearly = 1.0 + 0.2 * (2.0 * std::f64::consts::PI * (doy - 350.0) / 365.25).cos();
    weekly * yearly * holiday(d)
}

fn holiday(d: NaiveDate) -> f64 {
    let (m, day) = (d.month(), d.day());
    // Black Friday: the Friday after the fourth Thursday of November; Cyber Monday after it.
    if m == 11 {
        let first = NaiveDate::from_ymd_opt(d.year(), 11, 1).expect("valid");
        let to_thu = (7 + 3 - first.weekday().num_days_from_monday() as i64) % 7;
        let thanksgiving = first + chrono::Duration::days(to_thu + 21);
        let bf = thanksgiving + chrono::Duration::days(1);
        if d == bf {
            return 3.0;
        }
        if d == bf + chrono::Duration::days(3) {
            return 2.2;
        }
        if d > bf && d < bf + chrono::Duration::days(3) {
            return 1.6;
        }
    }
    match (m, day) {
        (12, 1..=20) => 1.4,
        (12, 24..=26) => 0.6,
        (1, 1) => 0.5,
        (2, 14) => 1.3,
        _ => 1.0,
    }
}

/// Seconds into the day, shaped like a shop's traffic (quiet at night, peak in the evening).
pub fn time_of_day(rng: &mut ChaCha8Rng) -> u32 {
    const HOURS: [f64; 24] = [0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 1.5, 2.5, 3.0, 3.5, 3.8, 4.0, 3.8, 3.5, 3.5, 3.8, 4.2, 5.0, 6.0, 6.5, 5.5, 3.5, 1.5];
    let cum = cumulative(HOURS.iter().copied());
    let h = pick_cum(&cum, rng) as u32;
    h * 3600 + rng.gen_range(0..3600)
}

pub fn weighted(ws: &[f64], rng: &mut ChaCha8Rng) -> usize {
    pick_cum(&cumulative(ws.iter().copied()), rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn black_friday_is_the_peak_of_november() {
        let bf = NaiveDate::from_ymd_opt(2025, 11, 28).unwrap();
        let mut best = (bf, 0.0);
        for day in 1..=30 {
            let d = NaiveDate::from_ymd_opt(2025, 11, day).unwrap();
            if seasonality(d) > best.1 {
                best = (d, seasonality(d));
            }
        }
        assert_eq!(best.0, bf);
    }

    #[test]
    fn catalogue_is_deterministic_and_has_affinities() {
        let a = Catalogue::new(500, &mut ChaCha8Rng::seed_from_u64(7));
        let b = Catalogue::new(500, &mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(a.products[42].title, b.products[42].title);
        assert!(a.affinity.iter().filter(|x| x.is_some()).count() >= 3);
    }
}
