//! The recommendations job: item-to-item similarity from co-purchases and co-views
//! (`jobs/ml/recs.rs`) over the histories of `sql/marts/_recommendation_interactions.sql`;
//! publishes `product_similarity` (top K per product) and `product_recommendations` (top N per
//! customer known at D: from their history, else the most popular products, marked as such).
//! With `holdout_days`, the same model built on the history before the last holdout days is
//! judged on what customers bought in them: recall@N of the model and of popularity go to
//! `model_metrics` (models item_cf and popularity). The model trains every `retrain_every_days`
//! (similarity and popularity to `product_similarity` and `popular_products`, with `trained_on`);
//! every night recommends from those tables. A night that scores with the model the previous
//! night scored with scores again only the customers whose history moved
//! (`sql/marts/_recommendation_scope.sql`) and carries the other lists over.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, AsArray, Date32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Int64Type, Schema, SchemaRef};
use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use futures::StreamExt;
use rayon::prelude::*;

use crate::config::RecommendationsConfig;
use crate::engine::{date32, date_param, params, Params};
use crate::error::Result;
use crate::ml::recs::{buyers, neighbours, popular, recall_at, recommend, History, Metric, Source};
use crate::runtime::incremental::{fingerprint, Incremental};
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};

pub struct Recommendations;

type Map<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// Dense ids for customers and products (in name order), shared by the model and its backtest.
#[derive(Default)]
struct Names {
    customers: Map<u32>,
    products: Vec<String>,
    product_ids: Map<u32>,
}

/// Each customer's history, by dense customer id.
struct Histories {
    names: std::sync::Arc<Names>,
    histories: Vec<History>,
}

impl Histories {
    fn of(&self, customer: &str) -> Option<&History> {
        self.names.customers.get(customer).map(|&i| &self.histories[i as usize])
    }

    /// Products and customers with at least one interaction.
    fn counts(&self) -> (usize, usize) {
        let mut seen = vec![false; self.names.products.len()];
        for h in &self.histories {
            for &(p, _, _) in h {
                seen[p as usize] = true;
            }
        }
        (seen.iter().filter(|s| **s).count(), self.histories.iter().filter(|h| !h.is_empty()).count())
    }
}

/// One row of `_recommendation_interactions.sql`.
struct Interaction<'a> {
    customer: &'a str,
    product: &'a str,
    /// Days since last bought in the model's window, and viewed in it.
    bought: Option<i64>,
    viewed: bool,
    /// The same in the backtest model's window (counted from its cut-off).
    eval_bought: Option<i64>,
    eval_viewed: bool,
    bought_after_cutoff: bool,
}

/// One pass over the interactions of the model's window and, when `cutoff` is before the run
/// date, the backtest's longer one (reading them once, not once per model).
async fn interactions(rc: &RunContext<'_>, cfg: &RecommendationsConfig, cutoff: NaiveDate, recs: &Incremental, mut each: impl FnMut(Interaction)) -> Result<()> {
    let span = Duration::days(cfg.lookback_days as i64 - 1);
    let from = cutoff - span;
    let p: Params = params([
        ("run_date", date_param(rc.date)),
        ("model_from", date_param(rc.date - span)),
        ("from", date_param(from)),
        ("from_dt", date_param(from - Duration::days(1))),
        ("cutoff", date_param(cutoff)),
    ]);
    let sql = recs.sql("_recommendation_interactions")?;
    let mut stream = rc.engine.query(&sql, &p).await?.execute_stream().await?;
    while let Some(b) = stream.next().await {
        let b = b?;
        let s = |i: usize| arrow::compute::cast(b.column(i), &DataType::Utf8);
        let (c, pr) = (s(0)?, s(1)?);
        let (c, pr) = (c.as_string::<i32>(), pr.as_string::<i32>());
        let days = |i: usize| arrow::compute::cast(b.column(i), &DataType::Int64);
        let (bought, eval_bought) = (days(2)?, days(4)?);
        let (bought, eval_bought) = (bought.as_primitive::<Int64Type>(), eval_bought.as_primitive::<Int64Type>());
        let flag = |i: usize| b.column(i).as_boolean().clone();
        let (viewed, eval_viewed, after) = (flag(3), flag(5), flag(6));
        let on = |a: &arrow::array::BooleanArray, i: usize| !a.is_null(i) && a.value(i);
        let day = |a: &arrow::array::Int64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
        for i in 0..b.num_rows() {
            each(Interaction {
                customer: c.value(i),
                product: pr.value(i),
                bought: day(bought, i),
                viewed: on(&viewed, i),
                eval_bought: day(eval_bought, i),
                eval_viewed: on(&eval_viewed, i),
                bought_after_cutoff: on(&after, i),
            });
        }
    }
    Ok(())
}

/// Histories being read: provisional ids in arrival order and weighted interactions.
#[derive(Default)]
struct HistoryRows {
    customers: Map<u32>,
    customer_names: Vec<String>,
    product_ids: Map<u32>,
    products: Vec<String>,
    /// Per model: (customer, product, weight, bought recently, days since bought).
    rows: [Vec<(u32, u32, f32, bool, i64)>; 2],
}

fn intern(map: &mut Map<u32>, names: &mut Vec<String>, name: &str) -> u32 {
    if let Some(&i) = map.get(name) {
        return i;
    }
    let i = names.len() as u32;
    names.push(name.to_string());
    map.insert(name.to_string(), i);
    i
}

impl HistoryRows {
    fn add(&mut self, model: usize, cfg: &RecommendationsConfig, c: &str, p: &str, days: Option<i64>, viewed: bool) {
        let w = if days.is_some() {
            1.0
        } else if viewed {
            cfg.view_weight as f32
        } else {
            0.0
        };
        if w > 0.0 {
            let ci = intern(&mut self.customers, &mut self.customer_names, c);
            let pi = intern(&mut self.product_ids, &mut self.products, p);
            let recent = days.is_some_and(|d| d < cfg.exclude_days as i64);
            self.rows[model].push((ci, pi, w, recent, days.unwrap_or(i64::MAX)));
        }
    }

    /// The histories of both models, the most recent purchases first. Ids in name order: ties
    /// then break the same way whatever order the engine sent rows in.
    fn finish(self) -> [Histories; 2] {
        let HistoryRows { customer_names, products, rows, .. } = self;
        let (new_product, products) = relabel(products);
        let (new_customer, customer_names) = relabel(customer_names);
        let names = std::sync::Arc::new(Names {
            product_ids: products.iter().enumerate().map(|(i, p)| (p.clone(), i as u32)).collect(),
            customers: customer_names.into_iter().enumerate().map(|(i, c)| (c, i as u32)).collect(),
            products,
        });
        rows.map(|mut rows| {
            for r in &mut rows {
                (r.0, r.1) = (new_customer[r.0 as usize], new_product[r.1 as usize]);
            }
            rows.sort_unstable_by_key(|r| (r.0, r.4, r.1));
            let mut histories: Vec<History> = vec![vec![]; names.customers.len()];
            for (c, p, w, recent, _) in rows {
                histories[c as usize].push((p, w, recent));
            }
            Histories { names: names.clone(), histories }
        })
    }
}

/// The backtest's inputs: histories up to the cut-off and what each customer bought after it.
struct Backtest {
    h: Histories,
    /// By customer name, so the recall sums come out the same on every run.
    held: BTreeMap<String, Vec<String>>,
}

/// Histories of the `lookback_days` ending on the run date and, with `backtest`, the
/// backtest's, from one read (when `recs` carries over, of the customers in `landing.scope` only).
/// `extra` products (a stored model's) get ids too, so that ids stay in name order over both.
async fn histories(rc: &RunContext<'_>, cfg: &RecommendationsConfig, backtest: bool, extra: &[&str], recs: &Incremental) -> Result<(Histories, Option<Backtest>)> {
    let cutoff = if backtest { rc.date - Duration::days(cfg.holdout_days as i64) } else { rc.date };
    let mut rows = HistoryRows::default();
    let mut held: BTreeMap<String, Vec<String>> = BTreeMap::new();
    interactions(rc, cfg, cutoff, recs, |r| {
        rows.add(0, cfg, r.customer, r.product, r.bought, r.viewed);
        if backtest {
            rows.add(1, cfg, r.customer, r.product, r.eval_bought, r.eval_viewed);
            if r.bought_after_cutoff {
                held.entry(r.customer.to_string()).or_default().push(r.product.to_string());
            }
        }
    })
    .await?;
    for p in extra {
        intern(&mut rows.product_ids, &mut rows.products, p);
    }
    let [model, eval] = rows.finish();
    Ok((model, backtest.then_some(Backtest { h: eval, held })))
}

/// A trained model as its tables hold it: each product's neighbours (best first) and the
/// popular products (most bought first), by product id.
#[derive(Default)]
struct StoredModel {
    neighbours: HashMap<String, Vec<(i32, String, f32)>>,
    popular: Vec<(i32, String)>,
}

impl StoredModel {
    async fn load(rc: &RunContext<'_>, dt: NaiveDate) -> Result<StoredModel> {
        let p: Params = params([("dt", date_param(dt))]);
        let mut m = StoredModel::default();
        let sql = "SELECT product_id, similar_product_id, score, rank FROM marts.product_similarity WHERE dt = $dt";
        let mut stream = rc.engine.query(sql, &p).await?.execute_stream().await?;
        while let Some(b) = stream.next().await {
            let b = b?;
            let (a, q) = (arrow::compute::cast(b.column(0), &DataType::Utf8)?, arrow::compute::cast(b.column(1), &DataType::Utf8)?);
            let (a, q) = (a.as_string::<i32>(), q.as_string::<i32>());
            let (score, rank) = (arrow::compute::cast(b.column(2), &DataType::Float64)?, arrow::compute::cast(b.column(3), &DataType::Int32)?);
            let (score, rank) = (score.as_primitive::<Float64Type>(), rank.as_primitive::<Int32Type>());
            for i in 0..b.num_rows() {
                m.neighbours.entry(a.value(i).to_string()).or_default().push((rank.value(i), q.value(i).to_string(), score.value(i) as f32));
            }
        }
        m.neighbours.values_mut().for_each(|l| l.sort_by_key(|x| x.0));
        let mut stream = rc.engine.query("SELECT product_id, rank FROM marts.popular_products WHERE dt = $dt", &p).await?.execute_stream().await?;
        while let Some(b) = stream.next().await {
            let b = b?;
            let (id, rank) = (arrow::compute::cast(b.column(0), &DataType::Utf8)?, arrow::compute::cast(b.column(1), &DataType::Int32)?);
            let (id, rank) = (id.as_string::<i32>(), rank.as_primitive::<Int32Type>());
            for i in 0..b.num_rows() {
                m.popular.push((rank.value(i), id.value(i).to_string()));
            }
        }
        m.popular.sort();
        Ok(m)
    }

    fn products(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.neighbours.iter().flat_map(|(p, l)| std::iter::once(p.as_str()).chain(l.iter().map(|x| x.1.as_str()))).collect();
        v.extend(self.popular.iter().map(|x| x.1.as_str()));
        v
    }

    /// Neighbour lists and popular list in the dense ids of `names`.
    fn ids(&self, names: &Names) -> (Vec<Vec<(u32, f32)>>, Vec<u32>) {
        let id = |p: &str| names.product_ids.get(p).copied();
        let mut nb = vec![vec![]; names.products.len()];
        for (p, list) in &self.neighbours {
            if let Some(i) = id(p) {
                nb[i as usize] = list.iter().filter_map(|(_, q, s)| id(q).map(|q| (q, *s))).collect();
            }
        }
        (nb, self.popular.iter().filter_map(|(_, p)| id(p)).collect())
    }
}

/// Publish a freshly trained model's tables for the run date.
async fn publish_model(rc: &RunContext<'_>, h: &Histories, nb: &[Vec<(u32, f32)>], fp: &str) -> Result<u64> {
    let day = date32(rc.date);
    let (mut a, mut b, mut s, mut r) = (vec![], vec![], vec![], vec![]);
    for (p, list) in nb.iter().enumerate() {
        for (rank, &(q, score)) in list.iter().enumerate() {
            a.push(h.names.products[p].as_str());
            b.push(h.names.products[q as usize].as_str());
            s.push(score as f64);
            r.push(rank as i32 + 1);
        }
    }
    let sim_schema = Arc::new(Schema::new(vec![
        Field::new("product_id", DataType::Utf8, false),
        Field::new("similar_product_id", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("rank", DataType::Int32, false),
        Field::new("trained_on", DataType::Date32, true),
    ]));
    let n = a.len();
    let sim = RecordBatch::try_new(
        sim_schema.clone(),
        vec![
            Arc::new(StringArray::from(a)),
            Arc::new(StringArray::from(b)),
            Arc::new(Float64Array::from(s)),
            Arc::new(Int32Array::from(r)),
            Arc::new(Date32Array::from(vec![day; n])),
        ],
    )?;
    let sim_rows = rc.publish_batches_built_with("marts", "product_similarity", sim_schema, &[sim], Some(fp.to_string())).await?;
    let n_products = h.names.products.len();
    let bought = buyers(n_products, &h.histories);
    let pop = popular(n_products, &h.histories);
    let pop_schema = Arc::new(Schema::new(vec![
        Field::new("product_id", DataType::Utf8, false),
        Field::new("rank", DataType::Int32, false),
        Field::new("buyers", DataType::Int64, false),
        Field::new("trained_on", DataType::Date32, true),
    ]));
    let batch = RecordBatch::try_new(
        pop_schema.clone(),
        vec![
            Arc::new(StringArray::from(pop.iter().map(|&p| h.names.products[p as usize].as_str()).collect::<Vec<_>>())),
            Arc::new(Int32Array::from((1..=pop.len() as i32).collect::<Vec<_>>())),
            Arc::new(Int64Array::from(pop.iter().map(|&p| bought[p as usize] as i64).collect::<Vec<_>>())),
            Arc::new(Date32Array::from(vec![day; pop.len()])),
        ],
    )?;
    rc.publish_batches_built_with("marts", "popular_products", pop_schema, &[batch], Some(fp.to_string())).await?;
    Ok(sim_rows)
}

/// Names sorted, and the new id of each old one.
fn relabel(names: Vec<String>) -> (Vec<u32>, Vec<String>) {
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let mut new_id = vec![0u32; names.len()];
    for (new, &old) in order.iter().enumerate() {
        new_id[old as usize] = new as u32;
    }
    let mut names: Vec<Option<String>> = names.into_iter().map(Some).collect();
    let sorted = order.iter().map(|&o| names[o as usize].take().unwrap_or_default()).collect();
    (new_id, sorted)
}

fn metric(cfg: &RecommendationsConfig) -> Metric {
    if cfg.similarity == crate::config::Similarity::Jaccard {
        Metric::Jaccard
    } else {
        Metric::Cosine
    }
}

#[async_trait]
impl Job for Recommendations {
    fn name(&self) -> &'static str {
        "recommendations"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["staging", "daily_aggregates"]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.recommendations)
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        rc.require(
            "recommendations",
            &[("marts", "customer_product_day"), ("marts", "customer_events_day"), ("staging", "events")],
            "run staging and daily_aggregates first",
        )?;
        let cfg = &rc.cfg.jobs.recommendations;
        let settings =
            format!("{} {} {} {} {} {}", cfg.lookback_days, cfg.similarity, cfg.neighbours, cfg.view_weight, cfg.max_items_per_customer, cfg.holdout_days);
        let fp = fingerprint(&["_recommendation_interactions"], std::slice::from_ref(&settings))?;
        // A customer's list depends on these and on the model (its training date): lists scored
        // by another model are never carried over.
        let rec_settings = format!("{settings} {} {}", cfg.top_n, cfg.exclude_days);
        let reuse = match rc.reusable_model("product_similarity", cfg.retrain_every_days, &fp).await? {
            Some((prev, trained)) if rc.carry_over_from("marts", "popular_products", &fp).await? == Some(prev) => Some((prev, trained)),
            _ => None,
        };
        let trained_on = reuse.map_or(rc.date, |(_, t)| t);
        let mut recs = rc
            .incremental("marts", "product_recommendations", &["_recommendation_interactions", "_recommendation_scope"], &[format!("{rec_settings} {trained_on}")])
            .await?;
        // Only when the previous night scored with this very model are the lists of customers
        // whose history did not move carried over.
        if recs.prev().is_some() && recs.prev() != reuse.map(|(prev, _)| prev) {
            recs.recompute_all("the previous lists were scored with another model");
        }
        let mut metrics: Vec<(&str, String, f64)> = vec![];
        let mut scratch = vec![];
        let (h, stored, sim_rows, customers) = match reuse {
            Some((prev, trained_on)) => {
                if let Some((_, dir)) = recs.scope(rc, "_recommendation_scope", &scope_params(rc, cfg, prev)).await? {
                    scratch.push(dir);
                }
                rc.progress("recommendation histories (stored model)");
                let stored = StoredModel::load(rc, prev).await?;
                let (h, _) = histories(rc, cfg, false, &stored.products(), &recs).await?;
                let sim_rows = rc.copy_partition("product_similarity", prev, &fp).await?;
                rc.copy_partition("popular_products", prev, &fp).await?;
                for model in ["item_cf", "popularity"] {
                    metrics.extend(crate::runtime::model_metrics::previous(rc, model, prev).await?.into_iter().map(|(m, v)| (model, m, v)));
                }
                metrics.push(("item_cf", "model_age_days".into(), (rc.date - trained_on).num_days() as f64));
                let (_, customers) = h.counts();
                (h, stored, sim_rows, customers)
            }
            None => {
                rc.progress("recommendation histories");
                let (h, backtest) = histories(rc, cfg, cfg.holdout_days > 0, &[], &recs).await?;
                rc.progress("product similarity");
                let nb = neighbours(h.names.products.len(), &h.histories, metric(cfg), cfg.neighbours, cfg.max_items_per_customer);
                let (products, customers) = h.counts();
                let sim_rows = publish_model(rc, &h, &nb, &fp).await?;
                drop(nb);
                metrics.extend([
                    ("item_cf", "products".into(), products as f64),
                    ("item_cf", "customers_with_history".into(), customers as f64),
                    ("item_cf", "model_age_days".into(), 0.0),
                ]);
                if let Some(backtest) = backtest {
                    rc.progress("recommendation backtest");
                    let (model, baseline, n) = evaluate(cfg, backtest);
                    tracing::info!(
                        recall_model = model,
                        recall_popularity = baseline,
                        customers = n,
                        "recall@{} on the last {} days",
                        cfg.top_n,
                        cfg.holdout_days
                    );
                    let name = format!("recall_at_{}", cfg.top_n);
                    metrics.extend([
                        ("item_cf", name.clone(), model),
                        ("popularity", name, baseline),
                        ("item_cf", "eval_customers".into(), n as f64),
                        ("item_cf", "holdout_days".into(), cfg.holdout_days as f64),
                    ]);
                }
                // Read back: every night recommends from the model as its tables hold it.
                let stored = StoredModel::load(rc, rc.date).await?;
                (h, stored, sim_rows, customers)
            }
        };

        // product_recommendations, for every customer known at D, streamed in chunks.
        rc.progress("recommendations");
        let (nb, pop) = stored.ids(&h.names);
        drop(stored);
        let published = publish_recommendations(rc, cfg, &h, &nb, &pop, &recs).await;
        for dir in &scratch {
            rc.engine.wh.remove_dir(dir).await;
        }
        let (rec_rows, recomputed) = published?;
        let m = crate::runtime::model_metrics::publish(rc, self.name(), &metrics).await?;
        Ok(vec![
            TableStats { table: "marts.product_similarity".into(), rows_in: nb.len() as u64, rows_out: sim_rows, ..Default::default() },
            TableStats {
                table: "marts.product_recommendations".into(),
                rows_in: customers as u64,
                rows_out: rec_rows,
                recomputed: Some(recomputed),
                ..Default::default()
            },
            TableStats { table: "marts.model_metrics".into(), rows_out: m, ..Default::default() },
        ])
    }
}

fn rec_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("product_id", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("rank", DataType::Int32, false),
        Field::new("source", DataType::Utf8, false),
    ]))
}

/// Parameters of `_recommendation_scope.sql` against the previous partition `prev`.
fn scope_params(rc: &RunContext<'_>, cfg: &RecommendationsConfig, prev: NaiveDate) -> Params {
    let (window, recent) = (Duration::days(cfg.lookback_days as i64 - 1), Duration::days(cfg.exclude_days as i64 - 1));
    params([
        ("run_date", date_param(rc.date)),
        ("prev_dt", date_param(prev)),
        ("window_start", date_param(rc.date - window)),
        ("prev_window_start", date_param(prev - window)),
        ("window_left_dt", date_param(prev - window - Duration::days(1))),
        ("recent_start", date_param(rc.date - recent)),
        ("prev_recent_start", date_param(prev - recent)),
        ("recent_left_dt", date_param(prev - recent - Duration::days(1))),
    ])
}

/// Top N for every customer known at D, streamed in chunks; with `carry`, for the customers in
/// `landing.scope`, the others' rows copied from that partition. Returns rows written and rows
/// computed tonight.
async fn publish_recommendations(
    rc: &RunContext<'_>,
    cfg: &RecommendationsConfig,
    h: &Histories,
    nb: &[Vec<(u32, f32)>],
    pop: &[u32],
    recs: &Incremental,
) -> Result<(u64, u64)> {
    let carry = recs.prev();
    let mut p = params([("run_date", date_param(rc.date))]);
    let mut sql = "SELECT DISTINCT customer_id FROM staging.customers WHERE dt <= $run_date".to_string();
    if let Some(prev) = carry {
        p.insert("prev_dt".into(), date_param(prev));
        sql.push_str(" AND customer_id IN (SELECT customer_id FROM landing.scope)");
    }
    let mut stream = rc.engine.query(&sql, &p).await?.execute_stream().await?;
    let mut w = recs.writer(rc, rec_schema())?;
    let empty: History = vec![];
    let mut fresh = 0u64;
    let result: Result<()> = async {
        while let Some(b) = stream.next().await {
            let b = b?;
            let ids = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
            let ids = ids.as_string::<i32>();
            let (mut c, mut p, mut s, mut r, mut src) = (vec![], vec![], vec![], vec![], vec![]);
            let lists: Vec<_> = (0..ids.len())
                .into_par_iter()
                .map(|i| {
                    let hist = h.of(ids.value(i)).unwrap_or(&empty);
                    recommend(hist, nb, pop, cfg.top_n)
                })
                .collect();
            for (i, list) in lists.into_iter().enumerate() {
                let id = ids.value(i);
                for (rank, (q, score, source)) in list.into_iter().enumerate() {
                    c.push(id);
                    p.push(h.names.products[q as usize].as_str());
                    s.push(score as f64);
                    r.push(rank as i32 + 1);
                    src.push(if source == Source::History { "history" } else { "popular" });
                }
            }
            let batch = RecordBatch::try_new(
                rec_schema(),
                vec![
                    Arc::new(StringArray::from(c)),
                    Arc::new(StringArray::from(p)),
                    Arc::new(Float64Array::from(s)),
                    Arc::new(Int32Array::from(r)),
                    Arc::new(StringArray::from(src)),
                ],
            )?;
            fresh += batch.num_rows() as u64;
            w.write(&batch).await?;
        }
        if carry.is_some() {
            // The carried-over rows: filtered here against the scope's ids; an anti join in SQL built its hash table
            // from the 10M carried rows (2.4 GB at 1M customers).
            let mut scope = std::collections::HashSet::new();
            let mut ids = rc.engine.query("SELECT customer_id FROM landing.scope", &p).await?.execute_stream().await?;
            while let Some(b) = ids.next().await {
                let c = arrow::compute::cast(b?.column(0), &DataType::Utf8)?;
                scope.extend(c.as_string::<i32>().iter().flatten().map(str::to_string));
            }
            let sql = "SELECT customer_id, product_id, score, rank, source FROM marts.product_recommendations WHERE dt = $prev_dt";
            let mut carried = rc.engine.query(sql, &p).await?.execute_stream().await?;
            while let Some(b) = carried.next().await {
                let b = b?;
                let c = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
                let keep: arrow::array::BooleanArray = c.as_string::<i32>().iter().map(|id| Some(id.is_some_and(|id| !scope.contains(id)))).collect();
                let b = arrow::compute::filter_record_batch(&b, &keep)?;
                let columns = rec_schema()
                    .fields()
                    .iter()
                    .zip(b.columns())
                    .map(|(f, c)| arrow::compute::cast(c, f.data_type()))
                    .collect::<std::result::Result<_, _>>()?;
                w.write(&RecordBatch::try_new(rec_schema(), columns)?).await?;
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        w.abort().await;
        return Err(e);
    }
    let published = w.commit().await?;
    rc.engine.register("marts", "product_recommendations").await?;
    Ok((published.rows, fresh))
}

/// recall@top_n of the model and of popularity, built on the history before the last
/// `holdout_days` and judged on the products each customer bought in them.
fn evaluate(cfg: &RecommendationsConfig, backtest: Backtest) -> (f64, f64, usize) {
    let Backtest { h, held } = backtest;
    let nb = neighbours(h.names.products.len(), &h.histories, metric(cfg), cfg.neighbours, cfg.max_items_per_customer);
    let pop = popular(h.names.products.len(), &h.histories);
    let empty: History = vec![];
    let (mut model, mut baseline, mut truth) = (vec![], vec![], vec![]);
    for (c, bought) in held {
        let hist = h.of(&c).unwrap_or(&empty);
        // What they bought recently is excluded from both lists, so it is not a target either.
        let excluded: std::collections::HashSet<u32> = hist.iter().filter(|x| x.2).map(|x| x.0).collect();
        // Products new since the cut-off cannot be recommended: they count as misses.
        let mut t = vec![];
        for (k, p) in bought.iter().enumerate() {
            match h.names.product_ids.get(p) {
                Some(id) if excluded.contains(id) => {}
                Some(&id) => t.push(id),
                None => t.push(u32::MAX - k as u32),
            }
        }
        t.sort_unstable();
        t.dedup();
        model.push(recommend(hist, &nb, &pop, cfg.top_n).into_iter().map(|x| x.0).collect::<Vec<_>>());
        baseline.push(
            recommend(&empty, &nb, &pop, cfg.top_n + excluded.len())
                .into_iter()
                .map(|x| x.0)
                .filter(|p| !excluded.contains(p))
                .take(cfg.top_n)
                .collect::<Vec<_>>(),
        );
        truth.push(t);
    }
    (recall_at(&model, &truth, cfg.top_n), recall_at(&baseline, &truth, cfg.top_n), truth.iter().filter(|t| !t.is_empty()).count())
}
