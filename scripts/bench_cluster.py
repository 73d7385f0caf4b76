"""Benchmark: one night of the pipeline on the local engine, on Ballista standalone (in-process
scheduler and executor) and on a Ballista cluster of separate processes (a scheduler and two
executors on 127.0.0.1), on the same data, with seconds per job.

usage: bench_cluster.py [--customers N] [--days D] [--repeat 2] [--bin PATH] [--dir DIR]
The shop's history up to the night before is built once (local engine); then the last night is
run with each engine --repeat times (a rerun replaces its partitions, so every run does the same
work) and the median run is reported. The scheduler's log holds each job's stage plan: the script
counts the jobs that were split into several stages (shuffles between executors) and writes the
plans to DIR/cluster-stage-plans.txt.
"""
import argparse
import datetime as dtm
import json
import os
import re
import shutil
import socket
import subprocess
import time

from benchlib import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
START = dtm.date(2025, 1, 1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what):
    t0 = time.time()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.time() - t0 > 60:
                raise SystemExit(f"{what} did not start")
            time.sleep(0.2)


class Cluster:
    """A scheduler and two executors (one task each: two cores in all)."""

    def __init__(self, bin_, cfg, url, logdir, env):
        self.procs = []
        self.sched_log = os.path.join(logdir, "scheduler.log")
        self.port = free_port()
        penv = dict(env, ECOMWH_LOG="warn,ballista_scheduler=info,ballista_executor=info")
        self._start([bin_, "--config", cfg, "--warehouse", url, "cluster", "scheduler", "--port", str(self.port)], self.sched_log, penv)
        wait_port(self.port, "scheduler")
        logs = []
        for i in range(2):
            work = os.path.join(logdir, f"work{i}")
            os.makedirs(work, exist_ok=True)
            logs.append(os.path.join(logdir, f"executor{i}.log"))
            self._start([bin_, "--config", cfg, "--warehouse", url, "cluster", "executor", "--scheduler", f"127.0.0.1:{self.port}",
                         "--port", str(free_port()), "--grpc-port", str(free_port()), "--concurrent-tasks", "1",
                         "--work-dir", work], logs[-1], penv)
        t0 = time.time()
        while not all("registration succeed" in open(l).read() or "Starting poll work loop" in open(l).read() for l in logs):
            if time.time() - t0 > 60 or any(p.poll() is not None for p in self.procs):
                self.stop()
                raise SystemExit("the executors did not register: see " + ", ".join(logs))
            time.sleep(0.2)

    def _start(self, cmd, log, env):
        self.procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w")))

    def stop(self):
        for p in self.procs:
            p.kill()
            p.wait()


def stage_summary(log_path, out_path):
    """Jobs and their stages, from the physical plans in the scheduler's "Submitting execution
    graph" records. Ballista's static planner ends a stage (a shuffle) at each hash
    RepartitionExec, CoalescePartitionsExec and SortPreservingMergeExec."""
    text = open(log_path, errors="replace").read()
    graphs = re.split(r"Submitting execution graph for job_id", text)[1:]
    multi = 0
    stages_total = 0
    kinds = {}
    with open(out_path, "w") as f:
        for g in graphs:
            stages = 1 + g.count("RepartitionExec: partitioning=Hash") + g.count("CoalescePartitionsExec") \
                + g.count("SortPreservingMergeExec")
            stages_total += stages
            if stages > 1:
                multi += 1
                for op in ("HashJoinExec", "AggregateExec", "SortExec", "WindowAggExec", "BoundedWindowAggExec"):
                    if op in g:
                        kinds[op] = kinds.get(op, 0) + 1
            f.write("=== job" + g[:20000] + "\n")
    return len(graphs), multi, stages_total, kinds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/ecomwh"))
    ap.add_argument("--dir", default="/tmp/ecomwh-bench")
    a = ap.parse_args()
    env = dict(os.environ, ECOMWH_LOG="warn")
    env.pop("ECOMWH_ENGINE", None)
    wh = os.path.join(a.dir, f"cluster-{a.customers}-{a.days}")
    url = f"file://{wh}"
    last = START + dtm.timedelta(days=a.days - 1)
    if not os.path.exists(os.path.join(wh, f"_state/runs/dt={last - dtm.timedelta(days=1)}/latest.json")):
        shutil.rmtree(wh, ignore_errors=True)
        secs, _, _ = measure([a.bin, "--warehouse", url, "generate", "--customers", str(a.customers), "--days", str(a.days),
                              "--start", START.isoformat(), "--first-load-days", str(a.days - 2)], env)
        print(f"generated {a.customers} customers, {a.days} days in {secs:.0f}s", flush=True)
        # The first load is one partition dated its last day; then the night before the timed one.
        for d in (last - dtm.timedelta(days=2), last - dtm.timedelta(days=1)):
            secs, rss, _ = measure([a.bin, "--warehouse", url, "run", "--date", d.isoformat()], env)
            print(f"night {d} built in {secs:.0f}s (local)", flush=True)

    # Tasks per stage = the machine's task slots (2 cores; a cluster's default would be 16).
    cfg = os.path.join(a.dir, "cluster-bench.toml")
    with open(cfg, "w") as f:
        f.write(f"target_partitions = {os.cpu_count()}\n")
    logdir = os.path.join(a.dir, "cluster-logs")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    results = {}
    for engine in ("local", "ballista-standalone", "cluster"):
        cluster = None
        try:
            cluster = Cluster(a.bin, cfg, url, logdir, env) if engine == "cluster" else None
            name = f"ballista://127.0.0.1:{cluster.port}" if cluster else engine
            runs = []
            for _ in range(max(1, a.repeat)):
                secs, rss, _ = measure([a.bin, "--config", cfg, "--warehouse", url, "--engine", name, "run", "--date", last.isoformat()], env)
                report = json.load(open(os.path.join(wh, f"_state/runs/dt={last}/latest.json")))
                runs.append((secs, rss, report))
            runs.sort(key=lambda r: r[0])
            secs, _, report = runs[len(runs) // 2]
            rss = max(r[1] for r in runs)
            results[engine] = (secs, rss, {j["job"]: j["seconds"] for j in report["jobs"]})
            print(f"{engine}: median {secs:.1f}s of [{', '.join(f'{r[0]:.1f}' for r in runs)}], client peak {rss:.0f} MiB", flush=True)
        finally:
            if cluster:
                cluster.stop()

    jobs = list(results["local"][2])
    print(f"\nnight {last} of {a.customers} customers, seconds per job (median run):")
    print(f"{'job':<20}{'local':>10}{'standalone':>12}{'2 executors':>13}{'standalone/local':>18}{'cluster/local':>15}")
    for j in jobs + ["total"]:
        v = [results[e][0] if j == "total" else results[e][2].get(j, float("nan")) for e in ("local", "ballista-standalone", "cluster")]
        print(f"{j:<20}{v[0]:>10.2f}{v[1]:>12.2f}{v[2]:>13.2f}{v[1] / v[0]:>17.2f}x{v[2] / v[0]:>14.2f}x")
    n, multi, stages, kinds = stage_summary(os.path.join(logdir, "scheduler.log"), os.path.join(a.dir, "cluster-stage-plans.txt"))
    print(f"\ncluster: {n} Ballista jobs, {multi} of them in more than one stage ({stages} stages in all); "
          f"multi-stage jobs with: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"stage plans: {os.path.join(a.dir, 'cluster-stage-plans.txt')}")


if __name__ == "__main__":
    main()
