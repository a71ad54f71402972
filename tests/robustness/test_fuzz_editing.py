"""The real server under a random stream of incremental edits (with astral characters, so UTF-16
positions matter), whole-document changes, opens, closes, configuration changes and requests: it
never stops answering, and what it finally shows for a document equals what a fresh open of the
same text shows. The stream is seeded, so a failure names a reproducible seed."""

from __future__ import annotations

import asyncio
import random
import re
from typing import Any

import pytest
from lsprotocol import types

from tests.lsp.conftest import Session, StartSession, wait_until

from ._fuzz import LONG

STEPS = 2000 if LONG else 120
SEEDS = [1, 2, 3, 4, 5] if LONG else [7]
CORPUS = [
    "model: claude-sonnet-4-6\nsystem: Be brief. 😀\nmessages:\n  - role: user\n    content: Hello {{name}}\n"
    "testData: [{name: Ann}, {name: Bob}]\nbudget: {input_tokens: 20}\n",
    "messages:\n  - role: user\n    content:\n      - text: Compare ünïcode 𝄞 text.\n      - text: Another block.\n"
    "  - role: assistant\n    content: Sure.\n  - role: user\n    content: Go on.\n",
    "model: claude-opus-4-7\ntools:\n  - name: get_price\n    description: Price.\n"
    "    input_schema: {type: object, properties: {t: {type: string}}}\nmessages: [{role: user, content: hi}]\n",
    "messages: [{role: user, content: [oops\n",
]
SNIPPETS = ["", "a", " word", "\n", "  ", "😀", "𝄞x", "é", ":", "- ", "{{v}}", "\r\n", "\t", "]", "role: user",
            "\n  - role: assistant\n    content: ok\n", "content: more text here", "#"]


def utf16_position(text: str, offset: int) -> types.Position:
    before = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
    line = before.count("\n")
    col = before[before.rfind("\n") + 1:]
    return types.Position(line=line, character=len(col.encode("utf-16-le")) // 2)


def edit(session: Session, uri: str, text: str, start: int, end: int, new: str) -> str:
    """Send one incremental change (offsets in code points, never inside a \\r\\n pair); return the new text."""
    version = session.versions[uri] = session.versions[uri] + 1
    session.client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=utf16_position(text, start), end=utf16_position(text, end)), text=new)]))
    return text[:start] + new + text[end:]


GENTLE = ["a", " word", "😀", "𝄞x", "é", "ünï", "  more"]


def gentle_range(text: str, rng: random.Random) -> tuple[int, int] | None:
    """A spot inside a `content:` value, so the document stays valid: an insertion point, or a
    short run of letters to delete."""
    spots = [m.end() for m in re.finditer(r"^ *content: (?=[^\s\[{])", text, re.MULTILINE)]  # block style only
    if not spots:
        return None
    start = rng.choice(spots)
    stop = start
    while stop < len(text) and text[stop] not in "\r\n":
        stop += 1
    at = rng.randint(start, stop)
    end = at
    while rng.random() < 0.5 and end < stop and text[end].isalnum() and end - start < stop - start - 1:
        end += 1
    return at, end


def safe_offset(text: str, offset: int) -> int:
    return offset - 1 if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n" else offset


async def answered(coro: Any) -> Any:
    async with asyncio.timeout(5):
        return await coro


async def random_request(session: Session, uri: str, rng: random.Random) -> None:
    doc = types.TextDocumentIdentifier(uri=uri)
    pos = types.Position(line=rng.randrange(12), character=rng.randrange(30))
    kind = rng.randrange(4)
    if kind == 0:
        await answered(session.client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos)))
    elif kind == 1:
        await answered(session.hints(uri))
    elif kind == 2:
        await answered(session.client.text_document_completion_async(
            types.CompletionParams(text_document=doc, position=pos)))
    else:
        await answered(session.status(uri))


async def settle(session: Session, uri: str) -> tuple[list[tuple[int, int, str]], list[tuple]]:
    """Hints and diagnostics once the current version is published."""
    await wait_until(lambda: (uri, session.versions[uri]) in session.published, timeout=15,
                     what=f"publication of {uri} v{session.versions[uri]}")
    await asyncio.sleep(0.2)  # a recount of the same version (config change) may still land
    diags = sorted((d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character,
                    str(d.code), d.message, d.severity) for d in session.diagnostics(uri))
    return sorted(await session.hints(uri)), diags


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # UTF-16 positions
@pytest.mark.parametrize("mode", ["hostile", "gentle"])
@pytest.mark.parametrize("seed", SEEDS)
async def test_random_editing_matches_a_fresh_open(lsp_session: StartSession, seed: int, mode: str) -> None:
    """`hostile` edits anywhere with anything (the final text is usually broken YAML: diagnostics are
    compared); `gentle` edits only inside values, so the final text is valid and hints are compared too."""
    rng = random.Random(seed)
    corpus = CORPUS if mode == "hostile" else CORPUS[:-1]
    session = await lsp_session(settings={"debounceMs": 20})
    names = ["a.prompt.yaml", "b.prompt.yaml"]
    texts: dict[str, str] = {}
    opened: set[str] = set()
    settings: dict[str, Any] = {"debounceMs": 20}
    for _ in range(STEPS):
        name = rng.choice(names)
        uri = session.uri(name)
        op = rng.random()
        if name not in opened:
            texts[name] = rng.choice(corpus)
            session.open(name, texts[name])
            opened.add(name)
        elif op < 0.6 and mode == "gentle":
            spot = gentle_range(texts[name], rng)
            if spot is not None:
                texts[name] = edit(session, uri, texts[name], *spot, rng.choice(GENTLE))
        elif op < 0.6:
            text = texts[name]
            start = safe_offset(text, rng.randrange(len(text) + 1))
            end = safe_offset(text, min(len(text), start + rng.choice([0, 0, 1, 2, 5, 20])))
            texts[name] = edit(session, uri, text, start, end, rng.choice(SNIPPETS))
        elif op < 0.65:
            texts[name] = rng.choice(corpus)
            session.change(uri, texts[name])
        elif op < 0.7:
            session.close(uri)
            opened.discard(name)
        elif op < 0.75:
            settings = {"debounceMs": rng.choice([0, 20, 60]), "budget": rng.choice([None, 10, 100_000]),
                        "hints": rng.choice(["all", "totals"])}
            session.client.set_configuration({"promptls": settings})
            session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        else:
            await random_request(session, uri, rng)
        if rng.random() < 0.1:
            await asyncio.sleep(rng.choice([0.005, 0.03, 0.08]))
    finals = {}
    for name in names:
        if name not in opened:
            texts[name] = rng.choice(corpus)
            session.open(name, texts[name])
        finals[name] = await settle(session, session.uri(name))
    for name in names:
        fresh = f"fresh-{name}"
        session.open(fresh, texts[name])
        hints, diags = await settle(session, session.uri(fresh))
        assert diags == finals[name][1], f"seed {seed}: diagnostics of {name} differ from a fresh open"
        assert hints or mode == "hostile", f"seed {seed}: the gentle edits broke {name}: {texts[name]!r}"
        if hints:  # a fresh open of broken YAML has none; the edited buffer keeps its last good hints
            assert hints == finals[name][0], f"seed {seed}: hints of {name} differ from a fresh open"
    assert session.client._server is not None and session.client._server.returncode is None
