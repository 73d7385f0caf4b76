//! statsforecast's `auto_arima_f` with its defaults: differencing by KPSS and the seasonal
//! strength test, then the Hyndman-Khandakar stepwise search over (p,q)(P,Q) and the constant,
//! each candidate scored by `myarima` (AICc, unit-root and variance checks). Quirks of
//! statsforecast are kept and marked.

use super::estimate::{arima, root_inside, Estimate, Method, Regressor};
use super::kernels::Arma;
use super::unitroot::{diff, is_constant, mean, ndiffs, nsdiffs, pairwise_sum};

const NMODELS: usize = 94;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ic {
    Aic,
    Aicc,
}

/// A fitted candidate with the sigma2 and AICc statsforecast reports for it.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub est: Estimate,
    pub sigma2: f64,
    pub aicc: f64,
}

/// `np.nansum(resid ** 2) / (nstar - npar + 1)`.
fn sigma2_of(est: &Estimate, nstar: i64, npar: i64) -> f64 {
    let sq: Vec<f64> = est.resid.iter().map(|r| if r.is_nan() { 0.0 } else { r * r }).collect();
    pairwise_sum(&sq) / (nstar - npar + 1) as f64
}

fn nstar(n: usize, a: &Arma) -> i64 {
    n as i64 - a.d as i64 - (a.sd * a.m) as i64
}

/// Would statsforecast's root check reject this polynomial? It skips the check when only the
/// first coefficient is non-zero (it takes the 0-based index of the last non-zero one for a
/// length), so an MA(1) or AR(1) on the unit circle passes. Reproduced.
pub(super) fn roots_rejected(poly: &[f64]) -> bool {
    match poly.iter().rposition(|v| v.abs() > 1e-8) {
        Some(last) if last > 0 => root_inside(&poly[..=last]),
        _ => false,
    }
}

/// `myarima`: the candidate and its information criterion (inf when it fails or is rejected).
fn myarima(x: &[f64], arma: Arma, constant: bool, ic: Ic, method: Method, offset: f64) -> (f64, Option<Chosen>) {
    let diffs = arma.d + arma.sd;
    let reg = match (constant, diffs) {
        (true, 1) => Regressor::Drift,
        (true, 0) => Regressor::Intercept,
        _ => Regressor::None,
    };
    let Ok(est) = arima(x, arma, reg, method, None) else {
        return (f64::INFINITY, None);
    };
    let nstar = nstar(x.len(), &arma);
    let npar = est.nfree as i64 + 1;
    let aic = if method == Method::Css {
        if est.sigma2 <= 0.0 {
            f64::NEG_INFINITY
        } else {
            offset + nstar as f64 * est.sigma2.ln() + (2 * npar) as f64
        }
    } else {
        est.aic
    };
    let (mut value, mut aicc) = (f64::INFINITY, f64::INFINITY);
    if !aic.is_nan() {
        if nstar <= 0 {
            // math.log(nstar) raises in statsforecast: the candidate fails.
            return (f64::INFINITY, None);
        }
        if nstar - npar - 1 != 0 {
            aicc = aic + (2 * npar * (npar + 1)) as f64 / (nstar - npar - 1) as f64;
        }
        value = if ic == Ic::Aic { aic } else { aicc };
    }
    let sigma2 = sigma2_of(&est, nstar, npar);
    let mut rejected = arma.p + arma.sp > 0 && roots_rejected(&est.model.phi);
    if arma.q + arma.sq > 0 && value < f64::INFINITY {
        let ma: Vec<f64> = est.model.theta.iter().map(|t| -t).collect();
        rejected |= roots_rejected(&ma);
    }
    let bad_var = est.var_diag.as_ref().is_some_and(|v| v.iter().any(|d| d.sqrt().is_nan()));
    if rejected || bad_var {
        value = f64::INFINITY;
    }
    (value, Some(Chosen { est, sigma2, aicc }))
}

/// statsforecast's `Arima()` for a given order: `constant` is `include_constant` (a mean
/// without differencing, a drift with one difference, nothing with more).
pub fn fit_fixed(x: &[f64], arma: Arma, constant: bool, fixed: Option<&[f64]>, method: Method) -> Result<Chosen, String> {
    let n = x.len();
    if n <= arma.d.saturating_add(arma.sd.saturating_mul(arma.m)) {
        return Err("not enough data to fit the model".into());
    }
    let reg = match (constant, arma.d + arma.sd) {
        (true, 1) => Regressor::Drift,
        (true, 0) => Regressor::Intercept,
        _ => Regressor::None,
    };
    let est = arima(x, arma, reg, method, fixed)?;
    let npar = est.nfree as i64 + 1;
    let nstar = nstar(n, &arma);
    let aicc = est.aic + (2 * npar) as f64 * (nstar as f64 / (nstar - npar - 1) as f64 - 1.0);
    let sigma2 = sigma2_of(&est, nstar, npar);
    Ok(Chosen { est, sigma2, aicc })
}

fn arma_of(p: usize, d: usize, q: usize, sp: usize, sd: usize, sq: usize, m: usize) -> Arma {
    Arma { p, q, sp, sq, m, d, sd }
}

/// AutoARIMA on `x` (no missing values) with season length `m` (1: none); `method` fits the
/// final model and, without `approximation`, every candidate.
pub fn auto_arima(x: &[f64], m: usize, approximation: bool, method: Method) -> Result<Chosen, String> {
    let n = x.len();
    let m = m.max(1);
    if n == 0 {
        return Err("all data are missing".into());
    }
    if is_constant(x) {
        return fit_fixed(x, arma_of(0, 0, 0, 0, 0, 0, m), true, Some(&[mean(x)]), Method::Css);
    }
    let (mut max_p, mut max_q) = (5.min(n / 3), 5.min(n / 3));
    let seasonal_max = 2.min((n as f64 / 3.0 / m as f64).floor() as usize);
    let (mut max_sp, mut max_sq) = (seasonal_max, seasonal_max);
    let ic = if n <= 3 { Ic::Aic } else { Ic::Aicc };
    let mut sd = 0;
    if m == 1 {
        max_sp = 0;
        max_sq = 0;
    } else if n > m.saturating_mul(2) {
        sd = nsdiffs(x, m);
        if sd > 0 && diff(x, m, sd).is_empty() {
            sd -= 1;
        }
    }
    let dx = if sd > 0 { diff(x, m, sd) } else { x.to_vec() };
    let mut d = ndiffs(&dx, 2);
    if d > 0 && diff(&dx, 1, d).is_empty() {
        d -= 1;
    }
    let dx = if d > 0 { diff(&dx, 1, d) } else { dx };
    if dx.is_empty() {
        return Err("not enough data to proceed".into());
    }
    if is_constant(&dx) {
        return if sd > 0 && d == 0 {
            let per: Vec<f64> = dx.iter().map(|v| v / m as f64).collect();
            fit_fixed(x, arma_of(0, 0, 0, 0, sd, 0, m), true, Some(&[mean(&per)]), Method::CssMl)
        } else if sd > 0 || d == 2 {
            fit_fixed(x, arma_of(0, d, 0, 0, sd, 0, m), false, None, Method::CssMl)
        } else {
            fit_fixed(x, arma_of(0, d, 0, 0, 0, 0, m), true, Some(&[mean(&dx)]), Method::CssMl)
        };
    }
    if m > 1 {
        if max_p > 0 {
            max_p = max_p.min(m - 1);
        }
        if max_q > 0 {
            max_q = max_q.min(m - 1);
        }
    }
    let (final_method, method) = (method, if approximation { Method::Css } else { method });
    let offset = if approximation { css_offset(x, d, sd, m) } else { 0.0 };
    let (allowdrift, allowmean) = (d + sd == 1, d + sd == 0);
    let mut constant = allowdrift || allowmean;
    let small = n < 10;
    let mut p = (if small { 1 } else { 2 }).min(max_p);
    let mut q = (if small { 1 } else { 2 }).min(max_q);
    let mut sp = (if small { 0 } else { 1 }).min(max_sp);
    let mut sq = (if small { 0 } else { 1 }).min(max_sq);
    let mut results: Vec<[f64; 8]> = Vec::with_capacity(NMODELS);
    let fit = |p: usize, q: usize, sp: usize, sq: usize, c: bool, results: &mut Vec<[f64; 8]>| {
        let (ic_v, f) = myarima(x, arma_of(p, d, q, sp, sd, sq, m), c, ic, method, offset);
        results.push([p as f64, d as f64, q as f64, sp as f64, sd as f64, sq as f64, f64::from(u8::from(c)), ic_v]);
        (ic_v, f)
    };
    let mut best = fit(p, q, sp, sq, constant, &mut results);
    let f = fit(0, 0, 0, 0, constant, &mut results);
    if f.0 < best.0 {
        best = f;
        (p, q, sp, sq) = (0, 0, 0, 0);
    }
    if max_p > 0 || max_sp > 0 {
        let (p1, sp1) = (usize::from(max_p > 0), usize::from(m > 1 && max_sp > 0));
        let f = fit(p1, 0, sp1, 0, constant, &mut results);
        if f.0 < best.0 {
            best = f;
            (p, sp, q, sq) = (p1, sp1, 0, 0);
        }
    }
    if max_q > 0 || max_sq > 0 {
        let (q1, sq1) = (usize::from(max_q > 0), usize::from(m > 1 && max_sq > 0));
        let f = fit(0, q1, 0, sq1, constant, &mut results);
        if f.0 < best.0 {
            best = f;
            (p, sp, q, sq) = (0, 0, q1, sq1);
        }
    }
    if constant {
        let f = fit(0, 0, 0, 0, false, &mut results);
        if f.0 < best.0 {
            best = f;
            (p, q, sp, sq) = (0, 0, 0, 0);
        }
    }
    let is_new = |results: &[[f64; 8]], c: [usize; 4], k: bool| {
        let row = [c[0] as f64, d as f64, c[1] as f64, c[2] as f64, sd as f64, c[3] as f64, f64::from(u8::from(k))];
        !results.iter().any(|r| r[..7] == row)
    };
    let mut startk = 0;
    while startk < results.len() && results.len() < NMODELS {
        startk = results.len();
        // The neighbours in statsforecast's order: (p, q, P, Q) changes, then the constant.
        let (ip, iq, isp, isq) = (p as i64, q as i64, sp as i64, sq as i64);
        let moves: [(i64, i64, i64, i64); 16] = [
            (ip, iq, isp - 1, isq),
            (ip, iq, isp, isq - 1),
            (ip, iq, isp + 1, isq),
            (ip, iq, isp, isq + 1),
            (ip, iq, isp - 1, isq - 1),
            (ip, iq, isp - 1, isq + 1),
            (ip, iq, isp + 1, isq - 1),
            (ip, iq, isp + 1, isq + 1),
            (ip - 1, iq, isp, isq),
            (ip, iq - 1, isp, isq),
            (ip + 1, iq, isp, isq),
            (ip, iq + 1, isp, isq),
            (ip - 1, iq - 1, isp, isq),
            (ip - 1, iq + 1, isp, isq),
            (ip + 1, iq - 1, isp, isq),
            (ip + 1, iq + 1, isp, isq),
        ];
        let mut improved = false;
        for (np, nq, nsp, nsq) in moves {
            let ok = |v: i64, max: usize| v >= 0 && v <= max as i64;
            if !(ok(np, max_p) && ok(nq, max_q) && ok(nsp, max_sp) && ok(nsq, max_sq)) {
                continue;
            }
            let c = [np as usize, nq as usize, nsp as usize, nsq as usize];
            if !is_new(&results, c, constant) {
                continue;
            }
            if results.len() >= NMODELS {
                continue;
            }
            let f = fit(c[0], c[1], c[2], c[3], constant, &mut results);
            if f.0 < best.0 {
                best = f;
                (p, q, sp, sq) = (c[0], c[1], c[2], c[3]);
                improved = true;
                break;
            }
        }
        if improved {
            continue;
        }
        if (allowdrift || allowmean) && is_new(&results, [p, q, sp, sq], !constant) && results.len() < NMODELS {
            let f = fit(p, q, sp, sq, !constant, &mut results);
            if f.0 < best.0 {
                best = f;
                constant = !constant;
            }
        }
    }
    if approximation && best.1.is_some() {
        // Refit without approximation, best CSS score first, until one is finite.
        let mut order: Vec<usize> = (0..results.len()).collect();
        order.sort_by(|a, b| results[*a][7].total_cmp(&results[*b][7]));
        for k in order.into_iter().filter(|k| !results[*k][7].is_nan()) {
            let r = results[k];
            let arma = arma_of(r[0] as usize, d, r[2] as usize, r[3] as usize, sd, r[5] as usize, m);
            let f = myarima(x, arma, r[6] != 0.0, ic, final_method, 0.0);
            if f.0 < f64::INFINITY {
                best = f;
                break;
            }
        }
    }
    match best {
        (ic_v, Some(chosen)) if ic_v.is_finite() => Ok(chosen),
        _ => Err("no suitable ARIMA model found".into()),
    }
}

/// The offset that makes CSS scores comparable (`approximation=True`): from a CSS fit of
/// (0,d,0)(0,D,0) with a mean where one applies; 0 when that fails.
fn css_offset(x: &[f64], d: usize, sd: usize, m: usize) -> f64 {
    let reg = if d + sd == 0 { Regressor::Intercept } else { Regressor::None };
    match arima(x, arma_of(0, d, 0, 0, sd, 0, m), reg, Method::Css, None) {
        Ok(e) if e.sigma2 > 0.0 => -2.0 * e.loglik - x.len() as f64 * e.sigma2.ln(),
        Ok(e) if e.sigma2.is_nan() => f64::NAN,
        _ => 0.0,
    }
}
