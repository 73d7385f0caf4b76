"""Benchmark: syncs of a ~1M-member audience to the Mailchimp emulator, from one run:
1. first sync: everyone with consent except 1% (a stable hash of the customer id);
2. the same night again with that 1% let in: a sync where exactly 1% of members changed;
3. the next night: what one generated day changes (new orders change fields, new customers
   join, some withdraw consent).
Wall seconds, peak memory and HTTP requests of each.

usage: bench_export.py [--customers 1700000] [--bin PATH] [--dir DIR]
About 60% of generated customers consent to marketing, so 1.7M customers make ~1M members.
The emulator (tests/emulators/mailchimp.py) enforces Mailchimp's contract: 500 members per
batch request, 10 connections at most. There is no peer run: the tools we would compare with
push one request per contact, which is 1M requests for the first sync.
"""
import argparse
import json
import os
import shutil
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
    write_config(cfg, port, "audience_bucket('bench', customer_id) >= 100")
    env = dict(os.environ, BENCH_MAILCHIMP_KEY=KEY, ECOMWH_LOG="warn")
    base = [a.bin, "--config", cfg, "--warehouse", url]
    jobs = "staging,daily_aggregates,user_profiles,rfm_segments,audiences"
    shutil.rmtree(os.path.join(wh, "_state", "exports"), ignore_errors=True)
    try:
        if not os.path.exists(os.path.join(wh, "raw")):
            print(f"generating {a.customers} customers over 31 days (30 as a first load) ...", flush=True)
            measure(base + ["generate", "--customers", str(a.customers), "--days", "31", "--start", START, "--first-load-days", "30"], env)
        rows = []
        steps = [(DAY1, "first sync, 99% of members", "audience_bucket('bench', customer_id) >= 100"),
                 (DAY1, "same night, 1% more", "true"),
                 (DAY2, "next night", "true")]
        for day, name, where in steps:
            write_config(cfg, port, where)
            built = os.path.exists(os.path.join(wh, "marts", "user_profiles", f"dt={day}"))
            secs, _, _ = measure(base + ["run", "--date", day, "--jobs", "audiences" if built else jobs], env)
            print(f"{'audiences' if built else 'pipeline'} for {day}: {secs:.1f} s", flush=True)
            before = stats(port)
            secs, peak, out = measure(base + ["export", "--date", day], env)
            after = stats(port)
            line = [l for l in out.splitlines() if l.startswith("everyone -> newsletter")][0]
            rows.append((name, secs, peak, after["requests"] - before["requests"], line))
        print()
        print(f"{'sync':<30}{'seconds':>9}{'peak MiB':>10}{'requests':>10}")
        for name, secs, peak, req, _ in rows:
            print(f"{name:<30}{secs:>9.1f}{peak:>10.0f}{req:>10}")
        for _, _, _, _, line in rows:
            print("  " + line)
        st = stats(port)
        print(f"emulator: {st['members']} members, max {st['max_concurrent']} connections at once, "
              f"{st['rejected_oversize']} oversize batches rejected")
    finally:
        emu.kill()


def write_config(cfg, port, where):
    with open(cfg, "w") as f:
        f.write(f"""
[[audiences]]
name = "everyone"
from = "user_profiles"
where = "{where}"
fields = ["first_name", "last_name", "orders", "net_revenue"]
destinations = ["newsletter"]

[destinations.newsletter]
kind = "mailchimp"
base_url = "http://127.0.0.1:{port}/3.0"
api_key_env = "BENCH_MAILCHIMP_KEY"
list_id = "abc123"
mode = "mirror"
""")


def stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/stats") as r:
        return json.load(r)


if __name__ == "__main__":
    main()
