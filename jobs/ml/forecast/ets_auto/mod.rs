//! Exponential smoothing (ETS state-space models) exactly as statsforecast 2.1.1's `AutoETS`
//! fits and forecasts them: a port of its `ets.py`, `src/ets.cpp` and `nelder_mead.h`
//! (Apache-2.0) operation for operation, so that the same form is chosen, with the same
//! parameters, point forecasts and forecast variances (tested against statsforecast itself on
//! real series).
//!
//! - [`auto_ets`]: `AutoETS(season_length=m)` (model "ZZZ", damping searched, AICc): additive
//!   and multiplicative errors, no/additive/damped trend, no/additive/multiplicative season,
//!   restricted to the stable combinations, multiplicative forms only for positive data.
//! - [`fit_spec`]: `AutoETS(season_length=m, model="MAM", damped=...)`, one form, to refit a form
//!   chosen earlier without the search (its fit can differ from the search's fit of the same
//!   form: statsforecast narrows beta's and gamma's bounds as its search goes).
//! - [`EtsModelFit::forecast`], [`EtsModelFit::variance`], [`EtsModelFit::intervals`]: the point
//!   forecast and statsforecast's analytic forecast variances (classes 1 to 3).

mod init;
mod model;
mod numeric;
mod select;
mod variance;

#[cfg(test)]
mod tests;

use super::ForecastError;

use model::Comp;
use select::Fitted;

const NAME: &str = "ets";

/// An ETS form: error 'A'|'M', trend 'N'|'A'|'M' (damped or not), season 'N'|'A'|'M'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EtsSpec {
    pub error: char,
    pub trend: char,
    pub damped: bool,
    pub season: char,
}

impl EtsSpec {
    /// "ETS(M,Ad,M)", as statsforecast names a fitted model.
    pub fn spec(&self) -> String {
        format!("ETS({},{}{},{})", self.error, self.trend, if self.damped { "d" } else { "" }, self.season)
    }

    /// The compact form "MAdM".
    pub fn code(&self) -> String {
        format!("{}{}{}{}", self.error, self.trend, if self.damped { "d" } else { "" }, self.season)
    }

    /// Reads "ETS(M,Ad,M)" or "MAdM"/"MAM"; None for anything else (or damping without trend).
    pub fn parse(s: &str) -> Option<EtsSpec> {
        let s = s.trim();
        let letters: Vec<char> = match s.strip_prefix("ETS(").and_then(|r| r.strip_suffix(')')) {
            Some(inner) => inner.split(',').flat_map(|p| p.trim().chars()).collect(),
            None => s.chars().collect(),
        };
        let (error, trend, damped, season) = match letters.as_slice() {
            [e, t, 'd', s] => (*e, *t, true, *s),
            [e, t, s] => (*e, *t, false, *s),
            _ => return None,
        };
        let ok = matches!(error, 'A' | 'M') && matches!(trend, 'N' | 'A' | 'M') && matches!(season, 'N' | 'A' | 'M') && !(damped && trend == 'N');
        ok.then_some(EtsSpec { error, trend, damped, season })
    }
}

/// A fitted ETS model.
#[derive(Debug, Clone)]
pub struct EtsModelFit {
    pub spec: EtsSpec,
    /// The season length the model uses (1 without a season).
    pub m: usize,
    pub alpha: f64,
    pub beta: Option<f64>,
    pub gamma: Option<f64>,
    pub phi: Option<f64>,
    /// Selection criteria (statsforecast's: -2 log L up to constants, + 2k ...).
    pub aicc: f64,
    pub aic: f64,
    pub bic: f64,
    /// Residual variance: sum of squared residuals over n - k - 1 (k counts the variance).
    pub sigma2: f64,
    pub n_params: usize,
    /// Level, growth (with a trend), seasonal states (newest first, all m) at the start ...
    pub init_states: Vec<f64>,
    /// ... and after the last observation.
    pub last_state: Vec<f64>,
    /// One-step errors: y - fit (additive errors) or (y - fit) / fit (multiplicative).
    pub residuals: Vec<f64>,
    fit: Fitted,
}

fn opt(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

impl EtsModelFit {
    fn new(fit: Fitted) -> EtsModelFit {
        let spec = EtsSpec { error: fit.form.error.letter(), trend: fit.form.trend.letter(), damped: fit.damped, season: fit.form.season.letter() };
        EtsModelFit {
            spec,
            m: fit.form.m,
            alpha: fit.par[0],
            beta: opt(fit.par[1]),
            gamma: opt(fit.par[2]),
            phi: opt(fit.par[3]),
            aicc: fit.aicc,
            aic: fit.aic,
            bic: fit.bic,
            sigma2: fit.sigma2,
            n_params: fit.n_params,
            init_states: fit.init_states.clone(),
            last_state: fit.last_state.clone(),
            residuals: fit.residuals.clone(),
            fit,
        }
    }

    /// "ETS(M,Ad,M)".
    pub fn spec(&self) -> String {
        self.spec.spec()
    }

    /// The same model run over `y`, a longer history than it was fitted on (see
    /// `select::refilter`): forecasts then start from the end of `y`.
    pub fn refilter(&self, y: &[f64]) -> Result<EtsModelFit, ForecastError> {
        check(y)?;
        select::refilter(&self.fit, y)
            .map(EtsModelFit::new)
            .ok_or_else(|| ForecastError::model(NAME, format!("{} does not run over the longer history", self.spec())))
    }

    /// The point forecast of the next h periods (`pegelsfcast_C`).
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let f = &self.fit;
        let x = &f.last_state;
        let has_trend = f.form.trend != Comp::N;
        let l = x[0];
        let b = if has_trend { x[1] } else { 0.0 };
        let m = f.form.m.max(1);
        let s: Vec<f64> = if f.form.season != Comp::N { x[1 + has_trend as usize..1 + has_trend as usize + m].to_vec() } else { vec![0.0; m] };
        let phi = if f.damped { f.par[3] } else { 1.0 };
        model::forecast(l, b, &s, m, f.form.trend, f.form.season, phi, h)
    }

    /// The variances of the 1..=h step forecast errors, as statsforecast's intervals use them.
    /// An error for the forms statsforecast simulates instead (multiplicative trend without a
    /// multiplicative season).
    pub fn variance(&self, h: usize) -> Result<Vec<f64>, ForecastError> {
        variance::forecast_variance(&self.fit, &self.forecast(h))
            .ok_or_else(|| ForecastError::model(NAME, format!("{}: statsforecast simulates its intervals; not ported", self.spec())))
    }

    /// The `level`% (e.g. 80, 95) prediction intervals: (lower, upper), mean -/+ z sd.
    pub fn intervals(&self, h: usize, level: f64) -> Result<(Vec<f64>, Vec<f64>), ForecastError> {
        let mean = self.forecast(h);
        let var = self.variance(h)?;
        let z = variance::ndtri(0.5 + level / 200.0);
        let lo = mean.iter().zip(&var).map(|(m, v)| m - z * v.sqrt()).collect();
        let hi = mean.iter().zip(&var).map(|(m, v)| m + z * v.sqrt()).collect();
        Ok((lo, hi))
    }
}

fn check(y: &[f64]) -> Result<(), ForecastError> {
    if y.is_empty() {
        return Err(ForecastError::model(NAME, "the series is empty"));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::model(NAME, "the series has missing or infinite values"));
    }
    Ok(())
}

/// statsforecast's `AutoETS(season_length=m)`: every admissible form fitted, the smallest AICc
/// kept.
pub fn auto_ets(y: &[f64], m: usize) -> Result<EtsModelFit, ForecastError> {
    check(y)?;
    select::ets_f(y, m, ['Z', 'Z', 'Z'], None).map(EtsModelFit::new).map_err(|e| ForecastError::model(NAME, e))
}

/// statsforecast's `AutoETS(season_length=m, model=<spec>, damped=<spec.damped>)`: that form
/// only. The season is dropped when the series is not longer than m (as statsforecast does); a
/// seasonal form with m = 1, a multiplicative form on data with zeros or negatives, and the
/// forms statsforecast forbids (additive error with a multiplicative part, M,M,A) are errors.
/// A constant series gets statsforecast's ETS(A,N,N) with alpha fixed near 0.9999 whatever the
/// spec.
pub fn fit_spec(y: &[f64], m: usize, spec: EtsSpec) -> Result<EtsModelFit, ForecastError> {
    check(y)?;
    if EtsSpec::parse(&spec.code()) != Some(spec) {
        return Err(ForecastError::model(NAME, format!("not an ETS form: {spec:?}")));
    }
    select::ets_f(y, m, [spec.error, spec.trend, spec.season], Some(spec.damped)).map(EtsModelFit::new).map_err(|e| ForecastError::model(NAME, e))
}
