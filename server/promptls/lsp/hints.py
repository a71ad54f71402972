"""Inlay hints: one per part at the end of its line, and the file total where it is seen first."""

from __future__ import annotations

from functools import lru_cache

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ..model import FileReport, HintLevel, PartReport
from ..render.numbers import tokens, usd
from .positions import line_end
from .state import DocResult
from .status import budget_of

# The Σ total goes after the first line that says something (not a comment), when that line is short
# enough for the hint to stay on screen; otherwise in front of it.
TOTAL_MAX_COLUMN = 80
TOTAL_SEARCH_LINES = 50


def tokens_label(n: int, exact: bool) -> str:
    return f"{tokens(n, exact)} tok"


def part_label(part: PartReport) -> str:
    """`≈ 1,204 tok`, or `≈ 1,521 tok · 1092×1092 image` with a detail. The hint sits on the part's own
    line (`system:`, `- role: user`), so repeating its name would only add noise."""
    text = tokens_label(part.tokens, part.exact)
    if part.detail:
        text = f"{text} · {part.detail}"
    return text


def total_label(report: FileReport, budget: int | None = None, over: bool = False) -> str:
    """`Σ ≈ 2,708 / 200,000 tok · $0.0081`, or against a budget `Σ ≈ 346 / 300 budget ⚠ · $0.0010`."""
    text = f"Σ {'' if report.exact else '≈ '}{report.total:,}"
    if budget is not None:
        text += f" / {budget:,} budget" + (" ⚠" if over else "")
    else:
        text += f" / {report.context_window:,} tok" if report.context_window else " tok"
    if report.cost_usd is not None:
        text += f" · {usd(report.cost_usd)}"
    return text


def total_line(lines: list[str]) -> int:
    """The first line that is neither blank nor a comment (a file often opens with a long `#` line)."""
    for i, line in enumerate(lines[:TOTAL_SEARCH_LINES]):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return i
    return 0


def total_hint(result: DocResult, lines: list[str], codec: PositionCodec) -> types.InlayHint:
    budget, over = budget_of(result)
    line = total_line(lines)
    tooltip = "total for this file" + (f" (budget {budget:,} exceeded)" if over else "")
    label = total_label(result.report, budget, over)
    if len(lines[line].rstrip()) > TOTAL_MAX_COLUMN:
        return types.InlayHint(position=types.Position(line=line, character=0), label=label,
                               padding_right=True, tooltip=tooltip)
    return types.InlayHint(position=line_end(lines, line, codec), label=label, padding_left=True, tooltip=tooltip)


def inlay_hints(result: DocResult, lines: list[str], codec: PositionCodec, rng: types.Range,
                level: HintLevel) -> list[types.InlayHint]:
    """Hints for the lines of `rng` in the current buffer `lines`; `level` is all|totals|off."""
    report = result.report
    if level == "off" or report.model is None or not lines:
        return []
    hints = []
    total = total_hint(result, lines, codec)
    if rng.start.line <= total.position.line <= rng.end.line:
        hints.append(total)
    if level == "all":
        for p in report.parts:
            if p.kind == "tool-system":  # it shares the `tools:` line with its group
                continue
            line = p.span.start.line
            if rng.start.line <= line <= rng.end.line and line < len(lines):
                hints.append(_part_hint(line, lines[line], part_label(p),
                                        "exact (count_tokens)" if p.exact else "estimate", codec))
    return hints


@lru_cache(maxsize=8192)
def _part_hint(line: int, text: str, label: str, tooltip: str, codec: PositionCodec) -> types.InlayHint:
    """The hint after `text`, the buffer's line `line` (as `line_end` places it). While a line and
    its label stay the same, so does the object: an lsprotocol object validates every field as it is
    built, and a 200-message file answers 200 hints on every edit, of which the edit changed one or two.
    Nothing mutates a hint once it is answered."""
    return types.InlayHint(position=types.Position(line=line, character=codec.client_num_units(text.rstrip())),
                           label=label, padding_left=True, tooltip=tooltip)
