//! A linear regression (linfa-linear, least squares) on a trend, the season (weekday, month or
//! quarter dummies; yearly Fourier terms for weeks and for long daily histories) and the
//! retail peaks of `calendar::PEAKS` plus the shop's holidays.

use chrono::Datelike;
use linfa::traits::{Fit as _, Predict as _};
use linfa::Dataset;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2};

use super::calendar::{Grain, PEAKS};
use super::{Calendar, Fitted, ForecastError, Model};

pub struct Regression;

/// Yearly Fourier pairs for weekly data and for daily data with two years of history.
const YEARLY_TERMS: usize = 3;

/// Feature values of period `i`: trend, season, peaks. `yearly` adds Fourier terms.
fn features(cal: &Calendar, i: usize, yearly: bool) -> Vec<f64> {
    let start = cal.period_start(i);
    let mut v = vec![i as f64];
    match cal.grain {
        Grain::Day => {
            let wd = start.weekday().num_days_from_monday() as usize;
            v.extend((1..7).map(|k| (wd == k) as u8 as f64));
        }
        Grain::Month => v.extend((1..12).map(|k| (start.month0() as usize == k) as u8 as f64)),
        Grain::Quarter => v.extend((1..4).map(|k| (start.month0() as usize / 3 == k) as u8 as f64)),
        Grain::Week => {}
    }
    if yearly {
        let t = 2.0 * std::f64::consts::PI * start.ordinal() as f64 / 365.25;
        for k in 1..=YEARLY_TERMS {
            v.push((k as f64 * t).sin());
            v.push((k as f64 * t).cos());
        }
    }
    if matches!(cal.grain, Grain::Day | Grain::Week) {
        v.extend(cal.peak_shares(i));
    }
    v
}

/// Columns that vary over the training rows (a constant column duplicates the intercept and
/// makes the least-squares system singular), and distinct from earlier columns.
fn varying_columns(rows: &[Vec<f64>]) -> Vec<usize> {
    let width = rows.first().map_or(0, |r| r.len());
    let mut keep: Vec<usize> = vec![];
    for c in 0..width {
        let first = rows[0][c];
        if rows.iter().all(|r| r[c] == first) {
            continue;
        }
        if keep.iter().any(|&k| rows.iter().all(|r| r[k] == r[c])) {
            continue;
        }
        keep.push(c);
    }
    keep
}

impl Model for Regression {
    fn name(&self) -> &'static str {
        "regression"
    }

    fn fit_predict(&self, y: &[f64], cal: &Calendar, h: usize, _hint: Option<&str>) -> Result<Fitted, ForecastError> {
        let n = y.len();
        let yearly = match cal.grain {
            Grain::Week => n >= 104,
            Grain::Day => n >= 730,
            _ => false,
        };
        let rows: Vec<Vec<f64>> = (0..n).map(|i| features(cal, i, yearly)).collect();
        if rows.is_empty() {
            return Err(ForecastError::model(self.name(), "empty series"));
        }
        let keep = varying_columns(&rows);
        if n < keep.len() + 4 {
            return Err(ForecastError::model(self.name(), format!("{n} periods for {} features", keep.len())));
        }
        let matrix = |rows: &[Vec<f64>]| Array2::from_shape_fn((rows.len(), keep.len()), |(r, c)| rows[r][keep[c]]);
        let data = Dataset::new(matrix(&rows), Array1::from(y.to_vec()));
        let fitted = LinearRegression::new().fit(&data).map_err(|e| ForecastError::model(self.name(), format!("least squares: {e}")))?;
        let future: Vec<Vec<f64>> = (n..n + h).map(|i| features(cal, i, yearly)).collect();
        let point = fitted.predict(&matrix(&future)).to_vec();
        if point.iter().any(|v| !v.is_finite()) {
            return Err(ForecastError::model(self.name(), "non-finite forecast"));
        }
        let peaks = keep.iter().filter(|&&c| c + PEAKS.len() + 1 >= rows[0].len()).count();
        let season = match cal.grain {
            Grain::Week => "",
            _ => "+season",
        };
        let spec = format!("trend{season}{}+{peaks} peaks", if yearly { "+yearly" } else { "" });
        Ok(Fitted { point, spec, sd: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn trend_season_and_peaks_are_recovered() {
        // Two years of days: 100 + 0.1 t, +30 on Saturdays, x3 on Black Friday.
        let cal = Calendar::new(Grain::Day, NaiveDate::from_ymd_opt(2024, 6, 3).unwrap());
        let truth = |i: usize| {
            let d = cal.period_start(i);
            let mut v = 100.0 + 0.1 * i as f64 + if d.weekday() == chrono::Weekday::Sat { 30.0 } else { 0.0 };
            if super::super::calendar::peak_of(d) == Some(0) {
                v += 200.0;
            }
            v
        };
        let n = 600; // to 2026-01-23: two Black Fridays seen
        let y: Vec<f64> = (0..n).map(truth).collect();
        let f = Regression.fit_predict(&y, &cal, 400, None).unwrap();
        for (k, v) in f.point.iter().enumerate() {
            assert!((v - truth(n + k)).abs() < 1e-6, "{k}: {v} vs {}", truth(n + k));
        }
        assert!(f.spec.starts_with("trend+season"), "{}", f.spec);
    }

    #[test]
    fn constant_and_linear_series() {
        let cal = Calendar::new(Grain::Month, NaiveDate::from_ymd_opt(2020, 1, 1).unwrap());
        let y: Vec<f64> = (0..36).map(|i| 10.0 + 3.0 * i as f64).collect();
        let f = Regression.fit_predict(&y, &cal, 3, None).unwrap();
        for (k, v) in f.point.iter().enumerate() {
            assert!((v - (10.0 + 3.0 * (36 + k) as f64)).abs() < 1e-6);
        }
        let f = Regression.fit_predict(&[5.0; 36], &cal, 3, None).unwrap();
        assert!(f.point.iter().all(|v| (v - 5.0).abs() < 1e-9), "{:?}", f.point);
    }
}
