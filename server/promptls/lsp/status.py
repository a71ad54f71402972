"""`promptls/fileStatus`: the numbers a status bar shows (docs/ARCHITECTURE.md, "Editor contract")."""

from __future__ import annotations

from typing import Any

from .state import DocResult


def file_status(result: DocResult) -> dict[str, Any]:
    report = result.report
    window = report.context_window
    return {
        "uri": result.uri,
        "model": report.model,
        "total": report.total,
        "exact": report.exact,
        "contextWindow": window,
        "windowShare": (report.total / window) if window else None,
        "costUsd": report.cost_usd,
        "state": result.state,
        "parts": [{"id": p.id, "label": p.label, "tokens": p.tokens, "exact": p.exact, "line": p.span.start.line}
                  for p in report.parts],
    }
