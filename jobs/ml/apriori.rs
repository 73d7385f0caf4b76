//! Level-wise Apriori: candidates of size k are joined from frequent (k-1)-itemsets that share
//! a prefix, pruned unless every (k-1)-subset is frequent, and counted by intersecting the
//! sorted basket-id lists (tid-lists) of their two parents. Pairs are counted in one pass over
//! the baskets into a triangular matrix. Prefix classes are mined in parallel.

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
    /// Call `f` with this cover as a bitmap over `words` 64-bit words; `scratch` (all zero,
    /// `words` long) lends the room when the cover is not a bitmap, and is zero again after.
    fn with_bitmap<R>(&self, scratch: &mut [u64], f: impl FnOnce(&[u64]) -> R) -> R;
    /// `out` = other AND the bitmap of a cover; same early stop as `intersect`.
    fn intersect_bitmap(other: &Self, bits: &[u64], out: &mut Self, need: u64) -> u64;
}

fn with_tids_bitmap<R>(t: &[u32], scratch: &mut [u64], f: impl FnOnce(&[u64]) -> R) -> R {
    for &x in t {
        scratch[x as usize / 64] |= 1 << (x % 64);
    }
    let r = f(scratch);
    for &x in t {
        scratch[x as usize / 64] = 0;
    }
    r
}

/// The id-list buffer of a Hybrid output, reused when it has one.
fn take_tids(out: &mut Hybrid) -> Vec<u32> {
    match std::mem::replace(out, Hybrid::Tids(vec![])) {
        Hybrid::Tids(v) => v,
        Hybrid::Bits(_) => Vec::new(),
    }
}

/// Keep the ids of `t` whose bit is set; stop once `need` is out of reach (checked every 64
/// ids, so the inner loop has no branch on the data).
fn filter_tids(t: &[u32], bits: &[u64], v: &mut Vec<u32>, need: u64) -> u64 {
    v.clear();
    v.resize(t.len(), 0);
    let mut n = 0usize;
    for (c, chunk) in t.chunks(64).enumerate() {
        if ((n + t.len() - c * 64) as u64) < need {
            break;
        }
        for &x in chunk {
            v[n] = x;
            n += ((bits[x as usize / 64] >> (x % 64)) & 1) as usize;
        }
    }
    v.truncate(n);
    n as u64
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

    fn with_bitmap<R>(&self, scratch: &mut [u64], f: impl FnOnce(&[u64]) -> R) -> R {
        with_tids_bitmap(self, scratch, f)
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

    fn with_bitmap<R>(&self, _scratch: &mut [u64], f: impl FnOnce(&[u64]) -> R) -> R {
        f(&self.0)
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
            (Hybrid::Bits(a), Hybrid::Bits(b)) => and_into(a, b, out),
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

    fn with_bitmap<R>(&self, scratch: &mut [u64], f: impl FnOnce(&[u64]) -> R) -> R {
        match self {
            Hybrid::Bits(b) => f(b),
            Hybrid::Tids(t) => with_tids_bitmap(t, scratch, f),
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
            Hybrid::Bits(a) => and_into(a, bits, out),
        }
    }
}

/// `out` = a AND b as a Hybrid (an id list when sparse), returning its number of baskets.
fn and_into(a: &[u64], b: &[u64], out: &mut Hybrid) -> u64 {
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

/// Index of pair (i, j), i < j, in a triangular matrix over m items.
fn tri(i: usize, j: usize, m: usize) -> usize {
    i * (2 * m - i - 1) / 2 + (j - i - 1)
}

/// A random 64-bit key per item (splitmix64). A set's hash is the wrapping sum of its items'
/// keys, so the hash of a candidate minus one item is one subtraction away.
fn item_keys(m: usize) -> Vec<u64> {
    (0..m as u64)
        .map(|i| {
            let mut z = i.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        })
        .collect()
}

/// The frequent itemsets of one level: items stored flat (`k` per set, sets in lexicographic
/// order), with their covers, counts and set hashes.
struct Level<C> {
    k: usize,
    items: Vec<u32>,
    covers: Vec<C>,
    counts: Vec<u64>,
    hashes: Vec<u64>,
}

impl<C> Level<C> {
    fn len(&self) -> usize {
        self.counts.len()
    }

    fn set(&self, i: usize) -> &[u32] {
        &self.items[i * self.k..(i + 1) * self.k]
    }
}

/// Open-addressing table of a level's set hashes, for the subset test; a hash match is
/// confirmed by comparing items, so the test is exact.
struct SetIndex {
    mask: usize,
    /// (set hash, index in the level); one cache line per probe.
    slots: Vec<(u64, u32)>,
}

impl SetIndex {
    const EMPTY: u32 = u32::MAX;

    fn new(hashes: &[u64]) -> SetIndex {
        let cap = (hashes.len() * 2).next_power_of_two().max(16);
        let mut slots = vec![(0, Self::EMPTY); cap];
        for (i, &h) in hashes.iter().enumerate() {
            let mut at = h as usize & (cap - 1);
            while slots[at].1 != Self::EMPTY {
                at = (at + 1) & (cap - 1);
            }
            slots[at] = (h, i as u32);
        }
        SetIndex { mask: cap - 1, slots }
    }

    fn contains(&self, h: u64, same: impl Fn(usize) -> bool) -> bool {
        let mut at = h as usize & self.mask;
        loop {
            let (sh, i) = self.slots[at];
            if i == Self::EMPTY {
                return false;
            }
            if sh == h && same(i as usize) {
                return true;
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// Frequent itemsets (dense ids, ascending within a set) with their counts.
pub fn apriori(p: &Prepared, opts: &MineOptions) -> Result<Vec<Itemset>, MineError> {
    apriori_with::<Hybrid>(p, opts)
}

fn apriori_with<C: Cover>(p: &Prepared, opts: &MineOptions) -> Result<Vec<Itemset>, MineError> {
    let m = p.item_counts.len();
    let mc = p.min_count;
    let mut out: Vec<Itemset> = (0..m).map(|i| Itemset { items: vec![i as u32], count: p.item_counts[i] }).collect();
    if out.len() > opts.max_itemsets {
        return Err(MineError::TooMany { limit: opts.max_itemsets, min_support: opts.min_support, level: 1 });
    }
    if opts.max_len < 2 || m < 2 {
        return Ok(out);
    }
    let item_covers = C::of_items(p);
    let keys = item_keys(m);

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
    // In (i, j) order, so the level is sorted as it is collected.
    let found: Vec<(u32, u32, C, u64)> = (0..m)
        .into_par_iter()
        .flat_map_iter(|i| {
            let counts = &counts;
            let covers = &item_covers;
            (i + 1..m).filter_map(move |j| {
                let c = counts[tri(i, j, m)].load(Ordering::Relaxed) as u64;
                (c >= mc).then(|| {
                    let mut t = C::empty();
                    covers[i].intersect(&covers[j], &mut t, 0);
                    (i as u32, j as u32, t, c)
                })
            })
        })
        .collect();
    let mut level = Level { k: 2, items: vec![], covers: vec![], counts: vec![], hashes: vec![] };
    for (i, j, cover, c) in found {
        level.items.extend([i, j]);
        level.hashes.push(keys[i as usize].wrapping_add(keys[j as usize]));
        level.covers.push(cover);
        level.counts.push(c);
    }
    // Frequent pairs stay known: every candidate's last two items must be one (an O(1) test
    // that spares most subset lookups).
    let pair_ok: Vec<bool> = counts.into_iter().map(|c| c.into_inner() as u64 >= mc).collect();
    drop(item_covers);

    let mut k = 2;
    loop {
        out.extend((0..level.len()).map(|i| Itemset { items: level.set(i).to_vec(), count: level.counts[i] }));
        if out.len() > opts.max_itemsets {
            return Err(MineError::TooMany { limit: opts.max_itemsets, min_support: opts.min_support, level: k });
        }
        if k >= opts.max_len || level.len() < 2 {
            break;
        }
        level = next_level(&level, mc, &pair_ok, &keys, m, p.baskets.len().div_ceil(64));
        k += 1;
        if level.len() == 0 {
            break;
        }
    }
    Ok(out)
}

/// Whether `s` is `a` without its item at `skip`, followed by `y`.
fn is_subset_of_candidate(s: &[u32], a: &[u32], skip: usize, y: u32) -> bool {
    let k = a.len();
    s[k - 1] == y && s[..skip] == a[..skip] && s[skip..k - 1] == a[skip + 1..]
}

/// Join, prune and count the candidates of the next level.
fn next_level<C: Cover>(level: &Level<C>, mc: u64, pair_ok: &[bool], keys: &[u64], m: usize, words: usize) -> Level<C> {
    let (k1, n) = (level.k, level.len());
    let index = SetIndex::new(&level.hashes);
    // Prefix classes: runs of itemsets that share their first k1-1 items.
    let mut class_end = vec![0usize; n];
    let mut start = 0;
    for i in 1..=n {
        if i == n || level.set(i)[..k1 - 1] != level.set(start)[..k1 - 1] {
            class_end[start..i].fill(i);
            start = i;
        }
    }
    // Each itemset joins the later members of its class; parallel by itemset, not by class,
    // since the class of the most frequent item holds most of the work. Collected in (i, j)
    // order, which is the lexicographic order of the new sets.
    // Per thread: a zeroed bitmap to lend, the partners of one itemset, an intersection buffer.
    let probe = words <= 4096;
    let found: Vec<(u32, u32, C, u64)> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0u64; if probe { words } else { 0 }], Vec::new(), C::empty()),
            |(scratch, partners, buf), i| {
                let a = level.set(i);
                let x = a[k1 - 1] as usize;
                partners.clear();
                for j in i + 1..class_end[i] {
                    let y = level.set(j)[k1 - 1];
                    if !pair_ok[tri(x, y as usize, m)] {
                        continue;
                    }
                    // Subset pruning: drop each item but the last two (those give the parents);
                    // with k1 = 2 the pair test above was the whole check.
                    let h = level.hashes[i].wrapping_add(keys[y as usize]);
                    let all_frequent = k1 == 2
                        || (0..k1 - 1).all(|skip| {
                            let hs = h.wrapping_sub(keys[a[skip] as usize]);
                            index.contains(hs, |s| is_subset_of_candidate(level.set(s), a, skip, y))
                        });
                    if all_frequent {
                        partners.push(j);
                    }
                }
                let mut found = vec![];
                let mut keep = |j: usize, count: u64, buf: &C| {
                    if count >= mc {
                        found.push((i as u32, level.set(j)[k1 - 1], buf.clone(), count));
                    }
                };
                if partners.is_empty() {
                } else if probe {
                    // This itemset's baskets as a bitmap, probed by each partner's cover; for
                    // very many baskets building it costs more than it saves, so merge then.
                    level.covers[i].with_bitmap(scratch, |bits| {
                        for &j in partners.iter() {
                            keep(j, C::intersect_bitmap(&level.covers[j], bits, buf, mc), buf);
                        }
                    });
                } else {
                    for &j in partners.iter() {
                        keep(j, level.covers[i].intersect(&level.covers[j], buf, mc), buf);
                    }
                }
                found
            },
        )
        .flat_map_iter(|found| found)
        .collect();
    let k = k1 + 1;
    let mut next = Level {
        k,
        items: Vec::with_capacity(found.len() * k),
        covers: Vec::with_capacity(found.len()),
        counts: Vec::with_capacity(found.len()),
        hashes: Vec::with_capacity(found.len()),
    };
    for (i, y, cover, count) in found {
        next.items.extend_from_slice(level.set(i as usize));
        next.items.push(y);
        next.hashes.push(level.hashes[i as usize].wrapping_add(keys[y as usize]));
        next.covers.push(cover);
        next.counts.push(count);
    }
    debug_assert!((1..next.len()).all(|i| next.set(i - 1) < next.set(i)));
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
            let baskets: Vec<Vec<u32>> = (0..n).map(|_| (0..rng.gen_range(0..8)).map(|_| rng.gen_range(0..n_items) * 3 + 5).collect()).collect();
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
