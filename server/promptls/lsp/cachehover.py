"""Hover additions for prompt caching and model comparison: on a `cache_control` key, on line 0 (where
the file's total hint sits) and on `model:` (other models, each counted with its own tokenizer)."""

from __future__ import annotations

from .. import catalog
from ..model import BreakpointReport, CacheReport, Span
from ..render.caching import cost_markdown
from ..render.numbers import tokens as tok
from ..render.numbers import usd
from .state import DocResult


def _contains(span: Span, line: int, col: int) -> bool:
    return (span.start.line, span.start.col) <= (line, col) <= (span.end.line, span.end.col)


def _source(c: CacheReport) -> str:
    return f"_minimum {c.min_tokens:,} tokens: {c.min_source} (gathered {catalog.CACHE_MIN_DATE})_"


def breakpoint_markdown(result: DocResult, bp: BreakpointReport) -> str:
    c = result.report.caching
    assert c is not None
    where = "request-level `cache_control`, placed on the last cacheable block" if bp.automatic \
        else f"on {bp.label}"
    lines = [f"**cache breakpoint** · {bp.ttl} · {where}", "",
             f"{'' if bp.exact else '≈ '}**{bp.prefix_tokens:,}** tokens in its prefix (tools → system → "
             "messages, up to this block)"]
    if not bp.caches:
        lines.append(f"- **will not cache**: {result.report.model} caches prefixes of at least {c.min_tokens:,} "
                     "tokens; the API accepts the marker and silently writes nothing")
    elif not bp.stable:
        lines.append("- per-call content comes before it: written on every call, never read")
    else:
        lines.append(f"- caches on {result.report.model} (minimum {c.min_tokens:,})")
    lines += ["", "This file with caching:", *cost_markdown(c), "", _source(c)]
    return "\n".join(lines)


def total_markdown(result: DocResult) -> str | None:
    r = result.report
    if r.model is None or r.cost_usd is None:
        return None
    lines = [f"**{'' if r.exact else '≈ '}{r.total:,}** input tokens on `{r.model}` · {usd(r.cost_usd)} per call"
             + (" (estimate)" if not r.exact else "")]
    if r.caching is not None:
        lines += ["", "With prompt caching:", *cost_markdown(r.caching), "", _source(r.caching)]
    return "\n".join(lines)


def hover_at(result: DocResult, line: int, col: int) -> tuple[str, Span] | None:
    """Markdown and range for a hover on a breakpoint's key, or on line 0 outside any part and `model:`."""
    c = result.report.caching
    if c is not None:
        for bp in c.breakpoints:
            if _contains(bp.span, line, col):
                return breakpoint_markdown(result, bp), bp.span
    if line == 0 and not any(_contains(p.span, line, col) for p in result.report.parts):
        doc = getattr(result.analysis, "doc", None)
        model_spans = [s for s in (doc.key_spans.get(("model",)), doc.spans.get(("model",)))
                       if s is not None] if doc is not None else []
        if not any(_contains(s, line, col) for s in model_spans) and (text := total_markdown(result)):
            return text, Span.at(0, 0, 0, len(result.lines[0]) if result.lines else 0)
    return None


def model_lines(result: DocResult) -> list[str]:
    """For the hover on `model:`: this model's cache minimum, caching cost and the other models."""
    from ..compare import compare_offline, models_for

    r = result.report
    info = catalog.resolve(r.model, result.config.models) if r.model else None
    if info is None:
        return []
    out = [f"- minimum cacheable prefix: {info.cache_min_tokens:,} tokens"
           + (" (assumed)" if info.cache_min_assumed else "")]
    if r.caching is not None:
        out += ["", "With prompt caching:", *cost_markdown(r.caching)]
    request = getattr(result.analysis, "request", None)
    others = [m for m in models_for(result.config) if m.id != info.id]
    if request is not None and others:
        rows = compare_offline(request, others)
        out += ["", "This prompt on other models (each with its own tokenizer; estimates):", "",
                "| model | tokenizer | tokens | $ per call |", "|---|---|---:|---:|"]
        out += [f"| `{m.model}` | {m.tokenizer} | {tok(m.total, m.exact)} | {usd(m.cost_usd)} |" for m in rows]
    return out
