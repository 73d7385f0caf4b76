//! K-means over standardised log-RFM with linfa-clustering: k chosen by silhouette (on a
//! seeded sample, since silhouette is quadratic), clusters numbered by value so that cluster 0
//! holds the customers with the highest mean monetary value.

use linfa::prelude::*;
use linfa_clustering::KMeans;
use ndarray::{Array1, Array2, Axis};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Points used to fit each candidate k (the final model then labels every customer).
pub const FIT_SAMPLE: usize = 10_000;
/// Points used to score a candidate k by silhouette.
pub const SILHOUETTE_SAMPLE: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("k-means failed for k = {k}: {message}")]
    Fit { k: usize, message: String },
}

#[derive(Debug, Clone)]
pub struct Clustering {
    pub k: usize,
    /// Cluster of each input row.
    pub labels: Vec<u32>,
    /// Mean silhouette of the chosen k on the sample (None when k was fixed or too few points).
    pub silhouette: Option<f64>,
    /// Silhouette of every candidate k.
    pub candidates: Vec<(usize, f64)>,
    /// Centroids in standardised log space, one row per cluster (in final numbering).
    pub centroids: Vec<[f64; 3]>,
}

/// ln(1 + x) of recency, frequency and monetary, each standardised (mean 0, sd 1).
pub fn features(rfm: &[[f64; 3]]) -> Array2<f64> {
    let mut x = Array2::from_shape_fn((rfm.len(), 3), |(i, j)| rfm[i][j].max(0.0).ln_1p());
    for mut col in x.axis_iter_mut(Axis(1)) {
        let n = col.len().max(1) as f64;
        let mean = col.sum() / n;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        let sd = if sd > 1e-12 { sd } else { 1.0 };
        col.mapv_inplace(|v| (v - mean) / sd);
    }
    x
}

fn dist(a: ndarray::ArrayView1<f64>, b: ndarray::ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Mean silhouette of labelled points (0 for a point alone in its cluster).
pub fn silhouette(x: &Array2<f64>, labels: &[usize], k: usize) -> f64 {
    let n = x.nrows();
    if n < 2 {
        return 0.0;
    }
    let mut total = 0.0;
    let mut sums = vec![0.0; k];
    let mut counts = vec![0usize; k];
    for l in labels {
        counts[*l] += 1;
    }
    for i in 0..n {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for j in 0..n {
            if i != j {
                sums[labels[j]] += dist(x.row(i), x.row(j));
            }
        }
        let own = labels[i];
        if counts[own] <= 1 {
            continue;
        }
        let a = sums[own] / (counts[own] - 1) as f64;
        let b = (0..k).filter(|&c| c != own && counts[c] > 0).map(|c| sums[c] / counts[c] as f64).fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b).max(1e-300);
        }
    }
    total / n as f64
}

fn fit(x: &Array2<f64>, k: usize, seed: u64) -> Result<KMeans<f64, linfa_nn::distance::L2Dist>, ClusterError> {
    let rng = ChaCha8Rng::seed_from_u64(seed);
    KMeans::params_with_rng(k, rng)
        .n_runs(2)
        .max_n_iterations(300)
        .tolerance(1e-6)
        .fit(&DatasetBase::from(x.clone()))
        .map_err(|e| ClusterError::Fit { k, message: e.to_string() })
}

fn rows(x: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    x.select(Axis(0), idx)
}

/// Cluster customers given as [recency_days, frequency, monetary]. `value` orders the
/// clusters (cluster 0 = highest mean value).
pub fn cluster(rfm: &[[f64; 3]], fixed_k: Option<usize>, k_range: (usize, usize), seed: u64) -> Result<Clustering, ClusterError> {
    let n = rfm.len();
    let x = features(rfm);
    let distinct = {
        let mut pts: Vec<[u64; 3]> = rfm.iter().map(|p| [p[0].to_bits(), p[1].to_bits(), p[2].to_bits()]).collect();
        pts.sort_unstable();
        pts.dedup();
        pts.len()
    };
    // Too few distinct customers to cluster: everyone in one cluster.
    let max_k = distinct.min(fixed_k.unwrap_or(k_range.1));
    if n == 0 || max_k < 2 {
        return Ok(Clustering { k: 1, labels: vec![0; n], silhouette: None, candidates: vec![], centroids: vec![[0.0; 3]; (n > 0) as usize] });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fit_idx = sample(&mut rng, n, n.min(FIT_SAMPLE)).into_vec();
    fit_idx.sort_unstable();
    let fit_x = rows(&x, &fit_idx);
    let sil_idx: Vec<usize> = {
        let mut v = sample(&mut rng, fit_idx.len(), fit_idx.len().min(SILHOUETTE_SAMPLE)).into_vec();
        v.sort_unstable();
        v
    };
    let sil_x = rows(&fit_x, &sil_idx);

    let (model, k, sil, candidates) = match fixed_k {
        Some(k) => (fit(&fit_x, k.min(max_k), seed)?, k.min(max_k), None, vec![]),
        None => {
            let mut best: Option<(KMeans<f64, _>, usize, f64)> = None;
            let mut candidates = vec![];
            for k in k_range.0.min(max_k)..=max_k {
                let m = fit(&fit_x, k, seed)?;
                let labels: Array1<usize> = m.predict(&sil_x);
                let s = silhouette(&sil_x, labels.as_slice().unwrap_or(&labels.to_vec()), k);
                tracing::debug!(k, silhouette = s, "k-means candidate");
                candidates.push((k, s));
                if best.as_ref().is_none_or(|(_, _, b)| s > *b + 1e-12) {
                    best = Some((m, k, s));
                }
            }
            let (m, k, s) = best.ok_or(ClusterError::Fit { k: max_k, message: "no candidate k to try".into() })?;
            (m, k, Some(s), candidates)
        }
    };
    let raw: Array1<usize> = model.predict(&x);
    // Renumber by mean monetary, highest first (ties: by old number).
    let mut sum_m = vec![0.0; k];
    let mut cnt = vec![0usize; k];
    for (i, &l) in raw.iter().enumerate() {
        sum_m[l] += rfm[i][2];
        cnt[l] += 1;
    }
    let mut order: Vec<usize> = (0..k).collect();
    let mean = |c: usize| if cnt[c] > 0 { sum_m[c] / cnt[c] as f64 } else { f64::NEG_INFINITY };
    order.sort_by(|a, b| mean(*b).total_cmp(&mean(*a)).then(a.cmp(b)));
    let mut new_id = vec![0u32; k];
    for (new, &old) in order.iter().enumerate() {
        new_id[old] = new as u32;
    }
    let c = model.centroids();
    let centroids = order.iter().map(|&old| [c[[old, 0]], c[[old, 1]], c[[old, 2]]]).collect();
    Ok(Clustering { k, labels: raw.iter().map(|&l| new_id[l]).collect(), silhouette: sil, candidates, centroids })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_three_obvious_groups_and_numbers_them_by_value() {
        let mut pts = vec![];
        for i in 0..300 {
            let j = (i % 7) as f64;
            pts.push([2.0 + j, 20.0 + j, 5000.0 + 10.0 * j]); // best
            pts.push([60.0 + j, 4.0, 300.0 + j]);
            pts.push([300.0 + j, 1.0, 20.0 + j]); // worst
        }
        let c = cluster(&pts, None, (2, 6), 7).unwrap();
        assert_eq!(c.k, 3, "candidates {:?}", c.candidates);
        assert!(c.silhouette.unwrap() > 0.8);
        for (i, l) in c.labels.iter().enumerate() {
            assert_eq!(*l as usize, i % 3, "row {i}");
        }
        // Same seed, same answer.
        assert_eq!(cluster(&pts, None, (2, 6), 7).unwrap().labels, c.labels);
        // Fixed k is honoured.
        assert_eq!(cluster(&pts, Some(4), (2, 6), 7).unwrap().k, 4);
    }

    #[test]
    fn silhouette_of_two_far_groups_is_near_one() {
        let x = Array2::from_shape_vec((4, 3), vec![0., 0., 0., 0., 0., 0.1, 10., 10., 10., 10., 10., 10.1]).unwrap();
        let s = silhouette(&x, &[0, 0, 1, 1], 2);
        assert!(s > 0.99, "{s}");
    }

    #[test]
    fn one_distinct_point_is_one_cluster() {
        let c = cluster(&[[1.0, 1.0, 10.0]; 5], None, (3, 8), 1).unwrap();
        assert_eq!((c.k, c.labels), (1, vec![0; 5]));
    }
}
