//! Association rules from frequent itemsets, with the metrics of mlxtend's
//! `association_rules`: every split of a frequent itemset into antecedent and consequent.

use std::collections::HashMap;

use rayon::prelude::*;

use super::baskets::Itemset;

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub antecedent: Vec<u32>,
    pub consequent: Vec<u32>,
    pub antecedent_support: f64,
    pub consequent_support: f64,
    pub support: f64,
    pub confidence: f64,
    pub lift: f64,
    pub leverage: f64,
    /// Infinite when confidence is 1.
    pub conviction: f64,
    pub zhangs_metric: f64,
    /// Baskets holding antecedent and consequent.
    pub count: u64,
}

#[derive(Debug, Clone)]
pub struct RuleOptions {
    pub min_confidence: f64,
    pub min_lift: f64,
}

/// All rules of the itemsets (items sorted within each set) that pass the thresholds, sorted
/// by lift, then confidence, then items.
pub fn rules(itemsets: &[Itemset], n_baskets: u64, opts: &RuleOptions) -> Vec<Rule> {
    let n = n_baskets as f64;
    let count: HashMap<&[u32], u64, foldhash::fast::RandomState> = itemsets.iter().map(|s| (s.items.as_slice(), s.count)).collect();
    let counted = |items: &[u32]| count.get(items).copied();
    let mut out: Vec<Rule> = itemsets
        .par_iter()
        .filter(|s| s.items.len() >= 2)
        .flat_map_iter(|s| {
            let k = s.items.len();
            let full = (1u32 << k) - 1;
            let s_ac = s.count as f64 / n;
            let mut found = vec![];
            let (mut a, mut c) = (Vec::with_capacity(k), Vec::with_capacity(k));
            // Consequents as position masks, each grown only by positions above its highest, so
            // every split is reached once. Moving an item to the consequent cannot raise the
            // confidence (the antecedent's count can only grow), so a consequent that fails
            // min_confidence is not grown.
            let mut todo: Vec<u32> = (0..k).map(|p| 1u32 << p).collect();
            while let Some(mask) = todo.pop() {
                if mask == full {
                    continue;
                }
                a.clear();
                c.clear();
                for (i, &item) in s.items.iter().enumerate() {
                    if mask & (1 << i) != 0 {
                        c.push(item)
                    } else {
                        a.push(item)
                    }
                }
                // Every subset of a frequent itemset is frequent, so both parts are known (if
                // not, the split is skipped but still grown).
                let n_a = counted(&a);
                // From counts, not from rounded supports: 16 of 20 baskets is exactly 0.8.
                let confidence = n_a.map(|n_a| s.count as f64 / n_a as f64);
                if confidence.is_some_and(|x| x < opts.min_confidence) {
                    continue;
                }
                let top = 32 - mask.leading_zeros() as usize;
                todo.extend((top..k).map(|p| mask | (1 << p)));
                let (Some(n_a), Some(confidence), Some(n_c)) = (n_a, confidence, counted(&c)) else { continue };
                let (s_a, s_c) = (n_a as f64 / n, n_c as f64 / n);
                let lift = confidence / s_c;
                if lift < opts.min_lift {
                    continue;
                }
                let leverage = s_ac - s_a * s_c;
                let conviction = if confidence < 1.0 { (1.0 - s_c) / (1.0 - confidence) } else { f64::INFINITY };
                let denominator = f64::max(s_ac * (1.0 - s_a), s_a * (s_c - s_ac));
                let zhangs_metric = if denominator == 0.0 { 0.0 } else { leverage / denominator };
                found.push(Rule {
                    antecedent: a.clone(),
                    consequent: c.clone(),
                    antecedent_support: s_a,
                    consequent_support: s_c,
                    support: s_ac,
                    confidence,
                    lift,
                    leverage,
                    conviction,
                    zhangs_metric,
                    count: s.count,
                });
            }
            found.into_iter()
        })
        .collect();
    out.sort_by(rule_order);
    out
}

/// Output order: lift, then confidence (both descending), then items.
fn rule_order(x: &Rule, y: &Rule) -> std::cmp::Ordering {
    y.lift
        .total_cmp(&x.lift)
        .then(y.confidence.total_cmp(&x.confidence))
        .then_with(|| x.antecedent.cmp(&y.antecedent))
        .then_with(|| x.consequent.cmp(&y.consequent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_of_a_known_rule() {
        // 10 baskets: A in 5, B in 4, A and B together in 3.
        let sets = vec![Itemset { items: vec![1], count: 5 }, Itemset { items: vec![2], count: 4 }, Itemset { items: vec![1, 2], count: 3 }];
        let r = rules(&sets, 10, &RuleOptions { min_confidence: 0.0, min_lift: 0.0 });
        assert_eq!(r.len(), 2);
        let ab = r.iter().find(|r| r.antecedent == vec![1]).unwrap();
        assert!((ab.confidence - 0.6).abs() < 1e-12);
        assert!((ab.lift - 1.5).abs() < 1e-12);
        assert!((ab.leverage - 0.1).abs() < 1e-12);
        assert!((ab.conviction - 1.5).abs() < 1e-12);
        // Zhang: 0.1 / max(0.3 * 0.5, 0.5 * (0.4 - 0.3)) = 0.1 / 0.15
        assert!((ab.zhangs_metric - 0.1 / 0.15).abs() < 1e-12);
        let strict = rules(&sets, 10, &RuleOptions { min_confidence: 0.7, min_lift: 1.0 });
        assert_eq!(strict.len(), 1);
        assert_eq!(strict[0].antecedent, vec![2]);
    }

    /// Every split of every itemset, no pruning: what `rules` must return.
    fn all_splits(itemsets: &[Itemset], n: u64, opts: &RuleOptions) -> Vec<Rule> {
        let mut all = vec![];
        for s in itemsets.iter().filter(|s| s.items.len() >= 2) {
            let k = s.items.len();
            for mask in 1u32..(1 << k) - 1 {
                let pick = |inside: bool| -> Vec<u32> { (0..k).filter(|&i| (mask & (1 << i) != 0) == inside).map(|i| s.items[i]).collect() };
                let (a, c) = (pick(false), pick(true));
                let one = [a.clone(), c.clone(), s.items.clone()].map(|x| itemsets.iter().find(|t| t.items == x).map(|t| t.count).unwrap());
                let sets = vec![
                    Itemset { items: a.clone(), count: one[0] },
                    Itemset { items: c.clone(), count: one[1] },
                    Itemset { items: s.items.clone(), count: one[2] },
                ];
                all.extend(
                    rules(&sets, n, &RuleOptions { min_confidence: 0.0, min_lift: 0.0 })
                        .into_iter()
                        .filter(|r| r.antecedent == a && r.confidence >= opts.min_confidence && r.lift >= opts.min_lift),
                );
            }
        }
        all.sort_by(rule_order);
        all
    }

    /// The confidence pruning of consequents loses no rule: same rules as every split.
    #[test]
    fn pruned_rules_equal_every_split() {
        use super::super::baskets::{brute_force, MineOptions};
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for case in 0..60 {
            let baskets: Vec<Vec<u32>> = (0..40).map(|_| (0..rng.gen_range(1..7)).map(|_| rng.gen_range(0..8)).collect()).collect();
            let sets = brute_force(&baskets, &MineOptions { min_support: 0.1, max_len: 5, max_itemsets: usize::MAX });
            let o = RuleOptions { min_confidence: [0.0, 0.3, 0.6, 0.9][case % 4], min_lift: [0.0, 1.2][case % 2] };
            assert_eq!(rules(&sets, 40, &o), all_splits(&sets, 40, &o), "case {case}");
        }
    }

    #[test]
    fn certain_rules_have_infinite_conviction() {
        let sets = vec![Itemset { items: vec![1], count: 2 }, Itemset { items: vec![2], count: 4 }, Itemset { items: vec![1, 2], count: 2 }];
        let r = rules(&sets, 4, &RuleOptions { min_confidence: 1.0, min_lift: 0.0 });
        assert_eq!(r.len(), 1);
        assert!(r[0].conviction.is_infinite());
    }
}
