//! FP-growth: baskets compressed into a prefix tree (most frequent items nearest the root),
//! mined by building a conditional tree per item, recursively. Same output as Apriori; often
//! faster on dense data with long itemsets. Top-level items are mined in parallel.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::baskets::{Itemset, MineError, MineOptions, Prepared};

const ROOT: u32 = u32::MAX;

struct Node {
    item: u32,
    count: u64,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
}

/// An FP-tree over items `0..m`; lower ids are more frequent and sit nearer the root.
struct Tree {
    nodes: Vec<Node>,
    /// Nodes of each item.
    by_item: Vec<Vec<u32>>,
    /// Count of each item in this tree.
    counts: Vec<u64>,
}

impl Tree {
    fn new(m: usize) -> Tree {
        Tree {
            nodes: vec![Node { item: ROOT, count: 0, parent: ROOT, first_child: ROOT, next_sibling: ROOT }],
            by_item: vec![vec![]; m],
            counts: vec![0; m],
        }
    }

    /// Insert a path of ascending item ids with a count.
    fn insert(&mut self, path: &[u32], count: u64) {
        let mut at = 0u32;
        for &item in path {
            self.counts[item as usize] += count;
            let mut child = self.nodes[at as usize].first_child;
            while child != ROOT && self.nodes[child as usize].item != item {
                child = self.nodes[child as usize].next_sibling;
            }
            if child == ROOT {
                let id = self.nodes.len() as u32;
                let first = self.nodes[at as usize].first_child;
                self.nodes.push(Node { item, count: 0, parent: at, first_child: ROOT, next_sibling: first });
                self.nodes[at as usize].first_child = id;
                self.by_item[item as usize].push(id);
                child = id;
            }
            self.nodes[child as usize].count += count;
            at = child;
        }
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
        let mut t = Tree::new(m);
        for (path, c) in paths {
            let kept: Vec<u32> = path.into_iter().filter(|&i| counts[i as usize] >= mc).collect();
            if !kept.is_empty() {
                t.insert(&kept, c);
            }
        }
        t
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
            return Err(MineError::TooMany {
                limit: self.opts.max_itemsets,
                min_support: self.opts.min_support,
                level: items.len(),
            });
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
    let mut tree = Tree::new(m);
    for b in &p.baskets {
        tree.insert(b, 1);
    }
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
