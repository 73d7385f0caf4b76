//! The fit of one form (`etsmodel`: starting parameters, bounds, the Nelder-Mead search on the
//! likelihood, residuals and information criteria) and the search over forms by AICc (`ets_f`),
//! as statsforecast's `ets.py` does them, quirks included: the parameter bounds are one array
//! shared by every form of a search, which `initparam` narrows in place (beta's upper bound
//! becomes the smallest starting alpha seen so far, gamma's 1 minus the largest), so a form's
//! fit depends on the forms tried before it.

// jobs/ml/forecast/optim.rs (the version with Eigen's sums and libstdc++'s sort).
use super::super::optim::nelder_mead_bounded;
use super::init::initstate;
use super::model::{calc, objective, Comp, Form, Free, Smooth, Track};
use super::numeric::{max_root_modulus, pairwise_sum};

const PHI_LOWER: f64 = 0.8;
const PHI_UPPER: f64 = 0.98;
/// The Nelder-Mead settings `optimize_ets_target_fn` passes (`tol_std`, `max_iter`; adaptive).
const NM_TOL_STD: f64 = 1e-4;
const NM_MAX_ITER: usize = 1000;

/// A fitted form (`etsmodel`'s result).
#[derive(Debug, Clone)]
pub struct Fitted {
    pub form: Form,
    pub damped: bool,
    /// alpha, beta, gamma, phi; NaN for those the form lacks.
    pub par: [f64; 4],
    /// Initial states: level, growth, then all m seasonal states.
    pub init_states: Vec<f64>,
    /// The state after the last observation, in the same layout.
    pub last_state: Vec<f64>,
    pub residuals: Vec<f64>,
    pub aic: f64,
    pub bic: f64,
    pub aicc: f64,
    pub sigma2: f64,
    /// Free smoothing parameters + initial states + 1 (the variance), as statsforecast counts.
    pub n_params: usize,
}

/// `initparam` with bounds "both": starting values of the free parameters, narrowing the shared
/// `upper` bounds of beta and gamma in place.
fn initparam(par: [f64; 4], trend: Comp, season: Comp, damped: bool, lower: &[f64; 4], upper: &mut [f64; 4], m: usize) -> Result<[f64; 4], String> {
    if lower.iter().zip(upper.iter()).any(|(l, u)| l > u) {
        return Err("Inconsistent parameter boundaries".into());
    }
    let [mut alpha, mut beta, mut gamma, mut phi] = par;
    if alpha.is_nan() {
        alpha = lower[0] + 0.2 * (upper[0] - lower[0]) / m as f64;
        if !(0.0..=1.0).contains(&alpha) {
            alpha = lower[0] + 2e-3;
        }
    }
    if trend != Comp::N && beta.is_nan() {
        upper[1] = if alpha < upper[1] { alpha } else { upper[1] };
        beta = lower[1] + 0.1 * (upper[1] - lower[1]);
        if beta < 0.0 || beta > alpha {
            beta = alpha - 1e-3;
        }
    }
    if season != Comp::N && gamma.is_nan() {
        upper[2] = if 1.0 - alpha < upper[2] { 1.0 - alpha } else { upper[2] };
        gamma = lower[2] + 0.05 * (upper[2] - lower[2]);
        if gamma < 0.0 || gamma > 1.0 - alpha {
            gamma = 1.0 - alpha - 1e-3;
        }
    }
    if damped && phi.is_nan() {
        phi = lower[3] + 0.99 * (upper[3] - lower[3]);
        if !(0.0..=1.0).contains(&phi) {
            phi = upper[3] - 1e-3;
        }
    }
    Ok([alpha, beta, gamma, phi])
}

/// `admissible`: the parameters give a forecastable (invertible) model.
pub fn admissible(alpha: f64, beta: f64, gamma: f64, phi: f64, m: usize) -> Result<bool, String> {
    let phi = if phi.is_nan() { 1.0 } else { phi };
    if !(0.0..=1.0 + 1e-8).contains(&phi) {
        return Ok(false);
    }
    if gamma.is_nan() {
        if alpha < 1.0 - 1.0 / phi || alpha > 1.0 + 1.0 / phi {
            return Ok(false);
        }
        if !beta.is_nan() && (beta < alpha * (phi - 1.0) || beta > (1.0 + phi) * (2.0 - alpha)) {
            return Ok(false);
        }
    } else if m > 1 {
        let beta = if beta.is_nan() { 0.0 } else { beta };
        let low = 1.0 - 1.0 / phi - alpha;
        if gamma < (if low > 0.0 { low } else { 0.0 }) || gamma > 1.0 + 1.0 / phi - alpha {
            return Ok(false);
        }
        let mf = m as f64;
        if alpha < 1.0 - 1.0 / phi - gamma * (1.0 - mf + phi + phi * mf) / (2.0 * phi * mf) {
            return Ok(false);
        }
        if beta < -(1.0 - phi) * (gamma / mf + alpha) {
            return Ok(false);
        }
        let mut p = vec![phi * (1.0 - alpha - gamma), alpha + beta - alpha * phi + gamma - 1.0];
        p.extend(std::iter::repeat_n(alpha + beta - alpha * phi, m - 2));
        p.extend([alpha + beta - phi, 1.0]);
        let max = max_root_modulus(&p).ok_or("Eigenvalues did not converge")?;
        if max > 1.0 + 1e-10 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `check_param` with bounds "both".
fn check_param(par: [f64; 4], lower: &[f64; 4], upper: &[f64; 4], m: usize) -> Result<bool, String> {
    let [alpha, beta, gamma, phi] = par;
    if !alpha.is_nan() && (alpha < lower[0] || alpha > upper[0]) {
        return Ok(false);
    }
    if !beta.is_nan() && (beta < lower[1] || beta > alpha || beta > upper[1]) {
        return Ok(false);
    }
    if !phi.is_nan() && (phi < lower[3] || phi > upper[3]) {
        return Ok(false);
    }
    if !gamma.is_nan() && (gamma < lower[2] || gamma > 1.0 - alpha || gamma > upper[2]) {
        return Ok(false);
    }
    admissible(alpha, beta, gamma, phi, m)
}

/// `etsmodel`: fits one form; `par` holds fixed smoothing parameters (NaN for free ones).
/// Ok(None) where statsforecast returns its "infinite AICc" placeholder (more parameters than
/// the series can carry); Err where it raises.
#[allow(clippy::too_many_arguments)]
pub fn etsmodel(
    y: &[f64],
    m: usize,
    error: Comp,
    trend: Comp,
    season: Comp,
    damped: bool,
    par_in: [f64; 4],
    lower: &[f64; 4],
    upper: &mut [f64; 4],
) -> Result<Option<Fitted>, String> {
    let m = if season == Comp::N { 1 } else { m };
    let start = initparam(par_in, trend, season, damped, lower, upper, m)?;
    let mut par = par_in;
    for k in 0..4 {
        if !start[k].is_nan() {
            par[k] = start[k];
        }
    }
    if !check_param(par, lower, upper, m)? {
        return Err("Parameters out of range".into());
    }
    let init = initstate(y, m, trend, season)?;
    let nstate = init.len();
    // The optimiser's vector: the smoothing parameters initparam set (fixed ones included:
    // the objective ignores them), then the initial states.
    let mut x0: Vec<f64> = vec![];
    let (mut lo, mut hi) = (vec![], vec![]);
    for k in 0..4 {
        if !start[k].is_nan() {
            x0.push(start[k]);
            lo.push(lower[k]);
            hi.push(upper[k]);
        }
    }
    x0.extend_from_slice(&init);
    lo.resize(x0.len(), f64::NEG_INFINITY);
    hi.resize(x0.len(), f64::INFINITY);
    let np_ = x0.len();
    if np_ + 1 >= y.len() {
        return Ok(None);
    }
    let form = Form { error, trend, season, m };
    let free = Free {
        alpha: par_in[0].is_nan(),
        beta: trend != Comp::N && par_in[1].is_nan(),
        gamma: season != Comp::N && par_in[2].is_nan(),
        phi: damped && par_in[3].is_nan(),
    };
    let fixed = Smooth {
        alpha: par[0],
        beta: if trend == Comp::N { 0.0 } else { par[1] },
        gamma: if season == Comp::N { 0.0 } else { par[2] },
        phi: if damped { par[3] } else { 1.0 },
    };
    let (fit_par, _) = nelder_mead_bounded(|x| objective(x, y, nstate, &form, free, &fixed), &x0, &lo, &hi, NM_MAX_ITER, NM_TOL_STD);

    let mut init_states = fit_par[np_ - nstate..].to_vec();
    if season != Comp::N {
        let first = 1 + (trend != Comp::N) as usize;
        let mult = if season == Comp::M { m } else { 0 };
        init_states.push(mult as f64 - pairwise_sum(&init_states[first..nstate]));
    }
    // The fitted smoothing parameters, read back as etsmodel reads them.
    let mut j = 0;
    if !fit_par[j].is_nan() {
        par[0] = fit_par[j];
        j += 1;
    }
    if trend != Comp::N {
        if !fit_par[j].is_nan() {
            par[1] = fit_par[j];
        }
        j += 1;
    }
    if season != Comp::N {
        if !fit_par[j].is_nan() {
            par[2] = fit_par[j];
        }
        j += 1;
    }
    if damped && !fit_par[j].is_nan() {
        par[3] = fit_par[j];
    }
    let run = Smooth {
        alpha: par[0],
        beta: if trend == Comp::N { 0.0 } else { par[1] },
        gamma: if season == Comp::N { 0.0 } else { par[2] },
        phi: if damped { par[3] } else { 1.0 },
    };
    let mut track = Track { e: vec![], states: vec![] };
    let mut lik = calc(&init_states, y, &form, &run, Some(&mut track));
    if !lik.is_nan() && (lik + 99999.0).abs() < 1e-7 {
        lik = f64::NAN;
    }
    let ny = y.len();
    let np_eff = np_ + 1;
    let aic = lik + (2 * np_eff) as f64;
    let bic = lik + (ny as f64).ln() * np_eff as f64;
    let denom = ny as f64 - np_eff as f64 - 1.0;
    let aicc = if denom != 0.0 { aic + (2 * np_eff * (np_eff + 1)) as f64 / denom } else { f64::INFINITY };
    let sq: Vec<f64> = track.e.iter().map(|e| e * e).collect();
    let sigma2 = pairwise_sum(&sq) / denom;
    let p = init_states.len();
    let last_state = track.states[track.states.len() - p..].to_vec();
    Ok(Some(Fitted { form, damped, par, init_states, last_state, residuals: track.e, aic, bic, aicc, sigma2, n_params: np_eff }))
}

/// `fit` (form, smoothing parameters and initial states unchanged) run over `y`, a longer
/// history than it was fitted on: its state after the last observation, residuals and
/// variance there. None where the recursions fail on the new data.
pub fn refilter(fit: &Fitted, y: &[f64]) -> Option<Fitted> {
    let (p, form) = (fit.par, fit.form);
    let run = Smooth {
        alpha: p[0],
        beta: if form.trend == Comp::N { 0.0 } else { p[1] },
        gamma: if form.season == Comp::N { 0.0 } else { p[2] },
        phi: if fit.damped { p[3] } else { 1.0 },
    };
    let mut track = Track { e: vec![], states: vec![] };
    let lik = calc(&fit.init_states, y, &form, &run, Some(&mut track));
    let denom = y.len() as f64 - fit.n_params as f64 - 1.0;
    if lik.is_nan() || (lik + 99999.0).abs() < 1e-7 || denom <= 0.0 {
        return None;
    }
    let sq: Vec<f64> = track.e.iter().map(|e| e * e).collect();
    let last_state = track.states.get(track.states.len().checked_sub(fit.init_states.len())?..)?.to_vec();
    Some(Fitted { last_state, residuals: track.e, sigma2: pairwise_sum(&sq) / denom, ..fit.clone() })
}

/// `ets_f(y, m, model, damped)` with statsforecast's defaults (AICc, bounds "both", restricted
/// forms, no multiplicative trend in the search): `model` is three letters, 'Z' to search.
pub fn ets_f(y: &[f64], m: usize, model: [char; 3], damped: Option<bool>) -> Result<Fitted, String> {
    let lower = [0.0001, 0.0001, 0.0001, PHI_LOWER];
    let mut upper = [0.9999, 0.9999, 0.9999, PHI_UPPER];
    let nan = f64::NAN;
    if y.iter().all(|v| *v == y[0]) {
        return etsmodel(y, m, Comp::A, Comp::N, Comp::N, false, [0.9999, nan, nan, nan], &lower, &mut upper)?
            .ok_or_else(|| format!("{} values: too few for a constant series' model", y.len()));
    }
    let [e, t, s] = model;
    if !matches!(e, 'M' | 'A' | 'Z') {
        return Err("Invalid error type".into());
    }
    if !matches!(t, 'N' | 'A' | 'M' | 'Z') {
        return Err("Invalid trend type".into());
    }
    let mut s = if matches!(s, 'N' | 'A' | 'M' | 'Z') { s } else { return Err("Invalid season type".into()) };
    if m < 1 || y.len() <= m {
        s = 'N';
    }
    if m == 1 {
        if s == 'A' || s == 'M' {
            return Err("Nonseasonal data".into());
        }
        s = 'N';
    }
    if (e == 'A' && (t == 'M' || s == 'M')) || (e == 'M' && t == 'M' && s == 'A') {
        return Err("Forbidden model combination".into());
    }
    let positive = y.iter().fold(f64::INFINITY, |a, &b| a.min(b)) > 0.0;
    if !positive && e == 'M' {
        return Err("Inappropriate model for data with negative or zero values".into());
    }
    // (statsforecast builds, but does not raise, an error for a damped form without trend.)
    let mut npars = 2;
    if matches!(t, 'A' | 'M') {
        npars += 2;
    }
    if matches!(s, 'A' | 'M') {
        npars += 2;
    }
    if damped == Some(true) {
        npars += 1;
    }
    if y.len() <= npars + 4 {
        return Err(format!("{} values: too few for ETS (statsforecast: tiny datasets)", y.len()));
    }
    let letters = |c: char, all: &[Comp]| -> Vec<Comp> {
        if c == 'Z' {
            all.to_vec()
        } else {
            Comp::from_letter(c).into_iter().collect()
        }
    };
    let errors = letters(e, &[Comp::A, Comp::M]);
    let trends = letters(t, &[Comp::N, Comp::A]);
    let seasons = letters(s, &[Comp::N, Comp::A, Comp::M]);
    let dampings = match damped {
        None => vec![true, false],
        Some(d) => vec![d],
    };
    let mut best: Option<Fitted> = None;
    let mut best_ic = f64::INFINITY;
    for &et in &errors {
        for &tt in &trends {
            for &st in &seasons {
                for &dt in &dampings {
                    if tt == Comp::N && dt {
                        continue;
                    }
                    if (et == Comp::A && (tt == Comp::M || st == Comp::M)) || (et == Comp::M && tt == Comp::M && st == Comp::A) {
                        continue;
                    }
                    if !positive && (et == Comp::M || st == Comp::M) {
                        continue;
                    }
                    if st != Comp::N && m == 1 {
                        continue;
                    }
                    let Some(fit) = etsmodel(y, m, et, tt, st, dt, [nan; 4], &lower, &mut upper)? else { continue };
                    if !fit.aicc.is_nan() && fit.aicc < best_ic {
                        best_ic = fit.aicc;
                        best = Some(fit);
                    }
                }
            }
        }
    }
    match best {
        Some(b) if best_ic.is_finite() => Ok(b),
        _ => Err("no model able to be fitted".into()),
    }
}
