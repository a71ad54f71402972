"""Terminal output: the per-part table of `promptls count` and the finding lines of `check`."""

from __future__ import annotations

from ..model import FileReport, Finding, PartReport, Severity, WorkspaceReport
from .caching import comparison_lines
from .caching import marks as cache_marks
from .caching import summary_line as cache_summary
from .numbers import tokens as tok
from .numbers import usd


def money(amount: float | None) -> str:
    return usd(amount) or "—"


def finding_line(path: str, f: Finding) -> str:
    s = f.span.start
    return f"{path}:{s.line + 1}:{s.col + 1}: {f.severity.label}: {f.message} [{f.code}]"


def file_table(r: FileReport, display_path: str, min_severity: Severity = Severity.INFO) -> str:
    out = []
    model = r.model or "—"
    if r.model_written and r.model and r.model_written.removeprefix("anthropic/") != r.model:
        model = f"{r.model} (file says {r.model_written})"
    out.append(f"{display_path}  ·  {model}")
    if r.parts:
        total = r.total or 1
        width = max([len(_label(p.label, p.parent)) for p in r.parts] + [8])
        marks = cache_marks(r)
        cache_w = max([len(m) for m in marks.values()] + [5]) if marks else 0
        out.append(f"  {'line':>5}  {'part':<{width}}  {'tokens':>12}  {'share':>6}"
                   + (f"  {'cache':<{cache_w}}" if marks else ""))
        for p in file_order(r.parts):
            detail = f"  {p.detail}" if p.detail else ""
            share = f"{p.tokens / total:6.1%}" if p.parent is None else ""
            cache = f"  {marks.get(p.id, ''):<{cache_w}}" if marks else ""
            out.append(f"  {p.span.start.line + 1:>5}  {_label(p.label, p.parent):<{width}}  "
                       f"{tok(p.tokens, p.exact):>12}  {share:>6}{cache}{detail}".rstrip())
        out.append(f"  {'':>5}  {'overhead':<{width}}  {tok(r.overhead, r.exact):>12}  "
                   f"{r.overhead / total:6.1%}")
        window = f"  {_share(r.total, r.context_window)} of {r.context_window:,} window" if r.context_window else ""
        row = f"  ·  testData row {r.variants[0].row + 1} of {len(r.variants)}" if r.variants else ""
        out.append(f"  {'':>5}  {'total':<{width}}  {tok(r.total, r.exact):>12}  {'':>6}{window}  ·  "
                   f"{money(r.cost_usd)} input  ·  {_source(r)}{row}")
        if r.caching is not None:
            out.append(f"  {cache_summary(r.caching)}")
        out.extend(comparison_lines(r))
        if r.variants:
            lo = min(r.variants, key=lambda v: v.total)
            hi = max(r.variants, key=lambda v: v.total)
            out.append(f"  testData: {len(r.variants)} rows, min {tok(lo.total, lo.exact)} (row {lo.row + 1}), "
                       f"max {tok(hi.total, hi.exact)} (row {hi.row + 1})")
    for f in sorted(r.findings, key=lambda f: f.span.start):
        if f.severity <= min_severity:
            out.append("  " + finding_line(display_path, f))
    return "\n".join(out)


def file_order(parts: list[PartReport]) -> list[PartReport]:
    """Top-level parts in the order they appear in the file, each followed by its children."""
    children: dict[str, list[PartReport]] = {}
    for p in parts:
        if p.parent is not None:
            children.setdefault(p.parent, []).append(p)
    out = []
    for p in sorted((p for p in parts if p.parent is None), key=lambda p: p.span.start):
        out.append(p)
        out.extend(children.get(p.id, []))
    return out


def _share(n: int, of: int) -> str:
    share = n / of
    return "<0.1%" if 0 < share < 0.001 else f"{share:.1%}"


def _label(label: str, parent: str | None) -> str:
    return f"  {label}" if parent else label


def _source(r: FileReport) -> str:
    if r.source == "estimate":
        return "estimate"
    return "exact (cache)" if r.source == "cache" else "exact (count_tokens)" if r.exact else "partly estimated"


def workspace_line(ws: WorkspaceReport) -> str:
    budget = f" / budget {ws.budget:,}" if ws.budget else ""
    invalid = sum(1 for r in ws.files if not r.valid)
    bad = f", {invalid} invalid" if invalid else ""
    files = f"{len(ws.files)} file{'' if len(ws.files) == 1 else 's'}"
    return f"workspace: {tok(ws.total, ws.exact)} input tokens in {files}{budget}{bad}"


def api_line(ws: WorkspaceReport, mode: str, state: str) -> str:
    return f"api: {state} (mode {mode}); {ws.requests} requests, {ws.cache_hits} from cache"
