"""Prompt caching and model comparison as the CLI table, the JSON report and hovers show them."""

from __future__ import annotations

from typing import Any

from ..model import BreakpointReport, CacheReport, FileReport, ModelComparison
from .numbers import tokens as tok
from .numbers import usd


def _money(amount: float) -> str:
    return usd(amount) or "$0"


def breakpoint_mark(bp: BreakpointReport, min_tokens: int) -> str:
    """`5m ✓ 4,210` (caches), `1h ✗ 514 < 2,048` (too short), `5m ~ 4,210` (written every call)."""
    where = "auto " if bp.automatic else ""
    if not bp.caches:
        return f"{where}{bp.ttl} ✗ {tok(bp.prefix_tokens, bp.exact)} < {min_tokens:,}"
    sign = "✓" if bp.stable else "~"
    return f"{where}{bp.ttl} {sign} {tok(bp.prefix_tokens, bp.exact)}"


def marks(r: FileReport) -> dict[str, str]:
    """The `cache` column of `promptls count`: part id → its breakpoints (empty without breakpoints)."""
    if r.caching is None:
        return {}
    out: dict[str, list[str]] = {}
    for bp in r.caching.breakpoints:
        out.setdefault(bp.part_id, []).append(breakpoint_mark(bp, r.caching.min_tokens))
    return {pid: ", ".join(m) for pid, m in out.items()}


def break_even_text(c: CacheReport) -> str:
    if c.break_even_calls is None:
        return "never pays off" if c.first_call_usd > c.uncached_usd else "no saving"
    return "pays off from the first call" if c.break_even_calls == 1 else f"pays off from call {c.break_even_calls}"


def summary_line(c: CacheReport) -> str:
    """One line under the total: first call, cached call, break-even, against no caching."""
    writes = " + ".join(f"{tok(n, True)} written ({ttl})" for ttl, n in (("5m", c.write_5m_tokens),
                                                                           ("1h", c.write_1h_tokens)) if n)
    if not writes:
        return (f"caching: no breakpoint caches (minimum {c.min_tokens:,} tokens for this model): every call "
                f"{_money(c.uncached_usd)}")
    return (f"caching: first call {_money(c.first_call_usd)} ({writes}) · cached call "
            f"{_money(c.cached_call_usd)} ({tok(c.read_tokens, True)} read) · {break_even_text(c)} · "
            f"uncached {_money(c.uncached_usd)}")


def comparison_lines(r: FileReport) -> list[str]:
    if not r.comparison:
        return []
    width = max(len(m.model) for m in r.comparison)
    out = ["  compared (each counted with its own tokenizer):"]
    for m in r.comparison:
        fits = "" if m.fits else f"  over its {m.context_window:,} window"
        out.append(f"    {m.model:<{width}}  tokenizer {m.tokenizer:<4} {tok(m.total, m.exact):>12}  "
                   f"{_money(m.cost_usd):>9} per call{fits}")
    return out


def cache_json(c: CacheReport | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "min_tokens": c.min_tokens,
        "min_source": c.min_source,
        "breakpoints": [{"range": b.span.to_json(), "ttl": b.ttl, "automatic": b.automatic, "part": b.part_id,
                         "prefix_tokens": b.prefix_tokens, "exact": b.exact, "caches": b.caches,
                         "stable": b.stable} for b in c.breakpoints],
        "write_5m_tokens": c.write_5m_tokens,
        "write_1h_tokens": c.write_1h_tokens,
        "read_tokens": c.read_tokens,
        "uncached_usd": round(c.uncached_usd, 6),
        "first_call_usd": round(c.first_call_usd, 6),
        "cached_call_usd": round(c.cached_call_usd, 6),
        "break_even_calls": c.break_even_calls,
    }


def comparison_json(rows: list[ModelComparison]) -> list[dict[str, Any]]:
    return [{"model": m.model, "name": m.name, "tokenizer": m.tokenizer, "total": m.total, "exact": m.exact,
             "cost_usd": round(m.cost_usd, 6), "context_window": m.context_window, "fits": m.fits} for m in rows]


def cost_markdown(c: CacheReport) -> list[str]:
    """Hover lines: first call, cached call, break-even."""
    lines = []
    if c.write_5m_tokens or c.write_1h_tokens:
        writes = ", ".join(f"{n:,} tokens written at the {ttl} rate" for ttl, n in
                           (("5m", c.write_5m_tokens), ("1h", c.write_1h_tokens)) if n)
        lines.append(f"- first call: **{_money(c.first_call_usd)}** ({writes})")
        lines.append(f"- cached call: **{_money(c.cached_call_usd)}** ({c.read_tokens:,} tokens read)")
        lines.append(f"- without caching: {_money(c.uncached_usd)} per call; {break_even_text(c)}")
    else:
        lines.append(f"- no breakpoint caches: every call {_money(c.uncached_usd)}")
    return lines
