//! How many differences statsforecast's AutoARIMA takes: KPSS (statsmodels' `kpss`, level
//! stationarity at 5%) for d, and for D the seasonal-strength heuristic on an STL
//! decomposition with statsmodels' settings (a port of its `_stl.pyx`, itself NETLIB's STL),
//! seasonal difference iff the strength exceeds 0.64. Sums use numpy's pairwise order.

/// numpy's pairwise summation (`np.sum` of a contiguous float64 array).
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |s, v| s + v)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[i..] {
            res += v;
        }
        res
    } else {
        let n2 = n / 2;
        let n2 = n2 - n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// `np.dot` of long vectors as OpenBLAS's AVX-512 `ddot` kernel sums them: fused
/// multiply-adds in 4 x 8 lanes over blocks of 32, 4 x 4 lanes over a block of 16, the lanes
/// folded, then the tail in order. (Other processors' kernels fold differently.)
pub fn ddot(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let n1 = n & !15;
    let mut dot = 0.0;
    if n1 > 0 {
        let n32 = n1 & !31;
        let mut wide = [[0.0f64; 8]; 4];
        for i in (0..n32).step_by(32) {
            for (k, acc) in wide.iter_mut().enumerate() {
                for (l, a) in acc.iter_mut().enumerate() {
                    let j = i + 8 * k + l;
                    *a = x[j].mul_add(y[j], *a);
                }
            }
        }
        let mut acc: [[f64; 4]; 4] = std::array::from_fn(|k| std::array::from_fn(|l| wide[k][l] + wide[k][l + 4]));
        for i in (n32..n1).step_by(16) {
            for (k, a4) in acc.iter_mut().enumerate() {
                for (l, a) in a4.iter_mut().enumerate() {
                    let j = i + 4 * k + l;
                    *a = x[j].mul_add(y[j], *a);
                }
            }
        }
        let s: [f64; 4] = std::array::from_fn(|l| ((acc[0][l] + acc[1][l]) + acc[2][l]) + acc[3][l]);
        dot = (s[0] + s[2]) + (s[1] + s[3]);
    }
    for j in n1..n {
        dot = y[j].mul_add(x[j], dot);
    }
    dot
}

pub fn mean(x: &[f64]) -> f64 {
    pairwise_sum(x) / x.len() as f64
}

/// `np.var(x, ddof=1)`.
fn var1(x: &[f64]) -> f64 {
    let m = mean(x);
    let sq: Vec<f64> = x.iter().map(|v| (v - m) * (v - m)).collect();
    pairwise_sum(&sq) / (x.len() as f64 - 1.0).max(0.0)
}

/// statsforecast's `is_constant` (an empty series counts as constant here).
pub fn is_constant(x: &[f64]) -> bool {
    x.first().is_none_or(|x0| x.iter().all(|v| v == x0))
}

/// `differences` lag-`lag` differences; the first lag * differences values are dropped.
pub fn diff(x: &[f64], lag: usize, differences: usize) -> Vec<f64> {
    let mut y = x.to_vec();
    for _ in 0..differences {
        if y.len() <= lag {
            return vec![];
        }
        y = (lag..y.len()).map(|t| y[t] - y[t - lag]).collect();
    }
    y
}

/// `np.interp(x, xp, fp)` for increasing `xp`.
fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let last = xp.len() - 1;
    if x.is_nan() {
        return x;
    }
    if x <= xp[0] {
        return fp[0];
    }
    if x >= xp[last] {
        return fp[last];
    }
    let j = xp.iter().rposition(|v| *v <= x).unwrap_or(0);
    if xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    slope * (x - xp[j]) + fp[j]
}

/// statsmodels' KPSS statistic (level, `nlags = floor(3 sqrt(n) / 13)`); None where
/// statsmodels raises (too few observations for the lags).
pub fn kpss_stat(x: &[f64]) -> Option<f64> {
    let n = x.len();
    let nlags = (3.0 * (n as f64).sqrt() / 13.0).floor() as usize;
    if n == 0 || nlags >= n {
        return None;
    }
    let m = mean(x);
    let resids: Vec<f64> = x.iter().map(|v| v - m).collect();
    let mut cum = 0.0;
    let cs2: Vec<f64> = resids
        .iter()
        .map(|r| {
            cum += r;
            cum * cum
        })
        .collect();
    let eta = pairwise_sum(&cs2) / (n * n) as f64;
    let sq: Vec<f64> = resids.iter().map(|r| r * r).collect();
    let mut s_hat = pairwise_sum(&sq);
    for i in 1..=nlags {
        let prod = ddot(&resids[i..], &resids[..n - i]);
        s_hat += 2.0 * prod * (1.0 - (i as f64 / (nlags as f64 + 1.0)));
    }
    Some(eta / (s_hat / n as f64))
}

/// Does KPSS reject level stationarity at 5%? (A failing test counts as "no", as in
/// statsforecast.)
fn kpss_rejects(x: &[f64]) -> bool {
    kpss_stat(x).is_some_and(|stat| interp(stat, &[0.347, 0.463, 0.574, 0.739], &[0.10, 0.05, 0.025, 0.01]) < 0.05)
}

/// `ndiffs(x, test="kpss", max_d)`.
pub fn ndiffs(x: &[f64], max_d: usize) -> usize {
    let mut x = x.to_vec();
    if is_constant(&x) {
        return 0;
    }
    let mut d = 0;
    let mut dodiff = kpss_rejects(&x);
    while dodiff && d < max_d {
        d += 1;
        // diff(x, 1, 1)[1:] in statsforecast: one more value dropped than differencing needs.
        x = diff(&x, 1, 1).into_iter().skip(1).collect();
        if is_constant(&x) {
            return d;
        }
        dodiff = kpss_rejects(&x);
    }
    d
}

/// `nsdiffs(x, test="seas", period=m, max_D=1)`.
pub fn nsdiffs(x: &[f64], m: usize) -> usize {
    if is_constant(x) || m < 2 || m >= x.len() {
        return 0;
    }
    usize::from(seasonal_strength(x, m) > 0.64)
}

/// `seas_heuristic`: 1 - var(remainder) / var(remainder + season) of statsforecast's `mstl`,
/// clamped to [0, 1] with Python's `max`/`min` (a NaN ratio gives 1).
pub fn seasonal_strength(x: &[f64], m: usize) -> f64 {
    let (season, trend) = stl(x, m);
    let remainder: Vec<f64> = x.iter().zip(&season).zip(&trend).map(|((x, s), t)| (x - s) - t).collect();
    let rs: Vec<f64> = remainder.iter().zip(&season).map(|(r, s)| r + s).collect();
    let v = 1.0 - var1(&remainder) / var1(&rs);
    let clamped = if v < 1.0 { v } else { 1.0 };
    if clamped > 0.0 {
        clamped
    } else {
        0.0
    }
}

/// statsmodels' `STL(x, period=m, seasonal=11, seasonal_deg=0).fit()` (statsforecast's `mstl`
/// with one season): trend_deg = low_pass_deg = 1, jumps 1, 5 inner passes, no robustness
/// passes. Returns (season, trend).
pub fn stl(y: &[f64], np: usize) -> (Vec<f64>, Vec<f64>) {
    let n = y.len();
    let ns = 11;
    let mut nt = (1.5 * np as f64 / (1.0 - 1.5 / ns as f64)).ceil() as usize;
    nt += usize::from((nt & 1) == 0);
    let nl = np + 1 + usize::from(((np + 1) & 1) == 0);
    let len = n + 2 * np;
    let (mut w0, mut w1, mut w2, mut w3, mut w4) = (vec![0.0; len], vec![0.0; len], vec![0.0; len], vec![0.0; len], vec![0.0; len]);
    let (mut season, mut trend) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..5 {
        for i in 0..n {
            w0[i] = y[i] - trend[i];
        }
        // Cycle-subseries smoothing; `season` is scratch here, as in statsmodels.
        for j in 0..np {
            let k = (n - (j + 1)) / np + 1;
            for i in 0..k {
                w2[i] = w0[i * np + j];
            }
            ess(&w2[..k], ns, 0, &mut w3[1..], &mut season);
            let nright = ns.min(k);
            w3[0] = est(&w2[..k], ns, 0, 0, 1, nright, &mut season);
            if w3[0].is_nan() {
                w3[0] = w3[1];
            }
            let nleft = (k as i64 - ns as i64 + 1).max(1);
            w3[k + 1] = est(&w2[..k], ns, 0, k as i64 + 1, nleft, k, &mut season);
            if w3[k + 1].is_nan() {
                w3[k + 1] = w3[k];
            }
            for m in 0..k + 2 {
                w1[m * np + j] = w3[m];
            }
        }
        moving_average(&w1[..len], np, &mut w2);
        moving_average(&w2[..len - np + 1], np, &mut w0);
        moving_average(&w0[..len - 2 * np + 2], 3, &mut w2);
        ess(&w2[..n], nl, 1, &mut w0, &mut w4);
        for i in 0..n {
            season[i] = w1[np + i] - w0[i];
            w0[i] = y[i] - season[i];
        }
        ess(&w0[..n], nt, 1, &mut trend, &mut w2);
    }
    (season, trend)
}

/// Loess at `xs` (1-based) from points nleft..=nright, tricube weights in `w`; NaN when all
/// weights vanish.
fn est(y: &[f64], len: usize, ideg: usize, xs: i64, nleft: i64, nright: usize, w: &mut [f64]) -> f64 {
    let n = y.len();
    let rng = n as f64 - 1.0;
    let mut h = (xs - nleft).max(nright as i64 - xs) as f64;
    if len > n {
        h += ((len - n) as f64 / 2.0).floor();
    }
    let (h9, h1) = (0.999 * h, 0.001 * h);
    let lo = (nleft - 1).max(0) as usize;
    // Positions are 1-based: point j of the window sits at x = j + 1.
    let (w, y) = (&mut w[lo..nright], &y[lo..nright]);
    let pos = |k: usize| (lo + k + 1) as f64;
    let mut a = 0.0;
    for (k, wj) in w.iter_mut().enumerate() {
        *wj = 0.0;
        let r = (pos(k) - xs as f64).abs();
        if r <= h9 {
            *wj = if r <= h1 { 1.0 } else { (1.0 - (r / h).powf(3.0)).powf(3.0) };
            a += *wj;
        }
    }
    if a <= 0.0 {
        return f64::NAN;
    }
    for wj in w.iter_mut() {
        *wj /= a;
    }
    if h > 0.0 && ideg > 0 {
        let a = w.iter().enumerate().fold(0.0, |s, (k, wj)| s + wj * pos(k));
        let mut b = xs as f64 - a;
        let c = w.iter().enumerate().fold(0.0, |s, (k, wj)| s + wj * ((pos(k) - a) * (pos(k) - a)));
        if c.sqrt() > 0.001 * rng {
            b /= c;
            for (k, wj) in w.iter_mut().enumerate() {
                *wj *= b * (pos(k) - a) + 1.0;
            }
        }
    }
    w.iter().zip(y).fold(0.0, |s, (wj, yj)| s + wj * yj)
}

/// Loess smoothing of all of `y` into `ys` (every point, no interpolation jumps).
fn ess(y: &[f64], len: usize, ideg: usize, ys: &mut [f64], res: &mut [f64]) {
    let n = y.len();
    if n < 2 {
        if let (Some(o), Some(v)) = (ys.first_mut(), y.first()) {
            *o = *v;
        }
        return;
    }
    let (mut nleft, mut nright) = if len >= n { (1, n) } else { (1, len) };
    let nsh = (len + 2) / 2;
    for i in 0..n {
        if len < n && i + 1 > nsh && nright != n {
            nleft += 1;
            nright += 1;
        }
        ys[i] = est(y, len, ideg, i as i64 + 1, nleft as i64, nright, res);
        if ys[i].is_nan() {
            ys[i] = y[i];
        }
    }
}

/// Moving average of width `len` over `x` into `ave` (running sum, as STL's `ma`).
fn moving_average(x: &[f64], len: usize, ave: &mut [f64]) {
    let newn = x.len() + 1 - len;
    let flen = len as f64;
    let mut v = x[..len].iter().fold(0.0, |s, a| s + a);
    ave[0] = v / flen;
    for j in 1..newn {
        v += x[len + j - 1] - x[j - 1];
        ave[j] = v / flen;
    }
}
