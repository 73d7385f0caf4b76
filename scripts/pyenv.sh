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
