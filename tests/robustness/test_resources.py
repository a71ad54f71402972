"""Huge and hostile inputs cost bounded time and memory and end in a finding, never a hang: a 200 MB
attachment, a 5 MB prompt, 10,000 messages, deep nesting and a billion-laughs alias bomb."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from promptls import engine
from promptls.attachments import clear_cache
from promptls.config import Config
from tests.lsp.conftest import StartSession, wait_until

TIME_BOUND_S = 20.0
MB = 1024 * 1024


def laughs(levels: int = 9) -> str:
    lines = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\nmessages: [{role: user, content: hi}]\n"


def big_system(size: int) -> str:
    line = "  A long, varied system prompt line: 42 apples, naïve café, {x} and 😀.\n"
    return "messages:\n  - role: user\n    content: hi\nsystem: |\n" + line * (size // len(line))


def many_messages(n: int) -> str:
    return "messages:\n" + "".join(f"  - role: {'user' if i % 2 == 0 else 'assistant'}\n    content: turn {i}\n"
                                   for i in range(n))


CASES = {
    "5 MB prompt": (big_system(5 * MB), {"context-window-exceeded"}, 400 * MB),
    "10,000 messages": (many_messages(10_000), set(), None),  # memory: in the CLI test (tracemalloc is slow here)
    "100,000 nested brackets": ("messages: " + "[" * 100_000 + "]" * 100_000 + "\n", {"yaml-too-complex"}, 64 * MB),
    "1,000 nested mappings": ("".join("  " * i + f"k{i}:\n" for i in range(1000)), {"yaml-too-complex"}, 64 * MB),
    "billion laughs": (laughs(), {"yaml-too-complex"}, 64 * MB),
    "alias cycle via merge": ("a: &a {<<: *a}\nmessages: [{role: user, content: hi}]\n", None, 64 * MB),
}


@pytest.mark.parametrize("name", list(CASES))
def test_engine_bounds(name: str, tmp_path: Path) -> None:
    text, codes, memory = CASES[name]
    config = Config(root=tmp_path)
    if memory is not None:
        tracemalloc.start()
    start = time.monotonic()
    try:
        analysis = engine.analyze_text(text, tmp_path / "big.prompt.yaml", config)
        report = engine.make_report(analysis, engine.estimate_counts(analysis, config), config)
        elapsed = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1] if memory is not None else 0
    finally:
        tracemalloc.stop()
    found = {f.code for f in report.findings}
    assert elapsed < TIME_BOUND_S and peak < (memory or 1), f"{elapsed:.1f}s, {peak / MB:.0f} MB"
    if codes is None:
        assert found and all(f.span.start.line == 0 for f in report.findings if f.blocking)
    else:
        assert codes <= found, found
    if codes is not None and codes <= {"context-window-exceeded"}:
        assert report.total > 0  # counted, not just refused


def test_200_mb_attachment_is_refused_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "huge.pdf"
    with big.open("wb") as fh:
        fh.write(b"%PDF-1.4\n")
        fh.truncate(200 * MB)  # sparse: costs no disk, but reading it would cost 200 MB
    (tmp_path / ".git").mkdir()
    text = "messages:\n  - role: user\n    content:\n      - document: huge.pdf\n      - text: summarise\n"
    clear_cache()
    tracemalloc.start()
    start = time.monotonic()
    try:
        analysis = engine.analyze_text(text, tmp_path / "a.prompt.yaml", Config(root=tmp_path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 2.0 and peak < 16 * MB
    (finding,) = [f for f in analysis.findings if f.code == "attachment-too-large"]
    assert finding.span.start.line == 3 and "200.0 MB" in finding.message


def test_cli_on_all_of_them_at_once(tmp_path: Path) -> None:
    """The whole set through `promptls check` in one process: a finding per file, bounded RSS."""
    (tmp_path / ".git").mkdir()
    for i, (text, _, _) in enumerate(CASES.values()):
        (tmp_path / f"case{i}.prompt.yaml").write_text(text, encoding="utf-8")
    with (tmp_path / "huge.png").open("wb") as fh:
        fh.truncate(200 * MB)
    (tmp_path / "att.prompt.yaml").write_text("messages: [{role: user, content: hi}]\nattachments: [huge.png]\n",
                                              encoding="utf-8")
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "promptls", "check", "--mode", "offline", "--format", "json",
                          str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                         env={**os.environ, "PROMPTLS_CACHE_DIR": str(tmp_path / "cache")})
    elapsed = time.monotonic() - start
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert out.returncode == 2, out.stderr[-2000:]
    files = {Path(f["path"]).name: {x["code"] for x in f["findings"]} for f in json.loads(out.stdout)["files"]}
    assert "attachment-too-large" in files["att.prompt.yaml"]
    assert "yaml-too-complex" in files["case4.prompt.yaml"]
    assert elapsed < 3 * TIME_BOUND_S
    assert rss_kb < 1024 * 1024, f"max RSS {rss_kb // 1024} MB"


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_server_stays_responsive_with_hostile_files_open(lsp_session: StartSession) -> None:
    session = await lsp_session({"small.prompt.yaml": "messages: [{role: user, content: hi}]\n"})
    hostile = {"bomb.prompt.yaml": laughs(), "deep.prompt.yaml": CASES["100,000 nested brackets"][0],
               "big.prompt.yaml": big_system(5 * MB)}
    uris = [session.open(name, text) for name, text in hostile.items()]
    small = session.open("small.prompt.yaml")
    await wait_until(lambda: small in session.client.diagnostics, timeout=TIME_BOUND_S, what="the small file")
    for uri in uris:
        await wait_until(lambda u=uri: u in session.client.diagnostics, timeout=TIME_BOUND_S, what=uri)
    assert "yaml-too-complex" in session.codes(uris[0]) and "yaml-too-complex" in session.codes(uris[1])
    status = await session.wait_status(uris[2], lambda s: s["total"] > 1_000_000, "the 5 MB prompt counted",
                                       timeout=TIME_BOUND_S)
    assert status["state"] == "no-key"
