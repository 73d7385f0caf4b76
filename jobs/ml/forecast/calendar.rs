//! Periods of a sales series (day, week from Monday, month, quarter), their season length and
//! the retail peaks a regression can learn.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    Day,
    Week,
    Month,
    Quarter,
}

impl Grain {
    pub fn parse(s: &str) -> Option<Grain> {
        match s {
            "day" => Some(Grain::Day),
            "week" => Some(Grain::Week),
            "month" => Some(Grain::Month),
            "quarter" => Some(Grain::Quarter),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
        }
    }

    /// Weekly season for daily data, yearly for the others.
    pub fn season_length(self) -> usize {
        match self {
            Grain::Day => 7,
            Grain::Week => 52,
            Grain::Month => 12,
            Grain::Quarter => 4,
        }
    }

    /// Start of the period holding `d`.
    pub fn start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Grain::Day => d,
            Grain::Week => d - Duration::days(d.weekday().num_days_from_monday() as i64),
            Grain::Month => d.with_day(1).unwrap_or(d),
            Grain::Quarter => {
                let m = (d.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(d.year(), m, 1).unwrap_or(d)
            }
        }
    }

    /// Start of the period `k` periods after the one starting at `start`.
    pub fn add(self, start: NaiveDate, k: i64) -> NaiveDate {
        match self {
            Grain::Day => start + Duration::days(k),
            Grain::Week => start + Duration::days(7 * k),
            Grain::Month | Grain::Quarter => {
                let months = if self == Grain::Month { k } else { 3 * k };
                let total = start.year() as i64 * 12 + start.month0() as i64 + months;
                NaiveDate::from_ymd_opt(total.div_euclid(12) as i32, total.rem_euclid(12) as u32 + 1, 1).unwrap_or(start)
            }
        }
    }

    /// Last day of the period starting at `start`.
    pub fn end(self, start: NaiveDate) -> NaiveDate {
        self.add(start, 1) - Duration::days(1)
    }

    /// The last period that is complete on `d` (ends on or before it).
    pub fn last_complete(self, d: NaiveDate) -> NaiveDate {
        let s = self.start(d);
        if self.end(s) <= d {
            s
        } else {
            self.add(s, -1)
        }
    }

    /// Number of periods from the one starting at `a` to the one starting at `b`.
    pub fn periods_between(self, a: NaiveDate, b: NaiveDate) -> i64 {
        match self {
            Grain::Day => (b - a).num_days(),
            Grain::Week => (b - a).num_days() / 7,
            Grain::Month => (b.year() as i64 * 12 + b.month0() as i64) - (a.year() as i64 * 12 + a.month0() as i64),
            Grain::Quarter => Grain::Month.periods_between(a, b) / 3,
        }
    }
}

/// Named retail peaks (days on which demand is known to jump or drop), plus the shop's own
/// holiday dates from the config.
pub const PEAKS: [&str; 7] = ["black_friday", "black_friday_weekend", "cyber_monday", "pre_christmas", "christmas", "new_year", "valentines"];

fn thanksgiving(year: i32) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, 11, 1)?;
    let to_thu = (7 + Weekday::Thu.num_days_from_monday() as i64 - first.weekday().num_days_from_monday() as i64) % 7;
    Some(first + Duration::days(to_thu + 21))
}

/// Which named peak `d` is, if any (index into `PEAKS`).
pub fn peak_of(d: NaiveDate) -> Option<usize> {
    if d.month() == 11 {
        if let Some(t) = thanksgiving(d.year()) {
            let bf = t + Duration::days(1);
            if d == bf {
                return Some(0);
            }
            if d > bf && d < bf + Duration::days(3) {
                return Some(1);
            }
            if d == bf + Duration::days(3) {
                return Some(2);
            }
        }
    }
    match (d.month(), d.day()) {
        (12, 1..=20) => Some(3),
        (12, 24..=26) => Some(4),
        (1, 1) => Some(5),
        (2, 14) => Some(6),
        _ => None,
    }
}

/// The periods of one series and what is known about their dates.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub grain: Grain,
    /// Start of period 0.
    pub first: NaiveDate,
    /// Extra holiday dates (the shop's own), learned as one more peak.
    pub holidays: Vec<NaiveDate>,
}

impl Calendar {
    pub fn new(grain: Grain, first: NaiveDate) -> Calendar {
        Calendar { grain, first, holidays: vec![] }
    }

    pub fn period_start(&self, i: usize) -> NaiveDate {
        self.grain.add(self.first, i as i64)
    }

    /// Share of each peak's days in period `i` (one value per `PEAKS` entry, then the shop's
    /// holidays). At day grain these are 0/1 dummies.
    pub fn peak_shares(&self, i: usize) -> Vec<f64> {
        let start = self.period_start(i);
        let end = self.grain.end(start);
        let days = (end - start).num_days() + 1;
        let mut v = vec![0.0; PEAKS.len() + 1];
        let mut d = start;
        while d <= end {
            if let Some(p) = peak_of(d) {
                v[p] += 1.0;
            }
            if self.holidays.contains(&d) {
                v[PEAKS.len()] += 1.0;
            }
            d += Duration::days(1);
        }
        v.iter_mut().for_each(|x| *x /= days as f64);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods() {
        assert_eq!(Grain::Week.start(d("2026-11-22")), d("2026-11-16")); // a Sunday -> Monday
        assert_eq!(Grain::Week.last_complete(d("2026-11-22")), d("2026-11-16"));
        assert_eq!(Grain::Week.last_complete(d("2026-11-21")), d("2026-11-09"));
        assert_eq!(Grain::Month.last_complete(d("2026-11-30")), d("2026-11-01"));
        assert_eq!(Grain::Month.last_complete(d("2026-11-29")), d("2026-10-01"));
        assert_eq!(Grain::Quarter.start(d("2026-11-29")), d("2026-10-01"));
        assert_eq!(Grain::Quarter.add(d("2026-10-01"), 1), d("2027-01-01"));
        assert_eq!(Grain::Month.add(d("2026-01-01"), -2), d("2025-11-01"));
        assert_eq!(Grain::Month.periods_between(d("2025-11-01"), d("2026-02-01")), 3);
        assert_eq!(Grain::Day.last_complete(d("2026-11-22")), d("2026-11-22"));
    }

    #[test]
    fn peaks() {
        assert_eq!(peak_of(d("2026-11-27")), Some(0)); // Black Friday 2026
        assert_eq!(peak_of(d("2026-11-28")), Some(1));
        assert_eq!(peak_of(d("2026-11-30")), Some(2));
        assert_eq!(peak_of(d("2025-11-28")), Some(0));
        assert_eq!(peak_of(d("2026-06-01")), None);
        let cal = Calendar::new(Grain::Week, d("2026-11-23"));
        let s = cal.peak_shares(0); // Mon 23 .. Sun 29
        assert!((s[0] - 1.0 / 7.0).abs() < 1e-12 && (s[1] - 2.0 / 7.0).abs() < 1e-12);
    }
}
