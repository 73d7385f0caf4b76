//! The association_rules job: baskets of the lookback window (SQL) -> frequent itemsets
//! (Apriori or FP-growth, in `ml/`) -> rules with their metrics. Publishes
//! `marts.frequent_itemsets` and `marts.association_rules`, with readable names.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, AsArray, Float64Builder, Int64Builder, ListBuilder, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use async_trait::async_trait;
use datafusion::common::ScalarValue;
use futures::StreamExt;

use crate::config::AssociationRulesConfig;
use crate::engine::{date_param, params};
use crate::error::{Error, Result};
use crate::ml::apriori::apriori;
use crate::ml::baskets::{prepare, Itemset, MineOptions};
use crate::ml::fpgrowth::fpgrowth;
use crate::ml::rules::{rules, Rule, RuleOptions};
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};
use crate::sqlfiles;

pub struct AssociationRules;

/// Baskets with their item dictionary.
#[derive(Debug, Default)]
pub struct BasketSet {
    pub baskets: Vec<Vec<u32>>,
    /// item id -> (item, readable name)
    pub items: Vec<(String, String)>,
}

impl BasketSet {
    fn id(&mut self, index: &mut HashMap<String, u32>, item: &str, name: &str) -> u32 {
        if let Some(&i) = index.get(item) {
            return i;
        }
        let i = self.items.len() as u32;
        self.items.push((item.to_string(), name.to_string()));
        index.insert(item.to_string(), i);
        i
    }

    /// Read "one basket per line, items separated by commas" (the Groceries format).
    pub fn from_lines(text: &str) -> BasketSet {
        let mut set = BasketSet::default();
        let mut index = HashMap::new();
        for line in text.lines() {
            // Empty fields (",,", a trailing comma) are no item; an empty line is an empty basket.
            let line = line.trim_end_matches('\r');
            let b = line.split(',').filter(|it| !it.is_empty()).map(|it| set.id(&mut index, it, it)).collect();
            set.baskets.push(b);
        }
        set
    }
}

/// Frequent itemsets and rules of a basket set.
pub struct Mined {
    pub itemsets: Vec<Itemset>,
    pub rules: Vec<Rule>,
    pub n_baskets: u64,
    pub mine_seconds: f64,
    pub rules_seconds: f64,
}

pub fn mine(set: &BasketSet, c: &AssociationRulesConfig) -> Result<Mined> {
    let opts = MineOptions { min_support: c.min_support, max_len: c.max_len, max_itemsets: c.max_itemsets };
    let t0 = Instant::now();
    let p = prepare(&set.baskets, &opts).map_err(|e| Error::job("association_rules", e.to_string()))?;
    let found = match c.algorithm {
        crate::config::Algorithm::Fpgrowth => fpgrowth(&p, &opts),
        crate::config::Algorithm::Apriori => apriori(&p, &opts),
    }
    .map_err(|e| Error::job("association_rules", e.to_string()))?;
    let itemsets = p.to_original(found);
    let mine_seconds = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let rules = rules(&itemsets, p.n_baskets, &RuleOptions { min_confidence: c.min_confidence, min_lift: c.min_lift });
    Ok(Mined { itemsets, rules, n_baskets: p.n_baskets, mine_seconds, rules_seconds: t1.elapsed().as_secs_f64() })
}

fn list_field(name: &str) -> Field {
    Field::new(name, DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), false)
}

pub fn itemsets_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        list_field("itemset"),
        list_field("itemset_names"),
        Field::new("size", DataType::Int64, false),
        Field::new("support", DataType::Float64, false),
        Field::new("count", DataType::Int64, false),
    ]))
}

pub fn rules_schema() -> SchemaRef {
    let f = |n: &str, nullable: bool| Field::new(n, DataType::Float64, nullable);
    Arc::new(Schema::new(vec![
        list_field("antecedent"),
        list_field("consequent"),
        f("antecedent_support", false),
        f("consequent_support", false),
        f("support", false),
        f("confidence", false),
        f("lift", false),
        f("leverage", false),
        // NULL when infinite (confidence 1).
        f("conviction", true),
        f("zhangs_metric", false),
        Field::new("count", DataType::Int64, false),
        list_field("antecedent_names"),
        list_field("consequent_names"),
    ]))
}

fn push_list(b: &mut ListBuilder<StringBuilder>, ids: &[u32], set: &BasketSet, name: bool) {
    for &i in ids {
        let (item, n) = &set.items[i as usize];
        b.values().append_value(if name { n } else { item });
    }
    b.append(true);
}

/// Item lists sorted by item text, so a set reads the same whatever ids it got.
fn sorted(ids: &[u32], set: &BasketSet) -> Vec<u32> {
    let mut v = ids.to_vec();
    v.sort_by(|a, b| set.items[*a as usize].0.cmp(&set.items[*b as usize].0));
    v
}

pub fn itemsets_batch(m: &Mined, set: &BasketSet) -> Result<RecordBatch> {
    let (mut items, mut names) = (ListBuilder::new(StringBuilder::new()), ListBuilder::new(StringBuilder::new()));
    let (mut size, mut support, mut count) = (Int64Builder::new(), Float64Builder::new(), Int64Builder::new());
    for s in &m.itemsets {
        let ids = sorted(&s.items, set);
        push_list(&mut items, &ids, set, false);
        push_list(&mut names, &ids, set, true);
        size.append_value(ids.len() as i64);
        support.append_value(s.count as f64 / m.n_baskets as f64);
        count.append_value(s.count as i64);
    }
    let cols: Vec<ArrayRef> =
        vec![Arc::new(items.finish()), Arc::new(names.finish()), Arc::new(size.finish()), Arc::new(support.finish()), Arc::new(count.finish())];
    Ok(RecordBatch::try_new(itemsets_schema(), cols)?)
}

pub fn rules_batch(m: &Mined, set: &BasketSet) -> Result<RecordBatch> {
    let mut lists: Vec<ListBuilder<StringBuilder>> = (0..4).map(|_| ListBuilder::new(StringBuilder::new())).collect();
    let mut f: Vec<Float64Builder> = (0..8).map(|_| Float64Builder::new()).collect();
    let mut count = Int64Builder::new();
    for r in &m.rules {
        let (a, c) = (sorted(&r.antecedent, set), sorted(&r.consequent, set));
        push_list(&mut lists[0], &a, set, false);
        push_list(&mut lists[1], &c, set, false);
        push_list(&mut lists[2], &a, set, true);
        push_list(&mut lists[3], &c, set, true);
        let conviction = r.conviction.is_finite().then_some(r.conviction);
        for (b, v) in f.iter_mut().zip([
            Some(r.antecedent_support),
            Some(r.consequent_support),
            Some(r.support),
            Some(r.confidence),
            Some(r.lift),
            Some(r.leverage),
            conviction,
            Some(r.zhangs_metric),
        ]) {
            b.append_option(v);
        }
        count.append_value(r.count as i64);
    }
    let mut cols: Vec<ArrayRef> = vec![Arc::new(lists[0].finish()), Arc::new(lists[1].finish())];
    cols.extend(f.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    cols.push(Arc::new(count.finish()));
    cols.push(Arc::new(lists[2].finish()));
    cols.push(Arc::new(lists[3].finish()));
    Ok(RecordBatch::try_new(rules_schema(), cols)?)
}

#[async_trait]
impl Job for AssociationRules {
    fn name(&self) -> &'static str {
        "association_rules"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["staging"]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.association_rules)
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        let c = &rc.cfg.jobs.association_rules;
        for t in ["orders", "order_items", "products"] {
            if !rc.engine.has_table("staging", t) {
                return Err(Error::MissingDependency { table: format!("staging.{t}"), date: rc.dt(), hint: "run the staging job".into() });
            }
        }
        let window_start = rc.date - chrono::Duration::days(c.lookback_days as i64 - 1);
        let p = params([
            ("run_date", date_param(rc.date)),
            ("window_start", date_param(window_start)),
            ("level", ScalarValue::Utf8(Some(c.level.as_str().to_string()))),
        ]);
        rc.progress("association_rules: baskets");
        let sql = sqlfiles::sql("marts", "association_rules")?;
        let mut stream = rc.engine.query(&sql, &p).await?.execute_stream().await?;
        let mut set = BasketSet::default();
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut current: Option<String> = None;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let col = |i: usize| arrow::compute::cast(batch.column(i), &DataType::Utf8);
            let (orders, items, names) = (col(0)?, col(1)?, col(2)?);
            let (orders, items, names) = (orders.as_string::<i32>(), items.as_string::<i32>(), names.as_string::<i32>());
            for r in 0..batch.num_rows() {
                if items.is_null(r) {
                    continue;
                }
                let order = orders.value(r);
                if current.as_deref() != Some(order) {
                    set.baskets.push(vec![]);
                    current = Some(order.to_string());
                }
                let name = if names.is_null(r) { items.value(r) } else { names.value(r) };
                let id = set.id(&mut index, items.value(r), name);
                set.baskets.last_mut().expect("a basket").push(id);
            }
        }
        tracing::info!(baskets = set.baskets.len(), items = set.items.len(), window_start = %window_start, "baskets read");
        rc.progress("association_rules: mining");
        let items_n = set.items.len();
        let (m, set) = tokio::task::spawn_blocking({
            let c = c.clone();
            move || mine(&set, &c).map(|m| (m, set))
        })
        .await
        .map_err(|e| Error::job("association_rules", format!("mining stopped: {e}")))??;
        tracing::info!(itemsets = m.itemsets.len(), rules = m.rules.len(), mine_seconds = m.mine_seconds,
            rules_seconds = m.rules_seconds, algorithm = %c.algorithm, items = items_n, "mined");
        let fi = rc.publish_batches("marts", "frequent_itemsets", itemsets_schema(), &[itemsets_batch(&m, &set)?]).await?;
        let ar = rc.publish_batches("marts", "association_rules", rules_schema(), &[rules_batch(&m, &set)?]).await?;
        let stats = |table: &str, out: u64| TableStats { table: table.to_string(), rows_in: m.n_baskets, rows_out: out, ..Default::default() };
        Ok(vec![stats("frequent_itemsets", fi), stats("association_rules", ar)])
    }
}

#[cfg(test)]
mod tests {
    use super::BasketSet;

    #[test]
    fn empty_fields_are_no_items_and_empty_lines_are_empty_baskets() {
        let set = BasketSet::from_lines("a,b\r\n\n,,\nb,a,,\n");
        assert_eq!(set.items.iter().map(|(i, _)| i.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(set.baskets, vec![vec![0, 1], vec![], vec![], vec![1, 0]]);
    }
}
