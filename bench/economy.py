"""Table 3: how many count_tokens requests promptls sends, against the fake endpoint of tests/fakeapi.py.

The server and the CLI run as real processes with ANTHROPIC_BASE_URL pointing at the fake (loopback)
and a temporary PROMPTLS_CACHE_DIR; the fake counts what arrives and, here, when it arrived.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gen import prompt_text, workspace
from latency import REPO
from lspclient import LspClient

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fakeapi import CANARY_KEY, FakeAnthropic

FAST_RPM = 1_000_000
SETTLE_S = 0.5
EDIT = "Also note the margin. "  # one message grows by a sentence: its total must move


def api_env(fake: FakeAnthropic, cache: Path) -> dict[str, str]:
    """The fake endpoint; the fast rate comes from a user config (a repository's promptls.toml may only lower it)."""
    cache.mkdir(parents=True, exist_ok=True)
    user = cache / "user-config.toml"
    user.write_text(f"requests_per_minute = {FAST_RPM}\n", encoding="utf-8")
    return {"ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": CANARY_KEY, "PROMPTLS_CACHE_DIR": str(cache),
            "PROMPTLS_USER_CONFIG": str(user)}


async def _settled(fake: FakeAnthropic, timeout: float = 60.0) -> None:
    """Until no request has arrived for SETTLE_S (background per-part requests trail the total)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        if fake.requests == last:
            return
        last = fake.requests
        await asyncio.sleep(SETTLE_S)


async def _wait_exact(client: LspClient, uri: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll promptls/fileStatus until the total and every top-level part are exact (a tool inside
    `tools` is attributed within the group, so it may stay an estimate)."""
    async with asyncio.timeout(timeout):
        while True:
            status = await client.request("promptls/fileStatus", {"uri": uri})
            if status and status["state"] == "exact" and all(
                    p["exact"] for p in status["parts"] if "." not in p["id"] and not p["id"].startswith("tools[")):
                return status
            await asyncio.sleep(0.05)


async def _server(root: Path, env: dict[str, str]) -> LspClient:
    """A started server that has pulled its settings (so the first count already uses them)."""
    section = {"debounceMs": 0, "requestsPerMinute": FAST_RPM, "mode": "api"}
    client = LspClient([sys.executable, "-m", "promptls", "serve"], cwd=root, env=env,
                       configuration=lambda s: section if s == "promptls" else None)
    await client.start()
    await client.initialize(root)
    await client.wait_event(lambda method, params: method == "workspace/configuration")
    return client


async def editor_requests(work: Path, fake: FakeAnthropic) -> dict[str, Any]:
    """Requests for a first open, a reopen in a new server (same cache), and a one-character edit."""
    root = work / "economy-open"
    root.mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "promptls.toml").write_text(f"requests_per_minute = {FAST_RPM}\n", encoding="utf-8")
    path = root / "agent.prompt.yaml"
    text = prompt_text(7, seed=77, chars=200, tools=2)
    path.write_text(text, encoding="utf-8")
    env = api_env(fake, work / "cache-economy-open")
    out: dict[str, Any] = {}

    client = await _server(root, env)
    await _settled(fake)
    fake.reset_counters()
    uri = client.open(path, text)
    status = await _wait_exact(client, uri)
    await _settled(fake)
    out["first_open"], out["parts"] = fake.requests, len(status["parts"])

    fake.reset_counters()
    lines = text.split("\n")
    line = next(i for i, s in enumerate(lines) if s.startswith("      ") and i > 8)
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"range": {"start": {"line": line, "character": 6},
                                      "end": {"line": line, "character": 6}}, "text": EDIT}]})
    before = status["total"]
    async with asyncio.timeout(60):
        while (status := await _wait_exact(client, uri))["total"] == before:
            await asyncio.sleep(0.05)
    await _settled(fake)
    out["edit"] = fake.requests
    await client.stop()

    fake.reset_counters()
    client = await _server(root, env)
    uri = client.open(path, text)
    await _wait_exact(client, uri)
    await _settled(fake)
    out["reopen"] = fake.requests
    await client.stop()
    return out


def _check(root: Path, env: dict[str, str], timeout: float = 900) -> tuple[float, int]:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "promptls", "check", "--mode", "api", str(root)],
                          env={**os.environ, **env}, capture_output=True, timeout=timeout, check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"promptls check exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return time.monotonic() - t0, proc.returncode


def workspace_requests(work: Path, fake: FakeAnthropic, files: int) -> dict[str, Any]:
    """`promptls check --mode api` over `files` generated files: cold cache, then warm."""
    root = work / f"economy-ws-{files}"
    workspace(root, files, seed=files, config=f"requests_per_minute = {FAST_RPM}\n")
    env = api_env(fake, work / f"cache-ws-{files}")
    fake.reset_counters()
    cold_s, _ = _check(root, env)
    cold = fake.requests
    fake.reset_counters()
    warm_s, _ = _check(root, env)
    return {"files": files, "cold": cold, "cold_s": cold_s, "warm": fake.requests, "warm_s": warm_s}


def max_in_window(stamps: list[float], window: float) -> int:
    """The most requests inside any span of `window` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(stamps):
        while t - stamps[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def rate_limit(work: Path, fake: FakeAnthropic, rpm: int, seconds: float) -> dict[str, Any]:
    """Run `promptls check` at a low limit for `seconds`, then stop it; the fake's timestamps say
    how many requests any 60 s span held."""
    root = work / "economy-rpm"
    workspace(root, 400, seed=9, config=f"requests_per_minute = {rpm}\n")
    env = api_env(fake, work / "cache-rpm")
    fake.reset_counters()
    proc = subprocess.Popen([sys.executable, "-m", "promptls", "check", "--mode", "api", str(root)],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(timeout=10)
    stamps = sorted(t for t, _ in fake.log)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    tightest = min((stamps[i + rpm] - stamps[i] for i in range(len(stamps) - rpm)), default=None)
    return {"rpm": rpm, "seconds": seconds, "requests": len(stamps), "span_s": span,
            "max_60s": max_in_window(stamps, 60.0), "max_1s": max_in_window(stamps, 1.0),
            "tightest_over_limit_s": tightest}


def with_fake(fn: Callable[[FakeAnthropic], Any]) -> Any:
    fake = FakeAnthropic().start()
    try:
        return fn(fake)
    finally:
        fake.stop()
