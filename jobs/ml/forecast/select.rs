//! Which backtested candidate forecasts a series. A few backtest windows are noisy: the lowest
//! error among many candidates is often a lucky window, and averaging forecasts is less risky
//! than picking one (Hibon & Evgeniou 2005; the combinations among M4's strongest methods). So
//! by default a series is forecast by the mean of models that did best in its backtest; a
//! single model only stands alone where no mean could be scored, or where it belongs to no
//! mean (Croston's method, for intermittent sales) and beats them clearly and consistently.

/// Equal-weight combinations scored next to the single models: `+`-joined members, each the
/// mean of its members' forecasts. Under the robust rule they are what is chosen from.
pub const COMBINATIONS: [&str; 4] = ["ets+theta+arima", "ets+arima", "ets+theta", "ets+regression"];

/// The members of a combination; None for a single model.
pub fn members(name: &str) -> Option<Vec<&str>> {
    name.contains('+').then(|| name.split('+').collect())
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Selection {
    /// The lowest backtest error (MASE; ties go to the simpler model).
    Lowest,
    /// The combination with the lowest backtest MASE, unless a model that is in no combination
    /// has a MASE lower by more than `margin` (a share) and is also lower in most windows.
    Robust { margin: f64 },
    /// This candidate (a model or a combination) wherever it could be scored; elsewhere the
    /// robust rule.
    Fixed(&'static str),
}

impl Selection {
    pub const DEFAULT_MARGIN: f64 = 0.05;
    pub const DEFAULT: Selection = Selection::Robust { margin: Selection::DEFAULT_MARGIN };

    pub fn parse(s: &str, margin: f64) -> Option<Selection> {
        match s {
            "lowest" => Some(Selection::Lowest),
            "robust" => Some(Selection::Robust { margin }),
            other => super::known_model(other).map(Selection::Fixed),
        }
    }
}

/// One scored candidate: its error over all windows (None when unscored) and per window.
pub struct Candidate<'a> {
    pub name: &'a str,
    pub key: Option<f64>,
    pub folds: Vec<Option<f64>>,
}

/// The lowest scored candidate among those `keep` accepts.
fn lowest(c: &[Candidate], keep: impl Fn(&str) -> bool) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, x) in c.iter().enumerate() {
        let Some(k) = x.key.filter(|_| keep(x.name)) else { continue };
        // Candidates come simplest first: a tie keeps the earlier one.
        if best.and_then(|b| c[b].key).is_none_or(|bk| k < bk) {
            best = Some(i);
        }
    }
    best
}

/// Seasonal naive is the benchmark every model must beat and the fallback for short
/// histories; under the robust rule it does not challenge a fitted model (a few windows where
/// repeating last season happened to fit were its wins; on the public daily series it then
/// missed whole holiday months).
const BENCHMARK: &str = "seasonal_naive";

/// Whether `name` is a member of some combination.
fn in_a_combination(name: &str) -> bool {
    COMBINATIONS.iter().any(|c| c.split('+').any(|m| m == name))
}

/// The index of the candidate to forecast with.
pub fn choose(c: &[Candidate], rule: Selection) -> Option<usize> {
    let first = lowest(c, |_| true)?;
    let scored = |name: &str| c.iter().position(|x| x.name == name && x.key.is_some());
    let margin = match rule {
        Selection::Lowest => return Some(first),
        Selection::Fixed(name) if scored(name).is_some() => return scored(name),
        Selection::Fixed(_) => Selection::DEFAULT_MARGIN,
        Selection::Robust { margin } => margin,
    };
    // Where no mean could be scored (a member failed), ETS, else the lowest.
    let base = lowest(c, |n| members(n).is_some()).or_else(|| scored("ets"));
    let Some(base) = base else { return Some(first) };
    // A model in some mean already counts there: only the others challenge it.
    let Some(best) = lowest(c, |n| n != BENCHMARK && members(n).is_none() && !in_a_combination(n)) else { return Some(base) };
    let (bk, ck) = (c[base].key.unwrap_or(f64::INFINITY), c[best].key.unwrap_or(f64::INFINITY));
    let pairs: Vec<(f64, f64)> = c[best].folds.iter().zip(&c[base].folds).filter_map(|(a, b)| Some(((*a)?, (*b)?))).collect();
    let wins = pairs.iter().filter(|(a, b)| a < b).count();
    if ck < bk * (1.0 - margin) && 2 * wins > pairs.len() {
        Some(best)
    } else {
        Some(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(name: &str, key: f64, folds: &[f64]) -> Candidate<'static> {
        Candidate { name: Box::leak(name.to_string().into_boxed_str()), key: Some(key), folds: folds.iter().map(|v| Some(*v)).collect() }
    }

    #[test]
    fn the_best_mean_stands_unless_an_outsider_beats_it_clearly_and_consistently() {
        let rule = Selection::Robust { margin: 0.05 };
        // Single models in a mean do not stand alone, however low their backtest error.
        let lucky = [cand("regression", 0.70, &[0.6, 0.7, 0.8]), cand("ets", 0.85, &[0.9, 0.8, 0.85]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&lucky, rule), Some(2));
        assert_eq!(choose(&lucky, Selection::Lowest), Some(0));
        // The lowest of the means; a tie keeps the earlier.
        let means = [cand("ets+theta+arima", 0.95, &[0.9, 1.0, 0.95]), cand("ets+arima", 0.90, &[0.9, 0.9, 0.9]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&means, rule), Some(1));
        // Seasonal naive is the benchmark, not a challenger.
        let naive = [cand("seasonal_naive", 0.50, &[0.5, 0.5, 0.5]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&naive, rule), Some(1));
        assert_eq!(choose(&naive, Selection::Lowest), Some(0));
        // Croston, in no mean, lower by more than the margin in most windows: chosen.
        let clear = [cand("croston", 0.70, &[0.6, 0.7, 0.8]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&clear, rule), Some(0));
        // One lucky window: lower on average, but only in one of three windows.
        let once = [cand("croston", 0.80, &[0.3, 1.1, 1.0]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&once, rule), Some(1));
        // Lower in every window but within the margin: the mean stays.
        let close = [cand("croston", 0.88, &[0.88, 0.88, 0.88]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&close, rule), Some(1));
        // No mean scored: ETS.
        let single = [cand("theta", 0.89, &[0.89]), cand("ets", 0.90, &[0.9])];
        assert_eq!(choose(&single, rule), Some(1));
        // A fixed choice wherever it scored; elsewhere the robust rule.
        assert_eq!(choose(&lucky, Selection::Fixed("ets")), Some(1));
        assert_eq!(choose(&single, Selection::Fixed("ets+theta")), Some(1));
        assert_eq!(Selection::parse("ets+theta+arima", 0.05), Some(Selection::Fixed("ets+theta+arima")));
        assert_eq!(Selection::parse("prophet", 0.05), None);
        assert_eq!(members("ets+theta"), Some(vec!["ets", "theta"]));
        assert_eq!(members("ets"), None);
    }
}
