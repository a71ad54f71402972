"""Where things are and what is wrong there: source positions, ranges and findings.

Every stage (document, schema, request, counting, budgets) anchors what it tells the user to a range
of the file, so these types sit below all the others. Positions are 0-based lines and columns counted
in Unicode code points of the source text (what PyYAML marks give); the LSP converts columns to the
client's position encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

# A path into the YAML data, like a JSON pointer: ("messages", 1, "content", 0, "image").
DataPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, order=True)
class Pos:
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Span:
    start: Pos
    end: Pos

    @staticmethod
    def at(line: int, col: int = 0, end_line: int | None = None, end_col: int | None = None) -> Span:
        return Span(Pos(line, col), Pos(line if end_line is None else end_line, col if end_col is None else end_col))

    def to_json(self) -> dict[str, dict[str, int]]:
        return {
            "start": {"line": self.start.line, "col": self.start.col},
            "end": {"line": self.end.line, "col": self.end.col},
        }


FILE_START = Span.at(0, 0)


class Severity(IntEnum):
    """Same numbers as LSP DiagnosticSeverity."""

    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(slots=True)
class Finding:
    """One thing worth telling the user, anchored to a range of a file.

    `code` is stable and documented (README, "Finding codes"); messages may change.
    `blocking=True` marks findings that make the file invalid (CLI exit 2), as opposed to
    over-budget findings (exit 1) and advice (exit 0).
    """

    code: str
    message: str
    severity: Severity
    span: Span = FILE_START
    path: str | None = None
    blocking: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.label,
            "message": self.message,
            "range": self.span.to_json(),
        }
        if self.path is not None:
            out["path"] = self.path
        if self.data:
            out["data"] = self.data
        return out

