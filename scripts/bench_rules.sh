#!/usr/bin/env bash
# Association-rules benchmark: ecomwh (release) against mlxtend, efficient-apriori and pyfim.
# usage: scripts/bench_rules.sh [--sizes groceries,100000,1000000] [--timeout S]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pyenv.sh
ensure_venv bench scripts/requirements-bench.txt scripts/constraints-bench.txt
cargo build --release --locked
exec "$VENV_PY" scripts/bench_rules.py --bin "${CARGO_TARGET_DIR:-target}/release/ecomwh" "$@"
