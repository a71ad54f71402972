"""Presenting a `DiffResult`: the terminal table, the pull-request comment (Markdown) and stable JSON.

The Markdown puts the totals first, then the biggest movers and the findings a change brings or
removes; every file's per-part table is collapsed in `<details>`. It always fits in one GitHub comment
(65,536 characters): per-file sections that do not fit are left out, and the comment says how many.
Everything a repository controls (paths, messages) is escaped so it cannot format, link or mention.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .. import __version__
from ..model import Finding, Severity
from ..render.numbers import usd
from .compare import ADDED, REMOVED, RENAMED, FileDiff, Gate, PartDiff, pct
from .run import DiffResult

MARKER = "<!-- promptls-diff -->"
NO_CHANGE = "<!-- promptls-diff:no-change -->"  # the action posts no new comment for such a report
GITHUB_COMMENT_LIMIT = 65_536
COMMENT_BUDGET = GITHUB_COMMENT_LIMIT - 1_536  # room for what the action adds around it
TOP_MOVERS = 10
MAX_FINDING_LINES = 30
JSON_VERSION = 1


# --------------------------------------------------------------------------------------------- numbers


def signed(n: int) -> str:
    return f"+{n:,}" if n > 0 else f"-{-n:,}" if n < 0 else "0"


def signed_pct(p: float | None) -> str:
    if p is None:
        return "new"
    if p == 0:
        return "0%"
    return f"{p:+.1f}%" if abs(p) >= 0.05 else ("+<0.1%" if p > 0 else "-<0.1%")


def signed_usd(amount: float) -> str:
    if amount == 0:
        return "$0"
    sign = "+" if amount > 0 else "-"
    shown = usd(abs(amount))
    return f"{sign}<$0.0001" if shown == "$0.0000" else f"{sign}{shown}"


def tokens(n: int | None, exact: bool) -> str:
    if n is None:
        return "—"
    return f"{n:,}" if exact else f"≈ {n:,}"


def money(amount: float | None) -> str:
    if amount is not None and 0 < amount < 0.00005:
        return "<$0.0001"
    return usd(amount) or "—"


def _side_tokens(f: FileDiff, after: bool) -> str:
    r = f.after if after else f.before
    return tokens(r.total if r else None, r.exact if r else True)


def _md_tokens(n: int | None, exact: bool) -> str:
    """A Markdown table cell that keeps `≈ 1,234` on one line."""
    return tokens(n, exact).replace("≈ ", "≈\u00a0")


def _md_side(f: FileDiff, after: bool) -> str:
    return _side_tokens(f, after).replace("≈ ", "≈\u00a0")


def _estimate_note(result: DiffResult) -> str:
    if result.totals.exact:
        return "exact counts from the count_tokens API"
    why = {"no-key": "no API key", "offline": "offline mode"}.get(result.api_state, "the API was not usable")
    return f"≈ marks offline estimates ({why})"


# --------------------------------------------------------------------------------------------- terminal


def text(result: DiffResult, verbose: bool = False) -> str:
    t = result.totals
    lines = [f"promptls diff: base {result.base.short} ({result.base.label}) → working tree"]
    if not result.files:
        lines.append("no prompt file changed")
        return "\n".join(lines)
    width = max(len(p.label) + (2 if p.parent else 0) for f in result.files for p in f.parts)
    width = max(width, 24)
    for f in result.files:
        lines.append("")
        lines.append(f"{f.status:<9} {f.display}")
        lines.append(f"  {'':<{width}}  {'before':>12}  {'after':>12}  {'Δ':>9}  {'Δ%':>8}")
        for p in f.parts:
            if p.delta == 0 and not verbose and p.before is not None and p.after is not None:
                continue
            label = f"  {p.label}" if p.parent else p.label
            lines.append(f"  {label:<{width}}  {tokens(p.before, p.exact):>12}  {tokens(p.after, p.exact):>12}  "
                         f"{signed(p.delta):>9}  {_part_pct(p):>8}")
        lines.append(f"  {'total':<{width}}  {_side_tokens(f, False):>12}  {_side_tokens(f, True):>12}  "
                     f"{signed(f.delta):>9}  {signed_pct(f.delta_pct) if f.before else 'new':>8}  "
                     f"{money(f.cost_before)} → {money(f.cost_after)} per call ({signed_usd(f.cost_delta)})")
        if f.model_changed:
            lines.append(f"  model {f.model_before} → {f.model_after}: the whole file is priced at the new model")
        if f.attachments:
            lines.append(f"  attachments changed: {', '.join(f.attachments)}")
        for finding in f.appeared:
            lines.append(f"  + {_finding_text(finding)}")
        for finding in f.disappeared:
            lines.append(f"  - {_finding_text(finding)} (gone)")
    lines.append("")
    lines.append(f"total: {_files_summary(result)}, {tokens(t.before, t.exact)} → {tokens(t.after, t.exact)} input "
                 f"tokens ({signed(t.delta)}, {signed_pct(t.delta_pct)}), {money(t.cost_before)} → "
                 f"{money(t.cost_after)} per call ({signed_usd(t.cost_delta)})")
    if not t.exact:
        lines.append(_estimate_note(result))
    return "\n".join(lines)


def _part_pct(p: PartDiff) -> str:
    if p.before is None:
        return "new"
    if p.after is None:
        return "gone"
    return signed_pct(p.delta / p.before * 100.0 if p.before else None)


def _finding_text(f: Finding) -> str:
    s = f.span.start
    return f"{f.path}:{s.line + 1}:{s.col + 1}: {f.severity.label}: {f.message} [{f.code}]"


def _files_summary(result: DiffResult) -> str:
    n = len(result.files)
    counts: dict[str, int] = {}
    for f in result.files:
        counts[f.status] = counts.get(f.status, 0) + 1
    detail = ", ".join(f"{v} {k}" for k, v in counts.items())
    return f"{n} prompt file{'' if n == 1 else 's'} ({detail})"


# --------------------------------------------------------------------------------------------- markdown


def _esc(s: str) -> str:
    """Repository text shown as plain text: no HTML, no table breaks, no mentions, no links."""
    out = html.escape(s.replace("\r", " ").replace("\n", " "), quote=False)
    for ch in "\\`*_[]|#~":
        out = out.replace(ch, "\\" + ch)
    return out.replace("@", "@\u200b").replace("://", ":\u200b//")


def _code(s: str) -> str:
    """A path as inline code, whatever backticks it holds."""
    s = s.replace("\r", " ").replace("\n", " ").replace("|", "¦")
    fence = "`" * (max(map(len, re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def _md_path(f: FileDiff) -> str:
    if f.old_path and f.old_path != f.path:
        return f"{_code(f.old_path)} → {_code(f.path)}"
    return _code(f.path)


def _md_model(f: FileDiff) -> str:
    if f.model_changed:
        return f"{_esc(f.model_before or '—')} → {_esc(f.model_after or '—')}, re-priced"
    return _esc(f.model_after or f.model_before or "—")


_ICON = {Severity.ERROR: "🛑", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️", Severity.HINT: "💡"}


def markdown(result: DiffResult, gate: Gate | None = None, *, budget: int = COMMENT_BUDGET,
             run_url: str | None = None) -> str:
    t = result.totals
    quiet = all(f.delta == 0 and not f.model_changed and not f.appeared and not f.disappeared for f in result.files)
    head: list[str] = [MARKER, *([NO_CHANGE] if quiet else []), "## promptls · what this change costs", ""]
    if not result.files:
        head.append(f"No prompt file changed against `{result.base.short}` ({_esc(result.base.label)}).")
        return "\n".join([*head, "", _footer(result)]) + "\n"
    new_findings = sum(len(f.appeared) for f in result.files)
    gone_findings = sum(len(f.disappeared) for f in result.files)
    summary = (f"**{signed(t.delta)} input tokens ({signed_pct(t.delta_pct)})** · **{signed_usd(t.cost_delta)} "
               f"per call** · {_files_summary(result)}")
    if new_findings:
        summary += f" · ⚠️ {new_findings} new finding{'' if new_findings == 1 else 's'}"
    if gone_findings:
        summary += f" · ✅ {gone_findings} resolved"
    head += [summary, ""]
    if gate is not None:
        verdict = "❌ exceeds" if gate.exceeded(t) else "✅ within"
        head += [f"{verdict} the limit of {gate} more input tokens" if not gate.percent
                 else f"{verdict} the limit of +{gate}", ""]
    head += ["| | input tokens | $ per call |", "|---|--:|--:|",
             f"| base `{result.base.short}` | {_md_tokens(t.before, t.exact)} | {money(t.cost_before)} |",
             f"| this change | {_md_tokens(t.after, t.exact)} | {money(t.cost_after)} |",
             f"| **Δ** | **{signed(t.delta)} ({signed_pct(t.delta_pct)})** | **{signed_usd(t.cost_delta)}** |", ""]
    movers = sorted(result.files, key=lambda f: (-abs(f.cost_delta), -abs(f.delta), f.path))[:TOP_MOVERS]
    title = "Biggest changes" if len(result.files) > len(movers) else "Changed prompt files"
    head += [f"### {title}", "", "| file | before | after | Δ | $ per call |", "|---|--:|--:|--:|--:|"]
    for f in movers:
        head.append(f"| {_md_path(f)}<br><sub>{f.status} · {_md_model(f)}</sub> | {_md_side(f, False)} | "
                    f"{_md_side(f, True)} | {signed(f.delta)} ({signed_pct(f.delta_pct) if f.before else 'new'}) "
                    f"| {money(f.cost_before)} → {money(f.cost_after)} |")
    head.append("")
    finding_lines = [_md_finding(f, x, True) for f in result.files for x in f.appeared]
    finding_lines += [_md_finding(f, x, False) for f in result.files for x in f.disappeared]
    if finding_lines:
        head += ["### Findings", ""]
        head += finding_lines[:MAX_FINDING_LINES]
        if len(finding_lines) > MAX_FINDING_LINES:
            head.append(f"- … and {len(finding_lines) - MAX_FINDING_LINES} more (run `promptls diff`)")
        head.append("")
    footer = _footer(result, run_url)
    sections = [_md_file_section(f) for f in result.files]
    opening = f"<details><summary>Per part: {len(result.files)} file{'' if len(result.files) == 1 else 's'}</summary>"
    closing = "</details>"
    used = sum(len(s) + 1 for s in head) + len(opening) + len(closing) + len(footer) + 200
    kept: list[str] = []
    for s in sections:
        if used + len(s) + 1 > budget:
            break
        kept.append(s)
        used += len(s) + 1
    left = len(sections) - len(kept)
    body = [*head, opening, "", *kept]
    if left:
        body += [f"_… {left} more file{'' if left == 1 else 's'} left out to fit one comment; run "
                 "`promptls diff` or see the job summary._", ""]
    body += [closing, "", footer]
    out = "\n".join(body) + "\n"
    return out if len(out) <= budget else out[: budget - 40] + "\n\n_(truncated)_\n"


def _md_finding(f: FileDiff, x: Finding, appeared: bool) -> str:
    icon = _ICON.get(x.severity, "•") if appeared else "✅"
    where = f"{_code(f.path)}:{x.span.start.line + 1}"
    verb = "new" if appeared else "resolved"
    return f"- {icon} {verb} in {where}: **{_esc(x.code)}** {_esc(x.message)}"


def _md_file_section(f: FileDiff) -> str:
    out = [f"#### {_md_path(f)} · {f.status}", ""]
    if f.model_changed:
        out += [f"Model {_code(f.model_before or '—')} → {_code(f.model_after or '—')}: the whole file is "
                "priced at the new model.", ""]
    if f.attachments:
        out += ["Attachments changed: " + ", ".join(_code(a) for a in f.attachments), ""]
    out += ["| part | before | after | Δ | Δ% |", "|---|--:|--:|--:|--:|"]
    for p in f.parts:
        label = ("&nbsp;&nbsp;" if p.parent else "") + _esc(p.label)
        out.append(f"| {label} | {_md_tokens(p.before, p.exact)} | {_md_tokens(p.after, p.exact)} | {signed(p.delta)} "
                   f"| {_part_pct(p)} |")
    out.append(f"| **total** | **{_md_side(f, False)}** | **{_md_side(f, True)}** | **{signed(f.delta)}** "
               f"| **{signed_pct(f.delta_pct) if f.before else 'new'}** |")
    out.append(f"| $ per call | {money(f.cost_before)} | {money(f.cost_after)} | {signed_usd(f.cost_delta)} | |")
    out.append("")
    return "\n".join(out)


def _footer(result: DiffResult, run_url: str | None = None) -> str:
    from ..catalog import CATALOG_DATE

    bits = [_estimate_note(result), "$ per call = input tokens at each side's model price, uncached",
            f"promptls {__version__}", f"prices of {CATALOG_DATE}"]
    if run_url:
        bits.append(f"[run]({run_url})")
    return "<sub>" + " · ".join(bits) + "</sub>"


# --------------------------------------------------------------------------------------------- json


def _side_json(r: Any) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"model": r.model, "model_written": r.model_written, "total": r.total, "exact": r.exact,
            "source": r.source, "cost_usd": round(r.cost_usd, 6) if r.cost_usd is not None else None,
            "valid": r.valid}


def _pct_json(p: float | None) -> float | None:
    return round(p, 2) if p is not None else None


def to_json(result: DiffResult, gate: Gate | None = None) -> dict[str, Any]:
    """The stable `promptls diff --format json` document (README, "Pull requests")."""
    from ..catalog import CATALOG_DATE

    t = result.totals
    return {
        "version": JSON_VERSION,
        "promptls": __version__,
        "catalog_date": CATALOG_DATE,
        "base": {"commit": result.base.commit, "label": result.base.label},
        "head": {"commit": result.head, "working_tree": True},
        "api": {"mode": result.mode, "state": result.api_state},
        "totals": {"files": t.files, "before": t.before, "after": t.after, "delta": t.delta,
                   "delta_pct": _pct_json(t.delta_pct), "cost_before_usd": round(t.cost_before, 6),
                   "cost_after_usd": round(t.cost_after, 6), "cost_delta_usd": round(t.cost_delta, 6),
                   "exact": t.exact},
        "files": [_file_json(f) for f in result.files],
        "gate": None if gate is None else {"fail_above": str(gate), "amount": gate.amount, "percent": gate.percent,
                                           "exceeded": gate.exceeded(t)},
    }


def _file_json(f: FileDiff) -> dict[str, Any]:
    return {
        "status": f.status,
        "path": f.path,
        "old_path": f.old_path if f.status == RENAMED else None,
        "before": _side_json(f.before) if f.status != ADDED else None,
        "after": _side_json(f.after) if f.status != REMOVED else None,
        "delta": f.delta,
        "delta_pct": _pct_json(f.delta_pct),
        "cost_delta_usd": round(f.cost_delta, 6),
        "model_changed": f.model_changed,
        "attachments_changed": f.attachments,
        "parts": [{"id": p.id, "label": p.label, "parent": p.parent, "before": p.before, "after": p.after,
                   "delta": p.delta, "delta_pct": _pct_json(pct(p.delta, p.before or 0) if p.after is not None
                                                           and p.before is not None else None),
                   "exact": p.exact} for p in f.parts],
        "findings": {"appeared": [x.to_json() for x in f.appeared],
                     "disappeared": [x.to_json() for x in f.disappeared]},
    }
