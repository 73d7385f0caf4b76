//! FP-growth: baskets compressed into a prefix tree (most frequent items nearest the root),
//! mined by building a conditional tree per item, recursively. Same output as Apriori; often
//! faster on dense data with long itemsets. Top-level items are mined in parallel.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::baskets::{Itemset, MineError, MineOptions, Prepared};

struct Node {
    item: u32,
    count: u64,
    parent: u32,
}

/// An FP-tree over items `0..m`; lower ids are more frequent and sit nearer the root. Only
/// what mining walks is kept: each node's parent, and the nodes of each item.
struct Tree {
    nodes: Vec<Node>,
    /// Nodes of each item.
    by_item: Vec<Vec<u32>>,
    /// Count of each item in this tree.
    counts: Vec<u64>,
}

impl Tree {
    /// Build from paths of ascending item ids. Sorting the paths first means each one shares
    /// its prefix with the one before it, so no node ever searches its children.
    fn build(m: usize, mut paths: Vec<(Vec<u32>, u64)>) -> Tree {
        paths.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut t = Tree { nodes: vec![Node { item: u32::MAX, count: 0, parent: 0 }], by_item: vec![vec![]; m], counts: vec![0; m] };
        let mut stack: Vec<u32> = vec![];
        for k in 0..paths.len() {
            let (path, c) = (&paths[k].0, paths[k].1);
            let shared = match k {
                0 => 0,
                _ => paths[k - 1].0.iter().zip(path).take_while(|(a, b)| a == b).count(),
            };
            stack.truncate(shared);
            for (d, &item) in path.iter().enumerate() {
                t.counts[item as usize] += c;
                if d < shared {
                    t.nodes[stack[d] as usize].count += c;
                    continue;
                }
                let parent = if d == 0 { 0 } else { stack[d - 1] };
                let id = t.nodes.len() as u32;
                t.nodes.push(Node { item, count: c, parent });
                t.by_item[item as usize].push(id);
                stack.push(id);
            }
        }
        t
    }

    /// The conditional tree of `item`: prefix paths of its nodes, keeping frequent items.
    fn conditional(&self, item: u32, mc: u64) -> Tree {
        let m = item as usize; // only items before `item` can be on its prefix paths
        let mut counts = vec![0u64; m];
        let mut paths: Vec<(Vec<u32>, u64)> = Vec::with_capacity(self.by_item[m].len());
        for &n in &self.by_item[m] {
            let c = self.nodes[n as usize].count;
            let mut path = vec![];
            let mut p = self.nodes[n as usize].parent;
            while p != 0 {
                let it = self.nodes[p as usize].item;
                path.push(it);
                counts[it as usize] += c;
                p = self.nodes[p as usize].parent;
            }
            path.reverse();
            paths.push((path, c));
        }
        for (path, _) in &mut paths {
            path.retain(|&i| counts[i as usize] >= mc);
        }
        paths.retain(|(p, _)| !p.is_empty());
        Tree::build(m, paths)
    }
}

struct Miner<'a> {
    mc: u64,
    opts: &'a MineOptions,
    emitted: AtomicUsize,
}

impl Miner<'_> {
    fn emit(&self, out: &mut Vec<Itemset>, items: &[u32], count: u64) -> Result<(), MineError> {
        let mut s = items.to_vec();
        s.sort_unstable();
        out.push(Itemset { items: s, count });
        if self.emitted.fetch_add(1, Ordering::Relaxed) + 1 > self.opts.max_itemsets {
            return Err(MineError::TooMany { limit: self.opts.max_itemsets, min_support: self.opts.min_support, level: items.len() });
        }
        Ok(())
    }

    /// Mine everything ending in `item` (plus `suffix`) from `tree`.
    fn mine_item(&self, tree: &Tree, item: u32, suffix: &[u32], out: &mut Vec<Itemset>) -> Result<(), MineError> {
        let count = tree.counts[item as usize];
        if count < self.mc {
            return Ok(());
        }
        let mut set = suffix.to_vec();
        set.push(item);
        self.emit(out, &set, count)?;
        if set.len() >= self.opts.max_len {
            return Ok(());
        }
        let cond = tree.conditional(item, self.mc);
        for i in (0..cond.counts.len() as u32).rev() {
            self.mine_item(&cond, i, &set, out)?;
        }
        Ok(())
    }
}

pub fn fpgrowth(p: &Prepared, opts: &MineOptions) -> Result<Vec<Itemset>, MineError> {
    let m = p.item_counts.len();
    let tree = Tree::build(m, p.baskets.iter().map(|b| (b.clone(), 1)).collect());
    let miner = Miner { mc: p.min_count, opts, emitted: AtomicUsize::new(0) };
    let parts: Vec<Result<Vec<Itemset>, MineError>> = (0..m as u32)
        .into_par_iter()
        .map(|i| {
            let mut out = vec![];
            miner.mine_item(&tree, i, &[], &mut out)?;
            Ok(out)
        })
        .collect();
    let mut out = vec![];
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}
