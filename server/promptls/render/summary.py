"""What `promptls check` prints in its text and `github` formats: few lines, each true.

A finding with the same cause in many files (a non-Claude model, values nested in testData rows,
variables filled at run time, ...) is one summary line ("... in 974 files; `--show-all` lists
them"), so the one budget error that matters is not buried under repeats (GitHub shows only the
first few annotations of a kind anyway). Budget, window and every blocking finding always print per
file. Within one file, the missing-value findings of several variables are one line. JSON, SARIF
and the editor keep every instance; `--show-all` prints every instance here too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ..model import OVER_BUDGET_CODES, Finding, Severity, WorkspaceReport
from . import annotations
from .table import finding_line

Located = tuple[str, Finding]
MIN_FILES = 2  # a cause seen in this many files is summarized


def _tally(values: list[str], limit: int = 3) -> str:
    counts = Counter(values).most_common()
    shown = [f"`{v}` ×{n}" if n > 1 else f"`{v}`" for v, n in counts[:limit]]
    more = len(counts) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _data(items: list[Located], key: str) -> list[str]:
    out: list[str] = []
    for _, f in items:
        value = f.data.get(key)
        if isinstance(value, list):
            out.extend(str(v) for v in value)
        elif value is not None:
            out.append(str(value))
    return out


def _files(items: list[Located]) -> int:
    return len({p for p, _ in items})


def _model_not_claude(items: list[Located]) -> str:
    counted = sorted(set(_data(items, "counted_as")))
    as_ = f": counted as {', '.join(counted)}" if counted else ": counted with the default Claude model"
    return f"{_files(items)} files name a model that is not Claude ({_tally(_data(items, 'model'))}){as_}"


# code -> how its summary line reads (the codes whose findings share one cause across files)
SUMMARIES: dict[str, Callable[[list[Located]], str]] = {
    "model-not-claude": _model_not_claude,
    "model-unknown": lambda items: f"{_files(items)} files name a model missing from promptls' table "
                                   f"({_tally(_data(items, 'model'))})",
    "model-retired": lambda items: f"{_files(items)} files name a retired model ({_tally(_data(items, 'model'))})",
    "template-runtime-variables": lambda items: f"{_files(items)} files have {{{{variables}}}} filled at run time "
                                                f"(no testData, or declared without a default): counted without "
                                                f"their values",
    "template-variable-nested": lambda items: f"{_files(items)} files keep testData values one level down "
                                              f"(under {_tally(_data(items, 'key'))}), but GitHub Models fills only "
                                              f"a row's top-level keys: those {{{{variables}}}} are sent and counted "
                                              f"as written",
    "unknown-key": lambda items: f"{_files(items)} files have keys promptls ignores ({_tally(_data(items, 'key'))})",
    "max-tokens-snake-case": lambda items: f"{_files(items)} files set `modelParameters.max_tokens`, which GitHub "
                                           f"Models does not read (it reads `maxTokens`)",
    "api-error": lambda items: items[0][1].message + (f" ({_files(items)} files)" if _files(items) > 1 else ""),
    "attachment-url": lambda items: f"{_files(items)} files attach URLs: estimated, count_tokens does not fetch them",
}
ONE_LINE_PER_FILE = ("template-variable-missing",)


@dataclass(slots=True)
class Summary:
    """One line standing for every finding of `code` (in several files)."""

    code: str
    severity: Severity
    message: str
    items: list[Located]


def located(ws: WorkspaceReport, min_severity: Severity) -> list[Located]:
    """Every finding at or above `min_severity`: each file's, in file order, then the workspace's."""
    out = [(r.path, f) for r in ws.files for f in r.findings if f.severity <= min_severity]
    out += [(f.path or "", f) for f in ws.findings if f.severity <= min_severity]
    return out


def _collapse_in_file(items: list[Located]) -> list[Located]:
    """Several variables without a value in one file: one finding at the first, naming all."""
    out: list[Located] = []
    bucket: dict[tuple[str, str], list[Finding]] = {}
    for path, f in items:
        if f.code in ONE_LINE_PER_FILE:
            bucket.setdefault((path, f.code), []).append(f)
    done: set[tuple[str, str]] = set()
    for path, f in items:
        key = (path, f.code)
        group = bucket.get(key)
        if group is None or len(group) == 1:
            out.append((path, f))
            continue
        if key in done:
            continue
        done.add(key)
        names = ", ".join(f"{{{{{g.data.get('variable')}}}}} (line {g.span.start.line + 1})" for g in group)
        out.append((path, Finding(f.code, f"{len(group)} variables have no value in testData: {names}; sent and "
                                  "counted as written: add them to the rows", f.severity, f.span, f.path,
                                  f.blocking, {"variables": [g.data.get("variable") for g in group]})))
    return out


def plan(items: list[Located], show_all: bool = False) -> list[Located | Summary]:
    """The lines to print: per-file findings in order, then one summary per repeated cause."""
    if show_all:
        return list(items)
    items = _collapse_in_file(items)
    by_code: dict[str, list[Located]] = {}
    for path, f in items:
        if f.code in SUMMARIES and not f.blocking and f.code not in OVER_BUDGET_CODES:
            by_code.setdefault(f.code, []).append((path, f))
    grouped = {code for code, group in by_code.items() if _files(group) >= MIN_FILES}
    out: list[Located | Summary] = [(p, f) for p, f in items if f.code not in grouped]
    for code in sorted(grouped, key=lambda c: min(f.severity for _, f in by_code[c])):
        group = by_code[code]
        out.append(Summary(code, min(f.severity for _, f in group), SUMMARIES[code](group), group))
    return out


def summary_line(s: Summary) -> str:
    return f"{s.severity.label}: {s.message}; `--show-all` lists them [{s.code}]"


def check_text(ws: WorkspaceReport, min_severity: Severity, show_all: bool = False) -> list[str]:
    return [summary_line(x) if isinstance(x, Summary) else finding_line(*x)
            for x in plan(located(ws, min_severity), show_all)]


def check_github(ws: WorkspaceReport, min_severity: Severity, show_all: bool = False) -> str:
    lines = []
    for x in plan(located(ws, min_severity), show_all):
        if isinstance(x, Summary):
            lines.append(annotations.github_unlocated(x.severity, x.code,
                                                      f"{x.message}; `--show-all` lists them"))
        else:
            lines.append(annotations.github([x]))
    return "\n".join(lines)
