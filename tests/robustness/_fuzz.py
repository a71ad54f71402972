"""Shared hypothesis settings and the range check every fuzz test applies.

`PROMPTLS_LONG_FUZZ=1` turns the CI-sized runs into the long run recorded in docs/security.md.
"""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, settings

from promptls.model import Span

_BREAK = re.compile(r"\r\n|\r|\n")
LONG = os.environ.get("PROMPTLS_LONG_FUZZ") == "1"


def examples(ci: int, long: int = 10_000) -> settings:
    return settings(max_examples=long if LONG else ci, deadline=None, derandomize=not LONG,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example, HealthCheck.filter_too_much])


def line_lengths(text: str) -> list[int]:
    """Length in code points of every line as LSP counts lines (\\n, \\r\\n, \\r)."""
    return [len(line) for line in _BREAK.split(text)]


def span_problem(span: Span, lengths: list[int]) -> str | None:
    """Why `span` does not lie inside a document whose lines have `lengths`, or None."""
    for name, pos in (("start", span.start), ("end", span.end)):
        if not 0 <= pos.line < len(lengths):
            return f"{name} line {pos.line} outside 0..{len(lengths) - 1}"
        if not 0 <= pos.col <= lengths[pos.line]:
            return f"{name} column {pos.col} outside 0..{lengths[pos.line]} on line {pos.line}"
    if (span.end.line, span.end.col) < (span.start.line, span.start.col):
        return f"end {span.end} before start {span.start}"
    return None
