"""Benchmark: the first sync of a ~1M-member audience to the Mailchimp emulator, then the next
night's sync, when about 1% of the members changed (new orders change their fields, new
customers join, some withdraw consent): wall seconds, peak memory, HTTP requests and contacts sent, from one run.

usage: bench_export.py [--customers 1700000] [--bin PATH] [--dir DIR]
About 60% of generated customers consent to marketing, so 1.7M customers make ~1M members.
The emulator (tests/emulators/mailchimp.py) enforces Mailchimp's contract: 500 members per
batch request, 10 connections at most. There is no peer run: the tools we would compare with
push one request per contact, which is 1M requests for the first sync.
"""
import argparse
import json
import os
import subprocess
import sys
import urllib.request

from benchlib import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "bench-key-not-secret"
START, DAY1, DAY2 = "2025-12-03", "2026-01-01", "2026-01-02"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_700_000)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/ecomwh"))
    ap.add_argument("--dir", default="/tmp/ecomwh-bench")
    a = ap.parse_args()
    wh = os.path.join(a.dir, f"export-{a.customers}")
    url = f"file://{wh}"

    emu = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests/emulators/mailchimp.py"), "--api-key", KEY],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(emu.stdout.readline().split()[1])
    cfg = os.path.join(a.dir, f"export-{a.customers}.toml")
    with open(cfg, "w") as f:
        f.write(f"""
[[audiences]]
name = "everyone"
from = "user_profiles"
where = "true"
fields = ["first_name", "last_name", "orders", "net_revenue"]
destinations = ["newsletter"]

[destinations.newsletter]
kind = "mailchimp"
base_url = "http://127.0.0.1:{port}/3.0"
api_key_env = "BENCH_MAILCHIMP_KEY"
list_id = "abc123"
mode = "mirror"
""")
    env = dict(os.environ, BENCH_MAILCHIMP_KEY=KEY, ECOMWH_LOG="warn")
    base = [a.bin, "--config", cfg, "--warehouse", url]
    jobs = "staging,daily_aggregates,user_profiles,rfm_segments,audiences"
    try:
        if not os.path.exists(os.path.join(wh, "raw")):
            print(f"generating {a.customers} customers over 31 days (30 as a first load) ...", flush=True)
            measure(base + ["generate", "--customers", str(a.customers), "--days", "31", "--start", START, "--first-load-days", "30"], env)
        rows = []
        for day in (DAY1, DAY2):
            secs, _, _ = measure(base + ["run", "--date", day, "--jobs", jobs], env)
            print(f"pipeline for {day}: {secs:.1f} s", flush=True)
            before = stats(port)
            secs, peak, out = measure(base + ["export", "--date", day], env)
            after = stats(port)
            line = [l for l in out.splitlines() if l.startswith("everyone -> newsletter")][0]
            rows.append((day, secs, peak, after["requests"] - before["requests"], line))
        print()
        print(f"{'sync':<28}{'seconds':>9}{'peak MiB':>10}{'requests':>10}")
        for (day, secs, peak, req, _), name in zip(rows, ["first sync (" + DAY1 + ")", "next night (" + DAY2 + ")"]):
            print(f"{name:<28}{secs:>9.1f}{peak:>10.0f}{req:>10}")
        for _, _, _, _, line in rows:
            print("  " + line)
        st = stats(port)
        print(f"emulator: {st['members']} members, max {st['max_concurrent']} connections at once, "
              f"{st['rejected_oversize']} oversize batches rejected")
    finally:
        emu.kill()


def stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/stats") as r:
        return json.load(r)


if __name__ == "__main__":
    main()
