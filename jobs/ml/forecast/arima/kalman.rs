//! The exact Gaussian likelihood of an ARIMA in state-space form (R's `ARIMA_Like`, as
//! statsforecast's `arima.cpp` has it) and the Kalman forecast.

use super::kernels::{get_q0, ma_coef};
use super::unitroot::pairwise_sum;

/// The Kalman filter of `arima.cpp`: returns (ssq, sumlog, nu) and, with `resid`, the
/// standardised innovations. `a`, `p` (filtered) and `pnew` (predicted) are updated in place:
/// `pnew` holds the prior at entry and the last prediction at exit. Matrices are column-major
/// as in the C++; loops run in whatever order is fastest, but every element sees the same
/// operations in the same order.
#[allow(clippy::too_many_arguments)]
pub fn arima_like(
    y: &[f64],
    phi: &[f64],
    theta: &[f64],
    delta: &[f64],
    a: &mut [f64],
    pm: &mut [f64],
    pnew: &mut [f64],
    up: usize,
    resid: Option<&mut [f64]>,
) -> (f64, f64, usize) {
    // Wider vectors where the processor has them (checked at run time); the operations, and so
    // the results, are the same.
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn wide(
            y: &[f64],
            phi: &[f64],
            theta: &[f64],
            delta: &[f64],
            a: &mut [f64],
            pm: &mut [f64],
            pnew: &mut [f64],
            up: usize,
            resid: Option<&mut [f64]>,
        ) -> (f64, f64, usize) {
            filter(y, phi, theta, delta, a, pm, pnew, up, resid)
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor was just checked to support AVX2.
            return unsafe { wide(y, phi, theta, delta, a, pm, pnew, up, resid) };
        }
    }
    filter(y, phi, theta, delta, a, pm, pnew, up, resid)
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn filter(
    y: &[f64],
    phi: &[f64],
    theta: &[f64],
    delta: &[f64],
    a: &mut [f64],
    pm: &mut [f64],
    pnew: &mut [f64],
    up: usize,
    mut resid: Option<&mut [f64]>,
) -> (f64, f64, usize) {
    let (d, rd, p) = (delta.len(), a.len(), phi.len());
    let r = rd - d;
    let (mut ssq, mut sumlog, mut nu) = (0.0, 0.0, 0usize);
    let mut anew = vec![0.0; rd];
    let mut mv = vec![0.0; rd];
    let mut mm = if d > 0 { vec![0.0; rd * rd] } else { vec![] };
    let (pm, pnew) = (&mut pm[..rd * rd], &mut pnew[..rd * rd]);
    for (l, &yl) in y.iter().enumerate() {
        for i in 0..r {
            let mut tmp = if i < r - 1 { a[i + 1] } else { 0.0 };
            if i < p {
                tmp += phi[i] * a[0];
            }
            anew[i] = tmp;
        }
        if d > 0 {
            anew[r + 1..rd].copy_from_slice(&a[r..rd - 1]);
            let mut tmp = a[0];
            for (dl, ai) in delta.iter().zip(&a[r..]) {
                tmp += dl * ai;
            }
            anew[r] = tmp;
        }
        if l > up {
            if d == 0 {
                predict_stationary(phi, theta, r, pm, pnew);
            } else {
                predict_differenced(phi, theta, delta, r, pm, &mut mm, pnew);
            }
        }
        if yl.is_nan() {
            a.copy_from_slice(&anew);
            pm.copy_from_slice(pnew);
            if let Some(rs) = resid.as_deref_mut() {
                rs[l] = f64::NAN;
            }
            continue;
        }
        let mut res = yl - anew[0];
        for (dl, an) in delta.iter().zip(&anew[r..]) {
            res -= dl * an;
        }
        mv.copy_from_slice(&pnew[..rd]);
        for (j, dl) in delta.iter().enumerate() {
            let col = &pnew[(r + j) * rd..(r + j + 1) * rd];
            for (m, c) in mv.iter_mut().zip(col) {
                *m += c * dl;
            }
        }
        let mut gain = mv[0];
        for (dl, m) in delta.iter().zip(&mv[r..]) {
            gain += dl * m;
        }
        if gain < 1e4 {
            nu += 1;
            if gain == 0.0 {
                ssq = f64::INFINITY;
            } else {
                ssq += res * res / gain;
            }
            sumlog += gain.ln();
        }
        if let Some(rs) = resid.as_deref_mut() {
            rs[l] = if gain == 0.0 { f64::INFINITY } else { res / gain.sqrt() };
        }
        if gain == 0.0 {
            a.iter_mut().for_each(|v| *v = f64::INFINITY);
            pnew.iter_mut().for_each(|v| *v = f64::INFINITY);
        } else {
            for i in 0..rd {
                a[i] = anew[i] + mv[i] * res / gain;
            }
            for (j, (pcol, ncol)) in pm.chunks_exact_mut(rd).zip(pnew.chunks_exact(rd)).enumerate() {
                let mj = mv[j];
                for ((out, pn), mi) in pcol.iter_mut().zip(ncol).zip(&mv) {
                    *out = pn - mi * mj / gain;
                }
            }
        }
    }
    (ssq, sumlog, nu)
}

/// Predicted covariance T P T' + V for a model without differencing.
#[inline(always)]
fn predict_stationary(phi: &[f64], theta: &[f64], r: usize, pm: &[f64], pnew: &mut [f64]) {
    let (p, q) = (phi.len(), theta.len());
    let coef = |k: usize| ma_coef(theta, k);
    for j in 0..r {
        let vj = coef(j);
        for i in 0..r {
            let vi = coef(i);
            let mut tmp = if j == 0 {
                vi
            } else if j - 1 < q {
                vi * vj
            } else {
                0.0
            };
            if i < p && j < p {
                tmp += phi[i] * phi[j] * pm[0];
            }
            if i < r - 1 && j < r - 1 {
                tmp += pm[i + 1 + r * (j + 1)];
            }
            if i < p && j < r - 1 {
                tmp += phi[i] * pm[j + 1];
            }
            if j < p && i < r - 1 {
                tmp += phi[j] * pm[i + 1];
            }
            pnew[i + r * j] = tmp;
        }
    }
}

/// The first r rows of T times a vector whose first entry is `x0` and whose rows 1.. are
/// `next`: `out[i] = 0 + phi[i] * x0 (i < p) + next[i] (i < r - 1)`, added in that order.
#[inline(always)]
fn shift_rows(phi: &[f64], x0: f64, next: &[f64], out: &mut [f64]) {
    let r = out.len();
    let k = phi.len().min(r - 1);
    for ((o, ph), nx) in out[..k].iter_mut().zip(phi).zip(next) {
        *o = (0.0 + ph * x0) + nx;
    }
    for (o, nx) in out[k..r - 1].iter_mut().zip(&next[k..]) {
        *o = 0.0 + nx;
    }
    out[r - 1] = if phi.len() == r { 0.0 + phi[r - 1] * x0 } else { 0.0 };
}

/// Predicted covariance with the differencing states appended: mm = T P, then T mm' + V.
#[inline(always)]
fn predict_differenced(phi: &[f64], theta: &[f64], delta: &[f64], r: usize, pm: &[f64], mm: &mut [f64], pnew: &mut [f64]) {
    let (q, d) = (theta.len(), delta.len());
    let rd = r + d;
    for (col, mcol) in pm.chunks_exact(rd).zip(mm.chunks_exact_mut(rd)) {
        shift_rows(phi, col[0], &col[1..], &mut mcol[..r]);
        let mut tmp = col[0];
        for (dl, c) in delta.iter().zip(&col[r..]) {
            tmp += dl * c;
        }
        mcol[r] = tmp;
        mcol[r + 1..].copy_from_slice(&col[r..rd - 1]);
    }
    // Rows of pnew (index j + rd * i): the same shift applied to the rows of mm.
    let (row0, rest) = mm.split_at(rd);
    for (i, out) in pnew.chunks_exact_mut(rd).enumerate().take(r) {
        let ph = phi.get(i).copied();
        match (ph, i < r - 1) {
            (Some(ph), true) => {
                for ((o, m0), nx) in out.iter_mut().zip(row0).zip(&rest[rd * i..rd * (i + 1)]) {
                    *o = (0.0 + ph * m0) + nx;
                }
            }
            (Some(ph), false) => out.iter_mut().zip(row0).for_each(|(o, m0)| *o = 0.0 + ph * m0),
            (None, true) => out.iter_mut().zip(&rest[rd * i..rd * (i + 1)]).for_each(|(o, nx)| *o = 0.0 + nx),
            (None, false) => out.iter_mut().for_each(|o| *o = 0.0),
        }
    }
    {
        let out = &mut pnew[rd * r..rd * (r + 1)];
        out.copy_from_slice(&mm[..rd]);
        for (k, dl) in delta.iter().enumerate() {
            for (o, v) in out.iter_mut().zip(&mm[rd * (r + k)..rd * (r + k + 1)]) {
                *o += dl * v;
            }
        }
    }
    for i in 1..d {
        let (dst, src) = (rd * (r + i), rd * (r + i - 1));
        pnew[dst..dst + rd].copy_from_slice(&mm[src..src + rd]);
    }
    // + V, column by column: element (i, j) gains v_i (j = 0) or v_i * theta[j - 1].
    for j in 0..=q {
        let col = &mut pnew[rd * j..rd * j + q + 1];
        if j == 0 {
            col[0] += 1.0;
            col[1..].iter_mut().zip(theta).for_each(|(o, t)| *o += t);
        } else {
            let tj = theta[j - 1];
            col[0] += 1.0 * tj;
            col[1..].iter_mut().zip(theta).for_each(|(o, t)| *o += t * tj);
        }
    }
}

/// The state-space form of `make_arima`: matrices row-major, `pn` the prior covariance that the
/// filter also uses as its prediction buffer.
#[derive(Debug, Clone)]
pub struct StateSpace {
    pub phi: Vec<f64>,
    pub theta: Vec<f64>,
    pub delta: Vec<f64>,
    pub z: Vec<f64>,
    pub a: Vec<f64>,
    pub p: Vec<f64>,
    pub t: Vec<f64>,
    pub v: Vec<f64>,
    pub pn: Vec<f64>,
}

pub const KAPPA: f64 = 1e6;

impl StateSpace {
    pub fn new(phi: &[f64], theta: &[f64], delta: &[f64]) -> StateSpace {
        let (p, q, d) = (phi.len(), theta.len(), delta.len());
        let r = p.max(q + 1);
        let rd = r + d;
        let mut z = vec![0.0; rd];
        z[0] = 1.0;
        z[r..].copy_from_slice(delta);
        let mut t = vec![0.0; rd * rd];
        for (i, ph) in phi.iter().enumerate() {
            t[i * rd] = *ph;
        }
        for i in 1..r {
            t[(i - 1) * rd + i] = 1.0;
        }
        if d > 0 {
            t[r * rd..(r + 1) * rd].copy_from_slice(&z);
            for i in 1..d {
                t[(r + i) * rd + r + i - 1] = 1.0;
            }
        }
        let mut th = theta.to_vec();
        th.resize(q.max(r - 1), 0.0);
        let mut rv = vec![1.0];
        rv.extend_from_slice(&th);
        rv.resize(rd, 0.0);
        let v: Vec<f64> = (0..rd * rd).map(|k| rv[k % rd] * rv[k / rd]).collect();
        let mut ss =
            StateSpace { phi: phi.to_vec(), theta: th, delta: delta.to_vec(), z, a: vec![0.0; rd], p: vec![0.0; rd * rd], t, v, pn: vec![0.0; rd * rd] };
        ss.set_prior(phi, theta);
        for i in 0..d {
            ss.pn[(r + i) * rd + r + i] = KAPPA;
        }
        ss
    }

    /// `upARIMA`: new coefficients, the stationary block of the prior and a zero state; the
    /// rest of `pn` keeps what the last filter pass left there, as statsforecast does.
    pub fn update(&mut self, phi: &[f64], theta: &[f64]) {
        let rd = self.a.len();
        for (i, ph) in phi.iter().enumerate() {
            self.t[i * rd] = *ph;
        }
        self.phi = phi.to_vec();
        self.theta = theta.to_vec();
        self.set_prior(phi, theta);
        self.a.iter_mut().for_each(|v| *v = 0.0);
    }

    fn set_prior(&mut self, phi: &[f64], theta: &[f64]) {
        let rd = self.a.len();
        let r = phi.len().max(theta.len() + 1);
        if r > 1 {
            let q0 = get_q0(phi, theta);
            for i in 0..r {
                self.pn[i * rd..i * rd + r].copy_from_slice(&q0[i * r..(i + 1) * r]);
            }
        } else {
            self.pn[0] = if phi.is_empty() { 1.0 } else { 1.0 / (1.0 - phi[0] * phi[0]) };
        }
    }

    /// Runs the filter over `y` (`use_resid` gives the standardised innovations).
    pub fn filter(&mut self, y: &[f64], use_resid: bool) -> (f64, f64, usize, Vec<f64>) {
        let mut resid = if use_resid { vec![0.0; y.len()] } else { vec![] };
        let out = arima_like(y, &self.phi, &self.theta, &self.delta, &mut self.a, &mut self.p, &mut self.pn, 0, use_resid.then_some(&mut resid[..]));
        (out.0, out.1, out.2, resid)
    }

    /// h-step forecasts of the state's observation and their variances (in units of sigma2).
    pub fn forecast(&self, h: usize) -> (Vec<f64>, Vec<f64>) {
        let rd = self.a.len();
        let mut a = self.a.clone();
        let mut p = self.p.clone();
        let (mut mean, mut var) = (Vec::with_capacity(h), Vec::with_capacity(h));
        let mut mm = vec![0.0; rd * rd];
        let mut zp = vec![0.0; rd * rd];
        for _ in 0..h {
            a = (0..rd).map(|i| (0..rd).fold(0.0, |s, j| s + self.t[i * rd + j] * a[j])).collect();
            mean.push(a.iter().zip(&self.z).fold(0.0, |s, (x, z)| s + x * z));
            for i in 0..rd {
                for j in 0..rd {
                    mm[i * rd + j] = (0..rd).fold(0.0, |s, k| s + self.t[i * rd + k] * p[k * rd + j]);
                }
            }
            for i in 0..rd {
                for j in 0..rd {
                    p[i * rd + j] = self.v[i * rd + j] + (0..rd).fold(0.0, |s, k| s + mm[i * rd + k] * self.t[j * rd + k]);
                    zp[i * rd + j] = self.z[i] * self.z[j] * p[i * rd + j];
                }
            }
            var.push(pairwise_sum(&zp));
        }
        (mean, var)
    }
}
