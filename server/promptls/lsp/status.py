"""`promptls/fileStatus`: the numbers a status bar shows (docs/ARCHITECTURE.md, "Editor contract")."""

from __future__ import annotations

from typing import Any

from .state import DocResult

BUDGET_CODES = frozenset({"budget-exceeded", "glob-budget-exceeded"})


def budget_of(result: DocResult) -> tuple[int | None, bool]:
    """The input-token budget this file is held to and whether it is exceeded.

    The file's own `budget:` wins, then the tightest glob budget, then the default budget — the same
    order the findings use, so the status bar, the Σ hint and the squiggle never disagree."""
    report = result.report
    exceeded = [b for f in report.findings if f.code in BUDGET_CODES and isinstance(b := f.data.get("budget"), int)]
    if exceeded:  # the budget the squiggle names (also all a closed file still knows)
        return min(exceeded), True
    spec = getattr(result.analysis, "spec", None)
    budget: int | None = getattr(spec, "budget_input_tokens", None)
    if budget is None:
        globs = [g.input_tokens for g in result.config.budgets_for(result.path)]
        budget = min(globs) if globs else result.config.budget
    return budget, budget is not None and report.total > budget

def file_status(result: DocResult) -> dict[str, Any]:
    report = result.report
    window = report.context_window
    budget, over = budget_of(result) if report.model is not None else (None, False)
    return {
        "uri": result.uri,
        "model": report.model,
        "total": report.total,
        "exact": report.exact,
        "contextWindow": window,
        "windowShare": (report.total / window) if window else None,
        "budget": budget,
        "overBudget": over,
        "costUsd": report.cost_usd,
        "state": result.state,
        "parts": [{"id": p.id, "label": p.label, "tokens": p.tokens, "exact": p.exact, "line": p.span.start.line}
                  for p in report.parts],
    }
