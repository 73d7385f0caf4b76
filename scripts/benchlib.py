"""Helpers shared by the benchmark scripts."""
import os
import subprocess
import sys
import time


def measure(cmd, env=None):
    """Wall seconds and peak RSS (MiB) of a child process; exits with its output if it fails."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    out, err = p.stdout.read().decode(), p.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out}\n{err}")
    return secs, usage.ru_maxrss / 1024, out
