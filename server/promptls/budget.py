"""Counts + limits -> findings: per-file budget, budgets by glob, context window, workspace total."""

from __future__ import annotations

from pathlib import Path

from .config import Config
from .model import FILE_START, FileReport, Finding, Severity, Span


def fmt(n: int) -> str:
    return f"{n:,}"


def _approx(exact: bool) -> str:
    return "" if exact else "≈ "


def file_findings(*, path: Path, total: int, exact: bool, worst_row: int | None, file_budget: int | None,
                  budget_span: Span | None, config: Config, context_window: int | None,
                  max_output: int | None, max_tokens: int | None, max_tokens_span: Span | None,
                  model: str | None) -> list[Finding]:
    """Findings about size. `total` is the largest total over testData rows (`worst_row`)."""
    out: list[Finding] = []
    row = f" (testData row {worst_row + 1})" if worst_row is not None else ""
    count = f"{_approx(exact)}{fmt(total)} input tokens{row}"
    budget = file_budget if file_budget is not None else config.budget
    if budget is not None and total > budget:
        over = (total - budget) / budget * 100
        source = "this file's budget" if file_budget is not None else "the default budget"
        out.append(Finding("budget-exceeded", f"{count} exceed {source} of {fmt(budget)} (+{over:.0f}%)",
                           Severity.WARNING, budget_span if file_budget is not None and budget_span else FILE_START,
                           data={"total": total, "budget": budget, "exact": exact}))
    for gb in config.budgets_for(path):
        if total > gb.input_tokens:
            out.append(Finding("glob-budget-exceeded",
                               f"{count} exceed the budget of {fmt(gb.input_tokens)} for `{gb.glob}`",
                               Severity.WARNING, FILE_START,
                               data={"total": total, "budget": gb.input_tokens, "glob": gb.glob}))
    if context_window:
        out_tokens = max_tokens or 0
        if total > context_window:
            out.append(Finding("context-window-exceeded",
                               f"{count} exceed {model}'s context window of {fmt(context_window)}",
                               Severity.ERROR, FILE_START, data={"total": total, "window": context_window}))
        elif total + out_tokens > context_window:
            out.append(Finding("context-window-exceeded",
                               f"{count} + max output {fmt(out_tokens)} = {fmt(total + out_tokens)} exceed "
                               f"{model}'s context window of {fmt(context_window)}",
                               Severity.ERROR, max_tokens_span or FILE_START,
                               data={"total": total, "max_tokens": out_tokens, "window": context_window}))
    if max_tokens is not None and max_output and max_tokens > max_output:
        out.append(Finding("max-tokens-too-large",
                           f"maxTokens {fmt(max_tokens)} is above {model}'s maximum output of {fmt(max_output)}",
                           Severity.WARNING, max_tokens_span or FILE_START,
                           data={"max_tokens": max_tokens, "max_output": max_output}))
    return out


def workspace_findings(reports: list[FileReport], config: Config) -> list[Finding]:
    """One finding per file when the workspace total is over `workspace_budget` (so every file concerned
    shows it), each naming the file's share."""
    budget = config.workspace_budget
    if budget is None:
        return []
    total = sum(r.total for r in reports)
    if total <= budget:
        return []
    exact = all(r.exact for r in reports)
    out = []
    for r in reports:
        if r.total <= 0:
            continue
        out.append(Finding(
            "workspace-budget-exceeded",
            f"workspace total {_approx(exact)}{fmt(total)} input tokens over {len(reports)} prompt files exceeds "
            f"the workspace budget of {fmt(budget)}; this file: {fmt(r.total)} ({r.total / total:.0%})",
            Severity.WARNING, FILE_START, path=r.path,
            data={"workspace_total": total, "budget": budget, "file_total": r.total}))
    return out
