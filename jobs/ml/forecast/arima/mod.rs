//! ARIMA as statsforecast 2.1.1's AutoARIMA fits it (Hyndman and Khandakar 2008, "Automatic
//! time series forecasting: the forecast package for R"): KPSS and seasonal-strength tests for
//! the differences, a stepwise search over the orders by AICc, each candidate estimated by
//! conditional sum of squares then exact likelihood, forecasts from the Kalman filter. A port
//! of statsforecast's `arima.py` and `arima.cpp` (Apache-2.0), of scipy's BFGS and of
//! statsmodels' KPSS and STL, operation for operation, so that orders and forecasts agree with
//! statsforecast's (tested in `tests/forecast_reference_arima.rs`).

mod bfgs;
mod dcsrch;
mod estimate;
mod kalman;
mod kernels;
mod search;
mod unitroot;

#[cfg(test)]
mod tests;

use super::{Calendar, Fitted, ForecastError, Model};
use estimate::Method;
pub use estimate::Regressor;
use kalman::StateSpace;
use kernels::Arma;

/// Longest season the `Model` fits with seasonal terms. statsforecast accepts m = 52 but the
/// state then has over 100 dimensions and one weekly series takes minutes; weekly series are
/// fitted without a season instead (other candidates model their year).
pub const MODEL_MAX_SEASON: usize = 24;

/// The candidate model, name "arima".
pub struct Arima;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArimaOptions {
    /// Longest season fitted with seasonal terms: `auto_arima` treats a longer m as 1 and
    /// `fit_order` refuses seasonal terms with it. statsforecast has no such limit (usize::MAX).
    pub season: usize,
    /// Score candidates by conditional sum of squares (R's `approximation`) and refit the best
    /// exactly. statsforecast's AutoARIMA default is false.
    pub approximation: bool,
    /// For differenced models, stop the likelihood search at its start (the CSS estimates)
    /// instead of running statsforecast's, which practically always fails there at its first
    /// step: 20 to 60 times faster, and the same orders and forecasts as statsforecast in 493
    /// of 494 test fits. false: statsforecast's behaviour exactly.
    pub quick: bool,
    /// Stop the likelihood search at the CSS estimates for stationary models too (see
    /// `Method::CssStart`). Not statsforecast's behaviour: the `Model`'s, for speed.
    pub css_start: bool,
}

impl Default for ArimaOptions {
    fn default() -> ArimaOptions {
        ArimaOptions { season: usize::MAX, approximation: false, quick: false, css_start: false }
    }
}

impl ArimaOptions {
    /// What the `Model` uses: seasons up to `MODEL_MAX_SEASON`; candidates compared by
    /// conditional sum of squares at every length (R's `approximation`, which auto.arima uses
    /// past 150 periods): a backtest fits every series several times, and on the public
    /// benchmark series this was 45% faster on monthly series at the same accuracy.
    pub fn for_model() -> ArimaOptions {
        ArimaOptions { season: MODEL_MAX_SEASON, approximation: true, quick: true, css_start: false }
    }

    /// What the `Model`'s backtest windows use: as `for_model`, keeping the chosen order's CSS
    /// estimates (25% faster on daily series, the same forecast MASE to 0.5%). Not for the
    /// final fit: on a flat likelihood CSS estimates move with the last bits of the data, and
    /// the exact likelihood pins them down.
    pub fn for_backtest() -> ArimaOptions {
        ArimaOptions { css_start: true, ..ArimaOptions::for_model() }
    }

    fn method(&self) -> Method {
        if self.css_start {
            Method::CssStart
        } else if self.quick {
            Method::CssMlQuick
        } else {
            Method::CssMl
        }
    }
}

/// (p, d, q)(P, D, Q).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Order {
    pub p: usize,
    pub d: usize,
    pub q: usize,
    pub sp: usize,
    pub sd: usize,
    pub sq: usize,
}

/// A fitted ARIMA: orders, coefficients (ar, ma, sar, sma, then the mean or drift), the
/// innovation variance, fit criteria and the Kalman state at the end of the series.
#[derive(Debug, Clone)]
pub struct ArimaFit {
    pub order: Order,
    pub m: usize,
    pub coef: Vec<f64>,
    pub regressor: Regressor,
    pub sigma2: f64,
    pub loglik: f64,
    pub aic: f64,
    pub aicc: f64,
    model: StateSpace,
    n: usize,
    /// statsforecast forecasts a constant series as itself, with no variance.
    constant: Option<f64>,
}

impl ArimaFit {
    fn new(chosen: search::Chosen, y: &[f64]) -> ArimaFit {
        let est = chosen.est;
        let a = est.arma;
        ArimaFit {
            order: Order { p: a.p, d: a.d, q: a.q, sp: a.sp, sd: a.sd, sq: a.sq },
            m: a.m,
            coef: est.coef,
            regressor: est.regressor,
            sigma2: chosen.sigma2,
            loglik: est.loglik,
            aic: est.aic,
            aicc: chosen.aicc,
            model: est.model,
            n: y.len(),
            constant: y.first().copied().filter(|_| unitroot::is_constant(y)),
        }
    }

    /// "ARIMA(1,1,0)(0,1,0)[12]", with " with drift" or " with mean" when there is one.
    pub fn spec(&self) -> String {
        let o = &self.order;
        let mut s = format!("ARIMA({},{},{})", o.p, o.d, o.q);
        if self.m > 1 && o.sp + o.sd + o.sq > 0 {
            s += &format!("({},{},{})[{}]", o.sp, o.sd, o.sq, self.m);
        }
        match self.regressor {
            Regressor::Drift => s + " with drift",
            Regressor::Intercept => s + " with mean",
            Regressor::None => s,
        }
    }

    /// The same model, coefficients unchanged, filtered over `y` (a longer history): its state
    /// and innovation variance at the end of `y`.
    pub fn refilter(&self, y: &[f64], opts: &ArimaOptions) -> Result<ArimaFit, ForecastError> {
        check(y)?;
        let o = &self.order;
        let arma = Arma { p: o.p, q: o.q, sp: o.sp, sq: o.sq, m: self.m, d: o.d, sd: o.sd };
        let constant = self.regressor != Regressor::None;
        let chosen = search::fit_fixed(y, arma, constant, Some(&self.coef), opts.method()).map_err(|e| ForecastError::model("arima", e))?;
        if !chosen.est.loglik.is_finite() {
            return Err(ForecastError::model("arima", "the likelihood could not be evaluated"));
        }
        Ok(ArimaFit::new(chosen, y))
    }

    /// Point forecasts and their variances (sigma2 included) for the next `h` periods.
    pub fn forecast(&self, h: usize) -> (Vec<f64>, Vec<f64>) {
        if let Some(c) = self.constant {
            return (vec![c; h], vec![0.0; h]);
        }
        let (mut mean, var) = self.model.forecast(h);
        let beta = self.coef.last().copied().unwrap_or(0.0);
        for (i, v) in mean.iter_mut().enumerate() {
            *v += match self.regressor {
                Regressor::None => 0.0,
                Regressor::Intercept => beta,
                Regressor::Drift => (i + 1 + self.n) as f64 * beta,
            };
        }
        (mean, var.iter().map(|v| v * self.sigma2).collect())
    }
}

fn check(y: &[f64]) -> Result<(), ForecastError> {
    if y.is_empty() {
        return Err(ForecastError::model("arima", "the series is empty"));
    }
    if y.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::model("arima", "the series has missing or infinite values"));
    }
    Ok(())
}

/// statsforecast's `AutoARIMA(season_length=m)` with its defaults (stepwise, AICc, CSS-ML).
pub fn auto_arima(y: &[f64], m: usize, opts: &ArimaOptions) -> Result<ArimaFit, ForecastError> {
    check(y)?;
    let m = if m > opts.season { 1 } else { m.max(1) };
    let chosen = search::auto_arima(y, m, opts.approximation, opts.method()).map_err(|e| ForecastError::model("arima", e))?;
    Ok(ArimaFit::new(chosen, y))
}

/// statsforecast's `ARIMA(order, season_length=m, seasonal_order, include_constant=constant)`:
/// a mean without differencing, a drift with one difference, nothing with more.
pub fn fit_order(y: &[f64], m: usize, order: Order, constant: bool, opts: &ArimaOptions) -> Result<ArimaFit, ForecastError> {
    check(y)?;
    let seasonal = order.sp + order.sd + order.sq > 0;
    if seasonal && (m > opts.season || m < 2) {
        return Err(ForecastError::model("arima", format!("seasonal orders need a season from 2 to {}", opts.season)));
    }
    let arma = Arma { p: order.p, q: order.q, sp: order.sp, sq: order.sq, m: m.max(1), d: order.d, sd: order.sd };
    let chosen = search::fit_fixed(y, arma, constant, None, opts.method()).map_err(|e| ForecastError::model("arima", e))?;
    if !chosen.est.loglik.is_finite() {
        return Err(ForecastError::model("arima", format!("{:?}: the likelihood could not be evaluated", order)));
    }
    Ok(ArimaFit::new(chosen, y))
}

/// Reads a spec written by `ArimaFit::spec`: (order, season length if seasonal, constant).
pub fn parse_spec(s: &str) -> Option<(Order, Option<usize>, bool)> {
    let rest = s.strip_prefix("ARIMA(")?;
    let (nums, rest) = rest.split_once(')')?;
    let three = |t: &str| -> Option<[usize; 3]> {
        let v: Vec<usize> = t.split(',').map(|x| x.trim().parse().ok()).collect::<Option<_>>()?;
        <[usize; 3]>::try_from(v).ok()
    };
    let [p, d, q] = three(nums)?;
    let (mut order, mut m) = (Order { p, d, q, ..Order::default() }, None);
    let mut rest = rest;
    if let Some(r) = rest.strip_prefix('(') {
        let (nums, r) = r.split_once(")[")?;
        let (mm, r) = r.split_once(']')?;
        let [sp, sd, sq] = three(nums)?;
        (order.sp, order.sd, order.sq) = (sp, sd, sq);
        m = Some(mm.parse().ok()?);
        rest = r;
    }
    let constant = match rest {
        "" => false,
        " with drift" | " with mean" => true,
        _ => return None,
    };
    Some((order, m, constant))
}

impl Model for Arima {
    fn name(&self) -> &'static str {
        "arima"
    }

    /// The hint (an earlier fold's spec) is refitted as is, without a search; if it no longer
    /// fits (a shorter fold), the search runs.
    fn fit_predict(&self, y: &[f64], cal: &Calendar, h: usize, hint: Option<&str>) -> Result<Fitted, ForecastError> {
        let (m, opts) = (cal.grain.season_length(), ArimaOptions::for_model());
        let hinted = hint.and_then(parse_spec).and_then(|(order, hm, constant)| fit_order(y, hm.unwrap_or(m), order, constant, &opts).ok());
        let fit = match hinted {
            Some(f) => f,
            None => auto_arima(y, m, &opts)?,
        };
        Ok(fitted(&fit, h))
    }

    /// The first window searches; the later ones keep its coefficients and only run the filter
    /// over their longer history. Still out of sample (the coefficients saw none of the later
    /// windows), and one exact-likelihood fit per series less than refitting each window.
    fn backtest(&self, y: &[f64], cal: &Calendar, origins: &[usize], h: usize) -> Result<(Vec<Fitted>, String), ForecastError> {
        let (m, opts) = (cal.grain.season_length(), ArimaOptions::for_backtest());
        let refit = |y: &[f64], spec: &str| self.fit_predict(y, cal, h, Some(spec));
        super::model::backtest_refiltered(y, origins, h, |y| auto_arima(y, m, &opts), |f, y| f.refilter(y, &opts), |f, h| Ok(fitted(f, h)), refit)
    }
}

fn fitted(fit: &ArimaFit, h: usize) -> Fitted {
    let (point, var) = fit.forecast(h);
    Fitted { point, spec: fit.spec(), sd: Some(var.iter().map(|v| v.max(0.0).sqrt()).collect()) }
}
