//! The sample shop's product reviews, written a few days after an order ships. Two planted
//! problems for tests to find: the catalogue's first product (one of its best sellers) starts
//! arriving late halfway through the history (delivery complaints, 1-2 stars), and the first fashion product runs small
//! all along (size complaints, 2-3 stars). A few reviews are edited later, some hidden, some
//! carry only an email, some only a rating, and German customers sometimes write in German.
//! Drawn from their own random stream, so the rest of the shop is the same with or without them.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::{Catalogue, Customer, CATEGORIES};

/// Words of the planted delivery complaints (tests look for them among the top phrases).
pub const DELIVERY_COMPLAINTS: &[&str] = &[
    "The parcel arrived two weeks late.",
    "Delivery took forever and the box arrived damaged.",
    "Arrived late, the courier left it at the wrong address.",
    "Still waiting for delivery after three weeks.",
    "The package arrived late and half open.",
];

pub const SIZE_COMPLAINTS: &[&str] =
    &["Runs small, order one size up.", "Way too small, the size chart is wrong.", "Nice fabric but it runs small.", "Had to send it back, far too small."];

const POSITIVE: &[&str] = &[
    "Love it!",
    "Great quality, works perfectly.",
    "Exactly as described, very happy.",
    "Excellent value for the price.",
    "Really good, would buy again.",
    "Super fast shipping and a great product :)",
    "Not bad at all, does the job.",
    "My kids LOVE it 😍",
    "Solid and well made. Recommended!",
    "Better than expected, no complaints.",
];

const MIXED: &[&str] = &[
    "It's okay, nothing special.",
    "Decent, but the instructions are confusing.",
    "Works, but feels a bit cheap.",
    "Average product for the price.",
    "Good idea, but the finish could be better.",
];

const NEGATIVE: &[&str] = &[
    "Stopped working after a week.",
    "Poor quality, broke on the first day.",
    "Waste of money. Returned it.",
    "Very disappointed, not as described!!",
    "Cheap plastic, would not buy again.",
    "Terrible. Do NOT recommend 😡",
];

const GERMAN: &[(u8, &str)] = &[
    (5, "Sehr gut, gerne wieder."),
    (5, "Top Qualität, schnelle Lieferung."),
    (4, "Gutes Produkt, passt."),
    (2, "Leider nach einer Woche kaputt."),
    (1, "Schlechte Qualität, nicht zu empfehlen."),
];

const TITLES: [&[&str]; 5] = [
    &["Awful", "Do not buy", "Broken"],
    &["Disappointed", "Not great"],
    &["Okay", "Mixed feelings"],
    &["Good", "Nice", "Happy"],
    &["Perfect", "Amazing", "Five stars"],
];

/// A review due on a later day: who, which product, and its planted kind.
struct Due {
    product: usize,
    customer: String,
    email: Option<String>,
    german: bool,
}

pub struct Reviews {
    rng: ChaCha8Rng,
    next: u64,
    /// Products with a planted problem (catalogue indexes).
    pub delivery: usize,
    pub size: usize,
    /// The day the delivery problem starts.
    pub problem_from: i64,
    due: BTreeMap<i64, Vec<Due>>,
    /// Later versions of reviews already written: (day, row).
    edits: BTreeMap<i64, Vec<Vec<Option<String>>>>,
}

impl Reviews {
    pub fn new(seed: u64, cat: &Catalogue, days: i64) -> Reviews {
        let size = cat.products.iter().position(|p| CATEGORIES[p.category].0 == "Fashion").unwrap_or(1);
        Reviews {
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x7e71_e3a5),
            next: 0,
            delivery: 0,
            size,
            problem_from: days / 2,
            due: BTreeMap::new(),
            edits: BTreeMap::new(),
        }
    }

    /// The planted problems, for tests (`_generator/planted_reviews.json`).
    pub fn planted(&self, cat: &Catalogue, start: chrono::NaiveDate) -> serde_json::Value {
        serde_json::json!({
            "delivery_problem": {
                "product_id": cat.products[self.delivery].id,
                "from": (start + chrono::Duration::days(self.problem_from)).to_string(),
                "complaints": DELIVERY_COMPLAINTS,
            },
            "size_problem": {"product_id": cat.products[self.size].id, "complaints": SIZE_COMPLAINTS},
        })
    }

    /// An order of `c` shipped on `day`: about one customer in seven reviews one of its
    /// products two to twelve days later; unhappy ones more often (a late parcel, a wrong size).
    pub fn shipped(&mut self, day: i64, products: &[usize], c: &Customer, german: bool) {
        if products.is_empty() {
            return;
        }
        let (p, product) = if day >= self.problem_from && products.contains(&self.delivery) {
            (0.6, self.delivery)
        } else if products.contains(&self.size) {
            (0.8, self.size)
        } else {
            (0.15, products[self.rng.gen_range(0..products.len())])
        };
        if !self.rng.gen_bool(p) {
            return;
        }
        // Some review apps know the reviewer by email only.
        let email = self.rng.gen_bool(0.2).then(|| c.email());
        let german = german && self.rng.gen_bool(0.3);
        self.due.entry(day + self.rng.gen_range(2..13)).or_default().push(Due { product, customer: c.id.clone(), email, german });
    }

    /// The rows of `day` (new reviews and edits), timestamps from `at(seconds of the day)`.
    pub fn rows(&mut self, day: i64, cat: &Catalogue, at: &dyn Fn(i64) -> String) -> Vec<Vec<Option<String>>> {
        let mut out = self.edits.remove(&day).unwrap_or_default();
        for due in self.due.remove(&day).unwrap_or_default() {
            self.next += 1;
            let (rating, title, body) = self.text(day, due.product, due.german);
            let created = at(self.rng.gen_range(8 * 3600..23 * 3600));
            let status = if self.rng.gen_bool(0.03) { "hidden" } else { "published" };
            let (customer, email) = match due.email {
                Some(e) => (None, Some(e)),
                None => (Some(due.customer), None),
            };
            let row = vec![
                Some(format!("R{:09}", self.next)),
                Some(cat.products[due.product].id.clone()),
                customer,
                email,
                Some(rating.to_string()),
                title,
                body.clone(),
                Some(if due.german { "de" } else { "en" }.to_string()),
                Some(created.clone()),
                Some(created.clone()),
                Some(status.to_string()),
            ];
            // One review in 25 is edited a few days later: a star up or down, and a line more.
            if self.rng.gen_bool(0.04) {
                let later = day + self.rng.gen_range(1..6);
                let mut edit = row.clone();
                let up = rating < 3 && self.rng.gen_bool(0.5);
                let new_rating = if up { rating + 1 } else { rating.saturating_sub(1).max(1) };
                edit[4] = Some(new_rating.to_string());
                let note = if up { "Update: customer service sorted it out." } else { "Update: it broke after a month." };
                edit[6] = Some(format!("{} {note}", body.unwrap_or_default()).trim().to_string());
                edit[9] = Some(at((later - day) * 86_400 + 12 * 3600));
                self.edits.entry(later).or_default().push(edit);
            }
            out.push(row);
        }
        out
    }

    /// Rating, title and body of a review of `product` written on `day`.
    fn text(&mut self, day: i64, product: usize, german: bool) -> (u8, Option<String>, Option<String>) {
        let r = &mut self.rng;
        let pick = |pool: &[&str], r: &mut ChaCha8Rng| pool[r.gen_range(0..pool.len())].to_string();
        let (rating, body) = if product == self.delivery && day >= self.problem_from && r.gen_bool(0.7) {
            (r.gen_range(1..=2u8), pick(DELIVERY_COMPLAINTS, r))
        } else if product == self.size && r.gen_bool(0.6) {
            (if r.gen_bool(0.7) { 2 } else { 3 }, pick(SIZE_COMPLAINTS, r))
        } else if german {
            let (rating, text) = GERMAN[r.gen_range(0..GERMAN.len())];
            (rating, text.to_string())
        } else {
            // Most products please most customers.
            let rating = [1u8, 2, 3, 4, 5][super::model::weighted(&[0.07, 0.06, 0.1, 0.3, 0.47], r)];
            let pool = match rating {
                1 | 2 => NEGATIVE,
                3 => MIXED,
                _ => POSITIVE,
            };
            let mut body = pick(pool, r);
            if r.gen_bool(0.3) {
                body = format!("{body} {}", pick(pool, r));
            }
            (rating, body)
        };
        // Some reviews are a rating only, some have a title too.
        if r.gen_bool(0.08) {
            return (rating, None, None);
        }
        let title = r.gen_bool(0.5).then(|| pick(TITLES[rating as usize - 1], r));
        (rating, title, Some(body))
    }
}
