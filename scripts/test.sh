#!/usr/bin/env bash
# Run every test of ecomwh: unit tests, end-to-end tests of the built binary on a local
# folder and on S3 (a local moto server on 127.0.0.1), and DuckDB reading the tables back.
# Installs the Python tools it needs into a cached virtualenv; starts and stops what it uses.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pyenv.sh

ensure_venv test scripts/requirements-test.txt scripts/constraints-test.txt
export ECOMWH_TEST_PYTHON="$VENV_PY"

start=$(date +%s)
cargo build --locked --all-targets
echo "build: $(( $(date +%s) - start ))s"

start=$(date +%s)
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast
else
  cargo test --locked --no-fail-fast
fi
echo "rust tests: $(( $(date +%s) - start ))s"
