//! Forecast variances as statsforecast's `_compute_pred_intervals` computes them (`ets.py`):
//! closed forms for the linear homoscedastic forms (class 1: additive errors), the recursion of
//! `_compute_sigmah` for the linear heteroscedastic ones (class 2: multiplicative errors, no
//! multiplicative season), and `_class3models`' moment recursion for multiplicative errors with
//! a multiplicative season (class 3). statsforecast simulates the rest (classes 4 and 5: a
//! multiplicative trend without a multiplicative season, which the automatic search never
//! picks); those are not ported.
//!
//! The formulas are statsforecast's, including where they depart from Hyndman et al. (2008):
//! MAA's coefficients are alpha * beta * h + gamma * d_h (not alpha + beta * h ...), the
//! class-3 mean state is never advanced (its update sits after the loop), and class 3 vectorises
//! the state matrix row by row against Kronecker products laid out column by column. The interval
//! quantiles are cephes' `ndtri` (scipy's `norm.ppf`).

use super::model::Comp;
use super::select::Fitted;

/// The variance of the 1..=h step forecast errors around `mean` (statsforecast's `sigmah`
/// squared), or None for the forms statsforecast simulates.
pub fn forecast_variance(fit: &Fitted, mean: &[f64]) -> Option<Vec<f64>> {
    let h = mean.len();
    let sigma = fit.sigma2;
    let m = fit.form.m;
    let [alpha, beta, gamma, phi] = fit.par;
    let (error, trend, season, damped) = (fit.form.error, fit.form.trend, fit.form.season, fit.damped);
    let steps: Vec<f64> = (1..=h).map(|k| k as f64).collect();
    let hm = (h as f64 - 1.0) / m as f64;
    let hm = hm.floor();
    let exp1: Vec<f64> = steps.iter().map(|s| alpha * alpha + alpha * beta * s + (1.0 / 6.0) * (beta * beta) * s * (2.0 * s - 1.0)).collect();
    let phi2 = (1.0 - phi) * (1.0 - phi);
    let exp2: Vec<f64> = steps.iter().map(|s| (beta * phi * s) / phi2).collect();
    let exp3 = 2.0 * alpha * (1.0 - phi) + beta * phi;
    let exp4: Vec<f64> = steps.iter().map(|s| (beta * phi * (1.0 - phi.powf(*s))) / (phi2 * (1.0 - phi * phi))).collect();
    let exp5: Vec<f64> = steps.iter().map(|s| 2.0 * alpha * (1.0 - phi * phi) + beta * phi * (1.0 + 2.0 * phi - phi.powf(*s))).collect();
    let a2 = alpha * alpha;
    let each = |f: &dyn Fn(usize, f64) -> f64| -> Vec<f64> { steps.iter().enumerate().map(|(k, s)| sigma * f(k, *s)).collect() };
    let dvals: Vec<f64> = (1..=h).map(|k| if k % m == 0 { 1.0 } else { 0.0 }).collect();
    let sum_phi: Vec<f64> = {
        let mut acc = 0.0;
        (1..=h)
            .map(|k| {
                acc += phi.powf(k as f64);
                acc
            })
            .collect()
    };
    use Comp::{A, M, N};
    let out = match (error, trend, season, damped) {
        (A, N, N, false) => each(&|_, s| 1.0 + a2 * (s - 1.0)),
        (A, A, N, false) => each(&|k, s| 1.0 + (s - 1.0) * exp1[k]),
        (A, A, N, true) => each(&|k, s| 1.0 + a2 * (s - 1.0) + exp2[k] * exp3 - exp4[k] * exp5[k]),
        (A, N, A, false) => each(&|_, s| 1.0 + a2 * (s - 1.0) + gamma * hm * (2.0 * alpha + gamma)),
        (A, A, A, false) => {
            let exp6 = 2.0 * alpha + gamma + beta * m as f64 * (hm + 1.0);
            each(&|k, s| 1.0 + (s - 1.0) * exp1[k] + gamma * hm * exp6)
        }
        (A, A, A, true) => {
            let pm = phi.powf(m as f64);
            let exp7 = (2.0 * beta * gamma * phi) / ((1.0 - phi) * (1.0 - pm));
            let exp8 = hm * (1.0 - pm) - pm * (1.0 - phi.powf(m as f64 * hm));
            each(&|k, s| 1.0 + a2 * (s - 1.0) + exp2[k] * exp3 - exp4[k] * exp5[k] + gamma * hm * (2.0 * alpha + gamma) + exp7 * exp8)
        }
        (M, N, N, false) => sigmah_class2(mean, sigma, &vec![alpha; h]),
        (M, A, N, false) => sigmah_class2(mean, sigma, &steps.iter().map(|s| alpha + beta * s).collect::<Vec<_>>()),
        (M, A, N, true) => sigmah_class2(mean, sigma, &sum_phi.iter().map(|sp| alpha + beta * sp).collect::<Vec<_>>()),
        (M, N, A, false) => sigmah_class2(mean, sigma, &dvals.iter().map(|d| alpha + gamma * d).collect::<Vec<_>>()),
        (M, A, A, false) => sigmah_class2(mean, sigma, &steps.iter().zip(&dvals).map(|(s, d)| alpha * beta * s + gamma * d).collect::<Vec<_>>()),
        (M, A, A, true) => sigmah_class2(mean, sigma, &sum_phi.iter().zip(&dvals).map(|(sp, d)| alpha + beta * sp + gamma * d).collect::<Vec<_>>()),
        (M, _, M, _) => class3(h, sigma, &fit.last_state, m, trend != N, damped, alpha, beta, gamma, phi),
        _ => return None,
    };
    Some(out)
}

/// `_compute_sigmah`: theta_1 = mu_1^2, theta_k = mu_k^2 + sigma * sum_j c_j^2 theta_{k-j};
/// variance (1 + sigma) theta_k - mu_k^2.
fn sigmah_class2(pf: &[f64], sigma: f64, cvals: &[f64]) -> Vec<f64> {
    let h = pf.len();
    let mut theta = vec![0.0; h];
    if h == 0 {
        return theta;
    }
    theta[0] = pf[0] * pf[0];
    for k in 1..h {
        let mut sum = 0.0;
        for j in 0..k {
            sum += (cvals[j] * cvals[j]) * theta[k - 1 - j];
        }
        theta[k] = pf[k] * pf[k] + sigma * sum;
    }
    theta.iter().zip(pf).map(|(t, p)| (1.0 + sigma) * t - p * p).collect()
}

/// A dense row-major matrix.
#[derive(Clone)]
struct Mat {
    r: usize,
    c: usize,
    v: Vec<f64>,
}

impl Mat {
    fn zeros(r: usize, c: usize) -> Mat {
        Mat { r, c, v: vec![0.0; r * c] }
    }

    fn at(&self, i: usize, j: usize) -> f64 {
        self.v[i * self.c + j]
    }

    fn kron(&self, b: &Mat) -> Mat {
        let mut out = Mat::zeros(self.r * b.r, self.c * b.c);
        for i in 0..self.r {
            for j in 0..self.c {
                for k in 0..b.r {
                    for l in 0..b.c {
                        out.v[(i * b.r + k) * out.c + j * b.c + l] = self.at(i, j) * b.at(k, l);
                    }
                }
            }
        }
        out
    }

    /// self @ other, terms where `self` is zero skipped (the structured factors are sparse).
    fn mul(&self, other: &Mat) -> Mat {
        let mut out = Mat::zeros(self.r, other.c);
        for i in 0..self.r {
            for l in 0..self.c {
                let a = self.at(i, l);
                if a == 0.0 {
                    continue;
                }
                for j in 0..other.c {
                    out.v[i * other.c + j] += a * other.at(l, j);
                }
            }
        }
        out
    }

    /// self @ other.T, terms where `other` is zero skipped.
    fn mul_t(&self, other: &Mat) -> Mat {
        let mut out = Mat::zeros(self.r, other.r);
        for j in 0..other.r {
            for l in 0..other.c {
                let b = other.at(j, l);
                if b == 0.0 {
                    continue;
                }
                for i in 0..self.r {
                    out.v[i * other.r + j] += self.at(i, l) * b;
                }
            }
        }
        out
    }

    fn zip(&self, other: &Mat, f: impl Fn(f64, f64) -> f64) -> Mat {
        Mat { r: self.r, c: self.c, v: self.v.iter().zip(&other.v).map(|(a, b)| f(*a, *b)).collect() }
    }

    fn scale(&self, s: f64) -> Mat {
        Mat { r: self.r, c: self.c, v: self.v.iter().map(|a| s * a).collect() }
    }
}

/// `_class3models` (multiplicative error and season): the returned variances only.
#[allow(clippy::too_many_arguments)]
fn class3(h: usize, sigma: f64, last: &[f64], m: usize, has_trend: bool, damped: bool, alpha: f64, beta: f64, gamma: f64, phi: f64) -> Vec<f64> {
    let p = last.len();
    let r = p - m;
    let h1 = Mat { r: 1, c: r, v: vec![1.0; r] };
    let mut h2 = Mat::zeros(1, m);
    h2.v[m - 1] = 1.0;
    let (f1, g1) = if has_trend {
        let f = if damped { phi } else { 1.0 };
        (Mat { r: 2, c: 2, v: vec![1.0, 1.0, 0.0, f] }, Mat { r: 2, c: 2, v: vec![alpha, alpha, beta, beta] })
    } else {
        (Mat { r: 1, c: 1, v: vec![1.0] }, Mat { r: 1, c: 1, v: vec![alpha] })
    };
    let mut f2 = Mat::zeros(m, m);
    f2.v[m - 1] = 1.0;
    for i in 1..m {
        f2.v[i * m + i - 1] = 1.0;
    }
    let mut g2 = Mat::zeros(m, m);
    g2.v[m - 1] = gamma;
    let mut mh = Mat::zeros(r, m);
    for a in 0..r {
        for j in 0..m {
            mh.v[a * m + j] = last[a] * last[r + j];
        }
    }
    let k = r * m;
    let mut vh = Mat::zeros(k, k);
    let h21 = h2.kron(&h1);
    let f21 = f2.kron(&f1);
    let g21 = g2.kron(&g1);
    let kk = g2.kron(&f1).zip(&f2.kron(&g1), |a, b| a + b);
    let sg21 = g21.scale(sigma);
    // Mh never changes inside statsforecast's loop: its mean and outer products are fixed.
    let mu = h1.mul(&mh.mul_t(&h2)).v[0];
    let vec_mh = &mh.v;
    let mut outer = Mat::zeros(k, k);
    for i in 0..k {
        for j in 0..k {
            outer.v[i * k + j] = vec_mh[j] * vec_mh[i];
        }
    }
    let mut var = vec![0.0; h];
    for v in var.iter_mut() {
        *v = (1.0 + sigma) * h21.mul(&vh.mul_t(&h21)).v[0] + sigma * (mu * mu);
        let e1 = f21.mul(&vh.mul_t(&f21));
        let e2 = f21.mul(&vh.mul_t(&g21));
        let e3 = g21.mul(&vh.mul_t(&f21));
        let e4 = kk.mul(&vh.zip(&outer, |a, b| a + b).mul_t(&kk));
        let e5 = sg21.mul(&vh.zip(&outer, |a, b| 3.0 * a + 2.0 * b).mul_t(&g21));
        let inner = e2.zip(&e3, |a, b| a + b).zip(&e4, |a, b| a + b).zip(&e5, |a, b| a + b);
        vh = e1.zip(&inner, |a, b| a + sigma * b);
    }
    var
}

fn polevl(x: f64, coef: &[f64]) -> f64 {
    coef.iter().skip(1).fold(coef[0], |ans, c| ans * x + c)
}

fn p1evl(x: f64, coef: &[f64]) -> f64 {
    coef.iter().skip(1).fold(x + coef[0], |ans, c| ans * x + c)
}

/// The standard normal quantile, cephes' `ndtri` (what scipy's `norm.ppf` evaluates), with
/// cephes' coefficients as printed.
#[allow(clippy::excessive_precision)]
pub fn ndtri(y0: f64) -> f64 {
    const S2PI: f64 = 2.50662827463100050242E0;
    const P0: [f64; 5] = [-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1, 1.39312609387279679503E1, -1.23916583867381258016E0];
    const Q0: [f64; 8] = [
        1.95448858338141759834E0,
        4.67627912898881538453E0,
        8.63602421390890590575E1,
        -2.25462687854119370527E2,
        2.00260212380060660359E2,
        -8.20372256168333339912E1,
        1.59056225126211695515E1,
        -1.18331621121330003142E0,
    ];
    const P1: [f64; 9] = [
        4.05544892305962419923E0,
        3.15251094599893866154E1,
        5.71628192246421288162E1,
        4.40805073893200834700E1,
        1.46849561928858024014E1,
        2.18663306850790267539E0,
        -1.40256079171354495875E-1,
        -3.50424626827848203418E-2,
        -8.57456785154685413611E-4,
    ];
    const Q1: [f64; 8] = [
        1.57799883256466749731E1,
        4.53907635128879210584E1,
        4.13172038254672030440E1,
        1.50425385692907503408E1,
        2.50464946208309415979E0,
        -1.42182922854787788574E-1,
        -3.80806407691578277194E-2,
        -9.33259480895457427372E-4,
    ];
    const P2: [f64; 9] = [
        3.23774891776946035970E0,
        6.91522889068984211695E0,
        3.93881025292474443415E0,
        1.33303460815807542389E0,
        2.01485389549179081538E-1,
        1.23716634817820021358E-2,
        3.01581553508235416007E-4,
        2.65806974686737550832E-6,
        6.23974539184983293730E-9,
    ];
    const Q2: [f64; 8] = [
        6.02427039364742014255E0,
        3.67983563856160859403E0,
        1.37702099489081330271E0,
        2.16236993594496635890E-1,
        1.34204006088543189037E-2,
        3.28014464682127739104E-4,
        2.89247864745380683936E-6,
        6.79019408009981274425E-9,
    ];
    const EXPM2: f64 = 0.13533528323661269189;
    if y0 == 0.0 {
        return f64::NEG_INFINITY;
    }
    if y0 == 1.0 {
        return f64::INFINITY;
    }
    if !(0.0..=1.0).contains(&y0) {
        return f64::NAN;
    }
    let mut code = true;
    let mut y = y0;
    if y > 1.0 - EXPM2 {
        y = 1.0 - y;
        code = false;
    }
    if y > EXPM2 {
        y -= 0.5;
        let y2 = y * y;
        let x = y + y * (y2 * polevl(y2, &P0) / p1evl(y2, &Q0));
        return x * S2PI;
    }
    let x = (-2.0 * y.ln()).sqrt();
    let x0 = x - x.ln() / x;
    let z = 1.0 / x;
    let x1 = if x < 8.0 { z * polevl(z, &P1) / p1evl(z, &Q1) } else { z * polevl(z, &P2) / p1evl(z, &Q2) };
    let x = x0 - x1;
    if code {
        -x
    } else {
        x
    }
}
