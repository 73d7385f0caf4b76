//! Exponential smoothing (ETS) as a forecasting candidate: statsforecast's AutoETS, ported in
//! [`super::ets_auto`] (the form with the lowest AICc among the admissible ones, fitted by
//! maximum likelihood). The first backtest window searches; the later windows run its fitted
//! model over their longer history, and the nights until the next backtest refit its form.

use super::ets_auto::{self, EtsSpec};
use super::{Calendar, Fitted, ForecastError, Model};

pub struct Ets;

impl Model for Ets {
    fn name(&self) -> &'static str {
        "ets"
    }

    fn fit_predict(&self, y: &[f64], cal: &Calendar, h: usize, hint: Option<&str>) -> Result<Fitted, ForecastError> {
        let m = cal.grain.season_length();
        // A form chosen earlier ("ETS(M,Ad,M)"; specs of earlier versions end in " season 12").
        let kept = hint.and_then(|s| EtsSpec::parse(s.split(" season").next().unwrap_or(s)));
        let fit = match kept.map(|spec| ets_auto::fit_spec(y, m, spec)) {
            Some(Ok(fit)) => fit,
            _ => ets_auto::auto_ets(y, m)?,
        };
        fitted(&fit, h)
    }

    /// The first window searches; the later ones keep its parameters and initial states and
    /// only run the recursions over their longer history (still out of sample: nothing was
    /// estimated on a later window).
    fn backtest(&self, y: &[f64], cal: &Calendar, origins: &[usize], h: usize) -> Result<(Vec<Fitted>, String), ForecastError> {
        let m = cal.grain.season_length();
        let refit = |y: &[f64], spec: &str| self.fit_predict(y, cal, h, Some(spec));
        super::model::backtest_refiltered(y, origins, h, |y| ets_auto::auto_ets(y, m), |f, y| f.refilter(y), fitted, refit)
    }
}

fn fitted(fit: &ets_auto::EtsModelFit, h: usize) -> Result<Fitted, ForecastError> {
    let point = fit.forecast(h);
    if point.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::model("ets", "non-finite forecast"));
    }
    // statsforecast's analytic variances; the forms it simulates (multiplicative trend, never
    // chosen by the search) have none here.
    let sd = fit.variance(h).ok().map(|v| v.iter().map(|x| x.max(0.0).sqrt()).collect());
    Ok(Fitted { point, spec: fit.spec(), sd })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::forecast::Grain;
    use chrono::NaiveDate;

    fn cal() -> Calendar {
        Calendar::new(Grain::Day, NaiveDate::from_ymd_opt(2025, 1, 6).unwrap())
    }

    /// Deterministic noise in [-1, 1].
    fn noise(i: usize) -> f64 {
        ((i * 7919 + 13) % 101) as f64 / 50.0 - 1.0
    }

    #[test]
    fn pure_seasonal_series_is_forecast_exactly() {
        let pattern = [10.0, 12.0, 9.0, 14.0, 20.0, 30.0, 25.0];
        let y: Vec<f64> = (0..140).map(|i| pattern[i % 7] + 0.05 * noise(i)).collect();
        let f = Ets.fit_predict(&y, &cal(), 14, None).unwrap();
        assert!(!f.spec.ends_with(",N)"), "{}", f.spec);
        for (k, v) in f.point.iter().enumerate() {
            assert!((v - pattern[(140 + k) % 7]).abs() < 0.1, "{k}: {v} ({})", f.spec);
        }
    }

    #[test]
    fn linear_trend_is_extended() {
        let y: Vec<f64> = (0..100).map(|i| 50.0 + 2.0 * i as f64 + 0.1 * noise(i)).collect();
        let cal = Calendar::new(Grain::Month, NaiveDate::from_ymd_opt(2015, 1, 1).unwrap());
        let f = Ets.fit_predict(&y, &cal, 6, None).unwrap();
        assert!(f.spec.contains(",A,") || f.spec.contains(",Ad,"), "{}", f.spec);
        for (k, v) in f.point.iter().enumerate() {
            let want = 50.0 + 2.0 * (100 + k) as f64;
            assert!((v - want).abs() < 0.01 * want, "{k}: {v} vs {want} ({})", f.spec);
        }
    }

    #[test]
    fn constant_series_stays_constant() {
        let f = Ets.fit_predict(&[42.0; 60], &cal(), 5, None).unwrap();
        assert!(f.point.iter().all(|v| (v - 42.0).abs() < 1e-9), "{:?}", f.point);
    }

    #[test]
    fn a_form_hint_is_reused_and_old_specs_still_read() {
        let y: Vec<f64> = (0..120).map(|i| 100.0 + (i % 7) as f64 * 3.0 + 4.0 * noise(i)).collect();
        let first = Ets.fit_predict(&y[..80], &cal(), 7, None).unwrap();
        let again = Ets.fit_predict(&y, &cal(), 7, Some(&first.spec)).unwrap();
        assert_eq!(first.spec, again.spec);
        let old = Ets.fit_predict(&y, &cal(), 7, Some("ETS(A,N,A) season 7")).unwrap();
        assert_eq!(old.spec, "ETS(A,N,A)");
        // A hint that cannot be fitted here falls back to the search.
        assert!(Ets.fit_predict(&y, &cal(), 7, Some("ETS(X,N,N)")).is_ok());
    }

    #[test]
    fn too_short_or_broken_series_are_errors() {
        assert!(Ets.fit_predict(&[], &cal(), 3, None).is_err());
        assert!(Ets.fit_predict(&[1.0, 2.0, 3.0], &cal(), 3, None).is_err());
        assert!(Ets.fit_predict(&[1.0, f64::NAN, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], &cal(), 3, None).is_err());
    }

    #[test]
    fn later_backtest_windows_run_the_first_windows_model() {
        let y: Vec<f64> = (0..120).map(|i| 100.0 + (i % 7) as f64 * 3.0 + 0.2 * i as f64 + 4.0 * noise(i)).collect();
        let (fits, spec) = Ets.backtest(&y, &cal(), &[92, 106], 14).unwrap();
        let first = ets_auto::auto_ets(&y[..92], 7).unwrap();
        assert_eq!((fits.len(), spec), (2, first.spec()));
        assert_eq!(fits[0].point, first.forecast(14));
        // The same parameters and initial states over 14 more days: the forecast from there.
        let later = first.refilter(&y[..106]).unwrap();
        assert_eq!((later.alpha, &later.init_states), (first.alpha, &first.init_states));
        assert_eq!(fits[1].point, later.forecast(14));
        assert_ne!(fits[1].point, fits[0].point);
        // Over its own history the model is itself.
        assert_eq!(first.refilter(&y[..92]).unwrap().forecast(14), first.forecast(14));
        assert!(first.refilter(&[]).is_err());
    }
}
