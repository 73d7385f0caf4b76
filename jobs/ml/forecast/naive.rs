//! Seasonal naive: each period repeats the same period of the last season.

use super::{Calendar, Fitted, ForecastError, Model};

pub struct SeasonalNaive;

/// The season length a series can use: its grain's, or 1 (plain naive) when the series is
/// shorter than one season.
pub fn usable_season(n: usize, m: usize) -> usize {
    if n >= m {
        m
    } else {
        1
    }
}

pub fn seasonal_naive(y: &[f64], m: usize, h: usize) -> Vec<f64> {
    let n = y.len();
    if n == 0 {
        return vec![0.0; h];
    }
    let m = usable_season(n, m);
    (0..h).map(|k| y[n - m + (k % m)]).collect()
}

impl Model for SeasonalNaive {
    fn name(&self) -> &'static str {
        "seasonal_naive"
    }

    fn fit_predict(&self, y: &[f64], cal: &Calendar, h: usize, _hint: Option<&str>) -> Result<Fitted, ForecastError> {
        if y.is_empty() {
            return Err(ForecastError::model(self.name(), "empty series"));
        }
        let m = usable_season(y.len(), cal.grain.season_length());
        Ok(Fitted { point: seasonal_naive(y, m, h), spec: format!("season {m}"), sd: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::forecast::Grain;

    #[test]
    fn repeats_the_last_season() {
        let y: Vec<f64> = (0..21).map(|i| (i % 7) as f64 * 10.0).collect();
        let cal = Calendar::new(Grain::Day, chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
        let f = SeasonalNaive.fit_predict(&y, &cal, 10, None).unwrap();
        assert_eq!(f.point, vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 0.0, 10.0, 20.0]);
        // Shorter than a season: the last value.
        assert_eq!(seasonal_naive(&[3.0, 4.0], 7, 3), vec![4.0, 4.0, 4.0]);
    }
}
