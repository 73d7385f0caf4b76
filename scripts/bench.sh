#!/usr/bin/env bash
# Benchmarks against peers, on a release build, in one run each:
#   scripts/bench.sh staging [--customers N] [--days D]       staging vs DuckDB
#   scripts/bench.sh feeds [--feeds ga4] [--sizes 100000,1000000] [--days D]  staging from Shopify + Segment files (or GA4 Parquet) vs DuckDB
#   scripts/bench.sh rules [--sizes groceries,100000,1000000]  rules vs pyfim, efficient-apriori, mlxtend
#   scripts/bench.sh nightly [--customers N] [--days 30,365]   night 30 vs night 365, RFM vs DuckDB
#   scripts/bench.sh forecast [--series 10000]                 forecasts vs statsforecast
#   scripts/bench.sh export [--customers 1700000]              1M-member sync to the Mailchimp emulator
#   scripts/bench.sh recs [--customers 100000]                 recall@10 of recommendations vs popularity
#   scripts/bench.sh cluster [--customers 100000] [--days 30]  one night: local vs Ballista standalone vs 2 executors
#   scripts/bench.sh reviews [--n 200000]                      VADER sentiment vs vaderSentiment (texts/s, same scores)
#   scripts/bench.sh compare --before OLD_BIN [--customers 100000,1000000]  the nightly pipeline: this build vs another (time, memory, files, bytes)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:?usage: scripts/bench.sh staging|feeds|rules|nightly|forecast|export|recs|cluster|reviews|compare [options]}
shift
. scripts/pyenv.sh
if [ "$what" = forecast ]; then
  # statsforecast pins pandas < 3: a virtualenv of its own.
  ensure_venv forecast scripts/requirements-bench-forecast.txt scripts/constraints-bench-forecast.txt
else
  ensure_venv bench scripts/requirements-bench.txt scripts/constraints-bench.txt
fi
[ "$what" = rules ] && ensure_groceries
# One release build serves every benchmark, Ballista included.
cargo build --release --locked --features cluster
exec "$VENV_PY" "scripts/bench_$what.py" --bin "${CARGO_TARGET_DIR:-target}/release/ecomwh" "$@"
