//! Item-to-item collaborative filtering on sparse customer histories: product similarity from
//! co-purchases and co-views (cosine over weighted interactions, or Jaccard over sets), the top
//! K neighbours per product, and per customer the N best products they have not bought
//! recently, with the most popular products as the fallback.

use rayon::prelude::*;

/// One customer's history: (product, weight, bought recently).
pub type History = Vec<(u32, f32, bool)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Cosine,
    Jaccard,
}

/// Top-`k` neighbours (product, score) of every product, best first. Product by product (in
/// parallel), the co-occurrences with every other product are summed in a dense scratch row
/// through an inverted index (product -> customers), so memory is the interactions plus one row
/// per thread: no pair is ever stored.
pub fn neighbours(n_products: usize, histories: &[History], metric: Metric, k: usize, max_items: usize) -> Vec<Vec<(u32, f32)>> {
    let capped: Vec<&[(u32, f32, bool)]> = histories.iter().map(|h| &h[..h.len().min(max_items)]).collect();
    let weight = |w: f32| match metric {
        Metric::Cosine => w as f64,
        Metric::Jaccard => 1.0,
    };
    // Per product: sum of squared weights (cosine) or number of customers (Jaccard); and who.
    let mut norm = vec![0f64; n_products];
    let mut inverted: Vec<Vec<(u32, f32)>> = vec![vec![]; n_products];
    for (c, h) in capped.iter().enumerate() {
        for &(p, w, _) in h.iter() {
            norm[p as usize] += weight(w) * weight(w);
            inverted[p as usize].push((c as u32, w));
        }
    }
    (0..n_products)
        .into_par_iter()
        .map_init(
            || (vec![0f64; n_products], Vec::<u32>::new()),
            |(acc, touched), i| {
                for &(c, wi) in &inverted[i] {
                    for &(j, wj, _) in capped[c as usize] {
                        if j as usize == i {
                            continue;
                        }
                        if acc[j as usize] == 0.0 {
                            touched.push(j);
                        }
                        acc[j as usize] += weight(wi) * weight(wj);
                    }
                }
                let mut list: Vec<(u32, f32)> = touched
                    .drain(..)
                    .filter_map(|j| {
                        let co = std::mem::take(&mut acc[j as usize]);
                        let (ni, nj) = (norm[i], norm[j as usize]);
                        let s = match metric {
                            Metric::Cosine => co / (ni * nj).sqrt(),
                            Metric::Jaccard => co / (ni + nj - co),
                        };
                        (s.is_finite() && s > 0.0).then_some((j, s as f32))
                    })
                    .collect();
                list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                list.truncate(k);
                list
            },
        )
        .collect()
}

/// Per product, the customers who bought it (a purchase weighs 1, a view less).
pub fn buyers(n_products: usize, histories: &[History]) -> Vec<u32> {
    let mut buyers = vec![0u32; n_products];
    for h in histories {
        for &(p, w, _) in h {
            if w >= 1.0 {
                buyers[p as usize] += 1;
            }
        }
    }
    buyers
}

/// Products ranked by the number of customers who bought them (ties: smaller id first).
pub fn popular(n_products: usize, histories: &[History]) -> Vec<u32> {
    let buyers = buyers(n_products, histories);
    let mut order: Vec<u32> = (0..n_products as u32).filter(|&p| buyers[p as usize] > 0).collect();
    order.sort_by(|&a, &b| buyers[b as usize].cmp(&buyers[a as usize]).then(a.cmp(&b)));
    order
}

/// Where a recommendation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    History,
    Popular,
}

/// The `n` best products for one customer: scored from their history's neighbours, minus
/// what they bought recently; filled up from `popular`. (product, score, source).
pub fn recommend(h: &History, neighbours: &[Vec<(u32, f32)>], popular: &[u32], n: usize) -> Vec<(u32, f32, Source)> {
    let mut excluded: Vec<u32> = h.iter().filter(|x| x.2).map(|x| x.0).collect();
    excluded.sort_unstable();
    let is_excluded = |p: &u32| excluded.binary_search(p).is_ok();
    // Candidates in arrival order, then a stable sort by product: each product's score is
    // summed in the same order as before, with no hash map per customer.
    let mut candidates: Vec<(u32, f32)> = vec![];
    for &(p, w, _) in h {
        for &(q, s) in &neighbours[p as usize] {
            if !is_excluded(&q) {
                candidates.push((q, w * s));
            }
        }
    }
    candidates.sort_by_key(|c| c.0);
    let mut ranked: Vec<(u32, f32)> = Vec::with_capacity(candidates.len());
    for (q, v) in candidates {
        match ranked.last_mut() {
            Some(last) if last.0 == q => last.1 += v,
            _ => ranked.push((q, 0.0 + v)),
        }
    }
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<(u32, f32, Source)> = ranked.into_iter().take(n).map(|(p, s)| (p, s, Source::History)).collect();
    for &p in popular {
        if out.len() >= n {
            break;
        }
        if !is_excluded(&p) && !out.iter().any(|o| o.0 == p) {
            out.push((p, 0.0, Source::Popular));
        }
    }
    out
}

/// Mean over customers of (held-out products among the top n) / (held-out products).
pub fn recall_at(recommended: &[Vec<u32>], held_out: &[Vec<u32>], n: usize) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for (r, t) in recommended.iter().zip(held_out) {
        if t.is_empty() {
            continue;
        }
        let hits = t.iter().filter(|p| r.iter().take(n).any(|q| q == *p)).count();
        sum += hits as f64 / t.len() as f64;
        count += 1;
    }
    if count == 0 {
        0.0
    } else {
        sum / count as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn co_bought_products_are_neighbours_and_get_recommended() {
        // 0 and 1 go together, 2 and 3 go together, 4 is bought by everyone.
        let h = |items: &[u32]| items.iter().map(|&p| (p, 1.0, false)).collect::<History>();
        let histories = vec![h(&[0, 1, 4]), h(&[0, 1]), h(&[2, 3, 4]), h(&[2, 3]), h(&[4]), h(&[0, 1, 4])];
        let nb = neighbours(5, &histories, Metric::Cosine, 2, 100);
        assert_eq!(nb[0][0].0, 1);
        assert!((nb[0][0].1 - 1.0).abs() < 1e-6, "{:?}", nb[0]);
        assert_eq!(nb[2][0].0, 3);
        let jac = neighbours(5, &histories, Metric::Jaccard, 5, 100);
        // 0 and 4: 2 customers together, 3 with 0, 4 with 4 -> 2 / (3 + 4 - 2).
        let s04 = jac[0].iter().find(|x| x.0 == 4).unwrap().1;
        assert!((s04 - 0.4).abs() < 1e-6, "{s04}");
        let pop = popular(5, &histories);
        assert_eq!(pop[0], 4);
        // A customer who bought 0 recently gets 1 first, never 0 again.
        let me: History = vec![(0, 1.0, true)];
        let r = recommend(&me, &nb, &pop, 3);
        assert_eq!(r[0].0, 1);
        assert_eq!(r[0].2, Source::History);
        assert!(r.iter().all(|x| x.0 != 0) && r.len() == 3);
        assert!(r.iter().skip(1).any(|x| x.2 == Source::Popular));
        // Nobody: popular products only.
        let r = recommend(&vec![], &nb, &pop, 2);
        assert_eq!(r.iter().map(|x| (x.0, x.2)).collect::<Vec<_>>(), [(4, Source::Popular), (0, Source::Popular)]);
        assert_eq!(recall_at(&[vec![1, 2], vec![3]], &[vec![1, 5], vec![]], 10), 0.5);
    }
}
