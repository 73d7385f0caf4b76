//! The few numerical kernels whose order of operations decides the last bits of statsforecast's
//! results, reproduced in that order (Eigen's SSE2 sum is in `optim`): numpy's pairwise sum
//! (`np.sum`, `np.mean`, pandas' `nanmean`), OpenBLAS's
//! `ddot` for x86-64 with AVX-512 (numpy's `np.convolve` with kernels longer than 11), and the
//! pieces with no exact counterpart here: least squares (LAPACK `gelsd` there, Householder QR
//! here) and the largest root modulus of a polynomial (LAPACK `geev` of the companion matrix
//! there, balancing and Hessenberg QR here).

/// numpy's pairwise summation (`pairwise_sum` in `loops_utils.h`): blocks of at most 128
/// summed with eight interleaved accumulators, longer runs split in halves (multiples of 8).
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// `np.mean` of a 1-d array.
pub fn np_mean(a: &[f64]) -> f64 {
    pairwise_sum(a) / a.len() as f64
}

/// OpenBLAS 0.3's `ddot` as its SkylakeX kernel computes it (`ddot.c` with
/// `ddot_microk_skylakex-2.c`, every multiply-add an FMA): the first multiple of 16 elements in
/// four accumulators (32 at a time in 8-lane ones while 32 fit, folded to 4 lanes, then 16 at a
/// time in 4-lane ones), the accumulators and lanes added, then the rest one by one. Checked
/// bit for bit against numpy's `np.convolve` (scipy-openblas 0.3.31, SkylakeX core) for kernels
/// of 13 to 101 taps.
pub fn ddot_skylakex(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let n1 = n & !15;
    let mut dot = 0.0;
    if n1 > 0 {
        let mut acc = [[0.0f64; 4]; 4];
        let n32 = n1 & !31;
        let mut i = 0;
        if n32 > 0 {
            let mut wide = [[0.0f64; 8]; 4];
            while i < n32 {
                for (a, w) in wide.iter_mut().enumerate() {
                    for (lane, v) in w.iter_mut().enumerate() {
                        let k = i + 8 * a + lane;
                        *v = x[k].mul_add(y[k], *v);
                    }
                }
                i += 32;
            }
            for a in 0..4 {
                for lane in 0..4 {
                    acc[a][lane] = wide[a][lane] + wide[a][lane + 4];
                }
            }
        }
        while i < n1 {
            for (a, acc_a) in acc.iter_mut().enumerate() {
                for (lane, v) in acc_a.iter_mut().enumerate() {
                    let k = i + 4 * a + lane;
                    *v = x[k].mul_add(y[k], *v);
                }
            }
            i += 16;
        }
        let mut a0 = [0.0; 4];
        for (lane, v) in a0.iter_mut().enumerate() {
            *v = ((acc[0][lane] + acc[1][lane]) + acc[2][lane]) + acc[3][lane];
        }
        let half = [a0[0] + a0[2], a0[1] + a0[3]];
        dot = half[0] + half[1];
    }
    for i in n1..n {
        dot = y[i].mul_add(x[i], dot);
    }
    dot
}

/// numpy's `np.convolve(x, filt, "valid")` for a symmetric filter: `correlate` with the reversed
/// (contiguous) kernel; kernels up to 11 long go through numpy's unrolled `small_correlate`
/// (plain multiply-adds in order), longer ones through `cblas_ddot` per output.
pub fn np_convolve_valid(x: &[f64], filt: &[f64]) -> Vec<f64> {
    let k: Vec<f64> = filt.iter().rev().copied().collect();
    let nk = k.len();
    if x.len() < nk {
        return vec![];
    }
    (0..=x.len() - nk)
        .map(|i| {
            let d = &x[i..i + nk];
            if nk <= 11 {
                let mut s = 0.0;
                for j in 0..nk {
                    s += d[j] * k[j];
                }
                s
            } else {
                0.0 + ddot_skylakex(d, &k)
            }
        })
        .collect()
}

/// Least squares `min |X b - y|` for a few columns (`cols[j]` is column j), by Householder QR.
/// None when a column is (numerically) dependent on the ones before it.
pub fn lstsq(cols: &[Vec<f64>], y: &[f64]) -> Option<Vec<f64>> {
    let k = cols.len();
    let n = y.len();
    if k == 0 || n < k || cols.iter().any(|c| c.len() != n) {
        return None;
    }
    let mut a: Vec<Vec<f64>> = cols.to_vec();
    let mut b = y.to_vec();
    let mut diag = vec![0.0; k];
    for j in 0..k {
        let norm = a[j][j..].iter().map(|v| v * v).sum::<f64>().sqrt();
        let scale = a.iter().map(|c| c[..].iter().map(|v| v.abs()).fold(0.0, f64::max)).fold(0.0, f64::max);
        if norm.is_nan() || norm <= 1e-13 * scale {
            return None;
        }
        let alpha = if a[j][j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[j][j..].to_vec();
        v[0] -= alpha;
        let vtv: f64 = v.iter().map(|x| x * x).sum();
        diag[j] = alpha;
        if vtv > 0.0 {
            for col in a.iter_mut().skip(j + 1) {
                let dotv: f64 = v.iter().zip(&col[j..]).map(|(p, q)| p * q).sum();
                let f = 2.0 * dotv / vtv;
                for (c, vi) in col[j..].iter_mut().zip(&v) {
                    *c -= f * vi;
                }
            }
            let dotv: f64 = v.iter().zip(&b[j..]).map(|(p, q)| p * q).sum();
            let f = 2.0 * dotv / vtv;
            for (c, vi) in b[j..].iter_mut().zip(&v) {
                *c -= f * vi;
            }
        }
    }
    let mut coef = vec![0.0; k];
    for j in (0..k).rev() {
        let mut s = b[j];
        for (i, c) in coef.iter().enumerate().skip(j + 1) {
            s -= a[i][j] * c;
        }
        coef[j] = s / diag[j];
    }
    Some(coef)
}

/// The largest modulus of the roots of `c[0] + c[1] x + ... + c[d] x^d` (numpy's `polyroots`:
/// eigenvalues of the companion matrix). None when the QR iteration does not converge.
pub fn max_root_modulus(c: &[f64]) -> Option<f64> {
    let d = c.len().checked_sub(1)?;
    if d == 0 {
        return Some(0.0);
    }
    if d == 1 {
        return Some((-c[0] / c[1]).abs());
    }
    // numpy's polycompanion: ones below the diagonal, last column -c[..d]/c[d] (1-indexed here).
    let mut a = vec![vec![0.0; d + 1]; d + 1];
    for i in 2..=d {
        a[i][i - 1] = 1.0;
    }
    for (i, row) in a.iter_mut().enumerate().skip(1) {
        row[d] -= c[i - 1] / c[d];
    }
    balance(&mut a, d);
    let (wr, wi) = hqr(&mut a, d)?;
    Some((1..=d).map(|i| (wr[i] * wr[i] + wi[i] * wi[i]).sqrt()).fold(0.0, f64::max))
}

/// Parlett-Reinsch balancing (Numerical Recipes' `balanc`), 1-indexed.
#[allow(clippy::needless_range_loop)]
fn balance(a: &mut [Vec<f64>], n: usize) {
    const RADIX: f64 = 2.0;
    let sqrdx = RADIX * RADIX;
    let mut done = false;
    while !done {
        done = true;
        for i in 1..=n {
            let (mut r, mut c) = (0.0, 0.0);
            for j in 1..=n {
                if j != i {
                    c += a[j][i].abs();
                    r += a[i][j].abs();
                }
            }
            if c != 0.0 && r != 0.0 {
                let mut g = r / RADIX;
                let mut f = 1.0;
                let s = c + r;
                while c < g {
                    f *= RADIX;
                    c *= sqrdx;
                }
                g = r * RADIX;
                while c > g {
                    f /= RADIX;
                    c /= sqrdx;
                }
                if (c + r) / f < 0.95 * s {
                    done = false;
                    let g = 1.0 / f;
                    for j in 1..=n {
                        a[i][j] *= g;
                    }
                    for row in a.iter_mut().take(n + 1).skip(1) {
                        row[i] *= f;
                    }
                }
            }
        }
    }
}

fn sign(a: f64, b: f64) -> f64 {
    if b >= 0.0 {
        a.abs()
    } else {
        -a.abs()
    }
}

/// Eigenvalues of an upper Hessenberg matrix (Numerical Recipes' `hqr`), 1-indexed.
#[allow(clippy::many_single_char_names, clippy::needless_range_loop)]
fn hqr(a: &mut [Vec<f64>], n: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    let (mut wr, mut wi) = (vec![0.0; n + 1], vec![0.0; n + 1]);
    let mut anorm = 0.0;
    for i in 1..=n {
        for j in (i.max(2) - 1)..=n {
            anorm += a[i][j].abs();
        }
    }
    let mut nn = n as isize;
    let mut t = 0.0;
    while nn >= 1 {
        let mut its = 0;
        loop {
            let nu = nn as usize;
            let mut l = nu;
            while l >= 2 {
                let mut s = a[l - 1][l - 1].abs() + a[l][l].abs();
                if s == 0.0 {
                    s = anorm;
                }
                if a[l][l - 1].abs() + s == s {
                    a[l][l - 1] = 0.0;
                    break;
                }
                l -= 1;
            }
            let mut x = a[nu][nu];
            if l == nu {
                wr[nu] = x + t;
                wi[nu] = 0.0;
                nn -= 1;
            } else {
                let mut y = a[nu - 1][nu - 1];
                let mut w = a[nu][nu - 1] * a[nu - 1][nu];
                if l == nu - 1 {
                    let p = 0.5 * (y - x);
                    let q = p * p + w;
                    let mut z = q.abs().sqrt();
                    x += t;
                    if q >= 0.0 {
                        z = p + sign(z, p);
                        wr[nu - 1] = x + z;
                        wr[nu] = x + z;
                        if z != 0.0 {
                            wr[nu] = x - w / z;
                        }
                        wi[nu - 1] = 0.0;
                        wi[nu] = 0.0;
                    } else {
                        wr[nu - 1] = x + p;
                        wr[nu] = x + p;
                        wi[nu - 1] = -z;
                        wi[nu] = z;
                    }
                    nn -= 2;
                } else {
                    if its == 60 {
                        return None;
                    }
                    if its == 10 || its == 20 {
                        t += x;
                        for i in 1..=nu {
                            a[i][i] -= x;
                        }
                        let s = a[nu][nu - 1].abs() + a[nu - 1][nu - 2].abs();
                        x = 0.75 * s;
                        y = x;
                        w = -0.4375 * s * s;
                    }
                    its += 1;
                    let mut m = nu - 2;
                    let mut z;
                    let (mut p, mut q, mut r);
                    loop {
                        z = a[m][m];
                        let r0 = x - z;
                        let s0 = y - z;
                        p = (r0 * s0 - w) / a[m + 1][m] + a[m][m + 1];
                        q = a[m + 1][m + 1] - z - r0 - s0;
                        r = a[m + 2][m + 1];
                        let s = p.abs() + q.abs() + r.abs();
                        p /= s;
                        q /= s;
                        r /= s;
                        if m == l {
                            break;
                        }
                        let u = a[m][m - 1].abs() * (q.abs() + r.abs());
                        let v = p.abs() * (a[m - 1][m - 1].abs() + z.abs() + a[m + 1][m + 1].abs());
                        if u + v == v {
                            break;
                        }
                        m -= 1;
                    }
                    for i in (m + 2)..=nu {
                        a[i][i - 2] = 0.0;
                        if i != m + 2 {
                            a[i][i - 3] = 0.0;
                        }
                    }
                    let mut k = m;
                    while k < nu {
                        if k != m {
                            p = a[k][k - 1];
                            q = a[k + 1][k - 1];
                            r = 0.0;
                            if k != nu - 1 {
                                r = a[k + 2][k - 1];
                            }
                            x = p.abs() + q.abs() + r.abs();
                            if x != 0.0 {
                                p /= x;
                                q /= x;
                                r /= x;
                            }
                        }
                        let s = sign((p * p + q * q + r * r).sqrt(), p);
                        if s != 0.0 {
                            if k == m {
                                if l != m {
                                    a[k][k - 1] = -a[k][k - 1];
                                }
                            } else {
                                a[k][k - 1] = -s * x;
                            }
                            p += s;
                            x = p / s;
                            y = q / s;
                            z = r / s;
                            q /= p;
                            r /= p;
                            for j in k..=nu {
                                p = a[k][j] + q * a[k + 1][j];
                                if k != nu - 1 {
                                    p += r * a[k + 2][j];
                                    a[k + 2][j] -= p * z;
                                }
                                a[k + 1][j] -= p * y;
                                a[k][j] -= p * x;
                            }
                            let mmin = if nu < k + 3 { nu } else { k + 3 };
                            for i in l..=mmin {
                                p = x * a[i][k] + y * a[i][k + 1];
                                if k != nu - 1 {
                                    p += z * a[i][k + 2];
                                    a[i][k + 2] -= p * r;
                                }
                                a[i][k + 1] -= p * q;
                                a[i][k] -= p;
                            }
                        }
                        k += 1;
                    }
                }
            }
            if l + 1 >= nu || nn < 1 {
                break;
            }
        }
    }
    Some((wr, wi))
}
