//! Sales forecasting with no I/O: candidate models (seasonal naive, Croston-SBA for
//! intermittent sales, Theta as AutoTheta fits it, ETS chosen by AICc, a regression on trend,
//! season and retail peaks, and equal-weight combinations of them), rolling-origin backtests,
//! the choice of model per series, and 80%/95% intervals from backtest errors.

pub mod arima;
pub mod backtest;
pub mod calendar;
pub mod croston;
pub mod ets;
pub mod ets_auto;
pub mod model;
pub mod naive;
pub mod optim;
pub mod regression;
pub mod select;
pub mod theta;

pub use backtest::{forecast_chosen, forecast_series, BacktestOptions, Bands, ModelScore, SeriesForecast};
pub use calendar::{Calendar, Grain};
pub use model::{Fitted, ForecastError, Model};
pub use select::{Selection, COMBINATIONS};

/// The models a setting can name, in order of preference on ties (simplest first).
pub const MODEL_NAMES: [&str; 6] = ["seasonal_naive", "croston", "theta", "regression", "arima", "ets"];

/// The candidate models, in order of preference on ties (simplest first).
pub fn default_models() -> Vec<Box<dyn Model>> {
    vec![
        Box::new(naive::SeasonalNaive),
        Box::new(croston::Croston),
        Box::new(theta::Theta),
        Box::new(regression::Regression),
        Box::new(arima::Arima),
        Box::new(ets::Ets),
    ]
}

/// The static name of a model or combination a stored choice names, if it still exists.
pub fn known_model(name: &str) -> Option<&'static str> {
    MODEL_NAMES.iter().chain(COMBINATIONS.iter()).copied().find(|m| *m == name)
}

/// The named models (seasonal naive is always one: it is the fallback for short series).
/// The combinations of named models are scored too.
pub fn models_named(names: &[String]) -> Result<Vec<Box<dyn Model>>, String> {
    if let Some(bad) = names.iter().find(|n| !MODEL_NAMES.contains(&n.as_str())) {
        return Err(format!("unknown model '{bad}': use {}", MODEL_NAMES.join(", ")));
    }
    Ok(default_models().into_iter().filter(|m| m.name() == "seasonal_naive" || names.iter().any(|n| n == m.name())).collect())
}
