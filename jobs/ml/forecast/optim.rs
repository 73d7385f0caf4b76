//! Nelder-Mead minimisation (the optimiser R's `ets` uses), for a handful of parameters.

/// Minimise `f` from `x0` with an initial simplex of `step` along each axis; stops when the
/// simplex's values agree to `tol` (relative) or after `max_evals` evaluations. Infinite values
/// mark infeasible points.
pub fn nelder_mead(f: impl Fn(&[f64]) -> f64, x0: &[f64], step: f64, tol: f64, max_evals: usize) -> Vec<f64> {
    let d = x0.len();
    if d == 0 {
        return vec![];
    }
    let mut pts: Vec<Vec<f64>> = vec![x0.to_vec()];
    for i in 0..d {
        let mut p = x0.to_vec();
        p[i] += step;
        pts.push(p);
    }
    let mut vals: Vec<f64> = pts.iter().map(|p| f(p)).collect();
    let mut evals = d + 1;
    let (alpha, gamma, rho, sigma) = (1.0, 2.0, 0.5, 0.5);
    while evals < max_evals {
        let mut order: Vec<usize> = (0..=d).collect();
        order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        pts = order.iter().map(|&i| pts[i].clone()).collect();
        vals = order.iter().map(|&i| vals[i]).collect();
        let (best, worst) = (vals[0], vals[d]);
        if best.is_finite() && worst.is_finite() && (worst - best).abs() <= tol * (best.abs() + tol) {
            break;
        }
        let centroid: Vec<f64> = (0..d).map(|j| pts[..d].iter().map(|p| p[j]).sum::<f64>() / d as f64).collect();
        let along = |t: f64| -> Vec<f64> { (0..d).map(|j| centroid[j] + t * (pts[d][j] - centroid[j])).collect() };
        let xr = along(-alpha);
        let fr = f(&xr);
        evals += 1;
        if fr < vals[0] {
            let xe = along(-gamma);
            let fe = f(&xe);
            evals += 1;
            if fe < fr {
                (pts[d], vals[d]) = (xe, fe);
            } else {
                (pts[d], vals[d]) = (xr, fr);
            }
        } else if fr < vals[d - 1] {
            (pts[d], vals[d]) = (xr, fr);
        } else {
            let (xc, fc) = if fr < vals[d] {
                let x = along(-rho);
                let v = f(&x);
                (x, v)
            } else {
                let x = along(rho);
                let v = f(&x);
                (x, v)
            };
            evals += 1;
            if fc < vals[d].min(fr) {
                (pts[d], vals[d]) = (xc, fc);
            } else {
                for i in 1..=d {
                    pts[i] = (0..d).map(|j| pts[0][j] + sigma * (pts[i][j] - pts[0][j])).collect();
                    vals[i] = f(&pts[i]);
                }
                evals += d;
            }
        }
    }
    let best = (0..=d).min_by(|&a, &b| vals[a].total_cmp(&vals[b])).unwrap_or(0);
    pts.swap_remove(best)
}

/// The bounded, adaptive Nelder-Mead that statsforecast's Theta uses (its `nelder_mead.h`,
/// Apache-2.0), step for step, so that a port fits the same parameters: every trial point is
/// clamped to the box, the simplex starts 5% out along each axis, and the search stops when the
/// population standard deviation of the simplex's values falls below `tol_std` (absolute).
pub fn nelder_mead_bounded(f: impl Fn(&[f64]) -> f64, x: &[f64], lower: &[f64], upper: &[f64], max_iter: usize, tol_std: f64) -> (Vec<f64>, f64) {
    let n = x.len();
    if n == 0 {
        return (vec![], f(x));
    }
    let clamp = |v: &mut Vec<f64>| v.iter_mut().enumerate().for_each(|(i, x)| *x = x.max(lower[i]).min(upper[i]));
    let (init_step, zero_pert, alpha) = (0.05, 1e-4, 1.0);
    let nf = n as f64;
    let (gamma, rho, sigma) = (1.0 + 2.0 / nf, 0.75 - 1.0 / (2.0 * nf), 1.0 - 1.0 / nf);
    let mut x0 = x.to_vec();
    clamp(&mut x0);
    let mut simplex = vec![x0; n + 1];
    for (i, row) in simplex.iter_mut().enumerate().take(n) {
        let v = row[i];
        let v = if v == 0.0 { zero_pert } else { v * (1.0 + init_step) };
        row[i] = v.max(lower[i]).min(upper[i]);
    }
    let mut fs: Vec<f64> = simplex.iter().map(|r| f(r)).collect();
    let mut best = 0;
    for _ in 0..max_iter {
        // A stable order, as std::sort's insertion sort gives for a few points.
        let mut order: Vec<usize> = (0..=n).collect();
        order.sort_by(|&a, &b| fs[a].partial_cmp(&fs[b]).unwrap_or(std::cmp::Ordering::Equal));
        best = order[0];
        let (worst, second) = (order[n], order[n - 1]);
        let mean = fs.iter().sum::<f64>() / (nf + 1.0);
        let sd = (fs.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (nf + 1.0)).sqrt();
        if sd < tol_std {
            break;
        }
        let xo: Vec<f64> = (0..n).map(|j| (simplex.iter().map(|r| r[j]).sum::<f64>() - simplex[worst][j]) / nf).collect();
        let mut xr: Vec<f64> = (0..n).map(|j| xo[j] + alpha * (xo[j] - simplex[worst][j])).collect();
        clamp(&mut xr);
        let fr = f(&xr);
        if fs[best] <= fr && fr < fs[second] {
            (simplex[worst], fs[worst]) = (xr, fr);
            continue;
        }
        if fr < fs[best] {
            let mut xe: Vec<f64> = (0..n).map(|j| xo[j] + gamma * (xr[j] - xo[j])).collect();
            clamp(&mut xe);
            let fe = f(&xe);
            (simplex[worst], fs[worst]) = if fe < fr { (xe, fe) } else { (xr, fr) };
            continue;
        }
        if fs[second] <= fr && fr < fs[worst] {
            let mut xc: Vec<f64> = (0..n).map(|j| xo[j] + rho * (xr[j] - xo[j])).collect();
            clamp(&mut xc);
            let fc = f(&xc);
            if fc <= fr {
                (simplex[worst], fs[worst]) = (xc, fc);
                continue;
            }
        } else {
            let mut xc: Vec<f64> = (0..n).map(|j| xo[j] - rho * (xr[j] - xo[j])).collect();
            clamp(&mut xc);
            let fc = f(&xc);
            if fc < fs[worst] {
                (simplex[worst], fs[worst]) = (xc, fc);
                continue;
            }
        }
        for j in 0..=n {
            if j == best {
                continue;
            }
            let mut row: Vec<f64> = (0..n).map(|k| simplex[best][k] + sigma * (simplex[j][k] - simplex[best][k])).collect();
            clamp(&mut row);
            fs[j] = f(&row);
            simplex[j] = row;
        }
    }
    (simplex[best].clone(), fs[best])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_rosenbrock() {
        let rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let x = nelder_mead(rosen, &[-1.2, 1.0], 0.5, 1e-14, 5000);
        assert!((x[0] - 1.0).abs() < 1e-3 && (x[1] - 1.0).abs() < 1e-3, "{x:?}");
    }

    #[test]
    fn avoids_infeasible_points() {
        let f = |x: &[f64]| if x[0] < 0.0 { f64::INFINITY } else { (x[0] - 2.0).powi(2) };
        let x = nelder_mead(f, &[0.5], 1.0, 1e-12, 500);
        assert!((x[0] - 2.0).abs() < 1e-4, "{x:?}");
    }

    #[test]
    fn the_bounded_search_stays_in_its_box() {
        let f = |x: &[f64]| (x[0] - 3.0).powi(2) + (x[1] + 1.0).powi(2);
        let (x, v) = nelder_mead_bounded(f, &[0.5, 0.5], &[0.0, 0.0], &[10.0, 10.0], 1000, 1e-12);
        assert!((x[0] - 3.0).abs() < 1e-3 && x[1] == 0.0, "{x:?}");
        assert!((v - 1.0).abs() < 1e-5);
    }
}
