"""The document store: one `DocState` per URI, holding everything the server knows about that file.

A deleted or closed-and-gone file is dropped with `Documents.forget`, which removes its whole state
(result, last good result, workspace findings, what the client was shown, retry back-off, run
count), so nothing about a file outlives it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lsprotocol import types

from ..model import Finding
from .state import DocResult

Shown = tuple[int | None, list[types.Diagnostic]]  # (document version, diagnostics) last sent


@dataclass(slots=True)
class DocState:
    result: DocResult | None = None
    last_good: DocResult | None = None  # hints survive a half-typed (unparsable) buffer
    workspace_findings: list[Finding] = field(default_factory=list)
    shown: Shown | None = None
    retry_s: float | None = None  # back-off of the next retry after a transient API failure
    runs: int = 0  # engine runs (tests check debouncing with it)


class Documents:
    def __init__(self) -> None:
        self._docs: dict[str, DocState] = {}

    def get(self, uri: str) -> DocState | None:
        return self._docs.get(uri)

    def state(self, uri: str) -> DocState:
        """The state of `uri`, created empty on first use."""
        if (state := self._docs.get(uri)) is None:
            state = self._docs[uri] = DocState()
        return state

    def result(self, uri: str) -> DocResult | None:
        state = self._docs.get(uri)
        return state.result if state is not None else None

    def store(self, result: DocResult) -> DocState:
        state = self.state(result.uri)
        state.result = result
        if result.report.model is not None:
            state.last_good = result
        return state

    def forget(self, uri: str) -> DocState | None:
        """Drop everything about `uri`; returns what was held (to clear what the client shows)."""
        return self._docs.pop(uri, None)

    def results(self) -> Iterator[DocResult]:
        return (s.result for s in list(self._docs.values()) if s.result is not None)

    def uris_with_results(self) -> list[str]:
        return [uri for uri, s in self._docs.items() if s.result is not None]

    def runs(self) -> dict[str, int]:
        return {uri: s.runs for uri, s in self._docs.items() if s.runs}

    def __len__(self) -> int:
        return len(self._docs)
