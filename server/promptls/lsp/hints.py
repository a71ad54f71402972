"""Inlay hints: one per part at the end of its line, and the file total on line 0."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ..model import FileReport, PartReport
from ..render.numbers import tokens, usd
from .positions import line_end
from .state import DocResult


def tokens_label(n: int, exact: bool) -> str:
    return f"{tokens(n, exact)} tok"


def part_label(part: PartReport) -> str:
    """`≈ 1,204 tok`, or `≈ 1,521 tok · 1092×1092 image` with a detail. The hint sits on the part's own
    line (`system:`, `- role: user`), so repeating its name would only add noise."""
    text = tokens_label(part.tokens, part.exact)
    if part.detail:
        text = f"{text} · {part.detail}"
    return text


def total_label(report: FileReport) -> str:
    text = f"Σ {'' if report.exact else '≈ '}{report.total:,}"
    text += f" / {report.context_window:,} tok" if report.context_window else " tok"
    if report.cost_usd is not None:
        text += f" · {usd(report.cost_usd)}"
    return text


def inlay_hints(result: DocResult, lines: list[str], codec: PositionCodec, rng: types.Range,
                level: str) -> list[types.InlayHint]:
    """Hints for the lines of `rng` in the current buffer `lines`; `level` is all|totals|off."""
    report = result.report
    if level == "off" or report.model is None or not lines:
        return []
    wanted: list[tuple[int, str, str]] = [(0, total_label(report), "total for this file")]
    if level == "all":
        wanted += [(p.span.start.line, part_label(p), "exact (count_tokens)" if p.exact else "estimate")
                   for p in report.parts]
    hints = []
    for line, label, tooltip in wanted:
        if rng.start.line <= line <= rng.end.line and line < len(lines):
            hints.append(types.InlayHint(position=line_end(lines, line, codec), label=label,
                                         padding_left=True, tooltip=tooltip))
    return hints
