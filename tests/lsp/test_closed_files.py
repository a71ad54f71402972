"""Files the workspace index counted but nobody opened: the server keeps only their report (memory),
yet they still get exact counts, status and, once opened, diagnostics at the right place."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types

from tests.fakeapi import FakeAnthropic

from .conftest import WAIT_S, Session, StartSession, api_env
from .test_server import PROMPT, SMALL, opened


async def closed_status(session: Session, rel: str, state: str) -> dict[str, Any]:
    """Poll `promptls/fileStatus`: `statusChanged` is only sent for open files."""
    last = None
    async with asyncio.timeout(WAIT_S):
        while (last := await session.status(session.uri(rel))) is None or last["state"] != state:
            await asyncio.sleep(0.05)
    return last


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_unopened_files_are_counted_exactly(lsp_session: StartSession, fake_api: FakeAnthropic) -> None:
    files = {f"p/{n}.prompt.yaml": SMALL.format(text=f"Question {n} asks for the capital of France.")
             for n in ("a", "b", "c")}
    session = await lsp_session(files, env=api_env(fake_api))
    for rel in files:
        status = await closed_status(session, rel, "exact")
        assert status["exact"] is True and status["total"] > 0
        assert [p["line"] for p in status["parts"]] == [2]
    assert fake_api.requests >= 3


@pytest.mark.parametrize("client_name", ["visual_studio_code", "neovim"])
async def test_indexed_file_opened_later_has_exact_positions(lsp_session: StartSession) -> None:
    session = await lsp_session({"a.prompt.yaml": PROMPT, "b.prompt.yaml": SMALL.format(text="hi")})
    uri = session.uri("a.prompt.yaml")
    status = await closed_status(session, "a.prompt.yaml", "no-key")
    assert [p["line"] for p in status["parts"]] == [1, 3]

    await opened(session, "a.prompt.yaml")
    diags = await session.wait_diagnostics(uri, lambda ds: any(d.code == "budget-exceeded" for d in ds),
                                           "budget diagnostic after opening")
    (budget,) = [d for d in diags if d.code == "budget-exceeded"]
    assert (budget.range.start.line, budget.range.start.character) == (5, 0)
    hints = {line: label for line, _, label in await session.hints(uri) if not label.startswith("Σ")}
    assert sorted(hints) == [1, 3]


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_links_and_hover_right_after_opening_an_indexed_file(lsp_session: StartSession) -> None:
    text = SMALL.format(text="Read the notes.") + "attachments:\n  - notes.txt\n"
    session = await lsp_session({"notes.txt": "a note\n", "a.prompt.yaml": text})
    await closed_status(session, "a.prompt.yaml", "no-key")  # indexed while closed: only its report is kept
    uri = session.open("a.prompt.yaml")
    doc = types.TextDocumentIdentifier(uri=uri)
    links = await session.client.text_document_document_link_async(types.DocumentLinkParams(text_document=doc))
    assert [(link.range.start.line, link.target) for link in links] == [(5, session.uri("notes.txt"))]
    hover = await session.client.text_document_hover_async(types.HoverParams(
        text_document=doc, position=types.Position(line=2, character=4)))
    assert hover is not None and hover.range is not None and hover.range.start.line == 2
