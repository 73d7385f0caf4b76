//! Croston's method with the Syntetos-Boylan bias correction (SBA), for intermittent sales
//! (a product that sells on some days only): demand sizes and the intervals between them are
//! smoothed separately; the forecast is a flat rate. Offered only where zeros are common,
//! since on regular series it is plain exponential smoothing biased low.

use super::{Calendar, Fitted, ForecastError, Model};

pub struct Croston;

/// Smoothing of sizes and intervals (the usual fixed value; SBA corrects for it).
const ALPHA: f64 = 0.1;

/// Share of zero periods from which a series counts as intermittent.
pub const INTERMITTENT_ZEROS: f64 = 0.3;

pub fn zero_share(y: &[f64]) -> f64 {
    y.iter().filter(|v| **v == 0.0).count() as f64 / y.len().max(1) as f64
}

pub fn croston_sba(y: &[f64]) -> Option<f64> {
    let mut demands = y.iter().enumerate().filter(|(_, v)| **v > 0.0);
    let (first, &z0) = demands.next()?;
    let (mut z, mut p, mut last) = (z0, (first + 1) as f64, first);
    for (i, &v) in demands {
        z += ALPHA * (v - z);
        p += ALPHA * ((i - last) as f64 - p);
        last = i;
    }
    Some((1.0 - ALPHA / 2.0) * z / p)
}

impl Model for Croston {
    fn name(&self) -> &'static str {
        "croston"
    }

    fn fit_predict(&self, y: &[f64], _cal: &Calendar, h: usize, _hint: Option<&str>) -> Result<Fitted, ForecastError> {
        let zeros = zero_share(y);
        if zeros < INTERMITTENT_ZEROS {
            return Err(ForecastError::model(self.name(), format!("not intermittent ({:.0}% zero periods)", zeros * 100.0)));
        }
        let rate = croston_sba(y).ok_or_else(|| ForecastError::model(self.name(), "no sales"))?;
        Ok(Fitted { point: vec![rate; h], spec: format!("Croston SBA alpha {ALPHA}"), sd: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_intermittent_series_gives_its_rate() {
        // 4 units every 4th day: rate 1 a day, less the SBA correction of 5%.
        let y: Vec<f64> = (0..200).map(|i| if i % 4 == 3 { 4.0 } else { 0.0 }).collect();
        let rate = croston_sba(&y).unwrap();
        assert!((rate - 0.95).abs() < 1e-9, "{rate}");
        let cal = Calendar::new(crate::ml::forecast::Grain::Day, chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(Croston.fit_predict(&y, &cal, 3, None).unwrap().point, vec![rate; 3]);
        // Not offered for a series that sells every day.
        assert!(Croston.fit_predict(&[1.0; 50], &cal, 3, None).is_err());
        assert!(croston_sba(&[0.0; 10]).is_none());
    }
}
