"""Benchmark: staging a shop from its feeds (by default Shopify's order export + a Segment log;
`--feeds ga4`: GA4's BigQuery export as nested Parquet, the other tables in ecomwh's own
layout) against DuckDB running the same mapping SQL over the same files, in one run per size.
Prints rows per second, peak memory and the ratio.

usage: bench_feeds.py [--feeds shopify_csv,segment|ga4] [--sizes 100000,1000000] [--days D]
                      [--bin PATH] [--dir DIR] [--keep]
The feeds are a first load (all history in one night) made by `ecomwh generate --preset`.
"""
import argparse
import datetime as dtm
import json
import os
import shutil
import sys

from benchlib import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one(a, customers):
    wh = os.path.join(a.dir, f"feeds-{a.feeds.replace(',', '-')}-{customers}-{a.days}")
    presets = a.feeds.split(",")
    start = "2024-01-01"
    last = (dtm.date.fromisoformat(start) + dtm.timedelta(days=a.days - 1)).isoformat()
    env = dict(os.environ, ECOMWH_LOG="warn")
    if not (a.keep and os.path.exists(os.path.join(wh, "_generator/sources.toml"))):
        shutil.rmtree(wh, ignore_errors=True)
        secs, rss, _ = measure([a.bin, "--warehouse", f"file://{wh}", "generate", "--customers", str(customers), "--days", str(a.days),
                                "--start", start, "--first-load", "--dirty-rate", "0.001", "--preset", a.feeds], env)
        print(f"generate {customers:,} customers as {' + '.join(presets)}: {secs:.1f}s, peak {rss:.0f} MiB", flush=True)
    for d in ("staging", "quarantine", "_state"):
        shutil.rmtree(os.path.join(wh, d), ignore_errors=True)
    size = sum(os.path.getsize(os.path.join(r, f)) for p in presets for r, _, fs in os.walk(os.path.join(wh, "raw", p)) for f in fs)

    cfg = os.path.join(wh, "_generator/sources.toml")
    e_secs, e_rss, _ = measure([a.bin, "--warehouse", f"file://{wh}", "--config", cfg, "run", "--date", last, "--jobs", "staging"], env)
    report = json.load(open(os.path.join(wh, f"_state/runs/dt={last}/latest.json")))
    tables = report["jobs"][0]["tables"]
    rows = sum(t["rows_in"] for t in tables)

    out = os.path.join(a.dir, "duckdb-feeds-out")
    shutil.rmtree(out, ignore_errors=True)
    d_secs, d_rss, d_out = measure([sys.executable, os.path.join(ROOT, "scripts/bench/duckdb_feeds.py"), wh, last, out, a.feeds])
    d_rows = int(d_out.strip().splitlines()[-1])
    print(f"\n{a.feeds}, {customers:,} customers, {a.days} days: {size / 2**20:,.0f} MiB of feed files, {rows:,} rows "
          f"(DuckDB staged {d_rows:,}: it leaves out the calls a mapping ignores)")
    print(f"{'engine':<8} {'seconds':>8} {'rows/s':>12} {'peak MiB':>9}")
    print(f"{'ecomwh':<8} {e_secs:>8.2f} {rows / e_secs:>12,.0f} {e_rss:>9.0f}")
    print(f"{'duckdb':<8} {d_secs:>8.2f} {rows / d_secs:>12,.0f} {d_rss:>9.0f}")
    print(f"ratio: ecomwh takes {e_secs / d_secs:.2f}x DuckDB's time and {e_rss / d_rss:.2f}x its peak memory", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", default="shopify_csv,segment", help="the presets: shopify_csv,segment or ga4")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/ecomwh"))
    ap.add_argument("--dir", default="/tmp/ecomwh-bench")
    ap.add_argument("--keep", action="store_true", help="reuse generated feeds when present")
    a = ap.parse_args()
    for n in a.sizes.split(","):
        one(a, int(n))


if __name__ == "__main__":
    main()
