"""The cold index of a big workspace runs in worker processes (offline_pool.py, issue 17): the same
figures as the serial path, attachments still tracked, and a file opened meanwhile keeps its buffer's
result, never the worker's read of the disk."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from lsprotocol import types

from promptls import offline_pool
from promptls.config import load_config
from promptls.offline_pool import PARALLEL_MIN_FILES
from promptls.pipeline import offline_report

from .conftest import Session, StartSession, wait_until
from .test_server import SMALL

N = PARALLEL_MIN_FILES + 10
INDEX_WAIT_S = 120.0  # two spawned workers on a loaded machine


def workspace(n: int = N) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        f"p/{i:03d}.prompt.yaml": SMALL.format(text=f"Question {i} asks{' about the weather' * (i % 7)}.")
        for i in range(n)}
    files["p/000.prompt.yaml"] = SMALL.format(text="Read the notes.") + "attachments:\n  - notes.txt\n"
    files["p/notes.txt"] = "a short note\n"
    files["p/001.prompt.yaml"] = b"messages: \xff\xfe not utf-8\n"
    return files


needs_two_cores = pytest.mark.skipif(not offline_pool.pays(N), reason="the pool needs two cores")


async def wait_until_async(predicate: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await predicate():
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


async def indexed(session: Session, n: int = N) -> dict[str, Any]:
    """The server's stats once the index has been through all `n` files."""
    last: dict[str, Any] = {}

    async def done() -> bool:
        nonlocal last
        last = await session.stats()
        return last["indexed"] == n

    await wait_until_async(done, INDEX_WAIT_S, "the workspace index")
    return last


async def _total_above(session: Session, uri: str, before: int) -> bool:
    status = await session.status(uri)
    return status is not None and status["total"] > before


@needs_two_cores
@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_workers_index_a_big_workspace_as_the_serial_path_does(lsp_session: StartSession) -> None:
    files = workspace()
    session = await lsp_session({"promptls.toml": "workspace_budget = 100\n", **files})
    stats = await indexed(session)
    assert stats["indexed_in_workers"] == N  # nothing was open: every file went to a worker
    await wait_until(lambda: any(session.codes(u) == ["workspace-budget-exceeded"]
                                 for u in session.client.diagnostics), INDEX_WAIT_S, "the workspace budget finding")
    assert sum("workspace-budget-exceeded" in session.codes(u) for u in session.client.diagnostics) == 1
    config, _ = load_config(session.root)
    for i in (0, 1, 2, 5, 100, N - 1):
        rel = f"p/{i:03d}.prompt.yaml"
        status = await session.status(session.uri(rel))
        expected = offline_report(session.root / rel, config)
        assert status is not None and status["total"] == expected.total, rel
        assert status["state"] == "no-key"
    assert (await session.status(session.uri("p/001.prompt.yaml")) or {})["total"] == 0  # not UTF-8: no count

    # the attachment read in a worker is tracked: changing it recounts the file that reads it
    user = session.uri("p/000.prompt.yaml")
    before = (await session.status(user) or {})["total"]
    (session.root / "p/notes.txt").write_text("a much longer note " * 50, encoding="utf-8")
    session.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
        uri=session.uri("p/notes.txt"), type=types.FileChangeType.Changed)]))
    await wait_until_async(lambda: _total_above(session, user, before), 30, "the recount after the note changed")


@needs_two_cores
@pytest.mark.parametrize("client_name", ["neovim"])
async def test_a_file_opened_while_workers_index_keeps_its_buffer(lsp_session: StartSession) -> None:
    files = workspace()
    rel = f"p/{N - 1:03d}.prompt.yaml"
    files[rel] = "model: claude-sonnet-4-6\nmessages:\n  - role: robot\n    content: on disk\n"
    session = await lsp_session(files)
    await wait_until(lambda: bool(session.client.progress_reports) or bool(session.published), INDEX_WAIT_S,
                     "the index to start")
    buffer = SMALL.format(text="The buffer, not the disk, says this.")
    uri = session.open(rel, buffer)
    stats = await indexed(session)
    assert stats["indexed_in_workers"] >= N - 1
    await session.wait_status(uri, lambda s: s["total"] > 0, "the buffer's count")
    assert "schema-role" not in session.codes(uri) and not [
        d for d in session.diagnostics(uri) if d.severity == types.DiagnosticSeverity.Error]
    hints = await session.hints(uri)
    assert any(label.startswith("Σ") for *_, label in hints)

