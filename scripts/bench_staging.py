"""Benchmark: the staging job of ecomwh against the same work in DuckDB, on the same raw
files, in one run. Prints rows per second, peak memory and the ratio.

usage: bench_staging.py --customers N --days D [--bin PATH] [--dir DIR]
The raw data is a first load (all history in one partition) made by `ecomwh generate`.
"""
import argparse
import os
import shutil
import sys

from benchlib import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/ecomwh"))
    ap.add_argument("--dir", default="/tmp/ecomwh-bench")
    ap.add_argument("--keep", action="store_true", help="reuse generated data when present")
    a = ap.parse_args()

    wh = os.path.join(a.dir, f"wh-{a.customers}-{a.days}")
    start = "2024-01-01"
    import datetime as dtm
    last = (dtm.date.fromisoformat(start) + dtm.timedelta(days=a.days - 1)).isoformat()
    env = dict(os.environ, ECOMWH_LOG="warn")
    if not (a.keep and os.path.exists(os.path.join(wh, "raw"))):
        shutil.rmtree(wh, ignore_errors=True)
        secs, rss, _ = measure([a.bin, "--warehouse", f"file://{wh}", "generate", "--customers", str(a.customers),
                                "--days", str(a.days), "--start", start, "--first-load", "--dirty-rate", "0.001"], env)
        print(f"generate: {secs:.1f}s, peak {rss:.0f} MiB")
    for d in ("staging", "quarantine", "_state"):
        shutil.rmtree(os.path.join(wh, d), ignore_errors=True)

    e_secs, e_rss, _ = measure([a.bin, "--warehouse", f"file://{wh}", "run", "--date", last, "--jobs", "staging"], env)
    import json
    report = json.load(open(os.path.join(wh, f"_state/runs/dt={last}/latest.json")))
    rows = sum(t["rows_in"] for t in report["jobs"][0]["tables"])
    print(f"ecomwh: {rows:,} rows in {e_secs:.2f}s, peak {e_rss:.0f} MiB", flush=True)

    out = os.path.join(a.dir, "duckdb-out")
    shutil.rmtree(out, ignore_errors=True)
    d_secs, d_rss, d_out = measure([sys.executable, os.path.join(ROOT, "scripts/bench/duckdb_staging.py"), wh, last, out])
    d_rows = int(d_out.strip().splitlines()[-1])

    print(f"raw rows: {rows:,} (DuckDB read {d_rows:,}: its JSON reader skips malformed lines)")
    print(f"{'engine':<8} {'seconds':>8} {'rows/s':>12} {'peak MiB':>9}")
    print(f"{'ecomwh':<8} {e_secs:>8.2f} {rows / e_secs:>12,.0f} {e_rss:>9.0f}")
    print(f"{'duckdb':<8} {d_secs:>8.2f} {d_rows / d_secs:>12,.0f} {d_rss:>9.0f}")
    print(f"ratio: ecomwh takes {e_secs / d_secs:.2f}x DuckDB's time and {e_rss / d_rss:.2f}x its peak memory")


if __name__ == "__main__":
    main()
