//! Sales forecasting with no I/O: candidate models (seasonal naive, Croston-SBA for
//! intermittent sales, ETS chosen by AICc, a regression on trend, season and retail peaks, the
//! mean of the last two), rolling-origin backtests, the choice of model per series by MASE,
//! and 80%/95% intervals from backtest errors.

pub mod backtest;
pub mod calendar;
pub mod croston;
pub mod ets;
pub mod naive;
pub mod optim;
pub mod regression;
pub mod theta;

pub use backtest::{forecast_chosen, forecast_series, BacktestOptions, Bands, ModelScore, SeriesForecast, COMBINATION};
pub use calendar::{Calendar, Grain};

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
}

/// A forecasting model. `Hint` carries what a model learned on an earlier fold of the same
/// series (ETS keeps its variant), so a backtest does not redo a model search per fold.
pub trait Model: Send + Sync {
    fn name(&self) -> &'static str;
    fn fit_predict(&self, y: &[f64], cal: &Calendar, h: usize, hint: Option<&str>) -> Result<Fitted, ForecastError>;
}

/// The models a setting can name, in order of preference on ties (simplest first).
pub const MODEL_NAMES: [&str; 4] = ["seasonal_naive", "croston", "regression", "ets"];

/// The candidate models, in order of preference on ties (simplest first).
pub fn default_models() -> Vec<Box<dyn Model>> {
    vec![Box::new(naive::SeasonalNaive), Box::new(croston::Croston), Box::new(regression::Regression), Box::new(ets::Ets)]
}

/// The named models (seasonal naive is always one: it is the fallback for short series).
/// With both ets and regression, their combination is scored too.
pub fn models_named(names: &[String]) -> Result<Vec<Box<dyn Model>>, String> {
    if let Some(bad) = names.iter().find(|n| !MODEL_NAMES.contains(&n.as_str())) {
        return Err(format!("unknown model '{bad}': use {}", MODEL_NAMES.join(", ")));
    }
    Ok(default_models().into_iter().filter(|m| m.name() == "seasonal_naive" || names.iter().any(|n| n == m.name())).collect())
}
