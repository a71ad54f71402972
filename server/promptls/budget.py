"""Counts + limits -> findings: the one budget that applies to a file, context window, workspace total."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .model import FILE_START, FileReport, Finding, Severity, Span


def fmt(n: int) -> str:
    return f"{n:,}"


def _approx(exact: bool) -> str:
    return "" if exact else "≈ "


@dataclass(frozen=True, slots=True)
class AppliedBudget:
    """The one budget that applies to a file: its own `budget:`, else the most specific matching
    glob of `[budgets]`, else the default `budget`."""

    tokens: int
    source: str  # file | glob | default
    glob: str | None = None


def _specificity(glob: str) -> tuple[int, int]:
    """More literal characters = more specific; a pattern with folders beats a bare file pattern."""
    literal = sum(1 for ch in glob if ch not in "*?[]")
    return glob.count("/"), literal


def applicable_budget(path: Path, file_budget: int | None, config: Config) -> AppliedBudget | None:
    if file_budget is not None:
        return AppliedBudget(file_budget, "file")
    globs = config.budgets_for(path)
    if globs:
        best = max(enumerate(globs), key=lambda ig: (_specificity(ig[1].glob), ig[0]))[1]
        return AppliedBudget(best.input_tokens, "glob", best.glob)
    if config.budget is not None:
        return AppliedBudget(config.budget, "default")
    return None


def file_findings(*, path: Path, total: int, exact: bool, worst_row: int | None, file_budget: int | None,
                  budget_span: Span | None, config: Config, context_window: int | None,
                  max_output: int | None, max_tokens: int | None, max_tokens_span: Span | None,
                  model: str | None) -> list[Finding]:
    """Findings about size. `total` is the largest total over testData rows (`worst_row`)."""
    out: list[Finding] = []
    row = f" (testData row {worst_row + 1})" if worst_row is not None else ""
    count = f"{_approx(exact)}{fmt(total)} input tokens{row}"
    applied = applicable_budget(path, file_budget, config)
    if applied is not None and total > applied.tokens:
        over = (total - applied.tokens) / applied.tokens * 100
        if applied.glob is not None:
            out.append(Finding("glob-budget-exceeded",
                               f"{count} exceed the budget of {fmt(applied.tokens)} for `{applied.glob}` "
                               f"(+{over:.0f}%)", Severity.WARNING, FILE_START,
                               data={"total": total, "budget": applied.tokens, "glob": applied.glob}))
        else:
            own = applied.source == "file"
            source = "this file's budget" if own else "the default budget"
            out.append(Finding("budget-exceeded", f"{count} exceed {source} of {fmt(applied.tokens)} (+{over:.0f}%)",
                               Severity.WARNING, budget_span if own and budget_span else FILE_START,
                               data={"total": total, "budget": applied.tokens, "exact": exact}))
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
    """One finding when the workspace total is over `workspace_budget`: it is about the workspace, not
    about any one file, so it is reported once, at the `workspace_budget` line of the config file (or,
    when the budget comes from elsewhere, on the largest file), naming the biggest shares."""
    budget = config.workspace_budget
    if budget is None:
        return []
    total = sum(r.total for r in reports)
    if total <= budget:
        return []
    exact = all(r.exact for r in reports)
    largest = sorted((r for r in reports if r.total > 0), key=lambda r: -r.total)
    top = ", ".join(f"{r.path} {fmt(r.total)} ({r.total / total:.0%})" for r in largest[:3])
    where = _setting_line(config.source, "workspace_budget")
    return [Finding(
        "workspace-budget-exceeded",
        f"workspace total {_approx(exact)}{fmt(total)} input tokens over {len(reports)} prompt files exceeds "
        f"the workspace budget of {fmt(budget)}; largest: {top}",
        Severity.WARNING, where or FILE_START, path=str(config.source) if where else largest[0].path,
        data={"workspace_total": total, "budget": budget, "largest": [r.path for r in largest[:3]]})]


def _setting_line(source: Path | None, key: str) -> Span | None:
    """The range of `key = ...` in the config file, if the file sets it."""
    if source is None:
        return None
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(key) and stripped[len(key):].lstrip().startswith("="):
            return Span.at(i, len(line) - len(stripped), i, len(line.rstrip()))
    return None
