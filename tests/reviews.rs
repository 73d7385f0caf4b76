//! The reviews job on the sample shop, whose reviews carry two planted problems (see
//! jobs/generate/reviews.rs): one of the best sellers starts arriving late halfway through the
//! history, and the first fashion product runs small. The phrases, trends and the review model
//! must find them; a night scores only its new or changed reviews and equals a full refresh.

mod common;
use common::*;

const FIRST: &str = "2026-05-20";

/// A shop of `customers` over 150 days from 2026-01-01: the first 140 days land on FIRST.
fn shop(customers: &str) -> LocalWh {
    let wh = local_wh();
    ok(&wh.url, &["generate", "--customers", customers, "--days", "150", "--start", "2026-01-01", "--first-load-days", "140", "--seed", "7"]);
    wh
}

fn planted(wh: &LocalWh) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(wh.path("_generator/planted_reviews.json")).unwrap()).unwrap()
}

fn list(v: &str) -> Vec<String> {
    v.trim_matches(|c| c == '[' || c == ']').split(',').map(|s| s.trim().trim_matches('"').to_string()).filter(|s| !s.is_empty()).collect()
}

#[test]
fn planted_problems_are_found_and_the_model_beats_the_lexicon() {
    let wh = shop("3000");
    let url = wh.url.as_str();
    ok(url, &["run", "--date", FIRST]);
    let truth = planted(&wh);
    let (late, small) = (truth["delivery_problem"]["product_id"].as_str().unwrap(), truth["size_problem"]["product_id"].as_str().unwrap());
    let product = |id: &str| sql(url, &format!("SELECT * FROM marts.product_reviews WHERE dt = '{FIRST}' AND product_id = '{id}'")).remove(0);

    // The delivery product: its complaints' words lead its negative phrases, and its reviews
    // turned more negative than any other product's.
    let p = product(late);
    let phrases = list(&p["top_negative_phrases"]);
    eprintln!(
        "{late}: {} reviews in the window, negative share {} (trend {}), phrases {phrases:?}",
        p["reviews_window"], p["negative_share"], p["negative_share_trend"]
    );
    assert!(phrases.iter().take(5).any(|x| x.contains("late")), "{phrases:?}");
    assert!(phrases.iter().any(|x| x.contains("parcel") || x.contains("delivery") || x.contains("arrived")), "{phrases:?}");
    let worst = sql(
        url,
        &format!("SELECT product_id FROM marts.product_reviews WHERE dt = '{FIRST}' AND reviews_window >= 5 ORDER BY negative_share_trend DESC NULLS LAST, product_id LIMIT 1"),
    );
    assert_eq!(worst[0]["product_id"], late, "the product whose reviews turned most negative");
    assert!(p["rating_trend"].parse::<f64>().unwrap() < -0.5, "{p:?}");
    let p = product(small);
    let phrases = list(&p["top_negative_phrases"]);
    eprintln!("{small}: phrases {phrases:?}");
    assert!(phrases.iter().take(5).any(|x| x.contains("small")), "{phrases:?}");
    let size = sql(url, &format!("SELECT * FROM marts.review_phrases WHERE dt = '{FIRST}' AND scope_id = '{small}' AND kind = 'aspect' AND phrase = 'size'"));
    assert!(size[0]["negative_reviews"].parse::<u64>().unwrap() >= 3, "{size:?}");
    // Categories are described too: the planted products' categories complain of the same.
    for (product, word) in [(late, "late"), (small, "small")] {
        let n = count(
            url,
            &format!(
                "SELECT count(*) FROM marts.review_phrases r JOIN (SELECT DISTINCT category FROM staging.products WHERE product_id = '{product}') p \
                 ON r.scope_id = p.category WHERE r.dt = '{FIRST}' AND r.scope = 'category' AND r.polarity = 'negative' AND r.phrase = '{word}'"
            ),
        );
        assert_eq!(n, 1, "{word} among the negative phrases of {product}'s category");
    }

    // The model learnt the shop's words ("runs small", "arrived late") that the lexicon misses.
    let m: std::collections::BTreeMap<String, f64> =
        sql(url, &format!("SELECT metric, value FROM marts.model_metrics WHERE dt = '{FIRST}' AND model = 'review_negative'"))
            .into_iter()
            .map(|r| (r["metric"].clone(), r["value"].parse().unwrap_or(f64::NAN)))
            .collect();
    eprintln!("review model: {m:?}");
    assert!(m["holdout_reviews"] >= 80.0, "{m:?}");
    assert!(m["auc"] > m["lexicon_auc"], "held-out AUC {} against the lexicon's {}", m["auc"], m["lexicon_auc"]);
    assert_eq!(m["model_in_use"], 1.0);

    // One row per review, its current version; email-only reviews found their customer.
    let staged = count(url, "SELECT count(DISTINCT review_id) FROM staging.reviews");
    assert!(staged > 400, "{staged} reviews");
    assert_eq!(count(url, &format!("SELECT count(*) FROM marts.review_sentiment WHERE dt = '{FIRST}'")), staged);
    let anonymous = count(url, &format!("SELECT count(*) FROM marts.review_sentiment WHERE dt = '{FIRST}' AND customer_id IS NULL"));
    assert!(anonymous * 50 < staged, "{anonymous} of {staged} reviews without a customer");
    // A rating without text: the empty string's scores, sentiment from the rating.
    let bare = sql(url, &format!("SELECT * FROM marts.review_sentiment WHERE dt = '{FIRST}' AND text = ''"));
    assert!(!bare.is_empty());
    for r in &bare {
        for k in ["vader_compound", "vader_pos", "vader_neu", "vader_neg"] {
            assert_eq!(r[k].parse::<f64>().unwrap(), 0.0, "{r:?}");
        }
        let want = match r["rating"].as_str() {
            "1" | "2" => "negative",
            "3" => "neutral",
            _ => "positive",
        };
        assert_eq!(r["sentiment"], want, "{r:?}");
    }
    // Profiles: published reviews written and the last one's sentiment, usable in audiences.
    assert_eq!(
        count(url, &format!("SELECT sum(reviews_written) FROM user_profiles WHERE dt = '{FIRST}'")),
        count(url, &format!("SELECT count(*) FROM marts.review_sentiment WHERE dt = '{FIRST}' AND customer_id IS NOT NULL AND status = 'published'"))
    );
    let mismatched = count(
        url,
        &format!(
            "SELECT count(*) FROM user_profiles u JOIN (SELECT customer_id, sentiment, row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC, review_id DESC) AS n \
             FROM marts.review_sentiment WHERE dt = '{FIRST}' AND customer_id IS NOT NULL AND status = 'published') r ON r.customer_id = u.customer_id AND r.n = 1 \
             WHERE u.dt = '{FIRST}' AND u.last_review_sentiment IS DISTINCT FROM r.sentiment"
        ),
    );
    assert_eq!(mismatched, 0);
    assert!(count(url, &format!("SELECT count(*) FROM user_profiles WHERE dt = '{FIRST}' AND last_review_sentiment = 'negative'")) > 10);
    assert!(check_contracts(&wh, |j| j == "reviews") >= 4);
    let page = std::fs::read_to_string(wh.path(&format!("reports/dt={FIRST}/index.html"))).unwrap();
    assert!(page.contains("section-reviews") && page.contains("Top complaint phrases"));
}

#[test]
fn a_night_scores_only_new_or_changed_reviews_and_equals_a_full_refresh() {
    let wh = shop("2000");
    let url = wh.url.as_str();
    // Trained on the first night and again a week later (retrain_every_days = 7).
    let last = "2026-05-27";
    ok(url, &["backfill", "--from", FIRST, "--to", last, "--jobs", "staging,reviews"]);
    let mut edited = 0;
    for day in 21..=27 {
        let dt = format!("2026-05-{day}");
        let t = wh.table_report(&dt, "marts.review_sentiment");
        let staged = count(url, &format!("SELECT count(*) FROM staging.reviews WHERE dt = '{dt}'"));
        edited += count(url, &format!("SELECT count(*) FROM staging.reviews s WHERE dt = '{dt}' AND EXISTS (SELECT 1 FROM staging.reviews p WHERE p.review_id = s.review_id AND p.dt < s.dt)"));
        assert_eq!(t["recomputed"].as_u64().unwrap(), staged, "{dt}: the lexicon scored only the night's new or changed reviews");
        let all = count(url, &format!("SELECT count(DISTINCT review_id) FROM staging.reviews WHERE dt <= '{dt}'"));
        assert_eq!(t["rows_out"].as_u64().unwrap(), all, "{dt}");
    }
    assert!(edited > 0, "no review was edited on a later night");
    let tables = [
        "review_sentiment ORDER BY review_id",
        "product_reviews ORDER BY product_id",
        "review_phrases ORDER BY scope, scope_id, kind, polarity, rank",
        "review_model ORDER BY feature",
    ];
    let csv = |t: &str| {
        ok(
            url,
            &[
                "sql",
                "--format",
                "csv",
                &format!("SELECT * FROM marts.{} WHERE dt = '{last}' ORDER BY {}", t.split(' ').next().unwrap(), t.split("ORDER BY ").nth(1).unwrap()),
            ],
        )
    };
    let incremental: Vec<String> = tables.iter().map(|t| csv(t)).collect();
    // A night between trainings carried most reviews over; without the model's columns (a full
    // refresh trains again that night) it equals a full refresh too.
    let scores = |dt: &str| {
        ok(
            url,
            &[
                "sql",
                "--format",
                "csv",
                &format!("SELECT * EXCLUDE (model_score, sentiment, sentiment_source) FROM marts.review_sentiment WHERE dt = '{dt}' ORDER BY review_id"),
            ],
        )
    };
    let carried = scores("2026-05-26");
    ok(url, &["run", "--date", "2026-05-26", "--jobs", "reviews", "--full-refresh"]);
    assert_eq!(carried, scores("2026-05-26"), "a night between trainings differs from a full refresh");
    ok(url, &["run", "--date", last, "--jobs", "reviews", "--full-refresh"]);
    let t = wh.table_report(last, "marts.review_sentiment");
    assert_eq!(t["recomputed"], t["rows_out"], "a full refresh scores every review");
    for (t, before) in tables.iter().zip(&incremental) {
        assert!(before.lines().count() > 10, "{t}: {} lines", before.lines().count());
        assert_eq!(before, &csv(t), "marts.{t}: incremental differs from a full refresh");
    }
}
