#!/usr/bin/env bash
# Run the headless Neovim check against a prompt file with isolated XDG dirs, no API key and
# the repo's venv first on PATH (so `promptls serve` from the README snippet is this checkout).
# Usage: tests/editors/nvim/run.sh [FILE] [EXPECTED_CODE]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
file="${1:-$repo/examples/chat.prompt.yaml}"
code="${2:-budget-exceeded}"
venv="${PROMPTLS_VENV:-$repo/.venv}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export PATH="$venv/bin:$PATH"
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" \
  XDG_CACHE_HOME="$tmp/cache" PROMPTLS_CACHE_DIR="$tmp/promptls-cache"
unset ANTHROPIC_API_KEY ANTHROPIC_BASE_URL
nvim="${NVIM:-$(command -v nvim)}"
export PROMPTLS_REPO="$repo"
exec timeout 90 "$nvim" --headless -u "$here/init.lua" -i NONE -l "$here/check.lua" "$file" "$code"
