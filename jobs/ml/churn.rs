//! Churn model glue: features standardised with the training set's means and deviations, a
//! logistic regression (linfa-logistic), and the metrics it is judged by: ROC AUC, log loss and
//! a calibration table.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

/// Column means and standard deviations of the training features.
#[derive(Debug, Clone)]
pub struct Scaler {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Scaler {
    pub fn fit(rows: &[Vec<f64>]) -> Scaler {
        let d = rows.first().map_or(0, |r| r.len());
        let n = rows.len().max(1) as f64;
        let mean: Vec<f64> = (0..d).map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n).collect();
        let std = (0..d)
            .map(|j| {
                let v = rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
                if v > 1e-12 {
                    v.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        Scaler { mean, std }
    }

    pub fn matrix(&self, rows: &[Vec<f64>]) -> Array2<f64> {
        let d = self.mean.len();
        Array2::from_shape_fn((rows.len(), d), |(i, j)| (rows[i][j] - self.mean[j]) / self.std[j])
    }
}

/// A fitted churn model: P(churn) for feature rows.
pub struct ChurnModel {
    scaler: Scaler,
    model: linfa_logistic::FittedLogisticRegression<f64, bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChurnError {
    #[error("the training set needs churned and retained customers (it has {churned} churned of {rows})")]
    OneClass { rows: usize, churned: usize },
    #[error("logistic regression failed: {0}")]
    Fit(String),
}

/// Fit on `rows`; `warm` starts from another model's coefficients (a refit on similar data
/// then takes a few iterations). L-BFGS stops when the gradient of the summed loss is below
/// 1e-6 per customer, or after `max_iterations`.
pub fn fit(rows: &[Vec<f64>], churned: &[bool], l2: f64, max_iterations: u64, warm: Option<&ChurnModel>) -> Result<ChurnModel, ChurnError> {
    let positives = churned.iter().filter(|c| **c).count();
    if positives == 0 || positives == churned.len() {
        return Err(ChurnError::OneClass { rows: churned.len(), churned: positives });
    }
    let scaler = Scaler::fit(rows);
    let x = scaler.matrix(rows);
    let n_features = x.ncols();
    let y = Array1::from_vec(churned.to_vec());
    let ds = Dataset::new(x, y);
    let mut params = LogisticRegression::default().alpha(l2).max_iterations(max_iterations).gradient_tolerance(1e-6 * rows.len().max(1) as f64);
    if let Some(w) = warm {
        // Coefficients of the standardised features, then the intercept, as linfa keeps them.
        let mut init: Vec<f64> = w.model.params().to_vec();
        init.push(w.model.intercept());
        // linfa models the larger class (on a tie the first seen): flip the signs if that
        // class differs between the two data sets.
        let negatives = churned.len() - positives;
        let larger_is_churn = positives > negatives || (positives == negatives && churned[0]);
        if larger_is_churn != w.model.labels().pos.class {
            init.iter_mut().for_each(|v| *v = -*v);
        }
        if init.len() == n_features + 1 {
            params = params.initial_params(Array1::from_vec(init));
        }
    }
    let model = params.fit(&ds).map_err(|e| ChurnError::Fit(e.to_string()))?;
    Ok(ChurnModel { scaler, model })
}

/// A churn model as plain numbers, what `marts.churn_model` stores and every night scores
/// with: P(churn) = logistic(intercept + sum of coefficient_j * (x_j - mean_j) / std_j).
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    pub features: Vec<String>,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub coefficient: Vec<f64>,
    pub intercept: f64,
}

impl LinearModel {
    pub fn predict(&self, rows: &[Vec<f64>]) -> Vec<f64> {
        rows.iter()
            .map(|r| {
                let mut z = self.intercept;
                for (j, x) in r.iter().enumerate() {
                    z += self.coefficient[j] * ((x - self.mean[j]) / self.std[j]);
                }
                1.0 / (1.0 + (-z).exp())
            })
            .collect()
    }
}

impl ChurnModel {
    /// The same model as [`LinearModel`] (signs turned to P(churn): linfa models the larger
    /// class of its training set).
    pub fn linear(&self, features: &[String]) -> LinearModel {
        let sign = if self.model.labels().pos.class { 1.0 } else { -1.0 };
        LinearModel {
            features: features.to_vec(),
            mean: self.scaler.mean.clone(),
            std: self.scaler.std.clone(),
            coefficient: self.model.params().iter().map(|w| sign * w).collect(),
            intercept: sign * self.model.intercept(),
        }
    }

    pub fn predict(&self, rows: &[Vec<f64>]) -> Vec<f64> {
        let p = self.model.predict_probabilities(&self.scaler.matrix(rows));
        // linfa reports the probability of the larger class of the training set.
        let larger_is_churn = self.model.labels().pos.class;
        p.iter().map(|&v| if larger_is_churn { v } else { 1.0 - v }).collect()
    }
}

/// Area under the ROC curve (Mann-Whitney, ties counted half). None with one class only.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += (i..=j).filter(|&k| labels[idx[k]]).count() as f64 * avg;
        i = j + 1;
    }
    let pos = labels.iter().filter(|l| **l).count() as f64;
    let neg = labels.len() as f64 - pos;
    (pos > 0.0 && neg > 0.0).then(|| (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg))
}

pub fn log_loss(p: &[f64], labels: &[bool]) -> f64 {
    let n = p.len().max(1) as f64;
    -p.iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            if y {
                p.ln()
            } else {
                (1.0 - p).ln()
            }
        })
        .sum::<f64>()
        / n
}

/// Ten bins of predicted probability (0-0.1, ..., 0.9-1): (bin, customers, mean predicted,
/// observed churn rate).
pub fn calibration(p: &[f64], labels: &[bool]) -> Vec<(usize, usize, f64, f64)> {
    let mut bins = vec![(0usize, 0.0f64, 0.0f64); 10];
    for (&p, &y) in p.iter().zip(labels) {
        let b = ((p * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += p;
        bins[b].2 += if y { 1.0 } else { 0.0 };
    }
    bins.into_iter().enumerate().filter(|(_, b)| b.0 > 0).map(|(i, (n, ps, ys))| (i, n, ps / n as f64, ys / n as f64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_known_orders() {
        assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), Some(1.0));
        assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]), Some(0.0));
        assert_eq!(auc(&[0.5, 0.5, 0.5, 0.5], &[false, true, false, true]), Some(0.5));
        assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]), Some(0.75));
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn learns_that_long_absence_means_churn() {
        // Churn when the (noisy) days since the last purchase are many.
        let rows: Vec<Vec<f64>> = (0..400).map(|i| vec![(i % 200) as f64, ((i * 7) % 13) as f64]).collect();
        let churned: Vec<bool> = rows.iter().map(|r| r[0] > 100.0).collect();
        let m = fit(&rows, &churned, 1.0, 200, None).unwrap();
        let p = m.predict(&rows);
        assert!(auc(&p, &churned).unwrap() > 0.95);
        assert!(m.predict(&[vec![190.0, 3.0]])[0] > 0.8 && m.predict(&[vec![5.0, 3.0]])[0] < 0.2);
        assert!(log_loss(&p, &churned) < 0.4);
        let cal = calibration(&p, &churned);
        assert_eq!(cal.iter().map(|c| c.1).sum::<usize>(), 400);
        // The minority class being churn must not flip the probabilities.
        let few: Vec<bool> = rows.iter().map(|r| r[0] > 170.0).collect();
        let m = fit(&rows, &few, 1.0, 200, None).unwrap();
        assert!(m.predict(&[vec![195.0, 3.0]])[0] > 0.5 && m.predict(&[vec![5.0, 3.0]])[0] < 0.1);
        assert!(matches!(fit(&rows, &vec![false; 400], 1.0, 100, None), Err(ChurnError::OneClass { .. })));
        // A warm start from a model whose larger class was the other one lands on the same fit.
        let most: Vec<bool> = rows.iter().map(|r| r[0] > 50.0).collect();
        let warm = fit(&rows, &most, 1.0, 200, None).unwrap();
        let again = fit(&rows, &few, 1.0, 200, Some(&warm)).unwrap();
        for (a, b) in again.predict(&rows).iter().zip(m.predict(&rows)) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
    }

    /// The stored form scores as linfa does, whichever class was the larger one.
    #[test]
    fn linear_form_predicts_as_the_fitted_model() {
        let rows: Vec<Vec<f64>> = (0..300).map(|i| vec![(i % 150) as f64, ((i * 11) % 17) as f64]).collect();
        let names = vec!["a".to_string(), "b".to_string()];
        for cut in [40.0, 120.0] {
            let churned: Vec<bool> = rows.iter().map(|r| r[0] > cut).collect();
            let m = fit(&rows, &churned, 1.0, 200, None).unwrap();
            let lin = m.linear(&names);
            for (a, b) in lin.predict(&rows).iter().zip(m.predict(&rows)) {
                assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            }
        }
    }
}
