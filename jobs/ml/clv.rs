//! Customer lifetime value: BG/NBD (Fader, Hardie & Lee 2005) for the number of repeat
//! purchases and the probability a customer is still "alive", and Gamma-Gamma (Fader, Hardie &
//! Lee 2005b) for the value of a purchase, both fitted by maximum likelihood on the columns of
//! lifetimes' summary (frequency = repeat purchase days, recency, T, monetary). The formulas
//! follow lifetimes' BetaGeoFitter and GammaGammaFitter, so results can be compared with it.

use std::collections::HashMap;

use super::forecast::optim::nelder_mead;

/// One customer in lifetimes' terms (time in days).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub frequency: f64,
    pub recency: f64,
    pub t: f64,
    pub monetary: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
}

fn lgamma(x: f64) -> f64 {
    libm::lgamma(x)
}

/// Minimise from `x0`, restarting from the best point until the restarts stop improving, so
/// a flat valley does not stop the search early.
fn minimise(f: impl Fn(&[f64]) -> f64, x0: &[f64]) -> Vec<f64> {
    let mut x = x0.to_vec();
    let mut best = f(&x);
    for _ in 0..30 {
        let next = nelder_mead(&f, &x, 0.5, 1e-15, 20_000);
        let v = f(&next);
        let improved = best - v;
        if v < best {
            x = next;
            best = v;
        }
        if improved.is_nan() || improved < 1e-13 * best.abs().max(1e-12) {
            break;
        }
    }
    x
}

/// Sorted distinct values of `v` and, for each element, the index of its value.
fn distinct(v: impl Iterator<Item = f64> + Clone) -> (Vec<f64>, impl Fn(f64) -> u32) {
    let mut d: Vec<f64> = v.collect();
    d.sort_by(f64::total_cmp);
    d.dedup();
    let keys = d.clone();
    (d, move |x: f64| keys.binary_search_by(|k| k.total_cmp(&x)).unwrap_or(0) as u32)
}

/// Customers grouped by (x, t_x, T) for the BG/NBD likelihood. Each term that depends on one
/// of them alone (the log-gammas of x, the logs of alpha + T and alpha + t_x) is computed once
/// per distinct value and evaluation, not once per group: a year of history has tens of
/// thousands of groups but only dozens of distinct x.
struct BgData {
    xs: Vec<f64>,
    txs: Vec<f64>,
    ts: Vec<f64>,
    /// Groups without repeat purchases: (T index, customers).
    once: Vec<(u32, f64)>,
    /// Groups with repeat purchases: (x index, t_x index, T index, customers).
    repeat: Vec<(u32, u32, u32, f64)>,
    customers: f64,
}

impl BgData {
    /// Groups in a fixed order, so sums (and fits) are the same on every run.
    fn new(groups: &[((f64, f64, f64), f64)]) -> BgData {
        let (xs, xi) = distinct(groups.iter().map(|g| g.0 .0));
        let (txs, txi) = distinct(groups.iter().map(|g| g.0 .1));
        let (ts, ti) = distinct(groups.iter().map(|g| g.0 .2));
        let (mut once, mut repeat) = (vec![], vec![]);
        for &((x, tx, t), w) in groups {
            if x > 0.0 {
                repeat.push((xi(x), txi(tx), ti(t), w));
            } else {
                once.push((ti(t), w));
            }
        }
        once.sort_by_key(|a| a.0);
        repeat.sort_by_key(|a| (a.0, a.1, a.2));
        let customers = groups.iter().map(|g| g.1).sum();
        BgData { xs, txs, ts, once, repeat, customers }
    }

    /// Mean negative log-likelihood.
    fn nll(&self, p: &BgNbd) -> f64 {
        use rayon::prelude::*;
        let BgNbd { r, alpha, a, b } = *p;
        if self.customers == 0.0 {
            return f64::INFINITY;
        }
        let base = -lgamma(r) + r * alpha.ln() + lgamma(a + b) - lgamma(b);
        // a1 + a2 per x, and ln(a) - ln(b + x - 1) per x.
        let a12: Vec<f64> = self.xs.iter().map(|&x| base + lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x)).collect();
        let c4: Vec<f64> = self.xs.iter().map(|&x| a.ln() - (b + x - 1.0).ln()).collect();
        let ln_t: Vec<f64> = self.ts.iter().map(|&t| (alpha + t).ln()).collect();
        let ln_tx: Vec<f64> = self.txs.iter().map(|&tx| (tx + alpha).ln()).collect();
        let a12_once = r * alpha.ln(); // the gamma terms cancel at x = 0
        let mut sum: f64 = self.once.iter().map(|&(ti, w)| w * (a12_once - r * ln_t[ti as usize])).sum();
        // Fixed chunks summed in order: the result does not depend on thread timing.
        let parts: Vec<f64> = self
            .repeat
            .par_chunks(4096)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|&(xi, txi, ti, w)| {
                        let (xi, x) = (xi as usize, self.xs[xi as usize]);
                        let a3 = -(r + x) * ln_t[ti as usize];
                        let a4 = c4[xi] - (r + x) * ln_tx[txi as usize];
                        let m = a3.max(a4);
                        w * (a12[xi] + m + ((a3 - m).exp() + (a4 - m).exp()).ln())
                    })
                    .sum::<f64>()
            })
            .collect();
        sum += parts.iter().sum::<f64>();
        let v = -sum / self.customers;
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    }
}

/// Fit BG/NBD. Times are scaled to 10 / max(T) while fitting (as lifetimes does), for
/// conditioning; alpha is returned in days. None without customers.
pub fn fit_bgnbd(customers: &[Summary]) -> Option<BgNbd> {
    let max_t = customers.iter().map(|c| c.t).fold(0.0, f64::max);
    if customers.is_empty() || max_t <= 0.0 {
        return None;
    }
    let scale = 10.0 / max_t;
    let mut counts: HashMap<(u64, u64, u64), f64> = HashMap::new();
    for c in customers {
        *counts.entry((c.frequency.to_bits(), (c.recency * scale).to_bits(), (c.t * scale).to_bits())).or_default() += 1.0;
    }
    let groups: Vec<((f64, f64, f64), f64)> =
        counts.into_iter().map(|((x, tx, t), w)| ((f64::from_bits(x), f64::from_bits(tx), f64::from_bits(t)), w)).collect();
    let data = BgData::new(&groups);
    let nll = |lp: &[f64]| data.nll(&BgNbd { r: lp[0].exp(), alpha: lp[1].exp(), a: lp[2].exp(), b: lp[3].exp() });
    let lp = minimise(nll, &[0.0; 4]);
    Some(BgNbd { r: lp[0].exp(), alpha: lp[1].exp() / scale, a: lp[2].exp(), b: lp[3].exp() })
}

/// Gauss's hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1, by its series.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for n in 0..200_000 {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-16 * sum.abs() {
            break;
        }
    }
    sum
}

impl BgNbd {
    /// Expected repeat purchases in the next `t` days.
    pub fn expected_purchases(&self, c: &Summary, t: f64) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let (x, tx, big_t) = (c.frequency, c.recency, c.t);
        let (ha, hb, hc) = (r + x, b + x, a + b + x - 1.0);
        let z = t / (alpha + big_t + t);
        let mut ln_hyp = hyp2f1(ha, hb, hc, z).ln();
        if !ln_hyp.is_finite() {
            // Euler's transformation, as lifetimes falls back to.
            ln_hyp = hyp2f1(hc - ha, hc - hb, hc, z).ln() + (hc - ha - hb) * (1.0 - z).ln();
        }
        let first = (a + b + x - 1.0) / (a - 1.0);
        let second = 1.0 - (ln_hyp + (r + x) * ((alpha + big_t) / (alpha + t + big_t)).ln()).exp();
        let denom = 1.0 + if x > 0.0 { (a / (b + x - 1.0)) * ((alpha + big_t) / (alpha + tx)).powf(r + x) } else { 0.0 };
        first * second / denom
    }

    /// Probability that the customer has not dropped out by now.
    pub fn probability_alive(&self, c: &Summary) -> f64 {
        if c.frequency == 0.0 {
            return 1.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let log_div = (r + c.frequency) * ((alpha + c.t) / (alpha + c.recency)).ln() + (a / (b + c.frequency - 1.0)).ln();
        1.0 / (1.0 + log_div.exp())
    }
}

/// Repeat buyers for the Gamma-Gamma likelihood, with what does not depend on the parameters
/// computed once: per customer ln(m) and x ln(x), and the index of their x among the distinct x
/// (the log-gammas are taken per distinct x).
struct GgData {
    xs: Vec<f64>,
    /// (x index, x, m, ln m, x ln x)
    rows: Vec<(u32, f64, f64, f64, f64)>,
}

impl GgData {
    fn new(data: &[(f64, f64)]) -> GgData {
        let (xs, xi) = distinct(data.iter().map(|d| d.0));
        let rows = data.iter().map(|&(x, m)| (xi(x), x, m, m.ln(), x * x.ln())).collect();
        GgData { xs, rows }
    }

    fn nll(&self, p: &GammaGamma) -> f64 {
        use rayon::prelude::*;
        let GammaGamma { p, q, v } = *p;
        let gx: Vec<f64> = self.xs.iter().map(|&x| lgamma(p * x + q) - lgamma(p * x)).collect();
        let constant = -lgamma(q) + q * v.ln();
        let parts: Vec<f64> = self
            .rows
            .par_chunks(4096)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|&(xi, x, m, ln_m, x_ln_x)| gx[xi as usize] + constant + (p * x - 1.0) * ln_m + p * x_ln_x - (p * x + q) * (x * m + v).ln())
                    .sum::<f64>()
            })
            .collect();
        let r = -parts.iter().sum::<f64>() / self.rows.len() as f64;
        if r.is_finite() {
            r
        } else {
            f64::INFINITY
        }
    }
}

/// Fit Gamma-Gamma on customers with repeat purchases and a positive mean value.
pub fn fit_gamma_gamma(customers: &[Summary]) -> Option<GammaGamma> {
    let data: Vec<(f64, f64)> = customers.iter().filter(|c| c.frequency > 0.0 && c.monetary > 0.0).map(|c| (c.frequency, c.monetary)).collect();
    if data.len() < 2 {
        return None;
    }
    let data = GgData::new(&data);
    let nll = |lp: &[f64]| data.nll(&GammaGamma { p: lp[0].exp(), q: lp[1].exp(), v: lp[2].exp() });
    let lp = minimise(nll, &[0.0; 3]);
    Some(GammaGamma { p: lp[0].exp(), q: lp[1].exp(), v: lp[2].exp() })
}

impl GammaGamma {
    /// Expected value of a purchase: the customer's mean shrunk towards the population's.
    pub fn expected_average_value(&self, c: &Summary) -> f64 {
        let GammaGamma { p, q, v } = *self;
        let population = p * v / (q - 1.0);
        if c.frequency <= 0.0 {
            return population;
        }
        let x = c.frequency;
        let w = (q - 1.0) / (p * x + q - 1.0);
        w * population + (1.0 - w) * c.monetary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::{Beta, Distribution, Exp, Gamma};

    /// The grouped likelihoods equal the formulas written out per customer.
    #[test]
    fn grouped_likelihoods_match_the_plain_formulas() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut groups = vec![];
        let mut gg = vec![];
        for _ in 0..3000 {
            let x = rng.gen_range(0..6) as f64;
            let t = rng.gen_range(1..40) as f64 / 4.0;
            let tx = if x > 0.0 { rng.gen_range(0.0..t) } else { 0.0 };
            groups.push(((x, tx, t), rng.gen_range(1..4) as f64));
            if x > 0.0 {
                gg.push((x, rng.gen_range(5.0..300.0)));
            }
        }
        let (r, alpha, a, b) = (0.7, 3.1, 0.9, 2.4);
        let (mut sum, mut w_sum) = (0.0, 0.0);
        for &((x, tx, t), w) in &groups {
            let a1 = lgamma(r + x) - lgamma(r) + r * f64::ln(alpha);
            let a2 = lgamma(a + b) + lgamma(b + x) - lgamma(b) - lgamma(a + b + x);
            let a3 = -(r + x) * f64::ln(alpha + t);
            let ll = if x > 0.0 {
                let a4 = f64::ln(a) - f64::ln(b + x - 1.0) - (r + x) * f64::ln(tx + alpha);
                a1 + a2 + f64::ln(f64::exp(a3) + f64::exp(a4))
            } else {
                a1 + a2 + a3
            };
            sum += w * ll;
            w_sum += w;
        }
        let got = BgData::new(&groups).nll(&BgNbd { r, alpha, a, b });
        assert!((got - (-sum / w_sum)).abs() < 1e-12 * got.abs(), "{got} vs {}", -sum / w_sum);
        let (p, q, v) = (5.0, 3.5, 14.0);
        let plain: f64 = gg
            .iter()
            .map(|&(x, m)| {
                lgamma(p * x + q) - lgamma(p * x) - lgamma(q) + q * f64::ln(v) + (p * x - 1.0) * f64::ln(m) + p * x * f64::ln(x)
                    - (p * x + q) * f64::ln(x * m + v)
            })
            .sum::<f64>();
        let got = GgData::new(&gg).nll(&GammaGamma { p, q, v });
        assert!((got - (-plain / gg.len() as f64)).abs() < 1e-12 * got.abs(), "{got}");
    }

    #[test]
    fn hypergeometric_known_values() {
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z
        let z: f64 = 0.5;
        assert!((hyp2f1(1.0, 1.0, 2.0, z) - (-(1.0 - z).ln() / z)).abs() < 1e-12);
        assert_eq!(hyp2f1(2.0, 3.0, 4.0, 0.0), 1.0);
    }

    /// Customers simulated from the BG/NBD story give back its parameters.
    #[test]
    fn recovers_simulated_bgnbd_parameters() {
        let truth = BgNbd { r: 0.8, alpha: 40.0, a: 0.9, b: 3.0 };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let lambda = Gamma::new(truth.r, 1.0 / truth.alpha).unwrap();
        let drop = Beta::new(truth.a, truth.b).unwrap();
        let mut customers = vec![];
        for _ in 0..20_000 {
            let (l, p): (f64, f64) = (lambda.sample(&mut rng), drop.sample(&mut rng));
            let big_t = rng.gen_range(30.0..365.0f64).round();
            let (mut t, mut x, mut tx) = (0.0, 0.0, 0.0);
            loop {
                t += Exp::new(l).unwrap().sample(&mut rng);
                if t > big_t {
                    break;
                }
                x += 1.0;
                tx = t;
                if rng.gen::<f64>() < p {
                    break;
                }
            }
            customers.push(Summary { frequency: x, recency: tx, t: big_t, monetary: 0.0 });
        }
        let fit = fit_bgnbd(&customers).unwrap();
        let close = |a: f64, b: f64, tol: f64| (a / b - 1.0).abs() < tol;
        assert!(close(fit.r, truth.r, 0.15) && close(fit.alpha, truth.alpha, 0.2), "{fit:?}");
        assert!(close(fit.a, truth.a, 0.35) && close(fit.b, truth.b, 0.5), "{fit:?}");
        let never = Summary { frequency: 0.0, recency: 0.0, t: 100.0, monetary: 0.0 };
        assert_eq!(fit.probability_alive(&never), 1.0);
        let active = Summary { frequency: 10.0, recency: 99.0, t: 100.0, monetary: 0.0 };
        let lapsed = Summary { frequency: 10.0, recency: 10.0, t: 100.0, monetary: 0.0 };
        assert!(fit.probability_alive(&active) > 0.9 && fit.probability_alive(&lapsed) < 0.1);
        assert!(fit.expected_purchases(&active, 365.0) > fit.expected_purchases(&lapsed, 365.0));
    }

    #[test]
    fn gamma_gamma_shrinks_towards_the_population_mean() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let (p, q, v) = (6.0, 4.0, 15.0);
        let nu = Gamma::new(q, 1.0 / v).unwrap();
        let mut customers = vec![];
        for _ in 0..5000 {
            let scale = 1.0 / nu.sample(&mut rng);
            let x = rng.gen_range(1..8) as f64;
            let z = Gamma::new(p, scale).unwrap();
            let m = (0..x as usize).map(|_| z.sample(&mut rng)).sum::<f64>() / x;
            customers.push(Summary { frequency: x, recency: 0.0, t: 0.0, monetary: m });
        }
        let fit = fit_gamma_gamma(&customers).unwrap();
        assert!((fit.p * fit.v / (fit.q - 1.0) / (p * v / (q - 1.0)) - 1.0).abs() < 0.1, "{fit:?}");
        let pop = fit.expected_average_value(&Summary { frequency: 0.0, recency: 0.0, t: 0.0, monetary: 0.0 });
        let one = fit.expected_average_value(&Summary { frequency: 1.0, recency: 0.0, t: 0.0, monetary: 500.0 });
        let many = fit.expected_average_value(&Summary { frequency: 50.0, recency: 0.0, t: 0.0, monetary: 500.0 });
        assert!(pop < one && one < many && many < 500.0);
    }
}
