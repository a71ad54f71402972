"""Code lens on line 0: recount this file now (bypasses the debounce, re-reads attachments).

It carries no number: editors cache lenses and re-ask rarely, so a count here went stale while the
Σ hint and the status bar moved on. The total lives in those two, which are refreshed on every run."""

from __future__ import annotations

from lsprotocol import types

TITLE = "Recount tokens"


def code_lenses(uri: str, prompt: bool) -> list[types.CodeLens]:
    """`prompt`: the file matches its root's `include` (`PromptServer.is_prompt`); other YAML gets none."""
    if not prompt:
        return []
    return [types.CodeLens(range=types.Range(start=types.Position(line=0, character=0),
                                             end=types.Position(line=0, character=0)),
                           command=types.Command(title=TITLE, command="promptls.recount", arguments=[uri]))]
