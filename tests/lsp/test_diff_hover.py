"""The hover on the file total compares the open buffer with HEAD (the real server over stdio)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from lsprotocol import types

from tests.diffrepo import git
from tests.lsp.conftest import WAIT_S, StartSession

V1 = "model: claude-sonnet-4-6\nsystem: You are terse.\nmessages:\n  - role: user\n    content: Name a colour.\n"
V2 = V1.replace("Name a colour.", "Name a colour, then explain in three sentences why painters of the "
                "Venetian school loved it, with one example painting for each sentence.")


def _offline_total(folder: Path, cache: Path) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["PROMPTLS_CACHE_DIR"] = str(cache)
    out = subprocess.run([sys.executable, "-m", "promptls", "count", "--format", "json", "--mode", "offline", "."],
                         cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    (f,) = json.loads(out.stdout)["files"]
    return f["total"]


async def _hover_until(session, uri: str, wanted: str) -> str:
    """The first hover starts reading HEAD in the background; ask again until a hover shows it."""
    last = ""
    try:
        async with asyncio.timeout(WAIT_S):
            while wanted not in (last := await _model_hover(session, uri)):
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"no hover with {wanted!r}; last: {last}") from None
    return last


async def _model_hover(session, uri: str) -> str:
    hover = await session.client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=2)))
    return hover.contents.value if hover else ""


async def test_hover_on_the_total_compares_the_buffer_with_head(lsp_session: StartSession, tmp_path: Path) -> None:
    session = await lsp_session({"promptls.toml": "", "a.prompt.yaml": V1})
    root = session.root
    (root / ".git").rmdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    head_total = _offline_total(root, tmp_path / "count-cache")  # HEAD == the file on disk now

    uri = session.open("a.prompt.yaml", V2)  # edited in the editor, not saved
    await session.wait_status(uri, lambda s: s["total"] > 0, "a first count")
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "promptls.toml").write_text("")
    (tmp_path / "v2" / "a.prompt.yaml").write_text(V2)
    delta = _offline_total(tmp_path / "v2", tmp_path / "count-cache") - head_total
    assert delta > 20

    text = await _hover_until(session, uri, "vs `HEAD`")
    assert f"≈ +{delta:,} tokens, +$0." in text and "per call vs `HEAD`" in text, text

    session.change(uri, V1)  # back to what HEAD has
    await session.wait_status(uri, lambda s: s["total"] == head_total, "the count of V1")
    assert "Same as `HEAD`" in await _model_hover(session, uri)


async def test_a_file_not_in_head_says_so(lsp_session: StartSession) -> None:
    session = await lsp_session({"promptls.toml": "", "old.prompt.yaml": V1})
    root = session.root
    (root / ".git").rmdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "v1")
    (root / "new.prompt.yaml").write_text(V2)
    uri = session.open("new.prompt.yaml")
    await session.wait_status(uri, lambda s: s["total"] > 0, "a first count")
    await _hover_until(session, uri, "New file: not in `HEAD`")
