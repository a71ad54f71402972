"""Hovers for prompt caching end to end: on a breakpoint, on the file total (line 0) and on `model:`."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .conftest import StartSession
from .test_server import opened

RULES = " ".join(f"Rule {i}: cite handbook section {i}." for i in range(500))
PROMPT = f"""\
name: support
model: claude-sonnet-4-6
system:
  - text: '{RULES}'
    cache_control: {{type: ephemeral, ttl: 1h}}
messages:
  - role: user
    content: Where is my invoice?
"""


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_hover_on_breakpoint_total_and_model(lsp_session: StartSession) -> None:
    session = await lsp_session({"a.prompt.yaml": PROMPT})
    uri = await opened(session, "a.prompt.yaml")
    await session.wait_status(uri, lambda s: s["total"] > 2048, "first count")
    doc = types.TextDocumentIdentifier(uri=uri)

    async def hover(line: int, char: int) -> types.Hover | None:
        return await session.client.text_document_hover_async(types.HoverParams(
            text_document=doc, position=types.Position(line=line, character=char)))

    bp = await hover(4, 8)
    assert bp is not None and bp.range.start == types.Position(line=4, character=4)
    text = bp.contents.value
    assert "cache breakpoint** · 1h" in text and "tokens in its prefix" in text
    assert "caches on claude-sonnet-4-6 (minimum 2,048)" in text
    assert "first call:" in text and "1h rate" in text and "pays off from call 3" in text
    assert "anthropic-sdk-python/issues/1194" in text

    total = await hover(0, 2)
    assert total is not None and "input tokens on `claude-sonnet-4-6`" in total.contents.value
    assert "cached call:" in total.contents.value

    model = await hover(1, 9)
    assert model is not None
    value = model.contents.value
    assert "minimum cacheable prefix: 2,048 tokens" in value
    assert "This prompt on other models" in value and "| `claude-opus-5-5` | 4.8 |" in value
