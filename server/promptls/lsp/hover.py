"""Hover: a part's share of the file and of the window and its cost; on `model`, the model's facts.

The hover's heavier helpers (the comparison with `HEAD`, the caching lines, the model table) are
imported on first use, not at server start: the warm-up thread imports them (`runner._prewarm`).
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ..model import PartReport, Span
from ..render.numbers import usd as cost_label
from .positions import to_code_points, to_range
from .state import DocResult


def _contains(span: Span, line: int, col: int) -> bool:
    return (span.start.line, span.start.col) <= (line, col) <= (span.end.line, span.end.col)


def part_at(result: DocResult, line: int, col: int) -> PartReport | None:
    """The innermost part under the cursor (a block inside its message, a tool inside `tools`)."""
    hits = [p for p in result.report.parts if _contains(p.span, line, col)]
    if not hits:
        return None
    return min(hits, key=lambda p: (p.span.end.line - p.span.start.line, p.span.end.col - p.span.start.col))


def _kind_of(result: DocResult) -> str:
    return "exact (count_tokens)" if result.report.exact else "estimate (offline)"


def part_markdown(result: DocResult, part: PartReport) -> str:
    report = result.report
    how = "exact, from count_tokens" if part.exact else "estimate"
    lines = [f"**{part.label}** · {part.kind}" + (f" · {part.detail}" if part.detail else ""),
             "", f"{'' if part.exact else '≈ '}**{part.tokens:,}** input tokens ({how})"]
    if report.total:
        lines.append(f"- {part.tokens / report.total:.1%} of this file's {report.total:,} tokens")
    if report.context_window:
        lines.append(f"- {part.tokens / report.context_window:.2%} of the {report.context_window:,}-token "
                     f"window of `{report.model}`")
    if report.cost_usd is not None and report.total:
        lines.append(f"- {cost_label(report.cost_usd * part.tokens / report.total)} per request "
                     f"(input, at {report.model} prices)")
    if part.parent is not None:
        lines.append(f"- included in `{part.parent}`")
    return "\n".join(lines)


def model_markdown(result: DocResult) -> str | None:
    from .. import catalog
    from ..diff.head import hover_lines as vs_head
    from . import cachehover

    report = result.report
    info = catalog.resolve(report.model, result.config.models) if report.model else None
    if info is None:
        return None
    out = [f"**{info.name}** (`{info.id}`)"]
    if report.model_written and catalog.normalize_id(report.model_written) != info.id:
        out.append(f"\n`{report.model_written}` is counted as `{info.id}`")
    out += ["", f"- context window: {info.context_window:,} tokens" + (" (assumed)" if info.specs_assumed else ""),
            f"- max output: {info.max_output:,} tokens",
            f"- price: ${info.price_input:g} / MTok input, ${info.price_output:g} / MTok output"
            + (f" (above {info.price_threshold:,} tokens: ${info.price_input_long:g} / "
               f"${info.price_output_long:g})" if info.price_threshold and info.price_input_long else ""),
            f"- cache: write ${info.price_cache_write_5m:g} (5 min), ${info.price_cache_write_1h:g} (1 h), "
            f"read ${info.price_cache_read:g} / MTok",
            f"- tokenizer: {info.tokenizer}" + (" (assumed)" if info.tokenizer_assumed else "")]
    if info.tool_overhead_auto:
        out.append(f"- tool-use system prompt: {info.tool_overhead_auto} / {info.tool_overhead_any} tokens "
                   "(auto / any)" + (" (assumed)" if info.overhead_assumed else ""))
    if info.retired:
        out.append("- **retired**")
    if info.notes:
        out += ["", info.notes]
    if report.cost_usd is not None:
        out += ["", f"This file: {'' if report.exact else '≈ '}{report.total:,} input tokens, "
                f"{_kind_of(result)}; {cost_label(report.cost_usd)} per request", *vs_head(result)]
    out += cachehover.model_lines(result)
    out += ["", f"_catalog {catalog.CATALOG_DATE}_"]
    return "\n".join(out)


def hover(result: DocResult, lines: list[str], pos: types.Position, codec: PositionCodec) -> types.Hover | None:
    from . import cachehover

    line, col = to_code_points(lines, pos, codec)
    if (cached := cachehover.hover_at(result, line, col)) is not None:
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=cached[0]),
                           range=to_range(result.lines, cached[1], codec))
    doc = result.analysis.doc if result.analysis is not None else None
    if doc is not None:
        for path in (("model",),):
            key = doc.key_spans.get(path)
            value = doc.spans.get(path)
            for span in (key, value):
                if span is not None and _contains(span, line, col) and (text := model_markdown(result)):
                    rng = to_range(result.lines, span, codec)
                    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                                       range=rng)
    part = part_at(result, line, col)
    if part is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                    value=part_markdown(result, part)),
                       range=to_range(result.lines, part.span, codec))
