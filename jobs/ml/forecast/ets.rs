//! Exponential smoothing (ETS, the innovations state-space models of Hyndman et al.): error
//! additive or multiplicative, trend none, additive or damped, season none, additive or
//! multiplicative. Smoothing parameters are fitted by maximum likelihood (Nelder-Mead on the
//! concentrated likelihood, as R's `ets` and statsforecast's AutoETS do) and the variant is
//! chosen by AICc over the admissible ones ("restricted" mode: no additive error with a
//! multiplicative season). Initial states come from the first seasons (level and trend from a
//! least-squares line on the deseasonalised start, seasonal indices from season means); short
//! additive seasons may instead start from a least-squares fit over the whole series. The
//! optimiser then moves the level and trend with the smoothing parameters, not the seasonal
//! states: that keeps a search to a few milliseconds per series.

use linfa::traits::Fit as _;
use linfa::Dataset;
use linfa_linear::LinearRegression;

use super::optim::nelder_mead;
use super::{Calendar, Fitted, ForecastError, Model};

pub struct Ets;

/// R's ets refuses seasons longer than 24; longer ones (weeks in a year) are left to the
/// regression's yearly terms.
const MAX_SEASON: usize = 24;

/// Seasons averaged for the initial seasonal states.
const SEASONS_FOR_INIT: usize = 3;

/// Seasons up to this long (days of a week, quarters) repeat many times in a history, with
/// noise in every cycle: their additive starts are fitted to the whole series. Longer ones
/// keep R's start from the first seasons (on the public monthly series the fitted start chose
/// worse variants: MASE 1.25 against 1.03).
const SHORT_SEASON: usize = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comp {
    None,
    Add,
    Mul,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub error: Comp,
    pub trend: Comp,
    pub damped: bool,
    pub season: Comp,
    pub m: usize,
}

impl Variant {
    pub fn spec(&self) -> String {
        let c = |c: Comp| match c {
            Comp::None => "N",
            Comp::Add => "A",
            Comp::Mul => "M",
        };
        let t = if self.damped { format!("{}d", c(self.trend)) } else { c(self.trend).to_string() };
        let base = format!("ETS({},{t},{})", c(self.error), c(self.season));
        if self.season == Comp::None {
            base
        } else {
            format!("{base} season {}", self.m)
        }
    }

    pub fn parse(spec: &str) -> Option<Variant> {
        let inner = spec.strip_prefix("ETS(")?;
        let (parts, rest) = inner.split_once(')')?;
        let m = match rest.trim().strip_prefix("season ") {
            Some(s) => s.parse().ok()?,
            None => 1,
        };
        let comp = |s: &str| match s {
            "N" => Some(Comp::None),
            "A" => Some(Comp::Add),
            "M" => Some(Comp::Mul),
            _ => None,
        };
        let p: Vec<&str> = parts.split(',').collect();
        let [e, t, s] = p.as_slice() else { return None };
        let (t, damped) = match t.strip_suffix('d') {
            Some(t) => (t, true),
            None => (*t, false),
        };
        let v = Variant { error: comp(e)?, trend: comp(t)?, damped, season: comp(s)?, m };
        (v.error != Comp::None && v.trend != Comp::Mul && !(damped && v.trend == Comp::None)).then_some(v)
    }

    /// Smoothing parameters, then initial states, then the variance: R's count for AICc.
    fn n_params(&self) -> usize {
        let smoothing = 1 + (self.trend != Comp::None) as usize * (1 + self.damped as usize) + (self.season != Comp::None) as usize;
        let states = 1 + (self.trend != Comp::None) as usize + if self.season != Comp::None { self.m - 1 } else { 0 };
        smoothing + states + 1
    }
}

/// Every variant AutoETS considers for this data (`m` = 1 for none).
pub fn candidates(m: usize, positive: bool) -> Vec<Variant> {
    let mut out = vec![];
    for error in [Comp::Add, Comp::Mul] {
        for (trend, damped) in [(Comp::None, false), (Comp::Add, false), (Comp::Add, true)] {
            for season in [Comp::None, Comp::Add, Comp::Mul] {
                if season != Comp::None && m < 2 {
                    continue;
                }
                // Restricted: additive error with a multiplicative season has infinite variance.
                if error == Comp::Add && season == Comp::Mul {
                    continue;
                }
                if (error == Comp::Mul || season == Comp::Mul) && !positive {
                    continue;
                }
                out.push(Variant { error, trend, damped, season, m: if season == Comp::None { 1 } else { m } });
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Params {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

const LO: f64 = 1e-4;

/// Unconstrained optimiser coordinates -> parameters inside R's "usual" bounds
/// (alpha in (0,1), beta < alpha, gamma < 1 - alpha, phi in (0.8, 0.98)).
fn params_of(v: &Variant, x: &[f64]) -> Params {
    let mut i = 0;
    let mut next = || {
        let u = x[i];
        i += 1;
        logistic(u)
    };
    let alpha = LO + (1.0 - 2.0 * LO) * next();
    let beta = if v.trend != Comp::None { LO + (alpha - LO) * next() } else { 0.0 };
    let gamma = if v.season != Comp::None { LO + (1.0 - alpha - LO).max(0.0) * next() } else { 0.0 };
    let phi = if v.damped { 0.8 + 0.18 * next() } else { 1.0 };
    Params { alpha, beta, gamma, phi }
}

fn start_point(v: &Variant) -> Vec<f64> {
    // R's starting values: alpha 0.1 (0.02 with a season), beta 0.01, gamma 0.01, phi 0.978.
    let alpha = if v.season != Comp::None { 0.02 } else { 0.1 };
    let mut x = vec![logit((alpha - LO) / (1.0 - 2.0 * LO))];
    if v.trend != Comp::None {
        x.push(logit((0.01 - LO) / (alpha - LO)));
    }
    if v.season != Comp::None {
        x.push(logit((0.01 - LO) / (1.0 - alpha - LO)));
    }
    if v.damped {
        x.push(logit((0.978 - 0.8) / 0.18));
    }
    x
}

#[derive(Debug, Clone)]
struct State {
    l: f64,
    b: f64,
    /// s[t % m] is the seasonal state of period t.
    s: Vec<f64>,
}

/// Initial states from the start of the series, or None when a multiplicative part has
/// nothing positive to start from.
fn initial_state(y: &[f64], v: &Variant) -> Option<State> {
    let m = v.m;
    let mut s = vec![if v.season == Comp::Mul { 1.0 } else { 0.0 }; m.max(1)];
    let mut ysa = y.to_vec();
    if v.season != Comp::None {
        // Each position against its own season's mean (so a trend does not leak in), averaged
        // over the first seasons: 3 as in R's ets, 10 for short seasons (weeks of noisy days).
        let seasons = (y.len() / m).clamp(1, if m <= SHORT_SEASON { 10 } else { SEASONS_FOR_INIT });
        let mut used = 0.0;
        let mut acc = vec![0.0; m];
        for c in 0..seasons {
            let season = &y[c * m..(c + 1) * m];
            let mean = season.iter().sum::<f64>() / m as f64;
            if v.season == Comp::Mul && mean <= 0.0 {
                continue;
            }
            for (j, a) in acc.iter_mut().enumerate() {
                *a += if v.season == Comp::Mul { season[j] / mean } else { season[j] - mean };
            }
            used += 1.0;
        }
        if used == 0.0 {
            return None;
        }
        let centre = acc.iter().sum::<f64>() / (m as f64 * used);
        for (sj, a) in s.iter_mut().zip(&acc) {
            *sj = if v.season == Comp::Mul { a / used / centre } else { a / used - centre };
        }
        if v.season == Comp::Mul && s.iter().any(|x| *x <= 0.0 || !x.is_finite()) {
            return None;
        }
        for (t, yt) in ysa.iter_mut().enumerate() {
            let st = s[t % m];
            *yt = if v.season == Comp::Mul { *yt / st } else { *yt - st };
        }
    }
    let k = ysa.len().min((2 * m).max(10));
    let (l, b) = if v.trend == Comp::None {
        (ysa[..k].iter().sum::<f64>() / k as f64, 0.0)
    } else {
        // Least-squares line through the first k deseasonalised points; level at t = -1.
        let xm = (k as f64 - 1.0) / 2.0;
        let ym = ysa[..k].iter().sum::<f64>() / k as f64;
        let sxy: f64 = (0..k).map(|t| (t as f64 - xm) * (ysa[t] - ym)).sum();
        let sxx: f64 = (0..k).map(|t| (t as f64 - xm).powi(2)).sum();
        let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        (ym - b * (xm + 1.0), b)
    };
    if (v.error == Comp::Mul || v.season == Comp::Mul) && l <= 0.0 {
        return None;
    }
    Some(State { l, b, s })
}

/// One-step forecast of period t from the state before it.
#[inline]
fn one_step(st: &State, v: &Variant, p: &Params, t: usize) -> (f64, f64) {
    let q = st.l + p.phi * st.b; // b is 0 without a trend
    let f = match v.season {
        Comp::None => q,
        Comp::Add => q + st.s[t % v.m],
        Comp::Mul => q * st.s[t % v.m],
    };
    (q, f)
}

/// The error-correction update (R's `update()`), the same for both error types.
#[inline]
fn update(st: &mut State, v: &Variant, p: &Params, t: usize, q: f64, y: f64) {
    let old_l = st.l;
    let phib = p.phi * st.b;
    let s_old = if v.season == Comp::None { 0.0 } else { st.s[t % v.m] };
    let deseason = match v.season {
        Comp::None => y,
        Comp::Add => y - s_old,
        Comp::Mul => y / s_old,
    };
    st.l = q + p.alpha * (deseason - q);
    if v.trend != Comp::None {
        st.b = phib + (p.beta / p.alpha) * ((st.l - old_l) - phib);
    }
    match v.season {
        Comp::None => {}
        Comp::Add => st.s[t % v.m] = s_old + p.gamma * ((y - q) - s_old),
        Comp::Mul => st.s[t % v.m] = s_old + p.gamma * (y / q - s_old),
    }
}

/// -2 log-likelihood up to a constant (R's `lik`): n log(sum e^2), plus 2 sum log|f| for
/// multiplicative errors so the two error types compare on the scale of y. Also the state
/// after the last observation.
fn run(y: &[f64], v: &Variant, p: &Params, init: &State) -> Option<(f64, State)> {
    let mut st = init.clone();
    let (mut sse, mut logf) = (0.0, 0.0);
    for (t, &yt) in y.iter().enumerate() {
        let (q, f) = one_step(&st, v, p, t);
        if !f.is_finite() {
            return None;
        }
        let e = match v.error {
            Comp::Mul => {
                if f.abs() < 1e-10 {
                    return None;
                }
                logf += f.abs().ln();
                (yt - f) / f
            }
            _ => yt - f,
        };
        sse += e * e;
        if v.season == Comp::Mul && q.abs() < 1e-10 {
            return None;
        }
        update(&mut st, v, p, t, q, yt);
        if (v.error == Comp::Mul || v.season == Comp::Mul) && st.l <= 0.0 {
            return None;
        }
    }
    let n = y.len() as f64;
    let lik = n * (sse.max(1e-300)).ln() + if v.error == Comp::Mul { 2.0 * logf } else { 0.0 };
    lik.is_finite().then_some((lik, st))
}

/// A fitted variant.
#[derive(Debug, Clone)]
pub struct EtsFit {
    pub variant: Variant,
    pub aicc: f64,
    params: Params,
    /// States before the first observation and after the last.
    #[allow(dead_code)] // read by tests
    start: State,
    end: State,
    n: usize,
}

impl EtsFit {
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let (v, p, st) = (&self.variant, &self.params, &self.end);
        let mut damp_sum = 0.0;
        (1..=h)
            .map(|k| {
                damp_sum += p.phi.powi(k as i32);
                let q = st.l + if v.trend == Comp::None { 0.0 } else { damp_sum * st.b };
                let t = self.n + k - 1;
                match v.season {
                    Comp::None => q,
                    Comp::Add => q + st.s[t % v.m],
                    Comp::Mul => q * st.s[t % v.m],
                }
            })
            .collect()
    }
}

/// One-step forecasts of `ys` from state `st` (the recursions alone, no likelihood).
fn forecasts_from(mut st: State, ys: impl Iterator<Item = f64>, v: &Variant, p: &Params) -> Vec<f64> {
    ys.enumerate()
        .map(|(t, yt)| {
            let (q, f) = one_step(&st, v, p, t);
            update(&mut st, v, p, t, q, yt);
            f
        })
        .collect()
}

/// Initial states of an additive-season variant with the least squared one-step errors for the
/// smoothing parameters `p`, seasonal states summing to zero. The recursions are linear in the
/// states, so this is least squares: one run from zero states over `y`, one per state over
/// zeros. Fitting the seasonal start to the whole series, not to its first weeks, is what
/// AutoETS's optimiser achieves; with the small seasonal smoothing noisy daily sales get, a
/// start from the first weeks alone never recovers.
fn least_squares_start(y: &[f64], v: &Variant, p: &Params) -> Option<State> {
    if v.season != Comp::Add || v.m > SHORT_SEASON {
        return None;
    }
    let (m, n) = (v.m, y.len());
    let has_b = v.trend != Comp::None;
    let k = 1 + has_b as usize + (m - 1);
    let zero = State { l: 0.0, b: 0.0, s: vec![0.0; m] };
    let unit = |j: usize| {
        let mut st = zero.clone();
        match j {
            0 => st.l = 1.0,
            1 if has_b => st.b = 1.0,
            _ => {
                st.s[j - 1 - has_b as usize] = 1.0;
                st.s[m - 1] = -1.0;
            }
        }
        st
    };
    let base = forecasts_from(zero.clone(), y.iter().copied(), v, p);
    let r: Vec<f64> = y.iter().zip(&base).map(|(a, b)| a - b).collect();
    let cols: Vec<Vec<f64>> = (0..k).map(|j| forecasts_from(unit(j), std::iter::repeat_n(0.0, n), v, p)).collect();
    // Least squares without an intercept, as the regression model solves it.
    let design = ndarray::Array2::from_shape_fn((n, k), |(t, j)| cols[j][t]);
    let fitted = LinearRegression::new().with_intercept(false).fit(&Dataset::new(design, ndarray::Array1::from(r))).ok()?;
    let x = fitted.params();
    let mut st = zero;
    st.l = x[0];
    if has_b {
        st.b = x[1];
    }
    let first_s = 1 + has_b as usize;
    for i in 0..m - 1 {
        st.s[i] = x[first_s + i];
    }
    st.s[m - 1] = -x.iter().skip(first_s).sum::<f64>();
    x.iter().all(|v| v.is_finite()).then_some(st)
}

/// Fit one variant by maximum likelihood.
pub fn fit_variant(y: &[f64], v: Variant) -> Option<EtsFit> {
    let init = initial_state(y, &v)?;
    // Of the two starts, the one with the better likelihood at the optimiser's start point.
    let p0 = params_of(&v, &start_point(&v));
    let init = match least_squares_start(y, &v, &p0) {
        Some(ls) => {
            let lik = |st: &State| run(y, &v, &p0, st).map_or(f64::INFINITY, |r| r.0);
            if lik(&ls) < lik(&init) {
                ls
            } else {
                init
            }
        }
        None => init,
    };
    let np = v.n_params();
    let n = y.len();
    if n <= np + 1 {
        return None;
    }
    // The optimiser also moves the initial level and trend (in units of the start's spread),
    // as AutoETS does; the seasonal states keep their start.
    let k = y.len().min((2 * v.m).max(10));
    let mean = y[..k].iter().sum::<f64>() / k as f64;
    let spread = (y[..k].iter().map(|x| (x - mean).powi(2)).sum::<f64>() / k as f64).sqrt().max(1e-9 * mean.abs()).max(1e-12);
    let n_smooth = start_point(&v).len();
    let state_of = |x: &[f64]| {
        let mut st = init.clone();
        st.l += 0.1 * spread * x[n_smooth];
        if v.trend != Comp::None {
            st.b += 0.01 * spread * x[n_smooth + 1];
        }
        st
    };
    let mut x0 = start_point(&v);
    x0.push(0.0);
    if v.trend != Comp::None {
        x0.push(0.0);
    }
    let objective = |x: &[f64]| run(y, &v, &params_of(&v, x), &state_of(x)).map_or(f64::INFINITY, |r| r.0);
    let x = nelder_mead(objective, &x0, 0.5, 1e-8, 200 * (1 + x0.len()));
    let params = params_of(&v, &x);
    let start = state_of(&x);
    let (lik, end) = run(y, &v, &params, &start)?;
    let np = np as f64;
    let aicc = lik + 2.0 * np + 2.0 * np * (np + 1.0) / (n as f64 - np - 1.0);
    aicc.is_finite().then_some(EtsFit { variant: v, aicc, params, start, end, n })
}

/// AutoETS: every admissible variant, the lowest AICc wins.
pub fn auto_ets(y: &[f64], m: usize) -> Option<EtsFit> {
    let positive = y.iter().all(|v| *v > 0.0);
    candidates(m, positive).into_iter().filter_map(|v| fit_variant(y, v)).min_by(|a, b| a.aicc.total_cmp(&b.aicc))
}

impl Model for Ets {
    fn name(&self) -> &'static str {
        "ets"
    }

    fn fit_predict(&self, y: &[f64], cal: &Calendar, h: usize, hint: Option<&str>) -> Result<Fitted, ForecastError> {
        if y.is_empty() {
            return Err(ForecastError::model(self.name(), "empty series"));
        }
        if y.iter().all(|v| *v == y[0]) {
            // Every ETS(A,N,N) fit of a constant series forecasts it; the likelihood has no
            // variance to work with.
            return Ok(Fitted { point: vec![y[0]; h], spec: "ETS(A,N,N)".into() });
        }
        let m = cal.grain.season_length();
        // A season needs two full cycles to be estimated.
        let m = if m <= MAX_SEASON && y.len() >= 2 * m { m } else { 1 };
        // Backtest folds after the first keep the variant it chose.
        let hinted = hint.and_then(Variant::parse).filter(|v| v.m == 1 || v.m == m).and_then(|v| fit_variant(y, v));
        let fit = hinted.or_else(|| auto_ets(y, m)).ok_or_else(|| ForecastError::model(self.name(), "no ETS variant fits"))?;
        let point = fit.forecast(h);
        if point.iter().any(|v| !v.is_finite()) {
            return Err(ForecastError::model(self.name(), "non-finite forecast"));
        }
        Ok(Fitted { point, spec: fit.variant.spec() })
    }
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
    fn spec_round_trips() {
        for s in ["ETS(A,N,N)", "ETS(M,Ad,M) season 7", "ETS(A,A,A) season 12", "ETS(M,A,N)"] {
            assert_eq!(Variant::parse(s).unwrap().spec(), s);
        }
        assert!(Variant::parse("ETS(X,N,N)").is_none());
        assert!(Variant::parse("ETS(A,Nd,N)").is_none());
        // 15 variants on positive seasonal data, 6 when zeros rule out multiplicative parts.
        assert_eq!(candidates(7, true).len(), 15);
        assert_eq!(candidates(7, false).len(), 6);
        assert_eq!(candidates(1, true).len(), 6);
    }

    #[test]
    fn pure_seasonal_series_is_forecast_exactly() {
        let pattern = [10.0, 12.0, 9.0, 14.0, 20.0, 30.0, 25.0];
        // A little noise: an exact fit has no variance for the likelihood.
        let y: Vec<f64> = (0..140).map(|i| pattern[i % 7] + 0.05 * noise(i)).collect();
        let f = Ets.fit_predict(&y, &cal(), 14, None).unwrap();
        assert!(f.spec.contains("season 7"), "{}", f.spec);
        for (k, v) in f.point.iter().enumerate() {
            assert!((v - pattern[(140 + k) % 7]).abs() < 0.1, "{k}: {v} ({})", f.spec);
        }
    }

    #[test]
    fn multiplicative_season_on_a_trend() {
        // Level growing 1% a week, weekly shape multiplying it: a multiplicative season.
        let shape = [0.8, 0.9, 0.9, 1.0, 1.1, 1.3, 1.0];
        let truth = |i: usize| 100.0 * (1.0 + 0.01 / 7.0 * i as f64) * shape[i % 7];
        let y: Vec<f64> = (0..210).map(|i| truth(i) * (1.0 + 0.01 * noise(i))).collect();
        let fit = auto_ets(&y, 7).unwrap();
        assert_eq!(fit.variant.season, Comp::Mul, "{}", fit.variant.spec());
        for (k, v) in fit.forecast(14).iter().enumerate() {
            assert!((v - truth(210 + k)).abs() < 0.03 * truth(210 + k), "{k}: {v} vs {} ({})", truth(210 + k), fit.variant.spec());
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
        assert_eq!(f.point, vec![42.0; 5]);
        // Nearly constant: level only, forecast at the level.
        let y: Vec<f64> = (0..80).map(|i| 42.0 + 0.01 * noise(i)).collect();
        let f = Ets.fit_predict(&y, &cal(), 5, None).unwrap();
        assert!(f.point.iter().all(|v| (v - 42.0).abs() < 0.02), "{:?} {}", f.point, f.spec);
    }

    #[test]
    fn a_variant_hint_is_reused() {
        let y: Vec<f64> = (0..120).map(|i| 100.0 + (i % 7) as f64 * 3.0 + 4.0 * noise(i)).collect();
        let first = Ets.fit_predict(&y[..80], &cal(), 7, None).unwrap();
        let again = Ets.fit_predict(&y, &cal(), 7, Some(&first.spec)).unwrap();
        assert_eq!(first.spec, again.spec);
    }

    #[test]
    fn least_squares_start_recovers_a_weekly_pattern_from_noisy_days() {
        // A pattern buried in noise of twice its size: the first weeks alone misread it.
        let pattern = [-3.0, -1.0, 0.0, 0.0, 1.0, 4.0, -1.0];
        let y: Vec<f64> = (0..350).map(|i| 20.0 + pattern[i % 7] + 6.0 * noise(i * 31 + 5)).collect();
        let v = Variant { error: Comp::Add, trend: Comp::None, damped: false, season: Comp::Add, m: 7 };
        let st = least_squares_start(&y, &v, &params_of(&v, &start_point(&v))).unwrap();
        assert!(st.s.iter().sum::<f64>().abs() < 1e-9, "{:?}", st.s);
        for (j, want) in pattern.iter().enumerate() {
            assert!((st.s[j] - want).abs() < 0.8, "s[{j}] = {} vs {want}: {:?}", st.s[j], st.s);
        }
        assert!((st.l - 20.0).abs() < 1.5, "{}", st.l);
        // Its squared one-step errors are no larger than those of the start from the first weeks.
        let p = params_of(&v, &start_point(&v));
        let sse = |st: &State| run(&y, &v, &p, st).unwrap().0;
        assert!(sse(&st) <= sse(&initial_state(&y, &v).unwrap()) + 1e-9);
        // Long and multiplicative seasons keep the classical start.
        assert!(least_squares_start(&y, &Variant { m: 12, ..v }, &p).is_none());
        assert!(least_squares_start(&y, &Variant { season: Comp::Mul, ..v }, &p).is_none());
    }

    #[test]
    fn simple_exponential_smoothing_matches_its_recursion() {
        // ETS(A,N,N) with alpha a forecasts l_n = l_{n-1} + a (y_n - l_{n-1}).
        let y: Vec<f64> = (0..50).map(|i| 10.0 + noise(i)).collect();
        let v = Variant { error: Comp::Add, trend: Comp::None, damped: false, season: Comp::None, m: 1 };
        let fit = fit_variant(&y, v).unwrap();
        let a = fit.params.alpha;
        let mut l = fit.start.l;
        for yt in &y {
            l += a * (yt - l);
        }
        assert!((fit.forecast(3)[2] - l).abs() < 1e-9);
        assert!(a > 0.0 && a < 1.0);
    }
}
