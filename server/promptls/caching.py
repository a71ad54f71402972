"""Prompt caching, checked and priced: where the breakpoints are, whether each will cache, and what
the first call and every later call cost with them.

A `cache_control` breakpoint caches the whole prefix up to its block, in the order tools → system →
messages. The API accepts a breakpoint on a prefix shorter than the model's minimum and simply never
caches it (anthropic-sdk-python#1194), rejects more than 4 breakpoints, looks back at most 20 blocks
for an earlier entry, and can only read a prefix that is byte-identical between calls. Facts and
sources: anthropics/skills `shared/prompt-caching.md` and /work/shared/reference/anthropic-api.md §8.

`marker` and `structure_findings` need only the request (request.py calls them); `report` needs the
counts (the engine calls it when it makes the report).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import catalog
from .model import (
    BreakpointReport,
    CachePosition,
    CacheReport,
    CountRequest,
    Counts,
    Finding,
    PromptSpec,
    Severity,
    Span,
)

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20
TTLS = ("5m", "1h")
DEFAULT_TTL = "5m"
# Block types the automatic breakpoint cannot land on: it walks back to the nearest eligible block.
NOT_CACHEABLE = ("thinking", "redacted_thinking")
# Runs of these count as one position for the lookback (anthropics/skills, "20-block lookback window").
COLLAPSED_RUNS = ("tool_use", "tool_result")
# Variable names that stand for a value that changes on every call even when testData agrees.
PER_CALL_NAME = re.compile(
    r"(?:^|[_\-.])(?:now|date|time|datetime|timestamp|today|uuid|guid|nonce|random|request_?id|"
    r"session_?id|trace_?id)(?:$|[_\-.])", re.IGNORECASE)


def marker(value: Any, span: Span) -> tuple[dict[str, Any] | None, Finding | None]:
    """A `cache_control` value as the API accepts it (`{type: ephemeral[, ttl: 5m|1h]}`), or a located
    error; an invalid marker is left out of what promptls sends, so the count still works."""
    if isinstance(value, Mapping) and value.get("type") == "ephemeral" and set(value) <= {"type", "ttl"} \
            and value.get("ttl", DEFAULT_TTL) in TTLS:
        return dict(value), None
    if not isinstance(value, Mapping):
        why = "must be a mapping such as {type: ephemeral} or {type: ephemeral, ttl: 1h}"
    elif value.get("type") != "ephemeral":
        why = "needs `type: ephemeral` (the only cache type)"
    elif value.get("ttl", DEFAULT_TTL) not in TTLS:
        why = f"`ttl` must be 5m or 1h, not {value.get('ttl')!r}"
    else:
        why = f"takes only `type` and `ttl`, not {', '.join(sorted(set(value) - {'type', 'ttl'}))}"
    return None, Finding("cache-control-invalid", f"cache_control {why}: the API rejects it (not sent when counting)",
                         Severity.ERROR, span)


def ttl_of(value: Mapping[str, Any]) -> str:
    return str(value.get("ttl", DEFAULT_TTL))


def automatic_position(positions: Sequence[CachePosition]) -> int | None:
    """Where the request-level breakpoint lands: the last cacheable block."""
    for i in range(len(positions) - 1, -1, -1):
        if positions[i].block_type not in NOT_CACHEABLE:
            return i
    return None


# ---------------------------------------------------------------------------------------------------
# findings that need only the request


def per_call_variables(spec: PromptSpec) -> dict[str, str]:
    """Variables whose testData rows disagree, with why (`_why_varies` adds the other per-call cases)."""
    rows = spec.test_data
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    out: dict[str, str] = {}
    for name in names:
        values = {repr(row.get(name)) for row in rows}
        if len(rows) > 1 and len(values) > 1:
            out[name] = f"its {len(rows)} testData rows have {len(values)} different values"
    return out


def _why_varies(name: str, known: dict[str, str], spec: PromptSpec) -> str | None:
    if name in known:
        return known[name]
    if not any(name in row for row in spec.test_data):
        return "no testData row or `variables` gives it a value, so it is filled per call"
    if PER_CALL_NAME.search(name):
        return "its name says it changes per call"
    return None


def first_varying(positions: Sequence[CachePosition], spec: PromptSpec) -> list[tuple[int, str, str]]:
    """(position, variable, why) of the first per-call content, one entry per variable of that block."""
    known = per_call_variables(spec)
    for i, pos in enumerate(positions):
        found = [(i, v, why) for v in pos.variables if (why := _why_varies(v, known, spec)) is not None]
        if found:
            return found
    return []


def _lookback(positions: Sequence[CachePosition], after: int, upto: int) -> int:
    """Blocks from just after `after` to `upto`, a run of tool_use (or tool_result) blocks counting once."""
    n, previous = 0, None
    for pos in positions[after + 1: upto + 1]:
        if pos.block_type in COLLAPSED_RUNS and pos.block_type == previous:
            continue
        previous = pos.block_type
        n += 1
    return n


def structure_findings(request: CountRequest, spec: PromptSpec) -> list[Finding]:
    """Too many breakpoints, a breakpoint past the lookback, per-call content before a breakpoint."""
    findings: list[Finding] = []
    bps, positions = request.breakpoints, request.positions
    if len(bps) > MAX_BREAKPOINTS:
        extra = bps[MAX_BREAKPOINTS]
        auto = " (the request-level `cache_control` takes one)" if any(b.automatic for b in bps) else ""
        findings.append(Finding(
            "cache-too-many-breakpoints",
            f"{len(bps)} cache breakpoints{auto}: the API accepts at most {MAX_BREAKPOINTS} and rejects the "
            f"request (counted without the ones from here on)", Severity.ERROR, extra.span,
            data={"breakpoints": len(bps), "limit": MAX_BREAKPOINTS}))
    for previous, bp in itertools.pairwise(bps):
        gap = _lookback(positions, previous.position, bp.position)
        if gap > LOOKBACK_BLOCKS:
            findings.append(Finding(
                "cache-lookback-exceeded",
                f"this breakpoint is {gap} blocks after the previous one (line {previous.span.start.line + 1}); a "
                f"breakpoint looks back at most {LOOKBACK_BLOCKS} blocks for an earlier cache entry, so it may "
                f"miss: add a breakpoint in between", Severity.WARNING, bp.span,
                data={"blocks": gap, "limit": LOOKBACK_BLOCKS}))
    first_5m = next((b for b in bps if b.ttl == "5m"), None)
    for bp in bps:
        if first_5m is not None and bp.ttl == "1h" and bp.position > first_5m.position:
            findings.append(Finding(
                "cache-ttl-order", f"a 1h breakpoint after a 5m one (line {first_5m.span.start.line + 1}): entries "
                "with the longer TTL must come first, the API rejects this order", Severity.ERROR, bp.span))
    varying = first_varying(positions, spec)
    if varying and bps:
        at = varying[0][0]
        affected = [b for b in bps if b.position >= at]
        if affected:
            names = ", ".join(f"{{{{{v}}}}} ({why})" for _, v, why in varying[:3])
            pos = positions[at]
            more = f"; so is every later breakpoint ({len(affected) - 1} more)" if len(affected) > 1 else ""
            findings.append(Finding(
                "cache-prefix-varies",
                f"the prefix of this breakpoint holds per-call content at line {pos.span.start.line + 1}: {names}. "
                f"It changes every call, so the cache is written every call and never read{more}; move the "
                f"variable after the breakpoint", Severity.WARNING, affected[0].span,
                data={"variables": [v for _, v, _ in varying], "line": pos.span.start.line + 1}))
    return findings


# ---------------------------------------------------------------------------------------------------
# prefixes and cost, from the counts


def prefix_tokens(request: CountRequest, counts: Counts) -> list[tuple[int, bool]]:
    """(tokens, exact) of the prefix ending at each position: everything the API renders up to and
    including that block. The message frame (overhead) opens the prefix; the tool-use system prompt
    comes with the first tool; a message's own frame with its first block. The last position's prefix
    is the whole request."""
    parts = {p.id: p for p in request.parts}
    children: dict[str, list[str]] = {}
    for p in request.parts:
        if p.parent is not None:
            children.setdefault(p.parent, []).append(p.id)

    def tok(pid: str) -> tuple[int, bool]:
        c = counts.parts.get(pid)
        return (c.tokens, c.exact) if c else (0, False)

    def remainder(group: str) -> tuple[int, bool]:
        n, e = tok(group)
        return n - sum(tok(k)[0] for k in children.get(group, [])), e

    top = sum(tok(p.id)[0] for p in request.top_parts)
    running = float(max(counts.total - top, 0))
    exact = counts.exact
    opened: set[str] = set()
    out: list[tuple[int, bool]] = []
    for i, pos in enumerate(request.positions):
        part = parts.get(pos.part_id)
        group = part.parent if part is not None and part.parent is not None else None
        if group is None and pos.part_id in children:  # a message's own text beside its attachments
            group = pos.part_id
        if group is not None and group not in opened:  # the group's own tokens: tool overhead, turn frame
            opened.add(group)
            n, e = remainder(group)
            running += n
            exact = exact and e
        whole = True
        if group != pos.part_id:
            n, e = tok(pos.part_id)
            running += n * pos.share
            exact = exact and e
            whole = pos.share == 1.0 or _closes_share(request.positions, i)
        if i == len(request.positions) - 1:
            out.append((counts.total, counts.exact))
        else:
            out.append((round(running), exact and whole))
    return out


def _closes_share(positions: Sequence[CachePosition], i: int) -> bool:
    """True at the last of the positions that split one part (the whole part is then in the prefix)."""
    return i + 1 >= len(positions) or positions[i + 1].part_id != positions[i].part_id


def report(request: CountRequest | None, counts: Counts | None, info: catalog.ModelInfo | None,
           spec: PromptSpec | None) -> tuple[list[Finding], CacheReport | None]:
    """Below-minimum findings and the cost of caching, for a request with breakpoints."""
    if request is None or counts is None or info is None or spec is None or not request.breakpoints:
        return [], None
    bps = request.breakpoints[:MAX_BREAKPOINTS]
    prefixes = prefix_tokens(request, counts)
    varying = first_varying(request.positions, spec)
    unstable_from = varying[0][0] if varying else len(request.positions)
    minimum = info.cache_min_tokens
    findings: list[Finding] = []
    reports: list[BreakpointReport] = []
    for bp in bps:
        tokens, exact = prefixes[bp.position]
        pos = request.positions[bp.position]
        caches = tokens >= minimum
        reports.append(BreakpointReport(bp.span, bp.ttl, bp.automatic, pos.part_id, pos.label, tokens, exact,
                                        caches, bp.position < unstable_from))
        if not caches:
            approx = "" if exact else "≈ "
            source = " (figure assumed)" if info.cache_min_assumed else ""
            findings.append(Finding(
                "cache-prefix-too-short",
                f"the prefix up to this breakpoint is {approx}{tokens:,} tokens; {info.id} caches prefixes of at "
                f"least {minimum:,}{source}: this breakpoint will not cache (no error, just no cache)",
                Severity.WARNING, bp.span,
                data={"prefix_tokens": tokens, "min_tokens": minimum, "exact": exact,
                      "source": info.cache_min_source}))
    return findings, cost(reports, counts.total, info)


def cost(breakpoints: list[BreakpointReport], total: int, info: catalog.ModelInfo) -> CacheReport:
    """First call, cached call and break-even for these breakpoints on a `total`-token prompt.

    Tokens between two caching breakpoints are written at the later one's TTL (the API bills writes
    per TTL); a cached call reads up to the last stable caching breakpoint and writes the rest again."""
    p_in, p_w5, p_w1h, p_read = catalog.input_prices(info, total)
    segments: list[tuple[int, str, bool]] = []  # (tokens, ttl, readable)
    covered = 0
    for bp in breakpoints:
        if bp.caches and bp.prefix_tokens > covered:
            segments.append((bp.prefix_tokens - covered, bp.ttl, bp.stable))
            covered = bp.prefix_tokens
    rest = max(total - covered, 0)
    write = {"5m": 0, "1h": 0}
    rewrite = {"5m": 0, "1h": 0}
    read = 0
    for tokens, ttl, readable in segments:
        write[ttl] += tokens
        if readable:
            read += tokens
        else:
            rewrite[ttl] += tokens
    mtok = 1_000_000
    uncached = total * p_in / mtok
    first = (write["5m"] * p_w5 + write["1h"] * p_w1h + rest * p_in) / mtok
    cached = (read * p_read + rewrite["5m"] * p_w5 + rewrite["1h"] * p_w1h + rest * p_in) / mtok
    return CacheReport(breakpoints, info.cache_min_tokens, info.cache_min_source, write["5m"], write["1h"], read,
                       uncached, first, cached, break_even(first, cached, uncached) if read else None)


def break_even(first: float, cached: float, uncached: float) -> int | None:
    """Smallest n ≥ 1 with first + (n − 1)·cached ≤ n·uncached, or None when calls never catch up."""
    if first <= uncached:
        return 1
    if cached >= uncached:
        return None
    return max(1, math.ceil((first - cached) / (uncached - cached) - 1e-9))
