"""The count_tokens request with the parts it is made of (request.py), and their counts (counting/).

A `Part` is what the user sees with its own number; `Counts` holds one number per part and the total,
each saying whether it is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .findings import Span
from .prompt import Attachment

# ---------------------------------------------------------------------------------------------------
# request.py output: the count_tokens request and the parts it is made of


@dataclass(slots=True)
class Part:
    """A countable piece of the request, shown to the user with its own number.

    Top-level parts (parent None) are system, each message, tools (the group) and thinking; their
    sum plus `overhead` is the total. Children (content blocks, attachments, single tools) are shown
    on their own lines but are already inside their parent's number.
    `fragment` is the API JSON of the part (a system value, a message dict, a block dict, a tool
    dict) used by the estimator and by attribution. `api_ok=False` means count_tokens rejects it
    (url/file sources, server tools): it is estimated even when the rest is exact.
    """

    id: str
    kind: str  # system | message | block | attachment | tools | tool | thinking
    label: str
    span: Span
    fragment: Any
    parent: str | None = None
    role: str | None = None
    detail: str = ""
    api_ok: bool = True
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class CachePosition:
    """One cacheable block in render order (tools → system → messages): the part whose tokens hold it
    (`share` of that part's tokens when it holds several blocks), its block type and the template
    variables its text uses, as written."""

    part_id: str
    label: str
    block_type: str
    span: Span
    variables: tuple[str, ...] = ()
    share: float = 1.0


@dataclass(frozen=True, slots=True)
class CacheBreakpoint:
    """A `cache_control` marker: the position it ends on, its TTL ("5m" | "1h") and the key's range.
    `automatic` is the request-level marker, which the API places on the last cacheable block."""

    position: int
    ttl: str
    span: Span
    automatic: bool = False


@dataclass(slots=True)
class CountRequest:
    """A complete count_tokens body plus its parts. `body` is exactly what would be sent."""

    model: str
    body: dict[str, Any]
    parts: list[Part]
    positions: list[CachePosition] = field(default_factory=list)
    breakpoints: list[CacheBreakpoint] = field(default_factory=list)

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)

    @property
    def top_parts(self) -> list[Part]:
        return [p for p in self.parts if p.parent is None]


# ---------------------------------------------------------------------------------------------------
# counting output


@dataclass(slots=True)
class PartCount:
    tokens: int
    exact: bool


@dataclass(slots=True)
class Counts:
    """Tokens for one CountRequest. `total` and `parts` each say whether they are exact.

    `source` is "estimate", "api" or "cache"; `requests` how many HTTP requests this took,
    `cache_hits` how many answers came from the cache.
    """

    total: int
    exact: bool
    parts: dict[str, PartCount]
    source: str = "estimate"
    requests: int = 0
    cache_hits: int = 0
    error: str | None = None

