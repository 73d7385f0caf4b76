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
}
