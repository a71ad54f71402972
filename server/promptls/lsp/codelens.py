"""Code lens on line 0: recount this file now (bypasses the debounce, re-reads attachments)."""

from __future__ import annotations

from lsprotocol import types

from .hints import total_label
from .state import DocResult


def code_lenses(uri: str, result: DocResult | None) -> list[types.CodeLens]:
    if not uri.endswith((".prompt.yaml", ".prompt.yml")):
        return []
    title = "Recount" if result is None or result.report.model is None else f"Recount ({total_label(result.report)})"
    return [types.CodeLens(range=types.Range(start=types.Position(line=0, character=0),
                                             end=types.Position(line=0, character=0)),
                           command=types.Command(title=title, command="promptls.recount", arguments=[uri]))]
