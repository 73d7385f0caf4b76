//! End-to-end: customer lifetime value (and the other customer models) on a generated shop.

mod common;

use common::*;

const LAST: &str = "2026-11-20";

/// A generated shop with 400 days of history loaded at once, and the jobs the models read.
fn shop(jobs: &str) -> LocalWh {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", "4000", "--days", "400", "--start", "2025-10-17", "--first-load"]);
    ok(&wh.url, &["run", "--date", LAST, "--jobs", jobs]);
    wh
}

/// BG/NBD and Gamma-Gamma parameters, expected purchases and values within 1% of lifetimes'.
#[test]
fn clv_matches_lifetimes() {
    let wh = shop("staging,daily_aggregates,rfm_segments,clv");
    let out = std::process::Command::new(python()).arg(script("clv_compare.py")).args([wh.dir.path().to_str().unwrap(), LAST]).output().expect("python runs");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "ecomwh and lifetimes differ:\n{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["repeat_customers"].as_u64().unwrap() > 300, "{v}");
    // Every customer has a value; probabilities are probabilities.
    let bad = count(
        &wh.url,
        &format!(
            "SELECT count(*) FROM marts.clv WHERE dt = '{LAST}' AND NOT (probability_alive BETWEEN 0 AND 1 \
         AND expected_purchases_365 >= 0 AND expected_avg_value > 0 AND expected_value_365 >= 0)"
        ),
    );
    assert_eq!(bad, 0);
    let n = count(&wh.url, &format!("SELECT count(*) FROM marts.clv WHERE dt = '{LAST}'"));
    assert_eq!(n, count(&wh.url, &format!("SELECT count(*) FROM marts.rfm_segments WHERE dt = '{LAST}'")));

    // Audience predicates can use the model columns: clv is joined to rfm_segments.
    let cfg = wh.path("ecomwh.toml");
    std::fs::write(
        &cfg,
        "[[audiences]]\nname = \"valuable\"\nfrom = \"rfm_segments\"\n\
        where = \"expected_value_365 > 100 AND probability_alive > 0.5\"\nfields = [\"expected_value_365\"]\n",
    )
    .unwrap();
    ok(&wh.url, &["--config", cfg.to_str().unwrap(), "run", "--date", LAST, "--jobs", "user_profiles,audiences"]);
    let members = count(&wh.url, &format!("SELECT count(*) FROM marts.audience_members WHERE dt = '{LAST}'"));
    let wrong = count(
        &wh.url,
        &format!(
            "SELECT count(*) FROM marts.audience_members m JOIN marts.clv c ON c.customer_id = m.customer_id AND c.dt = m.dt \
         WHERE m.dt = '{LAST}' AND NOT (c.expected_value_365 > 100 AND c.probability_alive > 0.5)"
        ),
    );
    assert!(members > 20, "{members} members");
    assert_eq!(wrong, 0);
}

/// Churn: trained at D-180, judged at D-90 (AUC above 0.7 on the generated shop), every
/// customer scored at D, the calibration table written.
#[test]
fn churn_model_separates_churners_on_a_time_split() {
    let wh = shop("staging,daily_aggregates,churn_scores");
    let m: std::collections::BTreeMap<String, f64> =
        sql(&wh.url, &format!("SELECT metric, value FROM marts.model_metrics WHERE dt = '{LAST}' AND model = 'churn_logistic'"))
            .into_iter()
            .map(|r| (r["metric"].clone(), r["value"].parse().unwrap_or(f64::NAN)))
            .collect();
    eprintln!("{m:?}");
    assert!(m["auc"] > 0.7, "AUC {}", m["auc"]);
    assert!(m["log_loss"] < (2f64).ln(), "log loss {}", m["log_loss"]);
    assert!(m["train_customers"] > 1000.0 && m["eval_customers"] > m["train_customers"]);
    let binned: f64 = m.iter().filter(|(k, _)| k.ends_with("_customers") && k.starts_with("calibration")).map(|(_, v)| v).sum();
    assert_eq!(binned, m["eval_customers"]);
    let scored = count(&wh.url, &format!("SELECT count(*) FROM marts.churn_scores WHERE dt = '{LAST}' AND churn_probability BETWEEN 0 AND 1"));
    let known = count(&wh.url, "SELECT count(DISTINCT customer_id) FROM staging.customers");
    assert_eq!(scored, known);
}

/// Recommendations: similar products, N per customer (history or popular, marked), never a
/// product bought in the exclusion window, and recall@10 on the last 30 days above popularity's.
#[test]
fn recommendations_beat_popularity_on_held_out_purchases() {
    let wh = shop("staging,daily_aggregates,recommendations");
    let m: std::collections::BTreeMap<(String, String), f64> =
        sql(&wh.url, &format!("SELECT model, metric, value FROM marts.model_metrics WHERE dt = '{LAST}'"))
            .into_iter()
            .map(|r| ((r["model"].clone(), r["metric"].clone()), r["value"].parse().unwrap_or(f64::NAN)))
            .collect();
    eprintln!("{m:?}");
    let key = |a: &str, b: &str| m[&(a.to_string(), b.to_string())];
    let (model, baseline) = (key("item_cf", "recall_at_10"), key("popularity", "recall_at_10"));
    assert!(model > baseline, "item_cf recall@10 {model} <= popularity {baseline}");
    assert!(key("item_cf", "eval_customers") > 200.0);
    // Every known customer gets 10, ranked 1..10, from history or marked popular.
    let q = format!(
        "SELECT count(DISTINCT customer_id) AS c, count(*) AS n, min(rank) AS lo, max(rank) AS hi FROM marts.product_recommendations WHERE dt = '{LAST}'"
    );
    let r = &sql(&wh.url, &q)[0];
    let known = count(&wh.url, "SELECT count(DISTINCT customer_id) FROM staging.customers");
    assert_eq!(r["c"].parse::<u64>().unwrap(), known);
    assert_eq!(r["n"].parse::<u64>().unwrap(), known * 10);
    assert_eq!((r["lo"].as_str(), r["hi"].as_str()), ("1", "10"));
    let sources = sql(&wh.url, &format!("SELECT DISTINCT source FROM marts.product_recommendations WHERE dt = '{LAST}' ORDER BY source"));
    assert_eq!(sources.iter().map(|s| s["source"].as_str()).collect::<Vec<_>>(), ["history", "popular"]);
    // Nothing bought in the last 90 days is recommended back.
    let q = format!(
        "SELECT count(*) FROM marts.product_recommendations r JOIN marts.customer_product_day p \
         ON p.customer_id = r.customer_id AND p.product_id = r.product_id \
         WHERE r.dt = '{LAST}' AND p.units > 0 AND p.day > DATE '{LAST}' - INTERVAL '90' DAY"
    );
    assert_eq!(count(&wh.url, &q), 0);
    let sim = count(
        &wh.url,
        &format!("SELECT count(*) FROM marts.product_similarity WHERE dt = '{LAST}' AND (score <= 0 OR rank > 20 OR product_id = similar_product_id)"),
    );
    assert_eq!(sim, 0);
}

/// Models train every `retrain_every_days` and the nights between score with the stored model:
/// which night trained shows in `trained_on`; a scoring night republishes the model unchanged,
/// carries its evaluation and still scores every customer; rerunning a scoring night gives the
/// same scores; `--full-refresh`, a changed setting or `retrain_every_days = 1` train again.
#[test]
fn models_train_on_a_cadence_and_score_every_night() {
    let wh = local_wh();
    let url = wh.url.as_str();
    let cfg = wh.path("ecomwh.toml");
    let cadence = |every: u32, l2: f64| {
        std::fs::write(
            &cfg,
            format!(
                "[jobs.churn_scores]\nretrain_every_days = {every}\nl2 = {l2}\n[jobs.recommendations]\nretrain_every_days = {every}\nlookback_days = 150\n"
            ),
        )
        .unwrap();
    };
    cadence(3, 1.0);
    let c = cfg.to_str().unwrap();
    let jobs = "staging,daily_aggregates,recommendations,churn_scores";
    ok(url, &["generate", "--customers", "3000", "--days", "200", "--start", "2025-01-01", "--first-load-days", "194"]);
    let nights = ["2025-07-13", "2025-07-14", "2025-07-15", "2025-07-16", "2025-07-17", "2025-07-18", "2025-07-19"];
    ok(url, &["--config", c, "backfill", "--from", nights[0], "--to", nights[6], "--jobs", jobs]);

    let trained = |table: &str, dt: &str| -> Vec<String> {
        sql(url, &format!("SELECT DISTINCT CAST(trained_on AS VARCHAR) AS t FROM marts.{table} WHERE dt = '{dt}'"))
            .into_iter()
            .map(|r| r["t"].clone())
            .collect()
    };
    let metric = |model: &str, name: &str, dt: &str| -> f64 {
        sql(url, &format!("SELECT value FROM marts.model_metrics WHERE dt = '{dt}' AND model = '{model}' AND metric = '{name}'"))[0]["value"].parse().unwrap()
    };
    for (i, dt) in nights.iter().enumerate() {
        let trained_on = nights[i - i % 3];
        let known = count(url, &format!("SELECT count(DISTINCT customer_id) FROM staging.customers WHERE dt <= '{dt}'"));
        for table in ["churn_model", "product_similarity", "popular_products"] {
            assert_eq!(trained(table, dt), [trained_on], "marts.{table} dt={dt}");
        }
        assert_eq!(metric("churn_logistic", "model_age_days", dt), (i % 3) as f64, "{dt}");
        assert_eq!(metric("item_cf", "model_age_days", dt), (i % 3) as f64, "{dt}");
        // The evaluation is the training night's.
        assert_eq!(metric("churn_logistic", "auc", dt), metric("churn_logistic", "auc", trained_on));
        assert_eq!(metric("item_cf", "recall_at_10", dt), metric("item_cf", "recall_at_10", trained_on));
        // Everyone is scored every night, 10 recommendations each, none bought in the last 90 days.
        assert_eq!(count(url, &format!("SELECT count(*) FROM marts.churn_scores WHERE dt = '{dt}' AND churn_probability BETWEEN 0 AND 1")), known);
        assert_eq!(count(url, &format!("SELECT count(*) FROM marts.product_recommendations WHERE dt = '{dt}'")), known * 10);
        // (the current row of each customer-day as of dt: a later partition restates it)
        let q = format!(
            "SELECT count(*) FROM marts.product_recommendations r JOIN ( \
               SELECT *, row_number() OVER (PARTITION BY customer_id, day, product_id ORDER BY dt DESC) AS rn \
               FROM marts.customer_product_day WHERE dt <= '{dt}') p \
             ON p.customer_id = r.customer_id AND p.product_id = r.product_id \
             WHERE r.dt = '{dt}' AND p.rn = 1 AND p.units > 0 AND p.day > DATE '{dt}' - INTERVAL '90' DAY"
        );
        assert_eq!(count(url, &q), 0, "{dt}");
        // A history recommendation on a scoring night comes from the stored similarity.
        let q = format!(
            "SELECT count(*) FROM marts.product_recommendations r WHERE r.dt = '{dt}' AND r.source = 'history' \
             AND r.product_id NOT IN (SELECT similar_product_id FROM marts.product_similarity WHERE dt = '{trained_on}')"
        );
        assert_eq!(count(url, &q), 0, "{dt}");
    }
    // A scoring night republishes the trained model as it was.
    let model = |dt: &str| sql(url, &format!("SELECT feature, mean, std, coefficient FROM marts.churn_model WHERE dt = '{dt}' ORDER BY feature"));
    assert_eq!(model(nights[2]), model(nights[0]));
    assert!(model(nights[0]).len() > 10);
    assert_ne!(model(nights[3]), model(nights[0]), "the model of the next training night differs");
    let sim = |dt: &str| sql(url, &format!("SELECT product_id, similar_product_id, score, rank FROM marts.product_similarity WHERE dt = '{dt}' ORDER BY 1, 4"));
    assert_eq!(sim(nights[5]), sim(nights[3]));
    // Scores move between scoring nights (recency moves on), with the same model.
    let scores = |dt: &str| sql(url, &format!("SELECT customer_id, churn_probability FROM marts.churn_scores WHERE dt = '{dt}' ORDER BY 1"));
    let recs =
        |dt: &str| sql(url, &format!("SELECT customer_id, product_id, score, rank, source FROM marts.product_recommendations WHERE dt = '{dt}' ORDER BY 1, 4"));
    let (s4, s5, r5) = (scores(nights[4]), scores(nights[5]), recs(nights[5]));
    assert_ne!(s4, s5);
    // Rerunning a scoring night (with later nights published) gives the same results.
    ok(url, &["--config", c, "run", "--date", nights[5], "--jobs", "recommendations,churn_scores"]);
    assert_eq!(trained("churn_model", nights[5]), [nights[3]]);
    assert_eq!(scores(nights[5]), s5);
    assert_eq!(recs(nights[5]), r5);
    // Scoring nights score again only the customers whose history moved and carry the other
    // lists over; scoring everyone with the same model (the previous partition unreadable)
    // gives exactly the same lists.
    let rec_counts = |dt: &str| -> (u64, u64) {
        let t = wh.table_report(dt, "marts.product_recommendations");
        (t["recomputed"].as_u64().unwrap(), t["rows_out"].as_u64().unwrap())
    };
    // (a 150-day window: views and purchases leave it on these nights)
    for (i, dt) in nights.iter().enumerate().skip(1) {
        let (fresh, rows) = rec_counts(dt);
        eprintln!("{dt}: {fresh} of {rows} scored");
        match i % 3 {
            0 => assert_eq!(fresh, rows, "{dt} trained"),
            _ => assert!(fresh > 0 && fresh * 2 < rows, "{dt}: {fresh} of {rows} scored again"),
        }
    }
    let p4 = wh.path(&format!("marts/product_recommendations/dt={}", nights[4]));
    let hidden = wh.path("hidden-partition");
    std::fs::rename(&p4, &hidden).unwrap();
    ok(url, &["--config", c, "run", "--date", nights[5], "--jobs", "recommendations"]);
    std::fs::rename(&hidden, &p4).unwrap();
    assert_eq!(rec_counts(nights[5]).0, rec_counts(nights[5]).1, "everyone scored");
    assert_eq!(recs(nights[5]), r5);
    // --full-refresh trains; so do a changed setting and a cadence of 1.
    ok(url, &["--config", c, "run", "--date", nights[5], "--jobs", "recommendations,churn_scores", "--full-refresh"]);
    assert_eq!(trained("churn_model", nights[5]), [nights[5]]);
    assert_eq!(trained("product_similarity", nights[5]), [nights[5]]);
    cadence(3, 2.0);
    ok(url, &["--config", c, "run", "--date", nights[6], "--jobs", "recommendations,churn_scores"]);
    assert_eq!(trained("churn_model", nights[6]), [nights[6]], "l2 changed");
    assert_eq!(trained("product_similarity", nights[6]), [nights[5]], "recommendation settings did not change");
    cadence(1, 2.0);
    ok(url, &["--config", c, "run", "--date", nights[6], "--jobs", "recommendations,churn_scores"]);
    assert_eq!(trained("product_similarity", nights[6]), [nights[6]]);

    // After an upgrade, partitions from before trained_on existed (rewritten here without it):
    // an old one reads as NULL, and with the newest one old, a backfill trains instead of failing.
    cadence(3, 2.0);
    let drop_trained_on = |dt: &str| {
        for f in std::fs::read_dir(wh.path(&format!("marts/product_similarity/dt={dt}"))).unwrap() {
            let script = "import duckdb, os, sys; f = sys.argv[1]; duckdb.sql(f\"COPY (SELECT * EXCLUDE (trained_on) FROM \
                read_parquet('{f}', hive_partitioning = false)) TO '{f}.old' (FORMAT parquet)\"); os.replace(f + '.old', f)";
            let out = std::process::Command::new(python()).args(["-c", script]).arg(f.unwrap().path()).output().expect("python runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    };
    drop_trained_on(nights[0]);
    let by_dt = sql(url, "SELECT CAST(dt AS VARCHAR) AS dt, CAST(min(trained_on) AS VARCHAR) AS t FROM marts.product_similarity GROUP BY dt ORDER BY dt");
    assert_eq!(by_dt.len(), nights.len());
    assert_eq!((by_dt[0]["dt"].as_str(), by_dt[0]["t"].as_str()), (nights[0], ""));
    assert_eq!(by_dt[1]["t"], nights[0]);
    drop_trained_on(nights[6]);
    ok(url, &["--config", c, "run", "--date", nights[4], "--jobs", "recommendations"]);
    assert_eq!(metric("item_cf", "model_age_days", nights[4]), 0.0, "trained");
    assert!(count(url, "SELECT count(*) FROM marts.product_similarity") > 0);
}

/// The three model jobs run at once, as the DAG may run them: each replaces only its own rows
/// of the night's `marts.model_metrics`, so every model's rows are there after every round
/// (one job used to rewrite the partition from what it had read, dropping the others' rows).
#[test]
fn model_jobs_run_concurrently_keep_every_models_metrics() {
    let wh = shop("staging,daily_aggregates,rfm_segments");
    let models = ["bg_nbd", "churn_logistic", "gamma_gamma", "item_cf", "popularity"];
    let mut rows_per_model: Option<Vec<u64>> = None;
    for round in 0..10 {
        let children: Vec<_> = ["recommendations", "churn_scores", "clv"]
            .iter()
            .map(|job| cmd(&wh.url, &["run", "--date", LAST, "--jobs", job]).stdout(std::process::Stdio::null()).spawn().expect("ecomwh starts"))
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success(), "round {round}: a model job failed");
        }
        let got = sql(&wh.url, &format!("SELECT model, count(*) AS n FROM marts.model_metrics WHERE dt = '{LAST}' GROUP BY model ORDER BY model"));
        let names: Vec<&str> = got.iter().map(|r| r["model"].as_str()).collect();
        assert_eq!(names, models, "round {round}");
        let counts: Vec<u64> = got.iter().map(|r| r["n"].parse().unwrap()).collect();
        // The same rows every round: a rerun replaces a job's rows, it never adds to them.
        assert_eq!(rows_per_model.get_or_insert(counts.clone()), &counts, "round {round}");
        // After a vacuum only the committed files are left in the folder: one per job.
        ok(&wh.url, &["vacuum", "--retain-hours", "0"]);
        let files = std::fs::read_dir(wh.path(&format!("marts/model_metrics/dt={LAST}"))).unwrap().count();
        assert_eq!(files, 3, "round {round}: one file per job");
    }
}
