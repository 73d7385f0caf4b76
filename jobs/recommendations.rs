//! The recommendations job: item-to-item similarity from co-purchases and co-views
//! (`jobs/ml/recs.rs`) over the histories of `sql/marts/_recommendation_interactions.sql`;
//! publishes `product_similarity` (top K per product) and `product_recommendations` (top N per
//! customer known at D: from their history, else the most popular products, marked as such).
//! With `holdout_days`, the same model built on the history before the last holdout days is
//! judged on what customers bought in them: recall@N of the model and of popularity go to
//! `model_metrics` (models item_cf and popularity).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray, Float64Array, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use futures::StreamExt;

use crate::config::RecommendationsConfig;
use crate::engine::{date_param, params, Params};
use crate::error::Result;
use crate::ml::recs::{neighbours, popular, recall_at, recommend, History, Metric, Source};
use crate::registry::{Job, RunContext};
use crate::sqlfiles;
use crate::storage::report::TableStats;

pub struct Recommendations;

/// Dense ids for customers and products, and each customer's history.
#[derive(Default)]
struct Histories {
    customers: HashMap<String, u32>,
    products: Vec<String>,
    product_ids: HashMap<String, u32>,
    histories: Vec<History>,
}

impl Histories {
    fn product(&mut self, p: &str) -> u32 {
        if let Some(&i) = self.product_ids.get(p) {
            return i;
        }
        let i = self.products.len() as u32;
        self.products.push(p.to_string());
        self.product_ids.insert(p.to_string(), i);
        i
    }

    fn customer(&mut self, c: &str) -> u32 {
        if let Some(&i) = self.customers.get(c) {
            return i;
        }
        let i = self.histories.len() as u32;
        self.customers.insert(c.to_string(), i);
        self.histories.push(vec![]);
        i
    }
}

/// Interactions on the days `from ..= to`: (customer, product, days since bought, viewed).
async fn interactions(rc: &RunContext<'_>, from: NaiveDate, to: NaiveDate, mut each: impl FnMut(&str, &str, Option<i64>, bool)) -> Result<()> {
    let p: Params = params([("run_date", date_param(rc.date)), ("from", date_param(from)), ("to", date_param(to))]);
    let mut stream = rc.engine.query(&sqlfiles::sql("marts", "_recommendation_interactions")?, &p).await?.execute_stream().await?;
    while let Some(b) = stream.next().await {
        let b = b?;
        let s = |i: usize| arrow::compute::cast(b.column(i), &DataType::Utf8);
        let (c, pr) = (s(0)?, s(1)?);
        let (c, pr) = (c.as_string::<i32>(), pr.as_string::<i32>());
        let days = arrow::compute::cast(b.column(2), &DataType::Int64)?;
        let days = days.as_primitive::<Int64Type>();
        let viewed = b.column(3).as_boolean();
        for i in 0..b.num_rows() {
            each(c.value(i), pr.value(i), (!days.is_null(i)).then(|| days.value(i)), !viewed.is_null(i) && viewed.value(i));
        }
    }
    Ok(())
}

/// Histories of the `lookback_days` ending on `to`; the most recent purchases first.
async fn histories(rc: &RunContext<'_>, cfg: &RecommendationsConfig, to: NaiveDate, into: &mut Histories) -> Result<()> {
    let from = to - Duration::days(cfg.lookback_days as i64 - 1);
    let mut rows: Vec<(u32, u32, f32, bool, i64)> = vec![];
    interactions(rc, from, to, |c, p, days, viewed| {
        let w = if days.is_some() { 1.0 } else if viewed { cfg.view_weight } else { 0.0 };
        if w > 0.0 {
            let (ci, pi) = (into.customer(c), into.product(p));
            let recent = days.is_some_and(|d| d < cfg.exclude_days as i64);
            rows.push((ci, pi, w, recent, days.unwrap_or(i64::MAX)));
        }
    })
    .await?;
    // Ids in name order: ties then break the same way whatever order the engine sent rows in.
    let (new_product, products) = relabel(std::mem::take(&mut into.products));
    into.product_ids = products.iter().enumerate().map(|(i, p)| (p.clone(), i as u32)).collect();
    into.products = products;
    let mut names = vec![String::new(); into.histories.len()];
    for (c, &i) in &into.customers {
        names[i as usize] = c.clone();
    }
    let (new_customer, names) = relabel(names);
    into.customers = names.into_iter().enumerate().map(|(i, c)| (c, i as u32)).collect();
    for r in &mut rows {
        (r.0, r.1) = (new_customer[r.0 as usize], new_product[r.1 as usize]);
    }
    rows.sort_by_key(|r| (r.0, r.4, r.1));
    for (c, p, w, recent, _) in rows {
        into.histories[c as usize].push((p, w, recent));
    }
    Ok(())
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
    if cfg.similarity == "jaccard" { Metric::Jaccard } else { Metric::Cosine }
}

#[async_trait]
impl Job for Recommendations {
    fn name(&self) -> &'static str {
        "recommendations"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["staging", "daily_aggregates"]
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        rc.require("recommendations", &[("marts", "customer_product_day"), ("staging", "events")], "run staging and daily_aggregates first")?;
        let cfg = &rc.cfg.jobs.recommendations;
        rc.progress("recommendation histories");
        let mut h = Histories::default();
        histories(rc, cfg, rc.date, &mut h).await?;
        rc.progress("product similarity");
        let nb = neighbours(h.products.len(), &h.histories, metric(cfg), cfg.neighbours, cfg.max_items_per_customer);
        let pop = popular(h.products.len(), &h.histories);

        // product_similarity
        let (mut a, mut b, mut s, mut r) = (vec![], vec![], vec![], vec![]);
        for (p, list) in nb.iter().enumerate() {
            for (rank, &(q, score)) in list.iter().enumerate() {
                a.push(h.products[p].as_str());
                b.push(h.products[q as usize].as_str());
                s.push(score as f64);
                r.push(rank as i32 + 1);
            }
        }
        let sim_schema = Arc::new(Schema::new(vec![
            Field::new("product_id", DataType::Utf8, false),
            Field::new("similar_product_id", DataType::Utf8, false),
            Field::new("score", DataType::Float64, false),
            Field::new("rank", DataType::Int32, false),
        ]));
        let sim = RecordBatch::try_new(
            sim_schema.clone(),
            vec![Arc::new(StringArray::from(a)), Arc::new(StringArray::from(b)), Arc::new(Float64Array::from(s)), Arc::new(Int32Array::from(r))],
        )?;
        let sim_rows = rc.publish_batches("marts", "product_similarity", sim_schema, &[sim]).await?;

        // product_recommendations, for every customer known at D, streamed in chunks.
        rc.progress("recommendations");
        let rec_rows = publish_recommendations(rc, cfg, &h, &nb, &pop).await?;

        let mut metrics: Vec<(&str, String, f64)> = vec![
            ("item_cf", "products".into(), h.products.len() as f64),
            ("item_cf", "customers_with_history".into(), h.histories.iter().filter(|x| !x.is_empty()).count() as f64),
        ];
        if cfg.holdout_days > 0 {
            rc.progress("recommendation backtest");
            let (model, baseline, n) = evaluate(rc, cfg).await?;
            tracing::info!(recall_model = model, recall_popularity = baseline, customers = n, "recall@{} on the last {} days", cfg.top_n, cfg.holdout_days);
            let name = format!("recall_at_{}", cfg.top_n);
            metrics.extend([
                ("item_cf", name.clone(), model),
                ("popularity", name, baseline),
                ("item_cf", "eval_customers".into(), n as f64),
                ("item_cf", "holdout_days".into(), cfg.holdout_days as f64),
            ]);
        }
        let m = crate::model_metrics::publish(rc, &["item_cf", "popularity"], &metrics).await?;
        Ok(vec![
            TableStats { table: "marts.product_similarity".into(), rows_in: h.products.len() as u64, rows_out: sim_rows, ..Default::default() },
            TableStats { table: "marts.product_recommendations".into(), rows_in: h.customers.len() as u64, rows_out: rec_rows, ..Default::default() },
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

async fn publish_recommendations(rc: &RunContext<'_>, cfg: &RecommendationsConfig, h: &Histories, nb: &[Vec<(u32, f32)>], pop: &[u32]) -> Result<u64> {
    let sql = "SELECT DISTINCT customer_id FROM staging.customers WHERE dt <= $run_date";
    let mut stream = rc.engine.query(sql, &params([("run_date", date_param(rc.date))])).await?.execute_stream().await?;
    let mut w = rc.writer("marts", "product_recommendations", rec_schema());
    let empty: History = vec![];
    let result: Result<()> = async {
        while let Some(b) = stream.next().await {
            let b = b?;
            let ids = arrow::compute::cast(b.column(0), &DataType::Utf8)?;
            let ids = ids.as_string::<i32>();
            let (mut c, mut p, mut s, mut r, mut src) = (vec![], vec![], vec![], vec![], vec![]);
            for i in 0..ids.len() {
                let id = ids.value(i);
                let hist = h.customers.get(id).map(|&x| &h.histories[x as usize]).unwrap_or(&empty);
                for (rank, (q, score, source)) in recommend(hist, nb, pop, cfg.top_n).into_iter().enumerate() {
                    c.push(id);
                    p.push(h.products[q as usize].as_str());
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
            w.write(&batch).await?;
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
    Ok(published.rows)
}

/// recall@top_n of the model and of popularity, built on the history before the last
/// `holdout_days` and judged on the products each customer bought in them.
async fn evaluate(rc: &RunContext<'_>, cfg: &RecommendationsConfig) -> Result<(f64, f64, usize)> {
    let cutoff = rc.date - Duration::days(cfg.holdout_days as i64);
    let mut h = Histories::default();
    histories(rc, cfg, cutoff, &mut h).await?;
    let nb = neighbours(h.products.len(), &h.histories, metric(cfg), cfg.neighbours, cfg.max_items_per_customer);
    let pop = popular(h.products.len(), &h.histories);
    let mut held: HashMap<String, Vec<String>> = HashMap::new();
    interactions(rc, cutoff + Duration::days(1), rc.date, |c, p, days, _| {
        if days.is_some() {
            held.entry(c.to_string()).or_default().push(p.to_string());
        }
    })
    .await?;
    let empty: History = vec![];
    let (mut model, mut baseline, mut truth) = (vec![], vec![], vec![]);
    for (c, bought) in held {
        let hist = h.customers.get(&c).map(|&x| &h.histories[x as usize]).unwrap_or(&empty);
        // What they bought recently is excluded from both lists, so it is not a target either.
        let excluded: std::collections::HashSet<u32> = hist.iter().filter(|x| x.2).map(|x| x.0).collect();
        // Products new since the cut-off cannot be recommended: they count as misses.
        let mut t = vec![];
        for (k, p) in bought.iter().enumerate() {
            match h.product_ids.get(p) {
                Some(id) if excluded.contains(id) => {}
                Some(&id) => t.push(id),
                None => t.push(u32::MAX - k as u32),
            }
        }
        t.sort_unstable();
        t.dedup();
        model.push(recommend(hist, &nb, &pop, cfg.top_n).into_iter().map(|x| x.0).collect::<Vec<_>>());
        baseline.push(recommend(&empty, &nb, &pop, cfg.top_n + excluded.len()).into_iter().map(|x| x.0).filter(|p| !excluded.contains(p)).take(cfg.top_n).collect::<Vec<_>>());
        truth.push(t);
    }
    Ok((recall_at(&model, &truth, cfg.top_n), recall_at(&baseline, &truth, cfg.top_n), truth.iter().filter(|t| !t.is_empty()).count()))
}
