"""Benchmark: recommendations on a generated shop, against the popularity baseline.

usage: bench_recs.py [--customers 100000] [--days 400] [--bin PATH] [--dir DIR]
History is one first load; staging and the daily aggregates run once, then the
recommendations job is timed (wall seconds, peak memory). It judges itself: the model built on
the history before the last 30 days is scored on what customers bought in them, as is the
popularity list (most bought products, minus each customer's recent purchases). Printed:
recall@10 of both and the ratio.
"""
import argparse
import datetime as dtm
import json
import os
import subprocess

from benchlib import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=400)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/ecomwh"))
    ap.add_argument("--dir", default="/tmp/ecomwh-bench")
    a = ap.parse_args()
    last = dtm.date(2026, 11, 20)
    start = last - dtm.timedelta(days=a.days - 1)
    wh = os.path.join(a.dir, f"recs-{a.customers}-{a.days}")
    base = [a.bin, "--warehouse", f"file://{wh}"]
    env = dict(os.environ, ECOMWH_LOG="warn")
    if not os.path.exists(os.path.join(wh, "staging")):
        print(f"generating {a.customers} customers over {a.days} days and staging them ...", flush=True)
        measure(base + ["generate", "--customers", str(a.customers), "--days", str(a.days), "--start", str(start), "--first-load"], env)
        measure(base + ["run", "--date", str(last), "--jobs", "staging,daily_aggregates"], env)
    secs, peak, _ = measure(base + ["run", "--date", str(last), "--jobs", "recommendations"], env)
    out = subprocess.run(base + ["sql", f"SELECT model, metric, value FROM marts.model_metrics WHERE dt = '{last}' "
                                 "AND model IN ('item_cf', 'popularity')", "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    m = {(r["model"], r["metric"]): r["value"] for r in map(json.loads, out.splitlines())}
    model, pop = m[("item_cf", "recall_at_10")], m[("popularity", "recall_at_10")]
    print(f"\n{a.customers} customers, {int(m[('item_cf', 'products')])} products, "
          f"{int(m[('item_cf', 'customers_with_history')])} with a history; "
          f"{int(m[('item_cf', 'eval_customers')])} customers bought in the last 30 days")
    print(f"recommendations job: {secs:.1f} s wall (model, backtest and 10 per customer), peak {peak:.0f} MiB")
    print(f"recall@10   item-to-item {model:.4f}   popularity {pop:.4f}   ratio {model / pop:.2f}x")


if __name__ == "__main__":
    main()
