//! The numerical kernels of statsforecast's ARIMA (`src/arima.cpp`, itself R's `arima.c`):
//! parameter transforms, conditional sum of squares and the Gardner et al. (1980) initial state
//! covariance (the filter is in `kalman.rs`). Same operations in the same order, so sums round
//! the same way.

/// The orders as statsforecast's `arma` vector: p, q, P, Q, m, d, D.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arma {
    pub p: usize,
    pub q: usize,
    pub sp: usize,
    pub sq: usize,
    pub m: usize,
    pub d: usize,
    pub sd: usize,
}

impl Arma {
    /// Number of ARMA coefficients (before any regressor).
    pub fn narma(&self) -> usize {
        self.p + self.q + self.sp + self.sq
    }
}

/// glibc's `atanh` (Rust's `f64::atanh` rounds differently below 0.5).
pub fn atanh(x: f64) -> f64 {
    let xa = x.abs();
    let t = if xa < 0.5 {
        if xa < f64::powi(2.0, -28) {
            return x;
        }
        let t = xa + xa;
        0.5 * (t + t * xa / (1.0 - xa)).ln_1p()
    } else if xa < 1.0 {
        0.5 * ((xa + xa) / (1.0 - xa)).ln_1p()
    } else if xa > 1.0 || xa.is_nan() {
        return f64::NAN;
    } else {
        return x / 0.0;
    };
    t.copysign(x)
}

/// Maps unconstrained values to the coefficients of a stationary AR(p) (tanh, then
/// Durbin-Levinson).
pub fn partrans(p: usize, raw: &[f64], new: &mut [f64]) {
    for i in 0..p {
        new[i] = raw[i].tanh();
    }
    let mut work = new[..p].to_vec();
    for j in 1..p {
        for k in 0..j {
            work[k] -= new[j] * new[j - k - 1];
        }
        new[..j].copy_from_slice(&work[..j]);
    }
}

/// The inverse of `partrans` (NaN when the AR part is not stationary).
pub fn invpartrans(p: usize, phi: &[f64], out: &mut [f64]) {
    out[..p].copy_from_slice(&phi[..p]);
    let mut work = phi[..p].to_vec();
    for j in (1..p).rev() {
        let a = out[j];
        for k in 0..j {
            work[k] = (out[k] + a * out[j - k - 1]) / (1.0 - a * a);
        }
        out[..j].copy_from_slice(&work[..j]);
    }
    for v in out.iter_mut().take(p) {
        *v = atanh(*v);
    }
}

/// AR and seasonal AR blocks of `x` mapped back from `partrans` space.
pub fn invtrans(x: &[f64], a: &Arma) -> Vec<f64> {
    ar_blocks(x, a, invpartrans)
}

/// AR and seasonal AR blocks of `x` mapped through `partrans`.
pub fn undopars(x: &[f64], a: &Arma) -> Vec<f64> {
    ar_blocks(x, a, partrans)
}

/// `x` with its AR block (first `p`) and seasonal AR block (after the MA block) mapped by `f`.
fn ar_blocks(x: &[f64], a: &Arma, f: fn(usize, &[f64], &mut [f64])) -> Vec<f64> {
    let mut out = x.to_vec();
    if a.p > 0 {
        f(a.p, x, &mut out);
    }
    let v = a.p + a.q;
    if a.sp > 0 {
        f(a.sp, &x[v..], &mut out[v..]);
    }
    out
}

/// Jacobian of `undopars` by forward differences (step 1e-3), row-major n x n; the step is
/// added and subtracted in place, as in statsforecast, so later columns see a rounded value.
pub fn gradtrans(x: &[f64], a: &Arma) -> Vec<f64> {
    const EPS: f64 = 1e-3;
    let n = x.len();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        out[i * n + i] = 1.0;
    }
    for (len, v) in [(a.p, 0), (a.sp, a.p + a.q)] {
        if len == 0 {
            continue;
        }
        let mut w1 = x[v..v + len].to_vec();
        let (mut w2, mut w3) = (vec![0.0; len], vec![0.0; len]);
        partrans(len, &w1, &mut w2);
        for i in 0..len {
            w1[i] += EPS;
            partrans(len, &w1, &mut w3);
            for j in 0..len {
                out[n * (i + v) + j + v] = (w3[j] - w2[j]) / EPS;
            }
            w1[i] -= EPS;
        }
    }
    out
}

/// Expands the parameters to the full AR polynomial phi (length p + mP) and MA polynomial
/// theta (q + mQ).
pub fn transpar(par: &[f64], a: &Arma, trans: bool) -> (Vec<f64>, Vec<f64>) {
    let (mp, mq, msp, msq, ns) = (a.p, a.q, a.sp, a.sq, a.m);
    let (p, q) = (mp + ns * msp, mq + ns * msq);
    let mut params = par.to_vec();
    if trans {
        if mp > 0 {
            partrans(mp, par, &mut params);
        }
        let v = mp + mq;
        if msp > 0 {
            partrans(msp, &par[v..], &mut params[v..]);
        }
    }
    let mut phi = vec![0.0; p];
    let mut theta = vec![0.0; q];
    phi[..mp].copy_from_slice(&params[..mp]);
    theta[..mq].copy_from_slice(&params[mp..mp + mq]);
    if ns > 0 {
        for j in 0..msp {
            phi[(j + 1) * ns - 1] += params[j + mp + mq];
            for i in 0..mp {
                phi[(j + 1) * ns + i] -= params[i] * params[j + mp + mq];
            }
        }
        for j in 0..msq {
            theta[(j + 1) * ns - 1] += params[j + mp + mq + msp];
            for i in 0..mq {
                theta[(j + 1) * ns + i] += params[i + mp] * params[j + mp + mq + msp];
            }
        }
    }
    (phi, theta)
}

/// Conditional sum of squares: (ssq / nu, residuals), or None when the conditioning
/// observations outnumber the series.
pub fn arima_css(y: &[f64], a: &Arma, phi: &[f64], theta: &[f64]) -> Option<(f64, Vec<f64>)> {
    let n = y.len();
    let ncond = a.p + a.d + a.m * (a.sp + a.sd);
    if ncond > n {
        return None;
    }
    let mut resid = vec![0.0; n];
    let mut w = y.to_vec();
    for _ in 0..a.d {
        for l in (1..n).rev() {
            w[l] -= w[l - 1];
        }
    }
    let ns = a.m;
    for _ in 0..a.sd {
        for l in (ns.max(1)..n).rev() {
            w[l] -= w[l - ns];
        }
    }
    let (mut nu, mut ssq) = (0usize, 0.0);
    for l in ncond..n {
        let mut tmp = w[l];
        for (j, ph) in phi.iter().enumerate() {
            tmp -= ph * w[l - j - 1];
        }
        for j in 0..(l - ncond).min(theta.len()) {
            tmp -= theta[j] * resid[l - j - 1];
        }
        resid[l] = tmp;
        if !tmp.is_nan() {
            nu += 1;
            ssq += tmp * tmp;
        }
    }
    Some((ssq / nu as f64, resid))
}

/// One Givens-style inclusion step of Gardner et al.'s regression (AS 154 `inclu2`). Zero
/// entries of the row are skipped as in the original; the scan jumps straight to the next
/// non-zero one (`rbar` row i starts at i * (2 np - i - 1) / 2).
#[inline(always)]
fn inclu2(xnext: &[f64], xrow: &mut [f64], mut ynext: f64, d: &mut [f64], rbar: &mut [f64], thetab: &mut [f64]) {
    let np = xnext.len();
    let Some(first) = xnext.iter().position(|v| *v != 0.0) else {
        return;
    };
    xrow[first..].copy_from_slice(&xnext[first..]);
    let mut i = first;
    while let Some(off) = xrow[i..].iter().position(|v| *v != 0.0) {
        i += off;
        let len = np - i - 1;
        let ithisr = i * (2 * np - i - 1) / 2;
        let xi = xrow[i];
        let di = d[i];
        let dpi = di + xi * xi;
        d[i] = dpi;
        let (cbar, sbar) = if dpi == 0.0 { (f64::INFINITY, f64::INFINITY) } else { (di / dpi, xi / dpi) };
        for (x, rb) in xrow[i + 1..].iter_mut().zip(&mut rbar[ithisr..ithisr + len]) {
            let (xk, rbthis) = (*x, *rb);
            *x = xk - xi * rbthis;
            *rb = cbar * rbthis + sbar * xk;
        }
        let xk = ynext;
        ynext = xk - xi * thetab[i];
        thetab[i] = cbar * thetab[i] + sbar * xk;
        if di == 0.0 {
            return;
        }
        i += 1;
    }
}

/// Element k of the state's noise loading R = [1, theta_1, .., theta_q, 0, ..].
#[inline(always)]
pub fn ma_coef(theta: &[f64], k: usize) -> f64 {
    match k {
        0 => 1.0,
        _ => theta.get(k - 1).copied().unwrap_or(0.0),
    }
}

/// Stationary covariance of the ARMA state (Gardner, Harvey and Phillips 1980), r x r with
/// r = max(p, q + 1), row-major (it is symmetric).
pub fn get_q0(phi: &[f64], theta: &[f64]) -> Vec<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn wide(phi: &[f64], theta: &[f64]) -> Vec<f64> {
            q0(phi, theta)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor was just checked to support AVX2.
            return unsafe { wide(phi, theta) };
        }
    }
    q0(phi, theta)
}

#[inline(always)]
fn q0(phi: &[f64], theta: &[f64]) -> Vec<f64> {
    let (p, q) = (phi.len(), theta.len());
    let r = p.max(q + 1);
    let np = r * (r + 1) / 2;
    let nrbar = np * (np - 1) / 2;
    let mut res = vec![0.0; r * r];
    let coef = |k: usize| ma_coef(theta, k);
    let mut v = Vec::with_capacity(np);
    for j in 0..r {
        for i in j..r {
            v.push(coef(i) * coef(j));
        }
    }
    if r == 1 {
        res[0] = if p == 0 { 1.0 } else { 1.0 / (1.0 - phi[0] * phi[0]) };
        return res;
    }
    if p > 0 {
        let mut rbar = vec![0.0; nrbar];
        let mut thetab = vec![0.0; np];
        let mut xnext = vec![0.0; np];
        let mut xrow = vec![0.0; np];
        let mut ind = 0;
        let mut ind1 = usize::MAX; // -1: incremented before use
        let npr = np - r;
        let npr1 = npr + 1;
        let mut indj = npr;
        let mut ind2 = npr - 1;
        for j in 0..r {
            let phij = phi.get(j).copied().unwrap_or(0.0);
            let mut indi = npr1 + j;
            xnext[indj] = 0.0;
            indj += 1;
            for i in j..r {
                let ynext = v[ind];
                ind += 1;
                let phii = phi.get(i).copied().unwrap_or(0.0);
                if j != r - 1 {
                    xnext[indj] = -phii;
                    if i != r - 1 {
                        xnext[indi] -= phij;
                        ind1 = ind1.wrapping_add(1);
                        xnext[ind1] = -1.0;
                    }
                }
                xnext[npr] = -phii * phij;
                ind2 += 1;
                if ind2 >= np {
                    ind2 = 0;
                }
                xnext[ind2] += 1.0;
                inclu2(&xnext, &mut xrow, ynext, &mut res[..np], &mut rbar, &mut thetab);
                xnext[ind2] = 0.0;
                if i != r - 1 {
                    xnext[indi] = 0.0;
                    indi += 1;
                    xnext[ind1] = 0.0;
                }
            }
        }
        let mut ithisr = nrbar;
        for (i, im) in (0..np).rev().enumerate() {
            let mut bi = thetab[im];
            for jm in (np - i..np).rev() {
                ithisr -= 1;
                bi -= rbar[ithisr] * res[jm];
            }
            res[im] = bi;
        }
        xnext[..r].copy_from_slice(&res[npr..npr + r]);
        for k in (0..npr).rev() {
            res[k + r] = res[k];
        }
        res[..r].copy_from_slice(&xnext[..r]);
    } else {
        let (mut ind, mut indn) = (np, np);
        for i in 0..r {
            for j in 0..=i {
                ind -= 1;
                res[ind] = v[ind];
                if j != 0 {
                    indn -= 1;
                    res[ind] += res[indn];
                }
            }
        }
    }
    let mut ind = np;
    for i in (1..r).rev() {
        for j in (i..r).rev() {
            ind -= 1;
            res[r * i + j] = res[ind];
        }
    }
    for i in 0..r - 1 {
        for j in i + 1..r {
            res[i + r * j] = res[j + r * i];
        }
    }
    res
}
