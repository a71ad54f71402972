"""The API key never leaves the process except in the auth header: not in CLI output (any format,
verbose), not in the server's JSON-RPC stream with tracing on, not in its stderr with every log level
up, not in the cache, and not when the endpoint fails or even echoes the key back in an error."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.fakeapi import CANARY_KEY, FakeAnthropic, Fault
from tests.lsp.conftest import neovim_server, wait_until

FRAGMENT = "CANARY-do-not-leak"  # any piece of the key, not only the whole of it
ECHO = f"invalid x-api-key {CANARY_KEY}"
FAULTS = {
    "ok": None,
    "401-echo": Fault(status=401, message=ECHO),
    "400-echo": Fault(status=400, message=ECHO),
    "429": Fault(status=429, headers={"retry-after": "1"}, message=ECHO),
    "500": Fault(status=500, message=ECHO),
    "529": Fault(status=529),
    "drop": Fault(drop=True),
    "malformed": Fault(malformed=True),
}
RUNS = [("count", "text", "401-echo"), ("count", "json", "400-echo"), ("check", "text", "429"),
        ("check", "json", "ok"), ("check", "github", "500"), ("check", "sarif", "malformed")]
PROMPT = """\
model: claude-sonnet-4-6
system: Answer briefly.
messages:
  - role: user
    content: What does {{thing}} cost?
testData: [{thing: a car}, {thing: a house}]
budget: {input_tokens: 5}
"""


def leaks(*texts: str | bytes) -> list[str]:
    found = []
    for text in texts:
        raw = text.encode() if isinstance(text, str) else text
        for needle in (CANARY_KEY, FRAGMENT):
            if needle.encode() in raw:
                found.append(raw[max(0, raw.find(needle.encode()) - 200):][:400].decode(errors="replace"))
    return found


def files_under(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in folder.rglob("*") if p.is_file()]


def project(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    (root / "a.prompt.yaml").write_text(PROMPT, encoding="utf-8")
    (root / "b.prompt.yaml").write_text(PROMPT.replace("Answer briefly.", "Answer at length."), encoding="utf-8")
    return root


def test_cli_never_prints_or_stores_the_key(tmp_path: Path) -> None:
    root = project(tmp_path)
    fakes, procs = [], []
    try:
        for i, (command, fmt, fault) in enumerate(RUNS):  # concurrently: one fake endpoint per run
            fake = FakeAnthropic(CANARY_KEY).start()
            fake.always = FAULTS[fault]
            fakes.append(fake)
            env = {**os.environ, "ANTHROPIC_API_KEY": CANARY_KEY, "ANTHROPIC_BASE_URL": fake.url,
                   "PROMPTLS_CACHE_DIR": str(tmp_path / f"cache{i}"), "PROMPTLS_LOG_LEVEL": "DEBUG",
                   "ANTHROPIC_LOG": "debug"}
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "promptls", command, "-v", "--format", fmt, str(root)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=root))
        for (command, fmt, fault), proc, fake in zip(RUNS, procs, fakes, strict=True):
            out, err = proc.communicate(timeout=90)
            what = f"{command} --format {fmt} with {fault}"
            assert proc.returncode in (0, 1), f"{what}: exit {proc.returncode}\n{err.decode()[-2000:]}"
            assert fake.requests >= 1, what
            assert out.strip(), what
            assert not leaks(out, err), f"{what}: {leaks(out, err)}"
            if fault.endswith("echo") and fmt == "text":
                assert b"[redacted]" in out + err, what  # the echoed key was seen and scrubbed
    finally:
        for fake in fakes:
            fake.stop()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    caches = [b for i in range(len(RUNS)) for b in files_under(tmp_path / f"cache{i}")]
    assert caches and not leaks(*caches)


async def test_server_trace_logs_and_cache_never_hold_the_key(tmp_path: Path) -> None:
    root = project(tmp_path)
    fake = FakeAnthropic(CANARY_KEY).start()
    logs = tmp_path / "logs"
    logs.mkdir()
    cache = tmp_path / "cache"
    tee = f"{sys.executable} -m promptls serve 2> {logs / 'stderr.log'} | tee {logs / 'out.jsonrpc'}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "PROMPTLS_"))},
           "ANTHROPIC_API_KEY": CANARY_KEY, "ANTHROPIC_BASE_URL": fake.url, "PROMPTLS_CACHE_DIR": str(cache),
           "PROMPTLS_LOG_LEVEL": "DEBUG", "ANTHROPIC_LOG": "debug", "PYTHONUNBUFFERED": "1"}
    try:
        async with neovim_server(["sh", "-c", tee], env, root, trace=types.TraceValue.Verbose) as (client, session):
            client.protocol.notify(types.SET_TRACE, types.SetTraceParams(value=types.TraceValue.Verbose))
            uri = session.open("a.prompt.yaml")
            for step, name in enumerate(("400-echo", "429", "500", "drop", "ok", "529", "malformed", "ok", "401-echo")):
                fake.script(FAULTS[name] or Fault())
                requests = fake.requests
                session.change(uri, PROMPT.replace("briefly", f"briefly ({step})"))
                # the edit, or the server's own retry after the back-off, meets the fault
                await wait_until(lambda r=requests: fake.requests > r, what=f"a request met by {name}")
                await client.text_document_hover_async(types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=1)))
                await session.status(uri)
            await asyncio.wait_for(client.shutdown_session(), 10)
    finally:
        fake.stop()
    out = (logs / "out.jsonrpc").read_bytes()
    err = (logs / "stderr.log").read_bytes()
    assert b"publishDiagnostics" in out and b"api-error" in out  # the faults did reach the editor
    assert b"Request options" in err  # the SDK's debug log was on
    assert not leaks(out, err, *files_under(cache)), leaks(out, err, *files_under(cache))


class EchoingEndpoint(FakeAnthropic):
    """Answers every request correctly, with the caller's key echoed in a response header: the SDK's
    debug log prints response headers."""

    def _send_json(self, h: Any, status: int, payload: Any, headers: dict[str, str] | None = None,
                   raw: bytes | None = None) -> None:
        super()._send_json(h, status, payload, {**(headers or {}), "x-echo": f"key={self.key}"}, raw)


def test_library_debug_logs_are_scrubbed(tmp_path: Path) -> None:
    """ANTHROPIC_LOG=debug turns on the SDK's and httpx's own loggers; their lines are scrubbed too."""
    root = project(tmp_path)
    fake = EchoingEndpoint(CANARY_KEY).start()
    try:
        env = {**os.environ, "ANTHROPIC_API_KEY": CANARY_KEY, "ANTHROPIC_BASE_URL": fake.url,
               "PROMPTLS_CACHE_DIR": str(tmp_path / "cache"), "ANTHROPIC_LOG": "debug"}
        out = subprocess.run([sys.executable, "-m", "promptls", "count", "-v", str(root)], capture_output=True,
                             env=env, cwd=root, timeout=120)
    finally:
        fake.stop()
    assert out.returncode == 0, out.stderr[-2000:]
    assert b"HTTP Response" in out.stderr and b"x-echo" in out.stderr  # the SDK printed the headers
    assert b"[redacted]" in out.stderr
    assert not leaks(out.stdout, out.stderr), leaks(out.stdout, out.stderr)


async def test_server_library_debug_logs_are_scrubbed(tmp_path: Path) -> None:
    root = project(tmp_path)
    fake = EchoingEndpoint(CANARY_KEY).start()
    err_log = tmp_path / "stderr.log"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "PROMPTLS_"))},
           "ANTHROPIC_API_KEY": CANARY_KEY, "ANTHROPIC_BASE_URL": fake.url, "PROMPTLS_CACHE_DIR": str(tmp_path / "c"),
           "ANTHROPIC_LOG": "debug", "PYTHONUNBUFFERED": "1"}
    command = ["sh", "-c", f'exec "{sys.executable}" -m promptls serve 2> "{err_log}"']
    try:
        async with neovim_server(command, env, root) as (client, session):
            uri = session.open("a.prompt.yaml")
            async with asyncio.timeout(30):  # (no statusChanged handler on this bare client: poll)
                while ((await session.status(uri)) or {}).get("state") != "exact":
                    await asyncio.sleep(0.1)
            await asyncio.wait_for(client.shutdown_session(), 10)
    finally:
        fake.stop()
    err = err_log.read_bytes()
    assert b"HTTP Response" in err and b"x-echo" in err
    assert not leaks(err), leaks(err)
