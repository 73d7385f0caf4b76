//! The VADER port against vaderSentiment 3.3.2 itself: the package's examples and thousands of
//! generated reviews (negations, boosters, idioms, emoji, caps, punctuation, accents, blanks)
//! must score the same, by the library and by `ecomwh sentiment`.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::*;
use ecomwh::ml::vader::{self, PythonVersion, Scores, Vader};
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn py(args: &[&str]) -> String {
    let out = Command::new(python()).args(args).output().expect("python runs");
    assert!(
        out.status.success(),
        "python {args:?} failed (scripts/test.sh installs vaderSentiment into the test virtualenv):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).expect("jsonl").lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("json")).collect()
}

/// As tests/py/vader_reference.py: the text, else title and body joined by a newline.
fn text_of(row: &Value) -> String {
    if let Some(t) = row["text"].as_str() {
        return t.to_string();
    }
    let body = row["body"].as_str().unwrap_or("");
    match row["title"].as_str() {
        Some(title) if !title.is_empty() => format!("{title}\n{body}"),
        _ => body.to_string(),
    }
}

fn scores_of(row: &Value) -> Scores {
    let f = |k: &str| row[k].as_f64().unwrap_or_else(|| panic!("no {k} in {row}"));
    Scores { neg: f("neg"), neu: f("neu"), pos: f("pos"), compound: f("compound") }
}

fn differs(a: &Scores, b: &Scores) -> bool {
    [(a.neg, b.neg), (a.neu, b.neu), (a.pos, b.pos), (a.compound, b.compound)].iter().any(|(x, y)| (x - y).abs() > TOLERANCE)
}

/// Panics with the first mismatches, each with its text.
fn assert_same(what: &str, corpus: &[Value], reference: &HashMap<String, Scores>, got: &HashMap<String, Scores>) {
    let mut bad = vec![];
    for row in corpus {
        let id = row["id"].to_string();
        let want = reference.get(&id).unwrap_or_else(|| panic!("no reference score for id {id}"));
        let have = got.get(&id).unwrap_or_else(|| panic!("{what}: no score for id {id}"));
        if differs(want, have) {
            bad.push(format!("id {id} {:?}\n  vaderSentiment {want:?}\n  {what:<14} {have:?}", text_of(row)));
        }
    }
    assert!(bad.is_empty(), "{} of {} texts differ ({what}); the first ones:\n{}", bad.len(), corpus.len(), bad[..bad.len().min(10)].join("\n"));
}

#[test]
fn every_text_scores_as_vader_sentiment_does() {
    let dir = tempfile::tempdir().unwrap();
    let corpus_path = dir.path().join("corpus.jsonl");
    let ref_path = dir.path().join("reference.jsonl");
    let script = script("vader_reference.py");
    let script = script.to_str().unwrap();
    py(&[script, "corpus", corpus_path.to_str().unwrap(), "--n", "4000"]);
    py(&[script, "score", corpus_path.to_str().unwrap(), ref_path.to_str().unwrap()]);
    let corpus = jsonl(&corpus_path);
    assert!(corpus.len() >= 3000, "only {} texts", corpus.len());
    let blanks = corpus.iter().filter(|r| text_of(r).trim().is_empty()).count();
    let reviews = corpus.iter().filter(|r| r.get("title").is_some()).count();
    assert!(blanks >= 5 && reviews >= 100, "{blanks} blank texts, {reviews} title+body reviews");
    let reference: HashMap<String, Scores> = jsonl(&ref_path).iter().map(|r| (r["id"].to_string(), scores_of(r))).collect();
    assert_eq!(reference.len(), corpus.len());

    // The reference's results depend a little on the Python running it (sum() and Unicode).
    let version = py(&["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]);
    let version = PythonVersion::parse(&version).expect("a Python version");
    let own;
    let scorer: &Vader = if version == PythonVersion::default() {
        vader::shared()
    } else {
        own = Vader::new().for_python(version);
        &own
    };
    let library: HashMap<String, Scores> = corpus.iter().map(|r| (r["id"].to_string(), scorer.polarity_scores(&text_of(r)))).collect();
    assert_same("library", &corpus, &reference, &library);

    let out_path = dir.path().join("scores.jsonl");
    let py_version = format!("{}.{}", version.major, version.minor);
    ok("memory://", &["sentiment", "--input", corpus_path.to_str().unwrap(), "--output", out_path.to_str().unwrap(), "--python", &py_version]);
    let cli_rows = jsonl(&out_path);
    let ids: Vec<&Value> = cli_rows.iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, corpus.iter().map(|r| &r["id"]).collect::<Vec<_>>(), "ecomwh sentiment keeps the input order");
    let cli: HashMap<String, Scores> = cli_rows.iter().map(|r| (r["id"].to_string(), scores_of(r))).collect();
    assert_same("ecomwh sentiment", &corpus, &reference, &cli);
}
