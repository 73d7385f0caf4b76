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
    /// `out` = self AND other; returns how many baskets that is. May stop early, returning
    /// less than `need` with `out` incomplete, once `need` is out of reach.
    fn intersect(&self, other: &Self, out: &mut Self, need: u64) -> u64;
    fn empty() -> Self;
    /// This cover as a bitmap over `words` 64-bit words.
    fn bitmap(&self, words: usize) -> Vec<u64>;
    /// `out` = other AND the bitmap of a cover; same early stop as `intersect`.
    fn intersect_bitmap(other: &Self, bits: &[u64], out: &mut Self, need: u64) -> u64;
}

fn tids_bitmap(t: &[u32], words: usize) -> Vec<u64> {
    let mut b = vec![0u64; words];
    for &x in t {
        b[x as usize / 64] |= 1 << (x % 64);
    }
    b
}

/// The id-list buffer of a Hybrid output, reused when it has one.
fn take_tids(out: &mut Hybrid) -> Vec<u32> {
    match std::mem::replace(out, Hybrid::Tids(vec![])) {
        Hybrid::Tids(v) => v,
        Hybrid::Bits(_) => Vec::new(),
    }
}

/// Keep the ids of `t` whose bit is set; stop once `need` is out of reach.
fn filter_tids(t: &[u32], bits: &[u64], v: &mut Vec<u32>, need: u64) -> u64 {
    v.clear();
    for (k, &x) in t.iter().enumerate() {
        if ((v.len() + t.len() - k) as u64) < need {
            break;
        }
        if bits[x as usize / 64] & (1 << (x % 64)) != 0 {
            v.push(x);
        }
    }
    v.len() as u64
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

    fn intersect(&self, b: &Self, out: &mut Self, need: u64) -> u64 {
        out.clear();
        let (mut i, mut j) = (0, 0);
        while i < self.len() && j < b.len() {
            if ((out.len() + (self.len() - i).min(b.len() - j)) as u64) < need {
                return out.len() as u64;
            }
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

    fn bitmap(&self, words: usize) -> Vec<u64> {
        tids_bitmap(self, words)
    }

    fn intersect_bitmap(other: &Self, bits: &[u64], out: &mut Self, need: u64) -> u64 {
        filter_tids(other, bits, out, need)
    }
}

#[derive(Clone)]
#[cfg_attr(not(test), allow(dead_code))] // the plain bitmap cover, kept as a tested reference
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

    fn intersect(&self, b: &Self, out: &mut Self, _need: u64) -> u64 {
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

    fn bitmap(&self, _words: usize) -> Vec<u64> {
        self.0.clone()
    }

    fn intersect_bitmap(other: &Self, bits: &[u64], out: &mut Self, need: u64) -> u64 {
        other.intersect(&Bits(bits.to_vec()), out, need)
    }
}

/// A cover kept as a bitmap when dense (more than 1 basket in 32) and as an id list when
/// sparse, so each intersection costs about min(list length, bitmap words).
#[derive(Clone)]
enum Hybrid {
    Bits(Vec<u64>),
    Tids(Vec<u32>),
}

impl Hybrid {
    fn from_tids(t: Vec<u32>, words: usize) -> Hybrid {
        if t.len() > words * 2 {
            let mut b = vec![0u64; words];
            for &x in &t {
                b[x as usize / 64] |= 1 << (x % 64);
            }
            Hybrid::Bits(b)
        } else {
            Hybrid::Tids(t)
        }
    }
}

impl Cover for Hybrid {
    fn of_items(p: &Prepared) -> Vec<Self> {
        let words = p.baskets.len().div_ceil(64);
        <Vec<u32> as Cover>::of_items(p).into_iter().map(|t| Hybrid::from_tids(t, words)).collect()
    }

    fn intersect(&self, other: &Self, out: &mut Self, need: u64) -> u64 {
        match (self, other) {
            (Hybrid::Bits(a), Hybrid::Bits(b)) => {
                let mut v = match std::mem::replace(out, Hybrid::Tids(vec![])) {
                    Hybrid::Bits(v) => v,
                    _ => Vec::with_capacity(a.len()),
                };
                let n = and_count(a, b, &mut v);
                if n as usize > v.len() * 2 {
                    *out = Hybrid::Bits(v);
                } else {
                    let mut t = Vec::with_capacity(n as usize);
                    for (i, &w) in v.iter().enumerate() {
                        let mut w = w;
                        while w != 0 {
                            t.push((i * 64) as u32 + w.trailing_zeros());
                            w &= w - 1;
                        }
                    }
                    *out = Hybrid::Tids(t);
                }
                n
            }
            (Hybrid::Tids(t), Hybrid::Bits(b)) | (Hybrid::Bits(b), Hybrid::Tids(t)) => {
                let mut v = take_tids(out);
                let n = filter_tids(t, b, &mut v, need);
                *out = Hybrid::Tids(v);
                n
            }
            (Hybrid::Tids(a), Hybrid::Tids(b)) => {
                let mut v = take_tids(out);
                let n = a.intersect(b, &mut v, need);
                *out = Hybrid::Tids(v);
                n
            }
        }
    }

    fn empty() -> Self {
        Hybrid::Tids(vec![])
    }

    fn bitmap(&self, words: usize) -> Vec<u64> {
        match self {
            Hybrid::Bits(b) => b.clone(),
            Hybrid::Tids(t) => tids_bitmap(t, words),
        }
    }

    fn intersect_bitmap(other: &Self, bits: &[u64], out: &mut Self, need: u64) -> u64 {
        match other {
            Hybrid::Tids(t) => {
                let mut v = take_tids(out);
                let n = filter_tids(t, bits, &mut v, need);
                *out = Hybrid::Tids(v);
                n
            }
            Hybrid::Bits(_) => other.intersect(&Hybrid::Bits(bits.to_vec()), out, need),
        }
    }
}

/// `out` = a AND b, returning its number of set bits; uses the POPCNT instruction when the
/// processor has it (checked at run time, so the binary still runs everywhere).
fn and_count(a: &[u64], b: &[u64], out: &mut Vec<u64>) -> u64 {
    fn plain(a: &[u64], b: &[u64], out: &mut Vec<u64>) -> u64 {
        out.clear();
        out.extend(a.iter().zip(b).map(|(x, y)| x & y));
        out.iter().map(|w| w.count_ones() as u64).sum()
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "popcnt")]
        unsafe fn fast(a: &[u64], b: &[u64], out: &mut Vec<u64>) -> u64 {
            plain(a, b, out)
        }
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the processor was just checked to support POPCNT.
            return unsafe { fast(a, b, out) };
        }
    }
    plain(a, b, out)
}

/// FxHash-style hashing for item slices (SipHash is the wrong trade here).
#[derive(Default)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u32(&mut self, x: u32) {
        self.write_u64(x as u64);
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64);
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxSet<'a> = HashSet<&'a [u32], std::hash::BuildHasherDefault<Fx>>;

/// Index of pair (i, j), i < j, in a triangular matrix over m items.
fn tri(i: usize, j: usize, m: usize) -> usize {
    i * (2 * m - i - 1) / 2 + (j - i - 1)
}

/// Frequent itemsets (dense ids, ascending within a set) with their counts.
pub fn apriori(p: &Prepared, opts: &MineOptions) -> Result<Vec<Itemset>, MineError> {
    apriori_with::<Hybrid>(p, opts)
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

    // Level 2: count every pair in one pass over the baskets (4 bytes a pair: refuse before
    // allocating what the machine cannot hold).
    let pairs = m * (m - 1) / 2;
    let gib = pairs as f64 * 4.0 / (1u64 << 30) as f64;
    if gib > 2.0 {
        return Err(MineError::TooManyItems { items: m, min_support: opts.min_support, gib });
    }
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
                    covers[i].intersect(&covers[j], &mut t, 0);
                    (vec![i as u32, j as u32], t, c)
                })
            })
        })
        .collect();
    // Frequent pairs stay known: every candidate's last two items must be one (an O(1) test
    // that spares most subset lookups).
    let pair_ok: Vec<bool> = counts.into_iter().map(|c| c.into_inner() as u64 >= mc).collect();
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
        level = next_level(&level, mc, &pair_ok, m, p.baskets.len().div_ceil(64));
        k += 1;
        if level.is_empty() {
            break;
        }
    }
    Ok(out)
}

/// Join, prune and count the candidates of the next level.
fn next_level<C: Cover>(
    level: &[(Vec<u32>, C, u64)],
    mc: u64,
    pair_ok: &[bool],
    m: usize,
    words: usize,
) -> Vec<(Vec<u32>, C, u64)> {
    let k1 = level[0].0.len();
    let known: FxSet = level.iter().map(|(s, _, _)| s.as_slice()).collect();
    // Prefix classes: runs of itemsets that share their first k1-1 items.
    let mut classes: Vec<(usize, usize)> = vec![];
    let mut start = 0;
    for i in 1..=level.len() {
        if i == level.len() || level[i].0[..k1 - 1] != level[start].0[..k1 - 1] {
            classes.push((start, i));
            start = i;
        }
    }
    // Each itemset joins the later members of its class; parallel by itemset, not by class,
    // since the class of the most frequent item holds most of the work.
    let class_end: Vec<usize> = classes.iter().flat_map(|&(s, e)| (s..e).map(move |_| e)).collect();
    let mut next: Vec<(Vec<u32>, C, u64)> = (0..level.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let known = &known;
            let e = class_end[i];
            let mut found = vec![];
            let mut buf = C::empty();
            let mut cand = Vec::with_capacity(k1 + 1);
            let mut sub = Vec::with_capacity(k1);
            // One bitmap of this itemset's baskets, probed by each partner's cover; for very many
            // baskets building it costs more than it saves, so merge instead.
            let probe = e > i + 1 && words <= 4096;
            let bits = if probe { level[i].1.bitmap(words) } else { vec![] };
            for j in i + 1..e {
                let (x, y) = (level[i].0[k1 - 1] as usize, level[j].0[k1 - 1] as usize);
                if !pair_ok[tri(x, y, m)] {
                    continue;
                }
                cand.clear();
                cand.extend_from_slice(&level[i].0);
                cand.push(level[j].0[k1 - 1]);
                // Subset pruning: drop each item but the last two (those give the parents); with
                // k1 = 2 the pair test above was the whole check.
                let all_frequent = k1 == 2 || (0..k1 - 1).all(|skip| {
                    sub.clear();
                    sub.extend(cand.iter().enumerate().filter(|&(x, _)| x != skip).map(|(_, &v)| v));
                    known.contains(sub.as_slice())
                });
                if !all_frequent {
                    continue;
                }
                let n = if probe {
                    C::intersect_bitmap(&level[j].1, &bits, &mut buf, mc)
                } else {
                    level[i].1.intersect(&level[j].1, &mut buf, mc)
                };
                if n >= mc {
                    found.push((cand.clone(), buf.clone(), n));
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
            let b = p.to_original(apriori_with::<Bits>(&p, &o).unwrap());
            assert_eq!(b, want, "apriori with bitmaps, case {case}");
            assert_eq!(a, want, "apriori, case {case}");
            assert_eq!(f, want, "fpgrowth, case {case}");
        }
    }

    #[test]
    fn too_many_frequent_items_is_refused_before_allocating() {
        let basket: Vec<u32> = (0..33_000).collect();
        let o = MineOptions { min_support: 1.0, max_len: 3, max_itemsets: usize::MAX };
        let p = prepare(&[basket], &o).unwrap();
        let e = apriori(&p, &o).unwrap_err().to_string();
        assert!(e.contains("33000 items are frequent") && e.contains("raise min_support"), "{e}");
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
