//! The Theta method as statsforecast's AutoTheta fits it (Fiorucci et al. 2016, "Models for
//! optimising the theta method and their relationship to state space models"): a seasonality
//! test at lag m, classical decomposition when it passes, then the standard (STM), optimised
//! (OTM), dynamic standard (DSTM) and dynamic optimised (DOTM) models fitted by a bounded
//! Nelder-Mead, the one with the smallest in-sample error kept. A port of statsforecast's
//! `theta.py`, `theta.cpp` and `nelder_mead.h` (Apache-2.0), operation for operation, so that
//! its forecasts agree with statsforecast's to rounding (tested in `tests/forecast_reference.rs`).

use super::optim::nelder_mead_bounded;
use super::{Calendar, Fitted, ForecastError, Model};

pub struct Theta;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stm,
    Otm,
    Dstm,
    Dotm,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Stm, Kind::Otm, Kind::Dstm, Kind::Dotm];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Stm => "STM",
            Kind::Otm => "OTM",
            Kind::Dstm => "DSTM",
            Kind::Dotm => "DOTM",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    fn dynamic(self) -> bool {
        matches!(self, Kind::Dstm | Kind::Dotm)
    }

    fn optimises_theta(self) -> bool {
        matches!(self, Kind::Otm | Kind::Dotm)
    }
}

/// The state after period i: level, running mean, intercept A, slope B, one-step forecast mu.
type State = [f64; 5];

fn init_state(y: &[f64], kind: Kind, l0: f64, alpha: f64, theta: f64) -> State {
    let (a, b, mu) = if kind.dynamic() {
        (y[0], 0.0, y[0])
    } else {
        let n = y.len() as f64;
        let mean = y.iter().sum::<f64>() / n;
        let wavg = y.iter().enumerate().map(|(i, v)| v * (i + 1) as f64).sum::<f64>() / n;
        let b = (6.0 * (2.0 * wavg - (n + 1.0) * mean)) / (n * n - 1.0);
        let a = mean - (n + 1.0) * b / 2.0;
        (a, b, l0 + (1.0 - 1.0 / theta) * (a + b))
    };
    [alpha * y[0] + (1.0 - alpha) * l0, y[0], a, b, mu]
}

/// The state after period `i` from the one before; `y` None forecasts (the period's value is
/// its own forecast).
fn step(prev: &State, i: usize, kind: Kind, alpha: f64, theta: f64, y: Option<f64>) -> State {
    let [level, meany, a, b, _] = *prev;
    let fi = i as f64;
    let mu = level + (1.0 - 1.0 / theta) * (a * (1.0 - alpha).powf(fi) + b * (1.0 - (1.0 - alpha).powf(fi + 1.0)) / alpha);
    let y = y.unwrap_or(mu);
    let level = alpha * y + (1.0 - alpha) * level;
    let mean = (fi * meany + y) / (fi + 1.0);
    let (a, b) = if kind.dynamic() {
        let b = ((fi - 1.0) * b + 6.0 * (y - meany) / (fi + 1.0)) / (fi + 2.0);
        (mean - b * (fi + 2.0) / 2.0, b)
    } else {
        (a, b)
    };
    [level, mean, a, b, mu]
}

/// statsforecast's placeholder for a failed forecast inside its recursion.
const NA: f64 = -99999.0;

/// The in-sample objective (squared one-step errors from the fourth period on, over mean |y|)
/// and the last state.
fn calc(y: &[f64], kind: Kind, l0: f64, alpha: f64, theta: f64) -> (f64, State) {
    let mut st = init_state(y, kind, l0, alpha, theta);
    let mut sse = 0.0;
    for (i, &yi) in y.iter().enumerate().skip(1) {
        let next = step(&st, i, kind, alpha, theta, Some(yi));
        if (next[4] - NA).abs() < 1e-10 {
            return (NA, st);
        }
        if i >= 3 {
            sse += (yi - next[4]) * (yi - next[4]);
        }
        st = next;
    }
    let scale = (y.iter().map(|v| v.abs()).sum::<f64>() / y.len() as f64).max(1e-10);
    (sse / scale, st)
}

struct Fit {
    kind: Kind,
    mse: f64,
    alpha: f64,
    theta: f64,
    last: State,
}

fn fit_kind(y: &[f64], kind: Kind) -> Fit {
    let (mut x0, mut lower, mut upper) = (vec![y[0] / 2.0, 0.5], vec![-1e10, 0.1], vec![1e10, 0.99]);
    if kind.optimises_theta() {
        x0.push(2.0);
        lower.push(1.0);
        upper.push(1e10);
    }
    let theta_of = |x: &[f64]| if kind.optimises_theta() { x[2] } else { 2.0 };
    let objective = |x: &[f64]| {
        let (mse, _) = calc(y, kind, x[0], x[1], theta_of(x));
        let mse = mse.max(-1e10);
        // statsforecast's sign, kept: a failed evaluation looks best to the search.
        if mse.is_nan() || (mse + 99999.0).abs() < 1e-7 {
            f64::NEG_INFINITY
        } else {
            mse
        }
    };
    let (x, _) = nelder_mead_bounded(objective, &x0, &lower, &upper, 1000, 1e-4);
    let (mse, last) = calc(y, kind, x[0], x[1], theta_of(&x));
    let mse = if (mse + 99999.0).abs() < 1e-7 { f64::NAN } else { mse };
    Fit { kind, mse, alpha: x[1], theta: theta_of(&x), last }
}

/// The biased autocorrelations r_1..r_m of the demeaned series (statsmodels' `acf`).
fn acf(y: &[f64], m: usize) -> Vec<f64> {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let d: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let c0 = d.iter().map(|v| v * v).sum::<f64>();
    (1..=m).map(|k| (0..n - k).map(|t| d[t] * d[t + k]).sum::<f64>() / c0).collect()
}

/// The 90% one-sided test at lag m that statsforecast (and the M4 benchmarks) use.
pub fn seasonal(y: &[f64], m: usize) -> bool {
    if m < 4 || y.len() < 2 * m {
        return false;
    }
    let r = acf(y, m);
    let stat = ((1.0 + 2.0 * r[..m - 1].iter().map(|v| v * v).sum::<f64>()) / y.len() as f64).sqrt();
    r[m - 1].abs() / stat > 1.6448536269514722
}

/// The seasonal indices of statsmodels' classical `seasonal_decompose` (centred moving average),
/// one per position in the season.
fn season_indices(y: &[f64], m: usize, multiplicative: bool) -> Vec<f64> {
    let n = y.len();
    let filt: Vec<f64> =
        if m.is_multiple_of(2) { (0..=m).map(|k| if k == 0 || k == m { 0.5 / m as f64 } else { 1.0 / m as f64 }).collect() } else { vec![1.0 / m as f64; m] };
    let half = m / 2;
    let (mut sum, mut count) = (vec![0.0; m], vec![0usize; m]);
    for t in half..n.saturating_sub(filt.len() - 1 - half) {
        let trend: f64 = filt.iter().enumerate().map(|(k, w)| w * y[t - half + k]).sum();
        let d = if multiplicative { y[t] / trend } else { y[t] - trend };
        if !d.is_nan() {
            sum[t % m] += d;
            count[t % m] += 1;
        }
    }
    let avg: Vec<f64> = sum.iter().zip(&count).map(|(s, c)| if *c > 0 { s / *c as f64 } else { f64::NAN }).collect();
    let mean = avg.iter().sum::<f64>() / m as f64;
    avg.iter().map(|a| if multiplicative { a / mean } else { a - mean }).collect()
}

/// A fitted Theta: the model, and the season taken out of the series before fitting (index by
/// position in the season, and whether it multiplies).
pub struct ThetaFit {
    fit: Fit,
    n: usize,
    season: Option<(Vec<f64>, bool)>,
}

impl ThetaFit {
    pub fn spec(&self) -> String {
        let base = format!("Theta({})", self.fit.kind.name());
        match &self.season {
            Some((s, mul)) => format!("{base} {} season {}", if *mul { "multiplicative" } else { "additive" }, s.len()),
            None => base,
        }
    }

    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let f = &self.fit;
        let mut st = f.last;
        (0..h)
            .map(|j| {
                st = step(&st, self.n + j, f.kind, f.alpha, f.theta, None);
                match &self.season {
                    Some((s, true)) => st[4] * s[(self.n + j) % s.len()],
                    Some((s, false)) => st[4] + s[(self.n + j) % s.len()],
                    None => st[4],
                }
            })
            .collect()
    }
}

/// AutoTheta: `kinds` are the models tried (all four when empty).
pub fn auto_theta(y: &[f64], m: usize, kinds: &[Kind]) -> Result<ThetaFit, ForecastError> {
    fit_theta(y, m, kinds, None)
}

/// AutoTheta with the season decided beforehand when `season` is given: Some(None) for no
/// decomposition, Some(Some(multiplicative)) for one (still additive when the data forbid
/// multiplying). A refit of an earlier choice keeps its form this way.
pub fn fit_theta(y: &[f64], m: usize, kinds: &[Kind], season_form: Option<Option<bool>>) -> Result<ThetaFit, ForecastError> {
    if y.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::model("theta", "the series has missing or infinite values"));
    }
    let mut adjusted = y.to_vec();
    let mut season = None;
    let (decompose, want_mul) = match season_form {
        None => (seasonal(y, m), true),
        Some(form) => (form.is_some() && m >= 2 && y.len() >= 2 * m, form.unwrap_or(false)),
    };
    if decompose {
        let mut mul = want_mul && y.iter().all(|v| *v > 0.0);
        let mut s = season_indices(y, m, mul);
        if mul && s.iter().any(|v| *v < 0.01) {
            mul = false;
            s = season_indices(y, m, false);
        }
        for (t, v) in adjusted.iter_mut().enumerate() {
            *v = if mul { *v / s[t % m] } else { *v - s[t % m] };
        }
        season = Some((s, mul));
    }
    if adjusted.len() <= 3 {
        return Err(ForecastError::model("theta", format!("{} periods: Theta needs at least 4", y.len())));
    }
    let kinds = if kinds.is_empty() { &Kind::ALL[..] } else { kinds };
    let mut best: Option<Fit> = None;
    for &k in kinds {
        let fit = fit_kind(&adjusted, k);
        if !fit.mse.is_nan() && best.as_ref().is_none_or(|b| fit.mse < b.mse) && fit.mse < f64::INFINITY {
            best = Some(fit);
        }
    }
    let fit = best.ok_or_else(|| ForecastError::model("theta", "no Theta model could be fitted"))?;
    Ok(ThetaFit { fit, n: y.len(), season })
}

impl Model for Theta {
    fn name(&self) -> &'static str {
        "theta"
    }

    /// The hint (an earlier fit's spec) keeps that fit's model kind and season form.
    fn fit_predict(&self, y: &[f64], cal: &Calendar, h: usize, hint: Option<&str>) -> Result<Fitted, ForecastError> {
        let kinds: Vec<Kind> = hint.and_then(|s| s.strip_prefix("Theta(")).and_then(|s| s.split(')').next()).and_then(Kind::parse).into_iter().collect();
        let form = hint.filter(|_| !kinds.is_empty()).map(|s| {
            if s.contains(" multiplicative season") {
                Some(true)
            } else if s.contains(" additive season") {
                Some(false)
            } else {
                None
            }
        });
        let fit = fit_theta(y, cal.grain.season_length(), &kinds, form)?;
        Ok(Fitted { point: fit.forecast(h), spec: fit.spec(), sd: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_line_is_continued() {
        let y: Vec<f64> = (0..40).map(|t| 10.0 + 2.0 * t as f64).collect();
        let f = auto_theta(&y, 1, &[]).unwrap();
        let p = f.forecast(3);
        // Theta halves the slope's weight at the start and converges on the line's own trend.
        assert!(p[0] > y[39] && p[2] > p[1] && p[1] > p[0], "{p:?}");
    }

    #[test]
    fn a_strong_season_is_taken_out_and_put_back() {
        let pattern = [1.0, 1.5, 0.5, 2.0];
        let y: Vec<f64> = (0..48).map(|t| 100.0 * pattern[t % 4]).collect();
        assert!(seasonal(&y, 4));
        let f = auto_theta(&y, 4, &[]).unwrap();
        assert!(f.spec().contains("multiplicative season 4"), "{}", f.spec());
        let p = f.forecast(4);
        for (j, v) in p.iter().enumerate() {
            assert!((v - 100.0 * pattern[(48 + j) % 4]).abs() < 1e-6, "{p:?}");
        }
    }

    #[test]
    fn tiny_and_broken_series_are_errors() {
        assert!(auto_theta(&[1.0, 2.0, 3.0], 1, &[]).is_err());
        assert!(auto_theta(&[1.0, f64::NAN, 3.0, 4.0, 5.0], 1, &[]).is_err());
    }
}
