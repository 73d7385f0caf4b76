"""Benchmark: VADER sentiment scores with ecomwh against vaderSentiment 3.3.2, the package it
reproduces, on the same generated reviews in one run. Prints texts per second of both, the
ratios, and whether every score agrees.

usage: bench_reviews.py [--bin PATH] [--n 200000] [--seed 7] [--dir DIR] [--repeat 3]
Texts: the corpus of tests/py/vader_reference.py (the package's own examples, then seeded
product reviews with negations, boosters, idioms, emoji, caps, accents and title + body rows).
vaderSentiment scores them in this process on one core, and its time is the scoring loop
alone. ecomwh's time is the wall time of the whole `ecomwh sentiment` command (reading the
JSON lines, scoring, writing them), on one core (RAYON_NUM_THREADS=1) and on all, the median of
--repeat runs. The command is told this Python's version, whose results it reproduces.
"""
import argparse
import json
import os
import sys
import time

from benchlib import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "py"))
import vader_reference  # noqa: E402

FIELDS = ("neg", "neu", "pos", "compound")


def disagreements(reference, rows, path):
    """The ids whose scores differ from the reference by more than 1e-9 (or are missing)."""
    got = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    if len(got) != len(reference):
        sys.exit(f"ecomwh wrote {len(got)} rows for {len(reference)} texts")
    bad = []
    for row, want, have in zip(rows, reference, got):
        if have["id"] != row["id"] or any(abs(want[k] - have[k]) > 1e-9 for k in FIELDS):
            bad.append((row, want, have))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/ecomwh"))
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dir", default="/tmp/ecomwh-bench-reviews")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    rows = vader_reference.corpus(a.n, a.seed)
    texts_path = os.path.join(a.dir, f"reviews-{a.n}-{a.seed}.jsonl")
    with open(texts_path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    texts = [vader_reference.text_of(r) for r in rows]
    version = "%d.%d" % sys.version_info[:2]
    titled = sum("title" in r for r in rows)
    print(f"\n== {len(texts):,} texts, {sum(map(len, texts)) / len(texts):.0f} characters on average, "
          f"{titled:,} as title + body; vaderSentiment on Python {version}", flush=True)

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    t0 = time.perf_counter()
    reference = [analyzer.polarity_scores(t) for t in texts]
    py_secs = time.perf_counter() - t0
    print(f"{'tool':<30} {'seconds':>9} {'texts/s':>11} {'peak MiB':>9}")
    print(f"{'vaderSentiment (one core)':<30} {py_secs:>9.2f} {len(texts) / py_secs:>11,.0f} {'-':>9}")

    out_path = os.path.join(a.dir, f"scores-{a.n}-{a.seed}.jsonl")
    cmd = [a.bin, "sentiment", "--input", texts_path, "--output", out_path, "--python", version]
    secs = {}
    for label, threads in (("one core", "1"), (f"{os.cpu_count()} cores", None)):
        env = dict(os.environ, ECOMWH_LOG="warn")
        env.pop("RAYON_NUM_THREADS", None)
        if threads:
            env["RAYON_NUM_THREADS"] = threads
        runs = sorted(measure(cmd, env)[:2] for _ in range(max(1, a.repeat)))
        s, peak = runs[len(runs) // 2]
        secs[label] = s
        note = f"  median of {len(runs)}" if len(runs) > 1 else ""
        print(f"{'ecomwh sentiment (' + label + ')':<30} {s:>9.2f} {len(texts) / s:>11,.0f} {peak:>9.0f}{note}", flush=True)
        bad = disagreements(reference, rows, out_path)
        if bad:
            for row, want, have in bad[:5]:
                print(f"  differs: {vader_reference.text_of(row)!r}\n    vaderSentiment {want}\n    ecomwh         {have}")
            sys.exit(f"{len(bad):,} of {len(texts):,} texts score differently ({label})")
    print("  ecomwh is " + ", ".join(f"{py_secs / s:,.1f}x faster on {label}" for label, s in secs.items()))
    print(f"  all {len(texts):,} scores (neg, neu, pos, compound) agree with vaderSentiment")


if __name__ == "__main__":
    main()
