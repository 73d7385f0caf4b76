//! Level-wise Apriori: candidates of size k are joined from frequent (k-1)-itemsets that share
//! a prefix, pruned unless every (k-1)-subset is frequent, and counted by intersecting the
//! sorted basket-id lists (tid-lists) of their two parents. Pairs are counted in one pass over
//! the baskets into a triangular matrix. Prefix classes are mined in parallel.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use super::baskets::{Itemset, MineError, MineOptions, Prepared};

/// The baskets that hold an itemset: a sorted id list (sparse data) or a bitmap (dense data).
trait Cover: Clone + Send + Sync {
    fn of_items(p: &Prepared) -> Vec<Self>;
    /// `out` = self AND other; returns how many baskets that is.
    fn intersect(&self, other: &Self, out: &mut Self) -> u64;
    fn empty() -> Self;
}

impl Cover for Vec<u32> {
    fn of_items(p: &Prepared) -> Vec<Self> {
        let mut v: Vec<Vec<u32>> = p.item_counts.iter().map(|&c| Vec::with_capacity(c as usize)).collect();
        for (t, b) in p.baskets.iter().enumerate() {
            for &i in b {
                v[i as usize].push(t as u32);
            }
        }
        v
    }

    fn intersect(&self, b: &Self, out: &mut Self) -> u64 {
        out.clear();
        let (mut i, mut j) = (0, 0);
        while i < self.len() && j < b.len() {
            match self[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    out.push(self[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        out.len() as u64
    }

    fn empty() -> Self {
        vec![]
    }
}

#[derive(Clone)]
struct Bits(Vec<u64>);

impl Cover for Bits {
    fn of_items(p: &Prepared) -> Vec<Self> {
        let words = p.baskets.len().div_ceil(64);
        let mut v = vec![Bits(vec![0u64; words]); p.item_counts.len()];
        for (t, b) in p.baskets.iter().enumerate() {
            for &i in b {
                v[i as usize].0[t / 64] |= 1 << (t % 64);
            }
        }
        v
    }

    fn intersect(&self, b: &Self, out: &mut Self) -> u64 {
        out.0.clear();
        let mut n = 0u64;
        out.0.extend(self.0.iter().zip(&b.0).map(|(x, y)| {
            let w = x & y;
            n += w.count_ones() as u64;
            w
        }));
        n
    }

    fn empty() -> Self {
        Bits(vec![])
    }
}

/// Index of pair (i, j), i < j, in a triangular matrix over m items.
fn tri(i: usize, j: usize, m: usize) -> usize {
    i * (2 * m - i - 1) / 2 + (j - i - 1)
}

/// Frequent itemsets (dense ids, ascending within a set) with their counts.
pub fn apriori(p: &Prepared, opts: &MineOptions) -> Result<Vec<Itemset>, MineError> {
    // Bitmaps are faster while a basket-set bitmap stays small; id lists scale to millions.
    if p.baskets.len() <= 1 << 17 {
        apriori_with::<Bits>(p, opts)
    } else {
        apriori_with::<Vec<u32>>(p, opts)
    }
}

fn apriori_with<C: Cover>(p: &Prepared, opts: &MineOptions) -> Result<Vec<Itemset>, MineError> {
    let m = p.item_counts.len();
    let mc = p.min_count;
    let mut out: Vec<Itemset> =
        (0..m).map(|i| Itemset { items: vec![i as u32], count: p.item_counts[i] }).collect();
    if out.len() > opts.max_itemsets {
        return Err(MineError::TooMany { limit: opts.max_itemsets, min_support: opts.min_support, level: 1 });
    }
    if opts.max_len < 2 || m < 2 {
        return Ok(out);
    }
    let item_covers = C::of_items(p);

    // Level 2: count every pair in one pass over the baskets.
    let pairs = m * (m - 1) / 2;
    let counts: Vec<AtomicU32> = (0..pairs).map(|_| AtomicU32::new(0)).collect();
    p.baskets.par_chunks(4096).for_each(|chunk| {
        for b in chunk {
            for x in 0..b.len() {
                let i = b[x] as usize;
                for &j in &b[x + 1..] {
                    counts[tri(i, j as usize, m)].fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    let mut level: Vec<(Vec<u32>, C, u64)> = (0..m)
        .into_par_iter()
        .flat_map_iter(|i| {
            let counts = &counts;
            let covers = &item_covers;
            (i + 1..m).filter_map(move |j| {
                let c = counts[tri(i, j, m)].load(Ordering::Relaxed) as u64;
                (c >= mc).then(|| {
                    let mut t = C::empty();
                    covers[i].intersect(&covers[j], &mut t);
                    (vec![i as u32, j as u32], t, c)
                })
            })
        })
        .collect();
    drop(counts);
    drop(item_covers);
    level.sort_by(|a, b| a.0.cmp(&b.0));

    let mut k = 2;
    loop {
        out.extend(level.iter().map(|(items, _, n)| Itemset { items: items.clone(), count: *n }));
        if out.len() > opts.max_itemsets {
            return Err(MineError::TooMany { limit: opts.max_itemsets, min_support: opts.min_support, level: k });
        }
        if k >= opts.max_len || level.len() < 2 {
            break;
        }
        level = next_level(&level, mc);
        k += 1;
        if level.is_empty() {
            break;
        }
    }
    Ok(out)
}

/// Join, prune and count the candidates of the next level.
fn next_level<C: Cover>(level: &[(Vec<u32>, C, u64)], mc: u64) -> Vec<(Vec<u32>, C, u64)> {
    let k1 = level[0].0.len();
    let known: HashSet<&[u32]> = level.iter().map(|(s, _, _)| s.as_slice()).collect();
    // Prefix classes: runs of itemsets that share their first k1-1 items.
    let mut classes: Vec<(usize, usize)> = vec![];
    let mut start = 0;
    for i in 1..=level.len() {
        if i == level.len() || level[i].0[..k1 - 1] != level[start].0[..k1 - 1] {
            classes.push((start, i));
            start = i;
        }
    }
    let mut next: Vec<(Vec<u32>, C, u64)> = classes
        .par_iter()
        .flat_map_iter(|&(s, e)| {
            let known = &known;
            let mut found = vec![];
            let mut buf = C::empty();
            let mut cand = Vec::with_capacity(k1 + 1);
            let mut sub = Vec::with_capacity(k1);
            for i in s..e {
                for j in i + 1..e {
                    cand.clear();
                    cand.extend_from_slice(&level[i].0);
                    cand.push(level[j].0[k1 - 1]);
                    // Subset pruning: drop each item but the last two (those give the parents).
                    let all_frequent = (0..k1 - 1).all(|skip| {
                        sub.clear();
                        sub.extend(cand.iter().enumerate().filter(|&(x, _)| x != skip).map(|(_, &v)| v));
                        known.contains(sub.as_slice())
                    });
                    if !all_frequent {
                        continue;
                    }
                    let n = level[i].1.intersect(&level[j].1, &mut buf);
                    if n >= mc {
                        found.push((cand.clone(), buf.clone(), n));
                    }
                }
            }
            found.into_iter()
        })
        .collect();
    next.sort_by(|a, b| a.0.cmp(&b.0));
    next
}

#[cfg(test)]
mod tests {
    use super::super::baskets::{brute_force, prepare};
    use super::super::fpgrowth::fpgrowth;
    use super::*;
    use rand::{Rng, SeedableRng};

    fn opts(s: f64, max_len: usize) -> MineOptions {
        MineOptions { min_support: s, max_len, max_itemsets: 1_000_000 }
    }

    /// mlxtend's documentation example (Raschka): 5 baskets, min support 0.6.
    #[test]
    fn textbook_example() {
        let names = ["Apple", "Corn", "Dill", "Eggs", "Ice cream", "Kidney Beans", "Milk", "Nutmeg", "Onion", "Unicorn", "Yogurt"];
        let id = |n: &str| names.iter().position(|x| *x == n).unwrap() as u32;
        let rows: Vec<Vec<&str>> = vec![
            vec!["Milk", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"],
            vec!["Dill", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"],
            vec!["Milk", "Apple", "Kidney Beans", "Eggs"],
            vec!["Milk", "Unicorn", "Corn", "Kidney Beans", "Yogurt"],
            vec!["Corn", "Onion", "Onion", "Kidney Beans", "Ice cream", "Eggs"],
        ];
        let baskets: Vec<Vec<u32>> = rows.iter().map(|r| r.iter().map(|n| id(n)).collect()).collect();
        let o = opts(0.6, 10);
        let p = prepare(&baskets, &o).unwrap();
        let got = p.to_original(apriori(&p, &o).unwrap());
        let mut expected: Vec<(Vec<u32>, u64)> = vec![
            (vec![id("Eggs")], 4),
            (vec![id("Kidney Beans")], 5),
            (vec![id("Milk")], 3),
            (vec![id("Onion")], 3),
            (vec![id("Yogurt")], 3),
            (vec![id("Eggs"), id("Kidney Beans")], 4),
            (vec![id("Eggs"), id("Onion")], 3),
            (vec![id("Kidney Beans"), id("Milk")], 3),
            (vec![id("Kidney Beans"), id("Onion")], 3),
            (vec![id("Kidney Beans"), id("Yogurt")], 3),
            (vec![id("Eggs"), id("Kidney Beans"), id("Onion")], 3),
        ];
        for e in &mut expected {
            e.0.sort();
        }
        expected.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
        let got: Vec<(Vec<u32>, u64)> = got.into_iter().map(|s| (s.items, s.count)).collect();
        assert_eq!(got, expected);
    }

    /// Apriori = FP-growth = brute force on many random small basket sets.
    #[test]
    fn apriori_fpgrowth_and_brute_force_agree() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for case in 0..300 {
            let n_items = rng.gen_range(1..14);
            let n = rng.gen_range(0..60);
            let baskets: Vec<Vec<u32>> = (0..n)
                .map(|_| (0..rng.gen_range(0..8)).map(|_| rng.gen_range(0..n_items) * 3 + 5).collect())
                .collect();
            let o = opts([0.05, 0.1, 0.2, 0.34][case % 4], [2, 3, 10][case % 3]);
            let want = brute_force(&baskets, &o);
            let p = prepare(&baskets, &o).unwrap();
            let a = p.to_original(apriori(&p, &o).unwrap());
            let f = p.to_original(fpgrowth(&p, &o).unwrap());
            let t = p.to_original(apriori_with::<Vec<u32>>(&p, &o).unwrap());
            assert_eq!(t, want, "apriori with id lists, case {case}");
            assert_eq!(a, want, "apriori, case {case}");
            assert_eq!(f, want, "fpgrowth, case {case}");
        }
    }

    #[test]
    fn too_many_itemsets_is_an_error_not_an_explosion() {
        let baskets: Vec<Vec<u32>> = (0..50).map(|_| (0..20).collect()).collect();
        let o = MineOptions { min_support: 0.5, max_len: 20, max_itemsets: 10_000 };
        let p = prepare(&baskets, &o).unwrap();
        assert!(matches!(apriori(&p, &o), Err(MineError::TooMany { .. })));
        assert!(matches!(fpgrowth(&p, &o), Err(MineError::TooMany { .. })));
    }
}
