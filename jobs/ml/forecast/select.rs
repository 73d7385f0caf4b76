//! Which backtested candidate forecasts a series. A few backtest windows are noisy: the lowest
//! error among many candidates is often a lucky window, and averaging forecasts is less risky
//! than picking one (Hibon & Evgeniou 2005; the combinations among M4's strongest methods). So
//! by default a combination forecasts unless one candidate beats it clearly and consistently.

/// Equal-weight combinations scored next to the single models: `+`-joined members, each the
/// mean of its members' forecasts. The first one whose members all fit is the robust rule's
/// base; `ets+regression` is kept for choices stored by earlier versions.
pub const COMBINATIONS: [&str; 4] = ["ets+theta+arima", "ets+arima", "ets+theta", "ets+regression"];

/// The members of a combination; None for a single model.
pub fn members(name: &str) -> Option<Vec<&str>> {
    name.contains('+').then(|| name.split('+').collect())
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Selection {
    /// The lowest backtest error (MASE; ties go to the simpler model).
    Lowest,
    /// The base combination, unless another candidate's backtest MASE is lower by more than
    /// `margin` (a share) and it is also lower in most of the windows.
    Robust { margin: f64 },
}

impl Selection {
    pub const DEFAULT: Selection = Selection::Robust { margin: 0.05 };

    pub fn parse(s: &str, margin: f64) -> Option<Selection> {
        match s {
            "lowest" => Some(Selection::Lowest),
            "robust" => Some(Selection::Robust { margin }),
            _ => None,
        }
    }
}

/// One scored candidate: its error over all windows (None when unscored) and per window.
pub struct Candidate<'a> {
    pub name: &'a str,
    pub key: Option<f64>,
    pub folds: Vec<Option<f64>>,
}

/// The lowest scored candidate, leaving out the one named `skip`.
fn lowest(c: &[Candidate], skip: Option<&str>) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, x) in c.iter().enumerate() {
        let Some(k) = x.key.filter(|_| Some(x.name) != skip) else { continue };
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

/// The index of the candidate to forecast with.
pub fn choose(c: &[Candidate], rule: Selection) -> Option<usize> {
    let first = lowest(c, None)?;
    let Selection::Robust { margin } = rule else { return Some(first) };
    let base = COMBINATIONS.iter().chain(["ets"].iter()).find_map(|b| c.iter().position(|x| x.name == *b && x.key.is_some()));
    let Some(base) = base else { return Some(first) };
    let best = lowest(c, Some(BENCHMARK)).unwrap_or(base);
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
    fn the_combination_stands_unless_beaten_clearly_and_consistently() {
        let rule = Selection::Robust { margin: 0.05 };
        // One lucky window: lower on average, but only in one of three windows.
        let lucky = [cand("regression", 0.80, &[0.3, 1.1, 1.0]), cand("ets", 0.95, &[0.9, 1.0, 0.95]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&lucky, rule), Some(2));
        assert_eq!(choose(&lucky, Selection::Lowest), Some(0));
        // Seasonal naive is the benchmark, not a challenger.
        let naive = [cand("seasonal_naive", 0.50, &[0.5, 0.5, 0.5]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&naive, rule), Some(1));
        assert_eq!(choose(&naive, Selection::Lowest), Some(0));
        // Lower by more than the margin in most windows: chosen.
        let clear = [cand("regression", 0.70, &[0.6, 0.7, 0.8]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&clear, rule), Some(0));
        // Lower in every window but within the margin: the combination stays.
        let close = [cand("theta", 0.88, &[0.88, 0.88, 0.88]), cand("ets+theta", 0.90, &[0.9, 0.9, 0.9])];
        assert_eq!(choose(&close, rule), Some(1));
        // No combination scored: ETS is the base.
        let single = [cand("theta", 0.89, &[0.89]), cand("ets", 0.90, &[0.9])];
        assert_eq!(choose(&single, rule), Some(1));
        assert_eq!(members("ets+theta"), Some(vec!["ets", "theta"]));
        assert_eq!(members("ets"), None);
    }
}
