//! scipy 1.17's `minimize(method="BFGS", tol=1e-8, options={"maxiter": 100})` as statsforecast
//! calls it: forward-difference gradient with an absolute step, the `line_search_wolfe1`
//! (MINPACK-2 `dcsrch`, in `dcsrch.rs`) search with the `line_search_wolfe2` fallback, the
//! inverse-Hessian update and the status codes. The objective may keep state between calls
//! (statsforecast's likelihood does), so calls are made in scipy's order, with its caching.

use super::dcsrch::{pymin, Dcsrch, Search};

const GTOL: f64 = 1e-8;
const MAXITER: usize = 100;
/// scipy's default `eps`: sqrt of the machine epsilon, used as an absolute step.
pub const STEP: f64 = 1.4901161193847656e-08;
const C1: f64 = 1e-4;
const C2: f64 = 0.9;
const AMAX: f64 = 1e100;

/// The result: `status` 0 converged, 1 iteration limit, 2 failed line search ("precision
/// loss"), 3 NaN. `hess_inv` is row-major n x n.
#[derive(Debug, Clone)]
pub struct Optimum {
    pub x: Vec<f64>,
    pub fun: f64,
    pub hess_inv: Vec<f64>,
    pub status: u8,
}

/// scipy's `ScalarFunction`: remembers the last point, its value and gradient.
pub struct Scalar<F> {
    f: F,
    x: Vec<f64>,
    fx: f64,
    f_ok: bool,
    g: Vec<f64>,
    g_ok: bool,
}

impl<F: FnMut(&[f64]) -> f64> Scalar<F> {
    fn new(f: F, x0: &[f64]) -> Scalar<F> {
        let mut s = Scalar { f, x: x0.to_vec(), fx: 0.0, f_ok: false, g: vec![], g_ok: false };
        s.update_fun();
        s.update_grad();
        s
    }

    fn set_x(&mut self, x: &[f64]) {
        // np.array_equal: any NaN makes the points differ.
        if x.len() != self.x.len() || x.iter().zip(&self.x).any(|(a, b)| a != b) {
            self.x = x.to_vec();
            self.f_ok = false;
            self.g_ok = false;
        }
    }

    fn update_fun(&mut self) {
        if !self.f_ok {
            self.fx = (self.f)(&self.x);
            self.f_ok = true;
        }
    }

    fn update_grad(&mut self) {
        if !self.g_ok {
            self.update_fun();
            self.g = fd_gradient(&mut self.f, &self.x, self.fx);
            self.g_ok = true;
        }
    }

    pub fn fun(&mut self, x: &[f64]) -> f64 {
        self.set_x(x);
        self.update_fun();
        self.fx
    }

    pub fn grad(&mut self, x: &[f64]) -> Vec<f64> {
        self.set_x(x);
        self.update_grad();
        self.g.clone()
    }
}

/// `approx_derivative(method="2-point", abs_step=STEP)`: one evaluation per coordinate, in order.
fn fd_gradient<F: FnMut(&[f64]) -> f64>(f: &mut F, x0: &[f64], f0: f64) -> Vec<f64> {
    let mut x1 = x0.to_vec();
    (0..x0.len())
        .map(|i| {
            let mut h = STEP;
            if (x0[i] + h) - x0[i] == 0.0 {
                let sign = if x0[i] >= 0.0 { 1.0 } else { -1.0 };
                h = STEP * sign * f64::max(1.0, x0[i].abs());
            }
            x1[i] = x0[i] + h;
            let fi = f(&x1);
            x1[i] = x0[i];
            (fi - f0) / ((x0[i] + h) - x0[i])
        })
        .collect()
}

/// numpy's `np.dot` of two short vectors (up to 15 entries, all an ARIMA has): OpenBLAS
/// accumulates with fused multiply-adds in order. The linear algebra below follows OpenBLAS's x86-64 kernels so that the rounding, and
/// with it the optimiser's path, is scipy's.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| x.mul_add(*y, s))
}

/// `H @ g` for row-major n x m `h` as OpenBLAS's `dgemv_t` computes it: blocks of four terms
/// in four FMA lanes (pairs of SSE lanes for the last rows), then the remaining terms.
fn gemv(h: &[f64], n: usize, g: &[f64]) -> Vec<f64> {
    let m = g.len();
    if n == 1 {
        return vec![dot(&h[..m], g)];
    }
    let m3 = m & 3;
    let m2 = m - m3;
    let mut y = vec![0.0; n];
    let row = |r: usize| &h[r * m..r * m + m2];
    if m2 > 0 {
        let n1 = n & !3;
        for (r, yr) in y.iter_mut().enumerate().take(n1) {
            let a = row(r);
            let mut acc = [0.0; 4];
            for (i, (ai, gi)) in a.iter().zip(g).enumerate() {
                acc[i % 4] = ai.mul_add(*gi, acc[i % 4]);
            }
            *yr = (acc[0] + acc[2]) + (acc[1] + acc[3]);
        }
        let mut r = n1;
        if n & 2 != 0 {
            for yr in &mut y[r..r + 2] {
                let a = row(r);
                let mut l = [0.0; 2];
                for (i, (ai, gi)) in a.iter().zip(g).enumerate() {
                    l[i % 2] += ai * gi;
                }
                *yr = l[0] + l[1];
                r += 1;
            }
        }
        if n & 1 != 0 {
            let a = row(r);
            let (mut p, mut q) = ([0.0; 2], [0.0; 2]);
            for (i, (ai, gi)) in a.iter().zip(g).enumerate() {
                if i % 4 < 2 {
                    p[i % 2] += ai * gi;
                } else {
                    q[i % 2] += ai * gi;
                }
            }
            y[r] = (p[0] + q[0]) + (p[1] + q[1]);
        }
    }
    for (r, yr) in y.iter_mut().enumerate() {
        let (a, x) = (&h[r * m + m2..(r + 1) * m], &g[m2..]);
        *yr = match m3 {
            1 => a[0].mul_add(x[0], *yr),
            2 => *yr + a[0].mul_add(x[0], a[1] * x[1]),
            3 => *yr + a[2].mul_add(x[2], a[0].mul_add(x[0], a[1] * x[1])),
            _ => *yr,
        };
    }
    y
}

/// np.amax(np.abs(x)), NaN-propagating.
fn inf_norm(x: &[f64]) -> f64 {
    x.iter().fold(f64::NEG_INFINITY, |m, v| if m.is_nan() || v.is_nan() { f64::NAN } else { m.max(v.abs()) })
}

fn axpy(x: &[f64], alpha: f64, p: &[f64]) -> Vec<f64> {
    x.iter().zip(p).map(|(a, b)| a + alpha * b).collect()
}

/// Minimises `f` from `x0` exactly as scipy's `_minimize_bfgs` does with statsforecast's options.
pub fn minimize<F: FnMut(&[f64]) -> f64>(f: F, x0: &[f64]) -> Optimum {
    let n = x0.len();
    let mut sf = Scalar::new(f, x0);
    let mut old_fval = sf.fun(x0);
    let mut gfk = sf.grad(x0);
    let mut k = 0;
    let mut hk: Vec<f64> = (0..n * n).map(|i| if i % (n + 1) == 0 { 1.0 } else { 0.0 }).collect();
    let mut old_old_fval = old_fval + dot(&gfk, &gfk).sqrt() / 2.0;
    let mut xk = x0.to_vec();
    let mut warnflag = 0;
    let mut gnorm = inf_norm(&gfk);
    while gnorm > GTOL && k < MAXITER {
        let pk: Vec<f64> = gemv(&hk, n, &gfk).iter().map(|v| -v).collect();
        let Some((alpha_k, fnew, fold, gnew)) = line_search_wolfe12(&mut sf, &xk, &pk, &gfk, old_fval, old_old_fval) else {
            warnflag = 2;
            break;
        };
        old_fval = fnew;
        old_old_fval = fold;
        let sk: Vec<f64> = pk.iter().map(|p| alpha_k * p).collect();
        xk = xk.iter().zip(&sk).map(|(x, s)| x + s).collect();
        let gfkp1 = gnew.unwrap_or_else(|| sf.grad(&xk));
        let yk: Vec<f64> = gfkp1.iter().zip(&gfk).map(|(a, b)| a - b).collect();
        gfk = gfkp1;
        k += 1;
        gnorm = inf_norm(&gfk);
        if gnorm <= GTOL {
            break;
        }
        // xrtol = 0: stops only on a zero step.
        if alpha_k * dot(&pk, &pk).sqrt() <= 0.0 * dot(&xk, &xk).sqrt() {
            break;
        }
        if !old_fval.is_finite() {
            warnflag = 2;
            break;
        }
        let rhok_inv = dot(&yk, &sk);
        let rhok = if rhok_inv == 0.0 { 1000.0 } else { 1.0 / rhok_inv };
        let eye = |i: usize, j: usize| if i == j { 1.0 } else { 0.0 };
        let a1: Vec<f64> = (0..n * n).map(|ij| eye(ij / n, ij % n) - sk[ij / n] * yk[ij % n] * rhok).collect();
        let a2: Vec<f64> = (0..n * n).map(|ij| eye(ij / n, ij % n) - yk[ij / n] * sk[ij % n] * rhok).collect();
        let ha2 = matmul(&hk, &a2, n);
        let a1ha2 = matmul(&a1, &ha2, n);
        hk = (0..n * n).map(|ij| a1ha2[ij] + rhok * sk[ij / n] * sk[ij % n]).collect();
    }
    let status = if warnflag == 2 {
        2
    } else if k >= MAXITER {
        1
    } else if gnorm.is_nan() || old_fval.is_nan() || xk.iter().any(|v| v.is_nan()) {
        3
    } else {
        0
    };
    Optimum { x: xk, fun: old_fval, hess_inv: hk, status }
}

/// n x n `a @ b` (OpenBLAS's small-matrix kernels: one FMA chain per element).
fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    (0..n * n).map(|ij| (0..n).fold(0.0, |s, k| a[(ij / n) * n + k].mul_add(b[k * n + ij % n], s))).collect()
}

/// `_line_search_wolfe12`: (step, new value, old value, gradient at the new point if known).
type Step = (f64, f64, f64, Option<Vec<f64>>);

fn line_search_wolfe12<F: FnMut(&[f64]) -> f64>(sf: &mut Scalar<F>, xk: &[f64], pk: &[f64], gfk: &[f64], fval: f64, old_fval: f64) -> Option<Step> {
    wolfe1(sf, xk, pk, gfk, fval, old_fval).or_else(|| wolfe2(sf, xk, pk, gfk, fval, old_fval))
}

/// The first trial step of both searches.
fn first_step(phi0: f64, old_phi0: f64, derphi0: f64) -> f64 {
    if derphi0 != 0.0 {
        let a = pymin(1.0, 1.01 * 2.0 * (phi0 - old_phi0) / derphi0);
        if a < 0.0 {
            1.0
        } else {
            a
        }
    } else {
        1.0
    }
}

fn wolfe1<F: FnMut(&[f64]) -> f64>(sf: &mut Scalar<F>, xk: &[f64], pk: &[f64], gfk: &[f64], phi0: f64, old_phi0: f64) -> Option<Step> {
    let derphi0 = dot(gfk, pk);
    let mut gval = gfk.to_vec();
    let mut search = Dcsrch::new(C1, C2, 1e-14, 1e-100, AMAX);
    let mut stp = first_step(phi0, old_phi0, derphi0);
    let (mut phi1, mut derphi1) = (phi0, derphi0);
    for _ in 0..100 {
        match search.iterate(stp, phi1, derphi1) {
            Search::Evaluate(s) => {
                if !s.is_finite() {
                    return None;
                }
                stp = s;
                let x = axpy(xk, stp, pk);
                phi1 = sf.fun(&x);
                gval = sf.grad(&x);
                derphi1 = dot(&gval, pk);
            }
            Search::Converged(s) => {
                return s.is_finite().then_some((s, phi1, phi0, Some(gval)));
            }
            Search::Failed => return None,
        }
    }
    None
}

/// `scalar_search_wolfe2` with its `_zoom` (Nocedal and Wright, algorithms 3.5 and 3.6).
fn wolfe2<F: FnMut(&[f64]) -> f64>(sf: &mut Scalar<F>, xk: &[f64], pk: &[f64], gfk: &[f64], phi0: f64, old_phi0: f64) -> Option<Step> {
    let derphi0 = dot(gfk, pk);
    let mut gval: Option<Vec<f64>> = None;
    let mut ls = Line { sf, xk, pk, gval: &mut gval };
    let mut alpha0 = 0.0;
    let mut alpha1 = pymin(first_step(phi0, old_phi0, derphi0), AMAX);
    let mut phi_a1 = ls.phi(alpha1);
    let mut phi_a0 = phi0;
    let mut derphi_a0 = derphi0;
    for i in 0..10 {
        if alpha1 == 0.0 || alpha0 > AMAX {
            return None;
        }
        if phi_a1 > phi0 + C1 * alpha1 * derphi0 || (phi_a1 >= phi_a0 && i > 0) {
            let (a, f) = zoom(&mut ls, alpha0, alpha1, phi_a0, phi_a1, derphi_a0, phi0, derphi0)?;
            return Some((a, f, phi0, gval));
        }
        let derphi_a1 = ls.derphi(alpha1);
        if derphi_a1.abs() <= -C2 * derphi0 {
            return Some((alpha1, phi_a1, phi0, gval));
        }
        if derphi_a1 >= 0.0 {
            let (a, f) = zoom(&mut ls, alpha1, alpha0, phi_a1, phi_a0, derphi_a1, phi0, derphi0)?;
            return Some((a, f, phi0, gval));
        }
        let alpha2 = pymin(2.0 * alpha1, AMAX);
        alpha0 = alpha1;
        alpha1 = alpha2;
        phi_a0 = phi_a1;
        phi_a1 = ls.phi(alpha1);
        derphi_a0 = derphi_a1;
    }
    // scipy accepts the last step without a gradient when the loop runs out.
    Some((alpha1, phi_a1, phi0, None))
}

/// The objective along the search direction.
struct Line<'a, F> {
    sf: &'a mut Scalar<F>,
    xk: &'a [f64],
    pk: &'a [f64],
    gval: &'a mut Option<Vec<f64>>,
}

impl<F: FnMut(&[f64]) -> f64> Line<'_, F> {
    fn phi(&mut self, alpha: f64) -> f64 {
        let x = axpy(self.xk, alpha, self.pk);
        self.sf.fun(&x)
    }

    fn derphi(&mut self, alpha: f64) -> f64 {
        let x = axpy(self.xk, alpha, self.pk);
        let g = self.sf.grad(&x);
        let d = dot(&g, self.pk);
        *self.gval = Some(g);
        d
    }
}

#[allow(clippy::too_many_arguments)]
fn zoom<F: FnMut(&[f64]) -> f64>(
    ls: &mut Line<'_, F>,
    mut a_lo: f64,
    mut a_hi: f64,
    mut phi_lo: f64,
    mut phi_hi: f64,
    mut derphi_lo: f64,
    phi0: f64,
    derphi0: f64,
) -> Option<(f64, f64)> {
    let (delta1, delta2) = (0.2, 0.1);
    let (mut phi_rec, mut a_rec) = (phi0, 0.0);
    let mut i = 0;
    loop {
        let dalpha = a_hi - a_lo;
        let (a, b) = if dalpha < 0.0 { (a_hi, a_lo) } else { (a_lo, a_hi) };
        let mut a_j = None;
        let mut cchk = 0.0;
        if i > 0 {
            cchk = delta1 * dalpha;
            a_j = cubicmin(a_lo, phi_lo, derphi_lo, a_hi, phi_hi, a_rec, phi_rec);
        }
        let bad = |v: Option<f64>, chk: f64| v.is_none_or(|v| v > b - chk || v < a + chk);
        if i == 0 || bad(a_j, cchk) {
            let qchk = delta2 * dalpha;
            a_j = quadmin(a_lo, phi_lo, derphi_lo, a_hi, phi_hi);
            if bad(a_j, qchk) {
                a_j = Some(a_lo + 0.5 * dalpha);
            }
        }
        let a_j = a_j.unwrap_or(a_lo + 0.5 * dalpha);
        let phi_aj = ls.phi(a_j);
        if phi_aj > phi0 + C1 * a_j * derphi0 || phi_aj >= phi_lo {
            phi_rec = phi_hi;
            a_rec = a_hi;
            a_hi = a_j;
            phi_hi = phi_aj;
        } else {
            let derphi_aj = ls.derphi(a_j);
            if derphi_aj.abs() <= -C2 * derphi0 {
                return Some((a_j, phi_aj));
            }
            if derphi_aj * (a_hi - a_lo) >= 0.0 {
                phi_rec = phi_hi;
                a_rec = a_hi;
                a_hi = a_lo;
                phi_hi = phi_lo;
            } else {
                phi_rec = phi_lo;
                a_rec = a_lo;
            }
            a_lo = a_j;
            phi_lo = phi_aj;
            derphi_lo = derphi_aj;
        }
        i += 1;
        if i > 10 {
            return None;
        }
    }
}

/// Floating-point arithmetic that fails like numpy under `errstate(all="raise")`: a result
/// that overflows, divides by zero or is an invalid NaN aborts the interpolation.
struct Checked(std::cell::Cell<bool>);

impl Checked {
    fn new() -> Checked {
        Checked(std::cell::Cell::new(false))
    }
    fn op(&self, inputs: &[f64], r: f64) -> f64 {
        let finite_in = inputs.iter().all(|v| v.is_finite());
        if (finite_in && !r.is_finite()) || (r.is_nan() && !inputs.iter().any(|v| v.is_nan())) {
            self.0.set(true);
        }
        r
    }
    fn sub(&self, a: f64, b: f64) -> f64 {
        self.op(&[a, b], a - b)
    }
    fn mul(&self, a: f64, b: f64) -> f64 {
        self.op(&[a, b], a * b)
    }
    fn div(&self, a: f64, b: f64) -> f64 {
        self.op(&[a, b], a / b)
    }
    fn add(&self, a: f64, b: f64) -> f64 {
        self.op(&[a, b], a + b)
    }
    fn failed(&self) -> bool {
        self.0.get()
    }
}

/// Minimiser of the cubic through (a, fa), (b, fb), (c, fc) with slope fpa at a.
fn cubicmin(a: f64, fa: f64, fpa: f64, b: f64, fb: f64, c: f64, fc: f64) -> Option<f64> {
    let k = Checked::new();
    let cc = fpa;
    let db = k.sub(b, a);
    let dc = k.sub(c, a);
    let dbdc = k.mul(db, dc);
    let sq = k.mul(dbdc, dbdc);
    let denom = k.mul(sq, k.sub(db, dc));
    let d00 = k.mul(dc, dc);
    let d01 = -k.mul(db, db);
    let d10 = -k.op(&[dc], dc.powf(3.0));
    let d11 = k.op(&[db], db.powf(3.0));
    let v0 = k.sub(k.sub(fb, fa), k.mul(cc, db));
    let v1 = k.sub(k.sub(fc, fa), k.mul(cc, dc));
    // np.dot(d1, v): the 2 x 2 dgemv, fma(d_i0, v0, d_i1 * v1).
    let aa = k.div(k.op(&[d00, v0, k.mul(d01, v1)], d00.mul_add(v0, d01 * v1)), denom);
    let bb = k.div(k.op(&[d10, v0, k.mul(d11, v1)], d10.mul_add(v0, d11 * v1)), denom);
    let radical = k.sub(k.mul(bb, bb), k.mul(k.mul(3.0, aa), cc));
    let root = k.op(&[radical], radical.sqrt());
    let xmin = k.add(a, k.div(k.add(-bb, root), k.mul(3.0, aa)));
    (!k.failed() && xmin.is_finite()).then_some(xmin)
}

/// Minimiser of the quadratic through (a, fa), (b, fb) with slope fpa at a.
fn quadmin(a: f64, fa: f64, fpa: f64, b: f64, fb: f64) -> Option<f64> {
    let k = Checked::new();
    let db = k.sub(b, a);
    let num = k.sub(k.sub(fb, fa), k.mul(fpa, db));
    let bb = k.div(num, k.mul(db, db));
    let xmin = k.sub(a, k.div(fpa, k.mul(2.0, bb)));
    (!k.failed() && xmin.is_finite()).then_some(xmin)
}
