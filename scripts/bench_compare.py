"""Benchmark: the nightly pipeline of this build against another build, on the same generated shop.

usage: bench_compare.py --before OLD_BIN [--customers 100000,1000000] [--days 30] [--first-load-days 22] [--bin PATH] [--dir DIR]
For each size: one shop is generated (raw files only) and copied into two warehouses; each build
runs its warehouse's first load (the whole pipeline over --first-load-days days in one partition),
then every later night as usual, the two builds alternating night by night so that the machine's
drift hits both. Each run starts after a sync. Printed per build: the first load and the median
ordinary night (wall seconds, peak memory), the files and bytes each run left in the warehouse
(new or changed files outside raw/: table data, table metadata such as commit logs or manifests,
run reports), and what the warehouse holds after the last night (and, for a build with
`ecomwh vacuum`, after a vacuum with no retention).
"""
import argparse
import datetime as dtm
import os
import shutil
import statistics
import subprocess

from benchlib import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START = dtm.date(2024, 1, 1)


def files(wh):
    """Every file outside raw/: path -> (size, mtime_ns)."""
    out = {}
    for d, dirs, names in os.walk(wh):
        if os.path.relpath(d, wh).split(os.sep)[0] == "raw":
            dirs[:] = []
            continue
        for n in names:
            p = os.path.join(d, n)
            st = os.stat(p)
            out[os.path.relpath(p, wh)] = (st.st_size, st.st_mtime_ns)
    return out


def kind(path):
    parts = path.split(os.sep)
    if "_delta_log" in parts or parts[:2] == ["_state", "tables"]:
        return "meta"
    if path.endswith(".parquet"):
        return "data"
    return "other"


def written(before, after):
    """Files (and their bytes) the run left: new paths, or paths whose size or time changed."""
    tally = {"data": [0, 0], "meta": [0, 0], "other": [0, 0]}
    for p, (size, mtime) in after.items():
        if before.get(p) != (size, mtime):
            t = tally[kind(p)]
            t[0] += 1
            t[1] += size
    return tally


def held(wh):
    fs = files(wh)
    return len(fs), sum(s for s, _ in fs.values())


def mib(b):
    return f"{b / 2**20:,.1f} MiB"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True, help="the ecomwh binary to compare with (e.g. a release build of an older commit)")
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/ecomwh"))
    ap.add_argument("--customers", default="100000,1000000")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--first-load-days", type=int, default=22)
    ap.add_argument("--dir", default="/tmp/ecomwh-bench-compare")
    a = ap.parse_args()
    env = dict(os.environ, ECOMWH_LOG="warn")
    builds = {"before": a.before, "after": a.bin}
    for name, b in builds.items():
        v = subprocess.run([b, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"{name}: {b} ({v})", flush=True)
    first = START + dtm.timedelta(days=a.first_load_days - 1)
    last = START + dtm.timedelta(days=a.days - 1)
    for n in [int(c) for c in a.customers.split(",")]:
        base = os.path.join(a.dir, f"shop-{n}")
        shutil.rmtree(base, ignore_errors=True)
        secs, _, _ = measure([a.bin, "--warehouse", f"file://{base}/generated", "generate", "--customers", str(n), "--days", str(a.days),
                              "--start", START.isoformat(), "--first-load-days", str(a.first_load_days)], env)
        print(f"{n} customers: generated {a.days} days in {secs:.0f}s", flush=True)
        whs = {}
        for name in builds:
            whs[name] = os.path.join(base, name)
            shutil.copytree(os.path.join(base, "generated", "raw"), os.path.join(whs[name], "raw"))
        runs = {name: [] for name in builds}
        d = first
        while d <= last:
            for name, b in builds.items():
                wh = whs[name]
                os.sync()
                fs = files(wh)
                secs, rss, _ = measure([b, "--warehouse", f"file://{wh}", "run", "--date", d.isoformat()], env)
                runs[name].append((d, secs, rss, written(fs, files(wh))))
            d += dtm.timedelta(days=1)
        print(f"\n{n} customers, first load of {a.first_load_days} days on {first}, then nights to {last}:")
        print("| build | first load | peak | files / bytes written (data, metadata, other) | ordinary night (median) | peak | files / bytes per night (data, metadata, other) |")
        print("|---|---|---|---|---|---|---|")
        for name in builds:
            r = runs[name]
            f0 = r[0][3]
            nights = r[1:]
            med = statistics.median(x[1] for x in nights) if nights else float("nan")
            peak = max((x[2] for x in nights), default=float("nan"))
            k = max(1, len(nights))
            per = {t: (sum(x[3][t][0] for x in nights) / k, sum(x[3][t][1] for x in nights) / k) for t in ("data", "meta", "other")}
            print(f"| {name} | {r[0][1]:.1f} s | {r[0][2]:,.0f} MiB | "
                  + ", ".join(f"{f0[t][0]} / {mib(f0[t][1])}" for t in ("data", "meta", "other"))
                  + f" | {med:.2f} s ({', '.join(f'{x[1]:.1f}' for x in nights)}) | {peak:,.0f} MiB | "
                  + ", ".join(f"{per[t][0]:.0f} / {mib(per[t][1])}" for t in ("data", "meta", "other")) + " |", flush=True)
        for name, b in builds.items():
            count, size = held(whs[name])
            line = f"{name}: the warehouse holds {count:,} files, {mib(size)} outside raw/ after the last night"
            if subprocess.run([b, "vacuum", "--help"], capture_output=True).returncode == 0:
                subprocess.run([b, "--warehouse", f"file://{whs[name]}", "vacuum", "--retain-hours", "0"], env=env, check=True,
                               capture_output=True)
                count, size = held(whs[name])
                line += f"; {count:,} files, {mib(size)} after `vacuum --retain-hours 0`"
            print(line, flush=True)


if __name__ == "__main__":
    main()
