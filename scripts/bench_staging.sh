#!/usr/bin/env bash
# Staging benchmark against DuckDB on the same generated data (release build).
# usage: scripts/bench_staging.sh [--customers N] [--days D]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pyenv.sh
ensure_venv test scripts/requirements-test.txt scripts/constraints-test.txt
cargo build --release --locked
exec "$VENV_PY" scripts/bench_staging.py --bin "${CARGO_TARGET_DIR:-target}/release/ecomwh" "$@"
