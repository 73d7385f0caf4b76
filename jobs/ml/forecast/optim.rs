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

/// The bounded, adaptive Nelder-Mead that statsforecast's Theta and ETS use (its `nelder_mead.h`,
/// Apache-2.0), step for step, so that a port fits the same parameters: every trial point is
/// clamped to the box, the simplex starts 5% out along each axis, and the search stops when the
/// population standard deviation of the simplex's values falls below `tol_std` (absolute).
///
/// The simplex is ordered as libstdc++'s `std::sort` orders it (insertion sort up to 16 points,
/// introsort beyond, so ties among more than 16 points fall as they do there), and the two
/// sums the C++ leaves to Eigen are added in Eigen's SSE2 order: the standard deviation's sums
/// (`VectorXd::mean`, two-lane packets) and the centroid's column sums (`colwise().sum()` of the
/// row-major simplex: rows in groups of four, pairs of columns at a time, an odd last column
/// one row after another). For up to 3 parameters these are the plain left-to-right sums,
/// except the standard deviation of 4 values, which Eigen adds as (v0 + v2) + (v1 + v3).
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
        let order = std_sort_indices(&fs);
        best = order[0];
        let (worst, second) = (order[n], order[n - 1]);
        if eigen_std(&fs) < tol_std {
            break;
        }
        let xo: Vec<f64> = eigen_col_sums(&simplex).iter().enumerate().map(|(j, s)| (s - simplex[worst][j]) / nf).collect();
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

/// Eigen's `sum()` of a contiguous double vector with SSE2 packets of two (the
/// `LinearVectorizedTraversal` redux): packets from the first 16-byte aligned element
/// (`aligned_start`, 0 or 1) in two accumulators, their lanes added, then the unaligned head
/// and the tail one by one.
pub fn eigen_sum(x: &[f64], aligned_start: usize) -> f64 {
    let size = x.len();
    let start = aligned_start.min(size);
    let aligned_size2 = ((size - start) / 4) * 4;
    let aligned_size = ((size - start) / 2) * 2;
    let (end2, end) = (start + aligned_size2, start + aligned_size);
    if aligned_size == 0 {
        let mut res = x.first().copied().unwrap_or(0.0);
        for v in x.iter().skip(1) {
            res += v;
        }
        return res;
    }
    let mut p0 = [x[start], x[start + 1]];
    if aligned_size > 2 {
        let mut p1 = [x[start + 2], x[start + 3]];
        let mut i = start + 4;
        while i < end2 {
            p0 = [p0[0] + x[i], p0[1] + x[i + 1]];
            p1 = [p1[0] + x[i + 2], p1[1] + x[i + 3]];
            i += 4;
        }
        p0 = [p0[0] + p1[0], p0[1] + p1[1]];
        if end > end2 {
            p0 = [p0[0] + x[end2], p0[1] + x[end2 + 1]];
        }
    }
    let mut res = p0[0] + p0[1];
    for v in &x[..start] {
        res += v;
    }
    for v in &x[end..] {
        res += v;
    }
    res
}

/// `nelder_mead.h`'s StandardDeviation: sqrt(mean((x - mean(x))^2)), Eigen's sums.
fn eigen_std(x: &[f64]) -> f64 {
    let nf = x.len() as f64;
    let mean = eigen_sum(x, 0) / nf;
    let sq: Vec<f64> = x.iter().map(|v| (v - mean) * (v - mean)).collect();
    (eigen_sum(&sq, 0) / nf).sqrt()
}

/// Eigen's `colwise().sum()` of the row-major simplex, as the vectorised assignment evaluates
/// it: column pairs by `packetwise_redux_impl` (row 0, then rows in groups of four added
/// pairwise while a whole group fits before the last row, then one by one), an odd last
/// column by the scalar redux (one row after another).
fn eigen_col_sums(rows: &[Vec<f64>]) -> Vec<f64> {
    let size = rows.len();
    let n = rows.first().map_or(0, |r| r.len());
    let size4 = (size.max(1) - 1) & !3;
    (0..n)
        .map(|j| {
            if j < n - n % 2 {
                let mut p = rows[0][j];
                let mut i = 1;
                while i < size4 {
                    p += (rows[i][j] + rows[i + 1][j]) + (rows[i + 2][j] + rows[i + 3][j]);
                    i += 4;
                }
                rows[i..].iter().fold(p, |s, r| s + r[j])
            } else {
                rows.iter().skip(1).fold(rows[0][j], |s, r| s + r[j])
            }
        })
        .collect()
}

/// The indices 0..v.len() ordered as libstdc++'s `std::sort` orders them with the comparator
/// `v[a] < v[b]` (`ArgSort` in `nelder_mead.h`): introsort down to runs of 16, then insertion.
fn std_sort_indices(v: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    let less = |a: usize, b: usize| v[a] < v[b];
    let len = idx.len();
    if len > 1 {
        let depth = 2 * (usize::BITS - 1 - len.leading_zeros()) as usize;
        introsort_loop(&mut idx, 0, len, depth, &less);
        final_insertion_sort(&mut idx, &less);
    }
    idx
}

const SORT_THRESHOLD: usize = 16;

fn introsort_loop(a: &mut [usize], first: usize, mut last: usize, mut depth: usize, less: &impl Fn(usize, usize) -> bool) {
    while last - first > SORT_THRESHOLD {
        if depth == 0 {
            heap_sort(&mut a[first..last], less);
            return;
        }
        depth -= 1;
        let mid = first + (last - first) / 2;
        move_median_to_first(a, first, first + 1, mid, last - 1, less);
        let cut = unguarded_partition(a, first + 1, last, first, less);
        introsort_loop(a, cut, last, depth, less);
        last = cut;
    }
}

fn move_median_to_first(a: &mut [usize], result: usize, x: usize, y: usize, z: usize, less: &impl Fn(usize, usize) -> bool) {
    let pick = if less(a[x], a[y]) {
        if less(a[y], a[z]) {
            y
        } else if less(a[x], a[z]) {
            z
        } else {
            x
        }
    } else if less(a[x], a[z]) {
        x
    } else if less(a[y], a[z]) {
        z
    } else {
        y
    };
    a.swap(result, pick);
}

fn unguarded_partition(a: &mut [usize], mut first: usize, mut last: usize, pivot: usize, less: &impl Fn(usize, usize) -> bool) -> usize {
    loop {
        while less(a[first], a[pivot]) {
            first += 1;
        }
        last -= 1;
        while less(a[pivot], a[last]) {
            last -= 1;
        }
        if first >= last {
            return first;
        }
        a.swap(first, last);
        first += 1;
    }
}

fn unguarded_linear_insert(a: &mut [usize], mut last: usize, less: &impl Fn(usize, usize) -> bool) {
    let val = a[last];
    while less(val, a[last - 1]) {
        a[last] = a[last - 1];
        last -= 1;
    }
    a[last] = val;
}

fn insertion_sort(a: &mut [usize], first: usize, last: usize, less: &impl Fn(usize, usize) -> bool) {
    for i in first + 1..last {
        if less(a[i], a[first]) {
            let val = a[i];
            a.copy_within(first..i, first + 1);
            a[first] = val;
        } else {
            unguarded_linear_insert(a, i, less);
        }
    }
}

fn final_insertion_sort(a: &mut [usize], less: &impl Fn(usize, usize) -> bool) {
    let len = a.len();
    if len > SORT_THRESHOLD {
        insertion_sort(a, 0, SORT_THRESHOLD, less);
        for i in SORT_THRESHOLD..len {
            unguarded_linear_insert(a, i, less);
        }
    } else {
        insertion_sort(a, 0, len, less);
    }
}

/// libstdc++'s `__partial_sort(first, last, last)`: `make_heap` then `sort_heap`.
fn heap_sort(a: &mut [usize], less: &impl Fn(usize, usize) -> bool) {
    let len = a.len();
    if len < 2 {
        return;
    }
    let mut parent = (len - 2) / 2;
    loop {
        let val = a[parent];
        adjust_heap(a, parent, len, val, less);
        if parent == 0 {
            break;
        }
        parent -= 1;
    }
    let mut last = len;
    while last > 1 {
        last -= 1;
        let val = a[last];
        a[last] = a[0];
        adjust_heap(a, 0, last, val, less);
    }
}

fn adjust_heap(a: &mut [usize], mut hole: usize, len: usize, val: usize, less: &impl Fn(usize, usize) -> bool) {
    let top = hole;
    let mut child = hole;
    while child < (len - 1) / 2 {
        child = 2 * (child + 1);
        if less(a[child], a[child - 1]) {
            child -= 1;
        }
        a[hole] = a[child];
        hole = child;
    }
    if len.is_multiple_of(2) && child == (len - 2) / 2 {
        child = 2 * (child + 1);
        a[hole] = a[child - 1];
        hole = child - 1;
    }
    let mut parent = hole.saturating_sub(1) / 2;
    while hole > top && less(a[parent], val) {
        a[hole] = a[parent];
        hole = parent;
        parent = hole.saturating_sub(1) / 2;
    }
    a[hole] = val;
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
    fn the_order_is_libstdcxx_sort_order() {
        // Ties among more than 16 values: introsort leaves them in its own order, not the input's.
        let v: Vec<f64> = (0..20).map(|i| if i % 3 == 0 { f64::INFINITY } else { (i % 5) as f64 }).collect();
        let idx = std_sort_indices(&v);
        assert!(idx.windows(2).all(|w| v[w[0]] <= v[w[1]]));
        let mut seen = idx.clone();
        seen.sort();
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
        // Up to 16 points the sort is a stable insertion sort.
        let w = [3.0, 1.0, 3.0, 1.0, 2.0];
        assert_eq!(std_sort_indices(&w), vec![1, 3, 4, 0, 2]);
    }

    #[test]
    fn eigen_sums_group_as_eigen_does() {
        let x = [1e16, 1.0, -1e16, 1.0];
        // (x0 + x2) + (x1 + x3) = 2, where left to right gives 0 + 1 = 1 after absorbing.
        assert_eq!(eigen_sum(&x, 0), 2.0);
        let rows = vec![vec![1e16, 1e16, 1e16], vec![1.0, 1.0, 1.0], vec![-1e16, -1e16, -1e16], vec![1.0, 1.0, 1.0], vec![1.0, 1.0, 1.0]];
        // Columns 0-1: r0 + ((r1 + r2) + (r3 + r4)); column 2 one row after another.
        let s = eigen_col_sums(&rows);
        assert_eq!(s[0], 1e16 + ((1.0 + -1e16) + (1.0 + 1.0)));
        assert_eq!(s[2], (((1e16 + 1.0) + -1e16) + 1.0) + 1.0);
    }

    #[test]
    fn the_bounded_search_stays_in_its_box() {
        let f = |x: &[f64]| (x[0] - 3.0).powi(2) + (x[1] + 1.0).powi(2);
        let (x, v) = nelder_mead_bounded(f, &[0.5, 0.5], &[0.0, 0.0], &[10.0, 10.0], 1000, 1e-12);
        assert!((x[0] - 3.0).abs() < 1e-3 && x[1] == 0.0, "{x:?}");
        assert!((v - 1.0).abs() < 1e-5);
    }
}
