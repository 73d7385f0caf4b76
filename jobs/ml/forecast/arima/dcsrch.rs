//! MINPACK-2's `dcsrch`/`dcstep` line search (Moré and Thuente 1994) as scipy 1.17 has it in
//! `_dcsrch.py`, the search `line_search_wolfe1` runs. Python's `max`/`min` keep their first
//! argument against a NaN, numpy's `clip` and `sign` propagate it; both are kept.

/// What the caller does next.
pub enum Search {
    /// Evaluate the objective and its slope at this step, then call `iterate` again.
    Evaluate(f64),
    Converged(f64),
    Failed,
}

pub struct Dcsrch {
    ftol: f64,
    gtol: f64,
    xtol: f64,
    stpmin: f64,
    stpmax: f64,
    started: bool,
    brackt: bool,
    stage: u8,
    ginit: f64,
    gtest: f64,
    finit: f64,
    stx: f64,
    fx: f64,
    gx: f64,
    sty: f64,
    fy: f64,
    gy: f64,
    stmin: f64,
    stmax: f64,
    width: f64,
    width1: f64,
}

fn clip(v: f64, lo: f64, hi: f64) -> f64 {
    if v.is_nan() {
        v
    } else {
        v.max(lo).min(hi)
    }
}

fn sign(v: f64) -> f64 {
    if v.is_nan() {
        v
    } else if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

impl Dcsrch {
    pub fn new(ftol: f64, gtol: f64, xtol: f64, stpmin: f64, stpmax: f64) -> Dcsrch {
        Dcsrch {
            ftol,
            gtol,
            xtol,
            stpmin,
            stpmax,
            started: false,
            brackt: false,
            stage: 1,
            ginit: 0.0,
            gtest: 0.0,
            finit: 0.0,
            stx: 0.0,
            fx: 0.0,
            gx: 0.0,
            sty: 0.0,
            fy: 0.0,
            gy: 0.0,
            stmin: 0.0,
            stmax: 0.0,
            width: 0.0,
            width1: 0.0,
        }
    }

    /// One step of `_iterate`: `f` and `g` are the objective and slope at `stp` (at 0 on the
    /// first call).
    pub fn iterate(&mut self, stp: f64, f: f64, g: f64) -> Search {
        let (p5, p66, xtrapl, xtrapu) = (0.5, 0.66, 1.1, 4.0);
        if !self.started {
            if stp < self.stpmin || stp > self.stpmax || g >= 0.0 {
                return Search::Failed;
            }
            self.started = true;
            self.brackt = false;
            self.stage = 1;
            self.finit = f;
            self.ginit = g;
            self.gtest = self.ftol * self.ginit;
            self.width = self.stpmax - self.stpmin;
            self.width1 = self.width / p5;
            (self.stx, self.fx, self.gx) = (0.0, self.finit, self.ginit);
            (self.sty, self.fy, self.gy) = (0.0, self.finit, self.ginit);
            self.stmin = 0.0;
            self.stmax = stp + xtrapu * stp;
            return Search::Evaluate(stp);
        }
        let ftest = self.finit + stp * self.gtest;
        if self.stage == 1 && f <= ftest && g >= 0.0 {
            self.stage = 2;
        }
        let mut warn = false;
        if self.brackt && (stp <= self.stmin || stp >= self.stmax) {
            warn = true;
        }
        if self.brackt && self.stmax - self.stmin <= self.xtol * self.stmax {
            warn = true;
        }
        if stp == self.stpmax && f <= ftest && g <= self.gtest {
            warn = true;
        }
        if stp == self.stpmin && (f > ftest || g >= self.gtest) {
            warn = true;
        }
        // scipy tests convergence after the warnings, so it wins over them.
        if f <= ftest && g.abs() <= self.gtol * -self.ginit {
            return Search::Converged(stp);
        }
        if warn {
            return Search::Failed;
        }
        let mut stp = stp;
        if self.stage == 1 && f <= self.fx && f > ftest {
            let fm = f - stp * self.gtest;
            let mut fxm = self.fx - self.stx * self.gtest;
            let mut fym = self.fy - self.sty * self.gtest;
            let gm = g - self.gtest;
            let mut gxm = self.gx - self.gtest;
            let mut gym = self.gy - self.gtest;
            let mut st = Step { stx: self.stx, fx: fxm, dx: gxm, sty: self.sty, fy: fym, dy: gym, brackt: self.brackt };
            stp = st.dcstep(stp, fm, gm, self.stmin, self.stmax);
            (self.stx, fxm, gxm, self.sty, fym, gym, self.brackt) = (st.stx, st.fx, st.dx, st.sty, st.fy, st.dy, st.brackt);
            self.fx = fxm + self.stx * self.gtest;
            self.fy = fym + self.sty * self.gtest;
            self.gx = gxm + self.gtest;
            self.gy = gym + self.gtest;
        } else {
            let mut st = Step { stx: self.stx, fx: self.fx, dx: self.gx, sty: self.sty, fy: self.fy, dy: self.gy, brackt: self.brackt };
            stp = st.dcstep(stp, f, g, self.stmin, self.stmax);
            (self.stx, self.fx, self.gx, self.sty, self.fy, self.gy, self.brackt) = (st.stx, st.fx, st.dx, st.sty, st.fy, st.dy, st.brackt);
        }
        if self.brackt {
            if (self.sty - self.stx).abs() >= p66 * self.width1 {
                stp = self.stx + p5 * (self.sty - self.stx);
            }
            self.width1 = self.width;
            self.width = (self.sty - self.stx).abs();
            self.stmin = pymin(self.stx, self.sty);
            self.stmax = pymax(self.stx, self.sty);
        } else {
            self.stmin = stp + xtrapl * (stp - self.stx);
            self.stmax = stp + xtrapu * (stp - self.stx);
        }
        stp = clip(stp, self.stpmin, self.stpmax);
        if self.brackt && (stp <= self.stmin || stp >= self.stmax || self.stmax - self.stmin <= self.xtol * self.stmax) {
            stp = self.stx;
        }
        Search::Evaluate(stp)
    }
}

/// The interval state `dcstep` updates.
struct Step {
    stx: f64,
    fx: f64,
    dx: f64,
    sty: f64,
    fy: f64,
    dy: f64,
    brackt: bool,
}

impl Step {
    /// A safeguarded cubic/quadratic step; returns the new trial step.
    fn dcstep(&mut self, stp: f64, fp: f64, dp: f64, stpmin: f64, stpmax: f64) -> f64 {
        let (stx, fx, dx, sty, fy, dy) = (self.stx, self.fx, self.dx, self.sty, self.fy, self.dy);
        let sgnd = sign(dp) * sign(dx);
        let max3 = |a: f64, b: f64, c: f64| pymax(pymax(a, b), c);
        let stpf;
        if fp > fx {
            let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
            let s = max3(theta.abs(), dx.abs(), dp.abs());
            let mut gamma = s * ((theta / s).powi(2) - (dx / s) * (dp / s)).sqrt();
            if stp < stx {
                gamma *= -1.0;
            }
            let p = (gamma - dx) + theta;
            let q = ((gamma - dx) + gamma) + dp;
            let r = p / q;
            let stpc = stx + r * (stp - stx);
            let stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx);
            stpf = if (stpc - stx).abs() <= (stpq - stx).abs() { stpc } else { stpc + (stpq - stpc) / 2.0 };
            self.brackt = true;
        } else if sgnd < 0.0 {
            let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
            let s = max3(theta.abs(), dx.abs(), dp.abs());
            let mut gamma = s * ((theta / s).powi(2) - (dx / s) * (dp / s)).sqrt();
            if stp > stx {
                gamma *= -1.0;
            }
            let p = (gamma - dp) + theta;
            let q = ((gamma - dp) + gamma) + dx;
            let r = p / q;
            let stpc = stp + r * (stx - stp);
            let stpq = stp + (dp / (dp - dx)) * (stx - stp);
            stpf = if (stpc - stp).abs() > (stpq - stp).abs() { stpc } else { stpq };
            self.brackt = true;
        } else if dp.abs() < dx.abs() {
            let theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
            let s = max3(theta.abs(), dx.abs(), dp.abs());
            let mut gamma = s * pymax(0.0, (theta / s).powi(2) - (dx / s) * (dp / s)).sqrt();
            if stp > stx {
                gamma = -gamma;
            }
            let p = (gamma - dp) + theta;
            let q = (gamma + (dx - dp)) + gamma;
            let r = p / q;
            let stpc = if r < 0.0 && gamma != 0.0 {
                stp + r * (stx - stp)
            } else if stp > stx {
                stpmax
            } else {
                stpmin
            };
            let stpq = stp + (dp / (dp - dx)) * (stx - stp);
            if self.brackt {
                let f = if (stpc - stp).abs() < (stpq - stp).abs() { stpc } else { stpq };
                stpf = if stp > stx { pymin(stp + 0.66 * (sty - stp), f) } else { pymax(stp + 0.66 * (sty - stp), f) };
            } else {
                let f = if (stpc - stp).abs() > (stpq - stp).abs() { stpc } else { stpq };
                stpf = clip(f, stpmin, stpmax);
            }
        } else if self.brackt {
            let theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp;
            let s = max3(theta.abs(), dy.abs(), dp.abs());
            let mut gamma = s * ((theta / s).powi(2) - (dy / s) * (dp / s)).sqrt();
            if stp > sty {
                gamma = -gamma;
            }
            let p = (gamma - dp) + theta;
            let q = ((gamma - dp) + gamma) + dy;
            let r = p / q;
            stpf = stp + r * (sty - stp);
        } else if stp > stx {
            stpf = stpmax;
        } else {
            stpf = stpmin;
        }
        if fp > fx {
            (self.sty, self.fy, self.dy) = (stp, fp, dp);
        } else {
            if sgnd < 0.0 {
                (self.sty, self.fy, self.dy) = (stx, fx, dx);
            }
            (self.stx, self.fx, self.dx) = (stp, fp, dp);
        }
        stpf
    }
}

/// Python's `min(a, b)` (keeps `a` unless `b < a`, so a NaN `b` is ignored).
pub fn pymin(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Python's `max(a, b)`.
pub fn pymax(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}
