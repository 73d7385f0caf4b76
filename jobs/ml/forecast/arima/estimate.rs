//! statsforecast's `arima()` (`arima.py`, after R's `stats::arima`) for the cases AutoARIMA
//! uses: CSS or CSS-then-ML estimation, at most one regressor (intercept or drift), all
//! parameters free or all fixed.

use super::bfgs::{minimize, Optimum};
use super::kalman::StateSpace;
use super::kernels::{arima_css, gradtrans, invtrans, transpar, undopars, Arma};
use super::unitroot::ddot;

/// ln(2 pi) as numpy rounds it.
const LN_2PI: f64 = 1.8378770664093453;

/// Largest ARMA state (max(p + mP, q + mQ + 1)) fitted: enough for weekly seasons (m = 52,
/// P = 2); the initial covariance then takes 200 MB and seconds per evaluation.
const MAX_STATE: usize = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Conditional sum of squares, then exact maximum likelihood from there (the default).
    CssMl,
    /// As `CssMl`, but with differencing the likelihood is only evaluated at the CSS estimates:
    /// statsforecast's search from there practically always fails at its first step (see
    /// `arima`), so this is where it ends too, at a fraction of the cost.
    CssMlQuick,
    /// Conditional sum of squares only (AutoARIMA's `approximation`).
    Css,
    /// As `CssMlQuick` for every model: the exact likelihood (and the filter's final state)
    /// evaluated at the CSS estimates, with no search from there.
    CssStart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regressor {
    None,
    /// A mean (only without differencing).
    Intercept,
    /// A linear trend 1..n in the original series (one difference: a drift).
    Drift,
}

impl Regressor {
    fn value(self, t: usize) -> f64 {
        match self {
            Regressor::None => 0.0,
            Regressor::Intercept => 1.0,
            Regressor::Drift => (t + 1) as f64,
        }
    }
}

/// What `arima()` returns that AutoARIMA uses.
#[derive(Debug, Clone)]
pub struct Estimate {
    pub arma: Arma,
    /// ar, ma, sar, sma, then the regressor's coefficient if any.
    pub coef: Vec<f64>,
    pub regressor: Regressor,
    /// ssq / n_used (ML) or the CSS mean square; callers replace it as statsforecast does.
    pub sigma2: f64,
    /// Diagonal of the coefficients' covariance (None when nothing was estimated).
    pub var_diag: Option<Vec<f64>>,
    pub loglik: f64,
    /// NaN for CSS, as in statsforecast.
    pub aic: f64,
    /// Standardised innovations (ML) or CSS residuals.
    pub resid: Vec<f64>,
    /// Filtered to the end of the series (ML); the unfiltered model for CSS.
    pub model: StateSpace,
    pub nfree: usize,
}

/// The differencing polynomial (1-B)^d (1-B^m)^D without its leading 1, negated.
pub fn delta(a: &Arma) -> Vec<f64> {
    let mut d = vec![1.0];
    let conv = |a: &[f64], b: &[f64]| {
        let mut c = vec![0.0; a.len() + b.len() - 1];
        for (i, x) in a.iter().enumerate() {
            for (j, y) in b.iter().enumerate() {
                c[i + j] += x * y;
            }
        }
        c
    };
    for _ in 0..a.d {
        d = conv(&d, &[1.0, -1.0]);
    }
    if a.sd > 0 {
        let mut seasonal = vec![0.0; a.m.max(1) + 1];
        seasonal[0] = 1.0;
        seasonal[a.m.max(1)] = -1.0;
        for _ in 0..a.sd {
            d = conv(&d, &seasonal);
        }
    }
    d[1..].iter().map(|v| -v).collect()
}

fn adjusted(x: &[f64], reg: Regressor, beta: Option<&f64>) -> Vec<f64> {
    match (reg, beta) {
        (Regressor::None, _) | (_, None) => x.to_vec(),
        (r, Some(b)) => x.iter().enumerate().map(|(t, v)| v - r.value(t) * b).collect(),
    }
}

fn differenced(x: &[f64], a: &Arma) -> Vec<f64> {
    let mut v = super::unitroot::diff(x, 1, a.d);
    if a.m > 1 && a.sd > 0 {
        v = super::unitroot::diff(&v, a.m, a.sd);
    }
    v
}

/// statsmodels' `OLS(y, c * ones).fit().params` as numpy and OpenBLAS compute it: the
/// pseudo-inverse from LAPACK's SVD (one Householder reflection for a single column), then a
/// dot product. Reproduced step by step because the optimiser amplifies its last bits.
fn ols_constant(y: &[f64], c: f64) -> f64 {
    let n = y.len();
    let xnorm = ((n.max(1) - 1) as f64 * c * c).sqrt();
    let (beta, tau) = if xnorm == 0.0 {
        (c, 0.0)
    } else {
        let (w, z) = (xnorm.max(c.abs()), xnorm.min(c.abs()));
        let q = z / w;
        let beta = -(w * (1.0 + q * q).sqrt()).copysign(c);
        (beta, (beta - c) / beta)
    };
    let v = c * (1.0 / (c - beta));
    let sign = 1.0f64.copysign(beta);
    let (u0, ui) = ((1.0 - tau) * sign, (v * -tau) * sign);
    let sinv = 1.0 / beta.abs();
    let w: Vec<f64> = (0..n).map(|i| sinv * if i == 0 { u0 } else { ui }).collect();
    ddot(&w, y)
}

fn identity(n: usize) -> Vec<f64> {
    (0..n * n).map(|i| if i % (n + 1) == 0 { 1.0 } else { 0.0 }).collect()
}

/// Fits the model to `x` (no missing values). `fixed` gives every coefficient (no estimation).
/// Errors are what statsforecast raises for the same input.
pub fn arima(x: &[f64], arma: Arma, reg: Regressor, method: Method, fixed: Option<&[f64]>) -> Result<Estimate, String> {
    let n = x.len();
    // Orders are checked before anything is sized by them (Gardner's method needs O(r^4) memory).
    let seasonal = |k: usize| arma.m.saturating_mul(k);
    let r = arma.p.saturating_add(seasonal(arma.sp)).max(arma.q.saturating_add(seasonal(arma.sq)).saturating_add(1));
    if r > MAX_STATE {
        return Err(format!("state dimension {r} is above {MAX_STATE}"));
    }
    if arma.d.saturating_add(seasonal(arma.sd)) >= n {
        return Err("too few non-missing observations".into());
    }
    let narma = arma.narma();
    let ncoef = narma + usize::from(reg != Regressor::None);
    let delta = delta(&arma);
    let n_used = n - delta.len();
    if arma.p + arma.d + arma.m * (arma.sp + arma.sd) > n {
        return Err("the series is shorter than the conditioning the orders need".into());
    }
    let mut init = vec![0.0; narma];
    if reg != Regressor::None {
        // OLS of the differenced series on the differenced regressor (a constant column).
        let col: Vec<f64> = (0..n).map(|t| reg.value(t)).collect();
        let (dx, dr) = (differenced(x, &arma), differenced(&col, &arma));
        init.push(dr.first().map_or(f64::NAN, |c| ols_constant(&dx, *c)));
    }
    if let Some(f) = fixed {
        if f.len() != ncoef {
            return Err("wrong length for fixed".into());
        }
    }
    let no_optim = fixed.is_some() || ncoef == 0;
    let trans = !no_optim;
    let css = |p: &[f64]| -> f64 {
        let (phi, theta) = transpar(p, &arma, false);
        match arima_css(&adjusted(x, reg, p.get(narma)), &arma, &phi, &theta) {
            Some((res, _)) if res.is_infinite() => f64::MAX,
            Some((res, _)) if res <= 0.0 => f64::NEG_INFINITY,
            Some((res, _)) => 0.5 * res.ln(),
            None => f64::NAN,
        }
    };
    if method == Method::Css {
        let res = match fixed {
            Some(f) => Optimum { x: f.to_vec(), fun: 0.0, hess_inv: vec![], status: 0 },
            None if ncoef == 0 => Optimum { x: vec![], fun: 0.0, hess_inv: vec![], status: 0 },
            None => minimize(css, &init),
        };
        let coef = res.x;
        let (phi, theta) = transpar(&coef, &arma, false);
        let model = StateSpace::new(&phi, &theta, &delta);
        let (sigma2, resid) = arima_css(&adjusted(x, reg, coef.get(narma)), &arma, &phi, &theta).ok_or("CSS failed")?;
        let var_diag = (!no_optim).then(|| (0..ncoef).map(|i| res.hess_inv[i * ncoef + i] / n_used as f64).collect());
        let value = 2.0 * n_used as f64 * res.fun + n_used as f64 + n_used as f64 * LN_2PI;
        let nfree = if no_optim { 0 } else { ncoef };
        return Ok(Estimate { arma, coef, regressor: reg, sigma2, var_diag, loglik: -0.5 * value, aic: f64::NAN, resid, model, nfree });
    }
    if !no_optim {
        let res = minimize(css, &init);
        // statsforecast keeps the zero start when CSS hits its iteration limit.
        if res.status != 1 {
            init = res.x;
        }
    }
    if trans {
        init = invtrans(&init, &arma);
    }
    let start = fixed.map(|f| f.to_vec()).unwrap_or(init);
    let (phi, theta) = transpar(&start, &arma, trans);
    let mut model = StateSpace::new(&phi, &theta, &delta);
    // The likelihood reuses `model` between calls: its prior covariance keeps what the last
    // filter pass left outside the stationary block (statsforecast's `upARIMA`), so only the
    // first evaluation is the true diffuse likelihood. Reproduced on purpose.
    let ml = |p: &[f64]| -> f64 {
        let (phi, theta) = transpar(p, &arma, trans);
        model.update(&phi, &theta);
        let (ssq, sumlog, nu, _) = model.filter(&adjusted(x, reg, p.get(narma)), false);
        if nu == 0 {
            return f64::INFINITY;
        }
        let s2 = ssq / nu as f64;
        if s2 <= 0.0 {
            return f64::NAN;
        }
        0.5 * (s2.ln() + sumlog / nu as f64)
    };
    let mut res = if no_optim {
        let mut ml = ml;
        let fun = ml(&start);
        Optimum { x: start, fun, hess_inv: vec![], status: 0 }
    } else if (method == Method::CssMlQuick && !delta.is_empty()) || method == Method::CssStart {
        // What a failed first line search returns: the start, its value, an identity Hessian.
        let mut ml = ml;
        let fun = ml(&start);
        Optimum { x: start, fun, hess_inv: identity(ncoef), status: 2 }
    } else {
        minimize(ml, &start)
    };
    let mut coef = res.x.clone();
    let mut var_diag = None;
    if trans {
        if coef.iter().any(|v| v.is_nan()) {
            // statsforecast re-runs CSS from the NaN point: NaN value, identity Hessian.
            res.fun = f64::NAN;
            res.hess_inv = identity(ncoef);
        }
        let a = gradtrans(&coef, &arma);
        let k = ncoef;
        let nu = n_used as f64;
        var_diag = Some(
            (0..k).map(|i| (0..k).fold(0.0, |s, r| s + a[r * k + i] * ((0..k).fold(0.0, |t, l| t + res.hess_inv[r * k + l] * a[l * k + i]) / nu))).collect(),
        );
        coef = undopars(&coef, &arma);
    }
    let (phi, theta) = transpar(&coef, &arma, false);
    let mut model = StateSpace::new(&phi, &theta, &delta);
    let (ssq, _, _, resid) = model.filter(&adjusted(x, reg, coef.get(narma)), true);
    let value = 2.0 * n_used as f64 * res.fun + n_used as f64 + n_used as f64 * LN_2PI;
    let nfree = if no_optim { 0 } else { ncoef };
    Ok(Estimate {
        arma,
        coef,
        regressor: reg,
        sigma2: ssq / n_used as f64,
        var_diag,
        loglik: -0.5 * value,
        aic: value + 2.0 * (nfree + 1) as f64,
        resid,
        model,
        nfree,
    })
}

/// Does 1 - c_1 z - ... - c_k z^k have a root with |z| < 1.01? (statsforecast: the smallest
/// root modulus from numpy's `polyroots`.) With z = 1.01 w this asks whether the polynomial in
/// w is not stationary, which the Durbin-Levinson step-down decides.
pub fn root_inside(c: &[f64]) -> bool {
    if c.iter().any(|v| !v.is_finite()) {
        return true;
    }
    let mut scale = 1.0;
    let mut a: Vec<f64> = c
        .iter()
        .map(|v| {
            scale *= 1.01;
            v * scale
        })
        .collect();
    while let Some(&k) = a.last() {
        if k.abs() >= 1.0 {
            return true;
        }
        let j = a.len() - 1;
        let denom = 1.0 - k * k;
        a = (0..j).map(|i| (a[i] + k * a[j - 1 - i]) / denom).collect();
    }
    false
}
