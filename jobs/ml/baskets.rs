//! Baskets prepared for frequent-itemset mining: items recoded to dense ids by descending
//! frequency, infrequent items removed, and the support threshold fixed as a count.

use std::collections::HashMap;

use rayon::prelude::*;

/// A frequent itemset: item ids (dense, ascending) and the number of baskets holding it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Itemset {
    pub items: Vec<u32>,
    pub count: u64,
}

/// Mining settings.
#[derive(Debug, Clone)]
pub struct MineOptions {
    /// An itemset is frequent when count / baskets >= min_support.
    pub min_support: f64,
    /// Most items in an itemset (so in a rule, antecedent and consequent together).
    pub max_len: usize,
    /// Stop with an error beyond this many frequent itemsets, instead of exhausting memory.
    pub max_itemsets: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MineError {
    #[error("min_support must be in (0, 1], got {0}")]
    BadSupport(f64),
    #[error(
        "{items} items are frequent at min_support {min_support}: counting their pairs would need \
         {gib:.1} GiB; raise min_support or count categories (level = \"category\")"
    )]
    TooManyItems { items: usize, min_support: f64, gib: f64 },
    #[error(
        "more than {limit} frequent itemsets at min_support {min_support} (reached level {level}): \
         raise min_support, lower max_len, or raise max_itemsets if the memory is there"
    )]
    TooMany { limit: usize, min_support: f64, level: usize },
}

/// Baskets over dense item ids `0..n_items`, most frequent item first.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Number of baskets, empty ones included (the support denominator).
    pub n_baskets: u64,
    /// Smallest count that is frequent.
    pub min_count: u64,
    /// Dense id -> original id.
    pub original: Vec<u32>,
    /// Count of each dense item.
    pub item_counts: Vec<u64>,
    /// Baskets with only frequent items, as sorted dense ids.
    pub baskets: Vec<Vec<u32>>,
}

/// The smallest count c with c / n >= min_support, using the same float test as mlxtend.
pub fn min_count(n: u64, min_support: f64) -> u64 {
    if n == 0 {
        return 1;
    }
    let mut c = (min_support * n as f64).floor().max(0.0) as u64;
    while c > 0 && (c - 1) as f64 / n as f64 >= min_support {
        c -= 1;
    }
    while (c as f64 / n as f64) < min_support {
        c += 1;
    }
    c.max(1)
}

/// Most frequent first; ties by original id, so results do not depend on hashing.
fn sort_by_frequency(items: &mut [(u32, u64)]) {
    items.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
}

/// Recode baskets (of any u32 ids, duplicates allowed) for mining.
pub fn prepare(baskets: &[Vec<u32>], opts: &MineOptions) -> Result<Prepared, MineError> {
    if !(opts.min_support > 0.0 && opts.min_support <= 1.0) {
        return Err(MineError::BadSupport(opts.min_support));
    }
    let n = baskets.len() as u64;
    let mc = min_count(n, opts.min_support);
    // Ids from a dictionary are small: count in arrays then; any other ids go through a map.
    let total: usize = baskets.iter().map(Vec::len).sum();
    let max_id = baskets.iter().flatten().max().map_or(0, |&x| x as usize);
    let mut frequent: Vec<(u32, u64)>;
    let dense: Box<dyn Fn(u32) -> Option<u32> + Sync + Send>;
    if max_id <= 2 * total + 65_536 {
        let mut counts = vec![0u64; max_id + 1];
        // The last basket that counted each item: duplicates within a basket count once.
        let mut last = vec![usize::MAX; max_id + 1];
        for (t, b) in baskets.iter().enumerate() {
            for &i in b {
                if last[i as usize] != t {
                    last[i as usize] = t;
                    counts[i as usize] += 1;
                }
            }
        }
        frequent = (0..=max_id as u32).zip(counts).filter(|&(_, c)| c >= mc).collect();
        sort_by_frequency(&mut frequent);
        let mut map = vec![u32::MAX; max_id + 1];
        for (d, &(o, _)) in frequent.iter().enumerate() {
            map[o as usize] = d as u32;
        }
        dense = Box::new(move |i| Some(map[i as usize]).filter(|&d| d != u32::MAX));
    } else {
        let mut counts: HashMap<u32, u64, foldhash::fast::RandomState> = Default::default();
        let mut seen: Vec<u32> = vec![];
        for b in baskets {
            seen.clear();
            seen.extend_from_slice(b);
            seen.sort_unstable();
            seen.dedup();
            for &i in &seen {
                *counts.entry(i).or_default() += 1;
            }
        }
        frequent = counts.into_iter().filter(|&(_, c)| c >= mc).collect();
        sort_by_frequency(&mut frequent);
        let map: HashMap<u32, u32, foldhash::fast::RandomState> = frequent.iter().enumerate().map(|(d, &(o, _))| (o, d as u32)).collect();
        dense = Box::new(move |i| map.get(&i).copied());
    }
    let recoded = baskets
        .par_iter()
        .map(|b| {
            let mut v: Vec<u32> = b.iter().filter_map(|&i| dense(i)).collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .filter(|v| !v.is_empty())
        .collect();
    Ok(Prepared {
        n_baskets: n,
        min_count: mc,
        original: frequent.iter().map(|&(o, _)| o).collect(),
        item_counts: frequent.iter().map(|&(_, c)| c).collect(),
        baskets: recoded,
    })
}

impl Prepared {
    /// Itemsets back in original ids (sorted), in a canonical order.
    pub fn to_original(&self, sets: Vec<Itemset>) -> Vec<Itemset> {
        let mut out = sets;
        out.par_iter_mut().for_each(|s| {
            for d in s.items.iter_mut() {
                *d = self.original[*d as usize];
            }
            s.items.sort_unstable();
        });
        // Itemsets are distinct, so an unstable sort is deterministic.
        out.par_sort_unstable_by(|a, b| a.items.len().cmp(&b.items.len()).then_with(|| a.items.cmp(&b.items)));
        out
    }
}

/// Every itemset of up to `max_len` items by brute force (tests only: exponential).
pub fn brute_force(baskets: &[Vec<u32>], opts: &MineOptions) -> Vec<Itemset> {
    let n = baskets.len() as u64;
    let mc = min_count(n, opts.min_support);
    let mut counts: HashMap<Vec<u32>, u64> = HashMap::new();
    for b in baskets {
        let mut items = b.clone();
        items.sort_unstable();
        items.dedup();
        let k = items.len();
        for mask in 1u64..(1u64 << k) {
            if (mask.count_ones() as usize) > opts.max_len {
                continue;
            }
            let s: Vec<u32> = (0..k).filter(|i| mask & (1 << i) != 0).map(|i| items[i]).collect();
            *counts.entry(s).or_default() += 1;
        }
    }
    let mut out: Vec<Itemset> = counts.into_iter().filter(|(_, c)| *c >= mc).map(|(items, count)| Itemset { items, count }).collect();
    out.sort_by(|a, b| a.items.len().cmp(&b.items.len()).then_with(|| a.items.cmp(&b.items)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_count_matches_the_float_test() {
        for n in [1u64, 7, 100, 9835, 1_000_003] {
            for s in [0.001, 0.01, 0.1, 0.3, 1.0 / 3.0, 0.5, 1.0] {
                let c = min_count(n, s);
                assert!(c as f64 / n as f64 >= s || c == n.max(1));
                if c > 1 {
                    assert!(((c - 1) as f64 / n as f64) < s, "n={n} s={s} c={c}");
                }
            }
        }
    }

    #[test]
    fn prepare_recodes_by_frequency_and_drops_rare_items() {
        let b = vec![vec![10, 20, 30], vec![20, 30], vec![30, 40, 30], vec![50]];
        let p = prepare(&b, &MineOptions { min_support: 0.5, max_len: 5, max_itemsets: 100 }).unwrap();
        assert_eq!(p.original, vec![30, 20]);
        assert_eq!(p.item_counts, vec![3, 2]);
        assert_eq!(p.n_baskets, 4);
        assert_eq!(p.baskets, vec![vec![0, 1], vec![0, 1], vec![0]]);
    }
}
