//! What every forecasting model is: the trait, its fitted forecast and its error, and the
//! backtest loop the state-space models share.

use super::calendar::Calendar;

#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error("{model}: {reason}")]
    Model { model: &'static str, reason: String },
}

impl ForecastError {
    pub fn model(model: &'static str, reason: impl Into<String>) -> ForecastError {
        ForecastError::Model { model, reason: reason.into() }
    }
}

/// A model fitted to `y` (periods 0..n of `cal`) and its point forecast of the next `h` periods.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub point: Vec<f64>,
    /// What was fitted, for a person: "ETS(M,Ad,M)", "trend+season+3 peaks" ...
    pub spec: String,
    /// The model's own standard deviation of each forecast period, where it has one (the
    /// state-space models: ETS and ARIMA).
    pub sd: Option<Vec<f64>>,
}

/// A forecasting model. `Hint` carries what a model learned on an earlier fold of the same
/// series (ETS keeps its variant), so a backtest does not redo a model search per fold.
pub trait Model: Send + Sync {
    fn name(&self) -> &'static str;
    fn fit_predict(&self, y: &[f64], cal: &Calendar, h: usize, hint: Option<&str>) -> Result<Fitted, ForecastError>;

    /// A backtest's forecasts, one per origin (fitted on `y[..origin]`), and the first one's
    /// spec: the first window searches, the later ones refit its variant.
    fn backtest(&self, y: &[f64], cal: &Calendar, origins: &[usize], h: usize) -> Result<(Vec<Fitted>, String), ForecastError> {
        let mut out: Vec<Fitted> = vec![];
        for &origin in origins {
            let hint = out.first().map(|f| f.spec.clone());
            out.push(self.fit_predict(&y[..origin], cal, h, hint.as_deref())?);
        }
        let spec = out.first().map(|f| f.spec.clone()).unwrap_or_default();
        Ok((out, spec))
    }
}

/// A backtest whose first window searches (`search`) and whose later windows run that fitted
/// model over their longer history (`refilter`) instead of fitting again: still out of sample,
/// at one search per series. A window the model does not run over refits the first one's
/// variant (`refit`, given the history and the spec).
pub(super) fn backtest_refiltered<T>(
    y: &[f64],
    origins: &[usize],
    h: usize,
    search: impl Fn(&[f64]) -> Result<T, ForecastError>,
    refilter: impl Fn(&T, &[f64]) -> Result<T, ForecastError>,
    fitted: impl Fn(&T, usize) -> Result<Fitted, ForecastError>,
    refit: impl Fn(&[f64], &str) -> Result<Fitted, ForecastError>,
) -> Result<(Vec<Fitted>, String), ForecastError> {
    let Some((&first, later)) = origins.split_first() else { return Ok((vec![], String::new())) };
    let fit = search(&y[..first])?;
    let head = fitted(&fit, h)?;
    let spec = head.spec.clone();
    let mut out = vec![head];
    for &origin in later {
        let next = match refilter(&fit, &y[..origin]) {
            Ok(f) => fitted(&f, h)?,
            Err(_) => refit(&y[..origin], &spec)?,
        };
        out.push(next);
    }
    Ok((out, spec))
}
