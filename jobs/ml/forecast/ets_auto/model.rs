//! The ETS state-space recursions of statsforecast's `src/ets.cpp` (`Update`, `Forecast`, `Calc`,
//! `ObjectiveFunction`), operation for operation, and `pegelsresid_C` / `etsforecast` of
//! `ets.py` on top of them.

use super::super::optim::eigen_sum;

/// A component's form: none, additive or multiplicative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comp {
    N,
    A,
    M,
}

impl Comp {
    pub fn letter(self) -> char {
        match self {
            Comp::N => 'N',
            Comp::A => 'A',
            Comp::M => 'M',
        }
    }

    pub fn from_letter(c: char) -> Option<Comp> {
        match c {
            'N' => Some(Comp::N),
            'A' => Some(Comp::A),
            'M' => Some(Comp::M),
            _ => None,
        }
    }
}

pub const HUGE_N: f64 = 1e10;
pub const NA: f64 = -99999.0;
pub const TOL: f64 = 1e-10;

/// The model's form with its season length (1 without a season).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form {
    pub error: Comp,
    pub trend: Comp,
    pub season: Comp,
    pub m: usize,
}

/// The smoothing parameters as the recursions take them (phi 1 without damping, beta and gamma
/// 0 without trend or season).
#[derive(Debug, Clone, Copy)]
pub struct Smooth {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub phi: f64,
}

/// `Update`: the new level, growth and newest seasonal state, from the previous level, growth
/// and oldest seasonal state `last` (the C++ then shifts the seasonal states by one; the caller
/// keeps them in a ring, which is the same numbers without the copying).
#[allow(clippy::too_many_arguments)]
fn update(last: f64, b: f64, old_l: f64, old_b: f64, form: &Form, p: &Smooth, y: f64) -> (f64, f64, f64) {
    let (q, phi_b) = match form.trend {
        Comp::N => (old_l, 0.0),
        Comp::A => {
            let phi_b = p.phi * old_b;
            (old_l + phi_b, phi_b)
        }
        Comp::M => {
            if (p.phi - 1.0).abs() < TOL {
                (old_l * old_b, old_b)
            } else {
                let phi_b = old_b.powf(p.phi);
                (old_l * phi_b, phi_b)
            }
        }
    };
    let pp = match form.season {
        Comp::N => y,
        Comp::A => y - last,
        Comp::M => {
            if last.abs() < TOL {
                HUGE_N
            } else {
                y / last
            }
        }
    };
    let l = q + p.alpha * (pp - q);
    let mut b = b;
    if form.trend != Comp::N {
        let r = if form.trend == Comp::A {
            l - old_l
        } else if old_l.abs() < TOL {
            HUGE_N
        } else {
            l / old_l
        };
        b = phi_b + (p.beta / p.alpha) * (r - phi_b);
    }
    let mut s0 = 0.0;
    if form.season != Comp::N {
        let t = if form.season == Comp::A {
            y - q
        } else if q.abs() < TOL {
            HUGE_N
        } else {
            y / q
        };
        s0 = last + p.gamma * (t - last);
    }
    (l, b, s0)
}

/// `Forecast`: h point forecasts from a state (level, growth, the m seasonal states newest
/// first).
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
pub fn forecast(l: f64, b: f64, s: &[f64], m: usize, trend: Comp, season: Comp, phi: f64, h: usize) -> Vec<f64> {
    let mut f = vec![0.0; h];
    let mut phistar = phi;
    for i in 0..h {
        f[i] = match trend {
            Comp::N => l,
            Comp::A => l + phistar * b,
            Comp::M => {
                if b < 0.0 {
                    f64::NAN
                } else {
                    l * b.powf(phistar)
                }
            }
        };
        if season != Comp::N {
            let j = (m as isize - 1 - i as isize).rem_euclid(m as isize) as usize;
            if season == Comp::A {
                f[i] += s[j];
            } else {
                f[i] *= s[j];
            }
        }
        if i + 1 < h {
            if (phi - 1.0).abs() < TOL {
                phistar += 1.0;
            } else {
                phistar += phi.powf((i + 1) as f64);
            }
        }
    }
    f
}

/// The one-step forecast of `Forecast` (its f[0]); `last` is the oldest seasonal state.
fn one_step(l: f64, b: f64, last: f64, trend: Comp, season: Comp, phi: f64) -> f64 {
    let mut f = match trend {
        Comp::N => l,
        Comp::A => l + phi * b,
        Comp::M => {
            if b < 0.0 {
                f64::NAN
            } else {
                l * b.powf(phi)
            }
        }
    };
    match season {
        Comp::N => {}
        Comp::A => f += last,
        Comp::M => f *= last,
    }
    f
}

/// What `Calc` leaves besides -2 log-likelihood (up to constants): the residuals and every
/// state, row by row (n + 1 rows of `1 + trend + m` states).
pub struct Track {
    pub e: Vec<f64>,
    pub states: Vec<f64>,
}

/// `Calc` with the likelihood criterion: `x0` holds the initial level, growth (with a trend)
/// and m seasonal states. Returns `NA` where the C++ does. With `track`, records residuals and
/// states as `pegelsresid_C` returns them (the MSE terms it also keeps are not needed).
pub fn calc(x0: &[f64], y: &[f64], form: &Form, p: &Smooth, mut track: Option<&mut Track>) -> f64 {
    let n = y.len();
    let m = form.m.max(1);
    let has_trend = form.trend != Comp::N;
    let has_season = form.season != Comp::N;
    let n_states = m * has_season as usize + has_trend as usize + 1;
    let mut l = x0[0];
    let mut b = if has_trend { x0[1] } else { 0.0 };
    let so = 1 + has_trend as usize;
    // Seasonal states newest first: s[k] = ring[(head + k) % m].
    let mut ring = vec![0.0; m];
    if has_season {
        ring.copy_from_slice(&x0[so..so + m]);
    }
    let mut head = 0;
    let mut old_b = 0.0;
    let (mut lik, mut lik2) = (0.0, 0.0);
    if let Some(t) = track.as_deref_mut() {
        t.e = vec![f64::NAN; n];
        t.states = vec![f64::NAN; n_states * (n + 1)];
        t.states[..n_states].copy_from_slice(&x0[..n_states]);
    }
    for (i, &yi) in y.iter().enumerate() {
        let old_l = l;
        if has_trend {
            old_b = b;
        }
        let slot = if head == 0 { m - 1 } else { head - 1 };
        let last = if has_season { ring[slot] } else { 0.0 };
        let f0 = one_step(old_l, old_b, last, form.trend, form.season, p.phi);
        if (f0 - NA).abs() < TOL {
            return NA;
        }
        let e = if form.error == Comp::A {
            yi - f0
        } else {
            let d = if f0.abs() < TOL { f0 + TOL } else { f0 };
            (yi - f0) / d
        };
        let s0;
        (l, b, s0) = update(last, b, old_l, old_b, form, p, yi);
        if has_season {
            ring[slot] = s0;
            head = slot;
        }
        if let Some(t) = track.as_deref_mut() {
            t.e[i] = e;
            let row = &mut t.states[n_states * (i + 1)..n_states * (i + 2)];
            row[0] = l;
            if has_trend {
                row[1] = b;
            }
            if has_season {
                for k in 0..m {
                    row[so + k] = ring[(head + k) % m];
                }
            }
        }
        lik += e * e;
        // (The C++ sums these logs for every error type; only multiplicative errors use them.)
        if form.error == Comp::M {
            let val = f0.abs();
            lik2 += if val > 0.0 { val.ln() } else { (val + 1e-8).ln() };
        }
    }
    lik = if lik > 0.0 { n as f64 * lik.ln() } else { n as f64 * (lik + 1e-8).ln() };
    if form.error == Comp::M {
        lik += 2.0 * lik2;
    }
    lik
}

/// Which smoothing parameters the search moves (the others are fixed at `fixed`).
#[derive(Debug, Clone, Copy)]
pub struct Free {
    pub alpha: bool,
    pub beta: bool,
    pub gamma: bool,
    pub phi: bool,
}

/// `ObjectiveFunction` with the likelihood criterion: `params` are the free smoothing
/// parameters then the `n_state` initial states (all seasonal states but the last, which makes
/// them sum to 0, or to m when multiplicative). A negative multiplicative seasonal start is
/// infinitely bad; a failed recursion (NaN or `NA`) is minus infinity, as in the C++.
pub fn objective(params: &[f64], y: &[f64], n_state: usize, form: &Form, free: Free, fixed: &Smooth) -> f64 {
    let mut p = *fixed;
    let mut j = 0;
    for (on, v) in [(free.alpha, &mut p.alpha), (free.beta, &mut p.beta), (free.gamma, &mut p.gamma), (free.phi, &mut p.phi)] {
        if on {
            *v = params[j];
            j += 1;
        }
    }
    let has_season = form.season != Comp::N;
    let mut state = params[params.len() - n_state..].to_vec();
    if has_season {
        let start = 1 + (form.trend != Comp::N) as usize;
        // Eigen sums the segment of a 16-byte aligned VectorXd starting at index `start`: its
        // first aligned element is the segment's second when `start` is odd.
        let sum = eigen_sum(&state[start..n_state], start % 2);
        let mult = if form.season == Comp::M { form.m } else { 0 };
        state.push(mult as f64 - sum);
        if form.season == Comp::M && state[start..].iter().any(|v| *v < 0.0) {
            return f64::INFINITY;
        }
    }
    let lik = calc(&state, y, form, &p, None);
    // std::max(lik, -1e10) keeps a NaN.
    let lik = if lik < -1e10 { -1e10 } else { lik };
    if lik.is_nan() || (lik + 99999.0).abs() < 1e-7 {
        f64::NEG_INFINITY
    } else {
        lik
    }
}
