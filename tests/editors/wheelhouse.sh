#!/usr/bin/env bash
# Builds a wheelhouse that installs promptls offline: every dependency as a wheel (cached per
# pyproject.toml and Python version; this step needs the package index once) plus the promptls wheel
# of this checkout (built fresh). Prints the wheelhouse directory.
#
#   wheelhouse.sh PYTHON OUT_DIR       PYTHON: a 3.12+ interpreter with pip (the repo venv's)
#   PROMPTLS_EDITORS_CACHE            where the dependency wheels are kept (default <repo>/.cache/editors)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${PROMPTLS_EDITORS_CACHE:-$REPO/.cache/editors}"
PY="$1" OUT="$2"
mkdir -p "$OUT"
stamp="$(sha256sum "$REPO/pyproject.toml" | cut -c1-16)-$("$PY" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
DEPS="$CACHE/wheelhouse/$stamp"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if [[ ! -f "$DEPS/.complete" ]]; then
  echo "wheelhouse.sh: building the dependency wheels into $DEPS" >&2
  rm -rf "$DEPS"; mkdir -p "$DEPS"
  "$PY" -m pip wheel --quiet --wheel-dir "$DEPS" "$REPO" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  rm -f "$DEPS"/promptls-*.whl
  touch "$DEPS/.complete"
fi
rm -f "$OUT"/promptls-*.whl
"$PY" -m pip wheel --quiet --no-deps --wheel-dir "$OUT" "$REPO" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
cp "$DEPS"/*.whl "$OUT/"
echo "$OUT"
