"""Helpers shared by the benchmark scripts."""
import os
import resource
import subprocess
import sys
import time


TIME = "/usr/bin/time"


def measure(cmd, env=None):
    """Wall seconds and peak RSS (MiB) of a child process; exits with its output if it fails.
    The peak comes from GNU time when present: the rusage of a child forked from a big Python
    process counts the parent's pages it started with."""
    wrap = [TIME, "-f", "PEAK_KB=%M"] if os.path.exists(TIME) else []
    t0 = time.perf_counter()
    p = subprocess.Popen(wrap + list(cmd), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    secs = time.perf_counter() - t0
    out, err = out.decode(), err.decode()
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out}\n{err}")
    peak = [line for line in err.splitlines() if line.startswith("PEAK_KB=")]
    if peak:
        return secs, int(peak[-1].split("=")[1]) / 1024, out
    return secs, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, out


def duckdb_delta():
    """A DuckDB connection with the delta extension loaded from the duckdb-ext-delta wheel
    (ecomwh's tables are Delta tables: a folder glob would also read replaced files)."""
    import duckdb
    import duckdb_ext

    con = duckdb.connect(config={"allow_unsigned_extensions": "true", "autoinstall_known_extensions": "false"})
    for base in duckdb_ext.__path__:
        path = os.path.join(base, f"extensions/v{duckdb.__version__}/linux_amd64/delta.duckdb_extension")
        if os.path.exists(path):
            con.execute(f"LOAD '{path}'")
            return con
    sys.exit("the duckdb-ext-delta wheel is not installed")
