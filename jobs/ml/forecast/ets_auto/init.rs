//! Initial states as statsforecast's `initstate` sets them (`ets.py`): the season from
//! statsmodels' classical `seasonal_decompose` (a centred moving average) when the series
//! holds three seasons, otherwise from a regression on a line and one Fourier pair; level and
//! growth from a regression on the first (seasonally adjusted) values.

use super::model::Comp;
use super::numeric::{lstsq, np_convolve_valid, np_mean, pairwise_sum};

/// numpy's `np.clip(x, 1e-2, None)` (a NaN stays NaN).
fn clip_low(x: f64) -> f64 {
    if x < 1e-2 {
        1e-2
    } else {
        x
    }
}

/// Python's `math.isclose(x, 0.0, abs_tol=1e-8)`.
fn near_zero(x: f64) -> bool {
    x.abs() <= 1e-8
}

/// statsmodels' `seasonal_decompose(y, period=m, model=...)` seasonal component (statsmodels
/// 0.14/0.15, `two_sided=True`, no trend extrapolation): the centred moving average by
/// `np.convolve`, each position's mean of the detrended values by pandas' `nanmean` (a
/// pairwise sum with the missing ends as zeros, over the count present), centred by the mean
/// of the m means, repeated over the series.
pub fn decompose_seasonal(y: &[f64], m: usize, multiplicative: bool) -> Vec<f64> {
    let n = y.len();
    let mf = m as f64;
    let filt: Vec<f64> = if m.is_multiple_of(2) { (0..=m).map(|k| if k == 0 || k == m { 0.5 / mf } else { 1.0 / mf }).collect() } else { vec![1.0 / mf; m] };
    let len = filt.len();
    let head = len.div_ceil(2) - 1;
    let valid = np_convolve_valid(y, &filt);
    let mut trend = vec![f64::NAN; n];
    trend[head..head + valid.len()].copy_from_slice(&valid);
    let detrended: Vec<f64> = y.iter().zip(&trend).map(|(v, t)| if multiplicative { v / t } else { v - t }).collect();
    let mut avg: Vec<f64> = (0..m)
        .map(|i| {
            let vals: Vec<f64> = detrended.iter().skip(i).step_by(m).copied().collect();
            let count = vals.iter().filter(|v| !v.is_nan()).count();
            let filled: Vec<f64> = vals.iter().map(|v| if v.is_nan() { 0.0 } else { *v }).collect();
            if count > 0 {
                pairwise_sum(&filled) / count as f64
            } else {
                f64::NAN
            }
        })
        .collect();
    let mean = np_mean(&avg);
    for a in avg.iter_mut() {
        if multiplicative {
            *a /= mean;
        } else {
            *a -= mean;
        }
    }
    (0..n).map(|t| avg[t % m]).collect()
}

/// The "seasonal" of `initstate`'s short-series branch: what is left of y after a least
/// squares fit of intercept, trend and the first Fourier pair of period m (`fourier(y, [m],
/// [1])`), removed by subtraction or division.
fn fourier_seasonal(y: &[f64], m: usize, multiplicative: bool) -> Result<Vec<f64>, String> {
    let n = y.len();
    let t: Vec<f64> = (1..=n).map(|i| i as f64).collect();
    let p = 1.0 / m as f64;
    let w = 2.0 * std::f64::consts::PI * p;
    let mut cols = vec![vec![1.0; n], t.clone(), t.iter().map(|ti| (w * ti).cos()).collect()];
    // fourier() drops the sine where sin(pi k) = 0 (m = 2); numpy then broadcasts the cosine into
    // both columns, whose minimum-norm solution has the same intercept and slope as this one.
    if (2.0 * p - (2.0 * p).round_ties_even()).abs() > f64::EPSILON {
        cols.push(t.iter().map(|ti| (w * ti).sin()).collect());
    }
    let coefs = lstsq(&cols, y).ok_or("the Fourier regression for the initial season is singular")?;
    if !multiplicative {
        Ok(y.iter().zip(&t).map(|(v, ti)| v - coefs[0] - coefs[1] * ti).collect())
    } else {
        if y.iter().any(|v| *v <= 0.0) {
            return Err("Multiplicative seasonality is not appropriate for zero and negative values".into());
        }
        Ok(y.iter().zip(&t).map(|(v, ti)| v / (coefs[0] + coefs[1] * ti)).collect())
    }
}

/// `initstate(y, m, trendtype, seasontype)`: [level, growth (with a trend), seasonal states
/// s_{m-1} .. s_1] (the last seasonal state is implied by the others).
pub fn initstate(y: &[f64], m: usize, trend: Comp, season: Comp) -> Result<Vec<f64>, String> {
    let n = y.len();
    let mut m = m;
    let (init_seas, y_sa) = if season != Comp::N {
        if n < 4 {
            return Err("You've got to be joking (not enough data).".into());
        }
        let mult = season == Comp::M;
        let seasonal = if n < 3 * m { fourier_seasonal(y, m, mult)? } else { decompose_seasonal(y, m, mult) };
        let mut init: Vec<f64> = (1..m).rev().map(|i| seasonal[i]).collect();
        let y_sa: Vec<f64> = if !mult {
            y.iter().zip(&seasonal).map(|(v, s)| v - s).collect()
        } else {
            init = init.into_iter().map(clip_low).collect();
            if pairwise_sum(&init) > m as f64 {
                let shifted: Vec<f64> = init.iter().map(|v| v + 1e-2).collect();
                let total = pairwise_sum(&shifted);
                init = init.into_iter().map(|v| v / total).collect();
            }
            y.iter().zip(&seasonal).map(|(v, s)| v / clip_low(*s)).collect()
        };
        (init, y_sa)
    } else {
        m = 1;
        (vec![], y.to_vec())
    };
    let maxn = (2 * m).max(10).min(y_sa.len());
    let mut out = Vec::with_capacity(2 + init_seas.len());
    if trend == Comp::N {
        out.push(np_mean(&y_sa[..maxn]));
    } else {
        let cols = vec![vec![1.0; maxn], (1..=maxn).map(|i| i as f64).collect()];
        let c = lstsq(&cols, &y_sa[..maxn]).ok_or("too few values for the initial level and growth")?;
        let (l, b) = (c[0], c[1]);
        if trend == Comp::A {
            let (mut l0, mut b0) = (l, b);
            // With multiplicative errors l0 + b0 = 0 would be a zero first forecast.
            if (l0 + b0).abs() < 1e-8 {
                l0 *= 1.0 + 1e-3;
                b0 *= 1.0 - 1e-3;
            }
            out.extend([l0, b0]);
        } else {
            let mut l0 = l + b;
            if l0.abs() < 1e-8 {
                l0 = 1e-7;
            }
            let mut b0 = (l + 2.0 * b) / l0;
            let div = if near_zero(b0) { 1e-8 } else { b0 };
            l0 /= div;
            if b0.abs() > 1e10 {
                b0 = b0.signum() * 1e10;
            }
            if l0 < 1e-8 || b0 < 1e-8 {
                l0 = if 1e-3 > y_sa[0] { 1e-3 } else { y_sa[0] };
                let div = if near_zero(y_sa[0]) { 1e-8 } else { y_sa[0] };
                let r = y_sa.get(1).copied().unwrap_or(f64::NAN) / div;
                b0 = if 1e-3 > r { 1e-3 } else { r };
            }
            out.extend([l0, b0]);
        }
    }
    out.extend(init_seas);
    Ok(out)
}
