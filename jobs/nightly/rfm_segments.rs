//! The rfm_segments job: recency/frequency/monetary, quintile scores and the BG/NBD columns
//! (SQL, `sql/marts/rfm_segments.sql`), then the segment from the configured map and a k-means
//! cluster (here). Publishes `rfm_segments`, `rfm_clusters` (centroids a person can read) and
//! `rfm_segment_summary`. The lookback window's sums are kept incrementally: only customers
//! whose window changed since the previous partition are summed again.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Schema};
use async_trait::async_trait;
use chrono::Duration;

use crate::config::RfmConfig;
use crate::engine::{date_param, params};
use crate::error::{Error, Result};
use crate::ml::kmeans::{cluster, Clustering};
use crate::runtime::run_report::TableStats;
use crate::runtime::{Job, RunContext};
use crate::sqlfiles;

pub struct RfmSegments;

/// Output column order (DESIGN.md).
const COLUMNS: [&str; 14] = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_cell",
    "segment",
    "cluster",
    "repeat_purchase_days",
    "days_first_to_last_purchase",
    "days_since_first_purchase",
    "avg_repeat_purchase_value",
];

/// Add rfm_cell, segment and cluster to the scored rows; also return the clustering.
pub fn label(scored: &RecordBatch, cfg: &RfmConfig) -> Result<(RecordBatch, Clustering, Vec<[f64; 3]>)> {
    let col =
        |name: &str| -> Result<ArrayRef> { scored.column_by_name(name).cloned().ok_or_else(|| Error::job("rfm_segments", format!("column {name} missing"))) };
    let as_f64 = |name: &str| -> Result<Vec<f64>> {
        let a = arrow::compute::cast(&col(name)?, &DataType::Float64)?;
        Ok(a.as_primitive::<Float64Type>().iter().map(|v| v.unwrap_or(0.0)).collect())
    };
    let (rec, freq, mon) = (as_f64("recency_days")?, as_f64("frequency")?, as_f64("monetary")?);
    let rfm: Vec<[f64; 3]> = (0..scored.num_rows()).map(|i| [rec[i], freq[i], mon[i]]).collect();
    let score = |name: &str| -> Result<Vec<u8>> {
        let a = arrow::compute::cast(&col(name)?, &DataType::Int32)?;
        Ok(a.as_primitive::<Int32Type>().iter().map(|v| v.unwrap_or(1).clamp(1, 5) as u8).collect())
    };
    let (r, f, m) = (score("r_score")?, score("f_score")?, score("m_score")?);
    let cells: StringArray = (0..r.len()).map(|i| Some(format!("{}{}{}", r[i], f[i], m[i]))).collect();
    let segments: StringArray = (0..r.len()).map(|i| Some(cfg.segment(r[i], f[i], m[i]))).collect();
    let k_range = (cfg.k_min, cfg.k_max);
    let c = cluster(&rfm, cfg.clusters, k_range, cfg.seed).map_err(|e| Error::job("rfm_segments", e.to_string()))?;
    let clusters: Int32Array = c.labels.iter().map(|&l| Some(l as i32)).collect();

    let mut fields = vec![];
    let mut cols: Vec<ArrayRef> = vec![];
    for name in COLUMNS {
        let (field, array): (Field, ArrayRef) = match name {
            "rfm_cell" => (Field::new(name, DataType::Utf8, false), Arc::new(cells.clone())),
            "segment" => (Field::new(name, DataType::Utf8, false), Arc::new(segments.clone())),
            "cluster" => (Field::new(name, DataType::Int32, false), Arc::new(clusters.clone())),
            _ => {
                let i = scored.schema().index_of(name)?;
                (scored.schema().field(i).clone(), scored.column(i).clone())
            }
        };
        fields.push(field);
        cols.push(array);
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?;
    Ok((batch, c, rfm))
}

/// One row per cluster: size, mean R/F/M in their own units, centroid in standardised log space.
pub fn clusters_batch(c: &Clustering, rfm: &[[f64; 3]]) -> Result<RecordBatch> {
    let k = c.centroids.len();
    let mut n = vec![0i64; k];
    let mut sums = vec![[0.0f64; 3]; k];
    for (i, &l) in c.labels.iter().enumerate() {
        n[l as usize] += 1;
        for j in 0..3 {
            sums[l as usize][j] += rfm[i][j];
        }
    }
    let mean = |j: usize| -> Float64Array { (0..k).map(|c| (n[c] > 0).then(|| sums[c][j] / n[c] as f64)).collect() };
    let centroid = |j: usize| -> Float64Array { c.centroids.iter().map(|p| Some(p[j])).collect() };
    let f = |name: &str, t: DataType, nullable: bool| Field::new(name, t, nullable);
    let schema = Schema::new(vec![
        f("cluster", DataType::Int32, false),
        f("customers", DataType::Int64, false),
        f("avg_recency_days", DataType::Float64, true),
        f("avg_frequency", DataType::Float64, true),
        f("avg_monetary", DataType::Float64, true),
        f("centroid_log_recency_z", DataType::Float64, false),
        f("centroid_log_frequency_z", DataType::Float64, false),
        f("centroid_log_monetary_z", DataType::Float64, false),
        f("k", DataType::Int32, false),
        f("silhouette", DataType::Float64, true),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new((0..k as i32).map(Some).collect::<Int32Array>()),
        Arc::new(Int64Array::from(n.clone())),
        Arc::new(mean(0)),
        Arc::new(mean(1)),
        Arc::new(mean(2)),
        Arc::new(centroid(0)),
        Arc::new(centroid(1)),
        Arc::new(centroid(2)),
        Arc::new(Int32Array::from(vec![c.k as i32; k])),
        Arc::new(Float64Array::from(vec![c.silhouette; k])),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
}

fn segment_map_batch(cfg: &RfmConfig) -> Result<RecordBatch> {
    let schema = Schema::new(vec![
        Field::new("segment", DataType::Utf8, false),
        Field::new("rule_order", DataType::Int64, false),
        Field::new("ranges", DataType::Utf8, false),
    ]);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(cfg.segments.iter().map(|s| Some(s.segment.clone())).collect::<StringArray>()),
        Arc::new((0..cfg.segments.len() as i64).map(Some).collect::<Int64Array>()),
        Arc::new(cfg.segments.iter().map(|s| Some(s.ranges())).collect::<StringArray>()),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
}

#[async_trait]
impl Job for RfmSegments {
    fn name(&self) -> &'static str {
        "rfm_segments"
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["daily_aggregates"]
    }

    fn settings(&self, cfg: &crate::config::Config) -> Result<serde_json::Value> {
        crate::runtime::context::settings_json(self.name(), &cfg.jobs.rfm_segments)
    }

    async fn run(&self, rc: &RunContext<'_>) -> Result<Vec<TableStats>> {
        let cfg = &rc.cfg.jobs.rfm_segments;
        rc.require("rfm_segments", &[("marts", "customer_orders_day"), ("marts", "customer_order_totals")], "run daily_aggregates for this date first")?;
        let days = cfg.lookback_days as i64;
        let window_start = rc.date - Duration::days(days - 1);
        let mut p = params([("run_date", date_param(rc.date)), ("window_start", date_param(window_start))]);
        rc.progress("rfm_segments: scores");
        let t0 = std::time::Instant::now();
        // The window sums of customers whose window did not change carry over from the
        // previous partition (see _rfm_scope.sql).
        let inc = rc
            .incremental(
                "marts",
                "rfm_segments",
                &["rfm_segments", "_rfm_scope", "_rfm_window", "_current_orders_day"],
                &[format!("lookback_days={days}"), format!("timezone={}", rc.cfg.timezone)],
            )
            .await?;
        if let Some(prev) = inc.prev() {
            p.insert("prev_dt".into(), date_param(prev));
            p.insert("prev_window_start".into(), date_param(prev - Duration::days(days - 1)));
            p.insert("window_left_dt".into(), date_param(prev - Duration::days(days)));
        }
        let mut scratch = vec![];
        let scored = async {
            let mut in_scope = None;
            if let Some((n, dir)) = inc.scope(rc, "_rfm_scope", &p).await? {
                scratch.push(dir);
                in_scope = Some(n);
            }
            let scope = inc.carry().then_some(crate::runtime::incremental::SCOPE_FILTER);
            scratch.push(crate::nightly::shared::current_orders_day(rc, window_start, scope).await?);
            scratch.push(rc.scratch_query("rfm_window", &inc.sql("_rfm_window")?, &p).await?.1);
            let df = rc.engine.query(&sqlfiles::sql("marts", "rfm_segments")?, &p).await?;
            let schema = df.schema().inner().clone();
            // k-means needs every customer's point at once; the rows are a few numbers each.
            Ok::<_, Error>((schema, df.collect().await?, in_scope))
        }
        .await;
        for dir in &scratch {
            rc.engine.wh.remove_dir(dir).await;
        }
        let (schema, batches, recomputed) = scored?;
        let scored = arrow::compute::concat_batches(&schema, &batches)?;
        drop(batches);
        // k-means sums points in order: the same order whichever engine (and partitioning) ran
        // the query gives the same clusters to the last bit.
        let by_id = arrow::compute::sort_to_indices(
            scored.column_by_name("customer_id").ok_or_else(|| Error::job("rfm_segments", "scores lack customer_id"))?,
            None,
            None,
        )?;
        let scored = arrow::compute::take_record_batch(&scored, &by_id)?;
        tracing::info!(customers = scored.num_rows(), seconds = t0.elapsed().as_secs_f64(), "scored");
        rc.progress("rfm_segments: clusters");
        let t1 = std::time::Instant::now();
        let c2 = cfg.clone();
        let (labelled, clustering, rfm) =
            tokio::task::spawn_blocking(move || label(&scored, &c2)).await.map_err(|e| Error::job("rfm_segments", format!("clustering stopped: {e}")))??;
        tracing::info!(customers = labelled.num_rows(), k = clustering.k, silhouette = ?clustering.silhouette,
            candidates = ?clustering.candidates, seconds = t1.elapsed().as_secs_f64(), "clustered");
        let n = inc.publish_batches(rc, labelled.schema(), &[labelled]).await?;
        let cb = clusters_batch(&clustering, &rfm)?;
        let nc = rc.publish_batches("marts", "rfm_clusters", cb.schema(), &[cb]).await?;

        let map = segment_map_batch(cfg)?;
        let (_, map_dir) = rc.scratch_batches("rfm_segment_map", map.schema(), vec![map]).await?;
        let ns = rc.publish_query("marts", "rfm_segment_summary", &sqlfiles::sql("marts", "rfm_segment_summary")?, &p).await;
        rc.engine.wh.remove_dir(&map_dir).await;
        let ns = ns?;
        let stats = |t: &str, out: u64| TableStats { table: t.into(), rows_in: n, rows_out: out, ..Default::default() };
        let segments = TableStats { recomputed: Some(recomputed.unwrap_or(n)), ..stats("rfm_segments", n) };
        Ok(vec![segments, stats("rfm_clusters", nc), stats("rfm_segment_summary", ns)])
    }
}
