"""Image tokens by Anthropic's published patch rule, so image parts can be estimated offline.

An image costs ⌈w/28⌉ × ⌈h/28⌉ visual tokens after Claude shrinks it to fit its model's resolution
tier. The shrink is the largest aspect-preserving size whose edges, rounded up to a multiple of 28,
stay within the tier's long-edge limit and whose token count stays within the tier's budget. The
search below follows the reference `resized_size()` from the vision-coordinates docs (binary search
on the long edge, Python's `round()` for the short one), because a different rounding changes the
pixel size Claude reports even when the token count agrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PATCH = 28


@dataclass(frozen=True, slots=True)
class Tier:
    max_edge: int
    max_tokens: int


# Claude 4.7 and later read images at the high tier; every other model at the standard one.
TIERS: dict[str, Tier] = {
    "standard": Tier(max_edge=1568, max_tokens=1568),
    "high": Tier(max_edge=2576, max_tokens=4784),
}


def patch_tokens(width: int, height: int) -> int:
    """Visual tokens for an image of exactly this size: one per started 28×28 patch."""
    return math.ceil(width / PATCH) * math.ceil(height / PATCH)


def _fits(width: int, height: int, tier: Tier) -> bool:
    return (
        math.ceil(width / PATCH) * PATCH <= tier.max_edge
        and math.ceil(height / PATCH) * PATCH <= tier.max_edge
        and patch_tokens(width, height) <= tier.max_tokens
    )


def resized_size(width: int, height: int, tier: Tier) -> tuple[int, int]:
    """The size Claude reads the image at (before padding): unchanged when it already fits."""
    if _fits(width, height, tier):
        return width, height
    if height > width:
        h, w = resized_size(height, width, tier)
        return w, h
    aspect = width / height
    lo, hi = 1, width  # invariant: a long edge of `lo` fits, `hi` does not
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        if _fits(mid, max(round(mid / aspect), 1), tier):
            lo = mid
        else:
            hi = mid
    return lo, max(round(lo / aspect), 1)


def image_tokens(width: int, height: int, tier: str) -> tuple[int, tuple[int, int]]:
    """Tokens an image of `width`×`height` px costs at `tier` ("standard" | "high"), and the size
    Claude resizes it to. A degenerate size (≤ 0 on a side) costs nothing.

    Raises ValueError for an unknown tier name: tiers come from the model catalog, not from users.
    """
    try:
        limits = TIERS[tier]
    except KeyError:
        raise ValueError(f"unknown image tier {tier!r}; expected one of {', '.join(TIERS)}") from None
    if width < 1 or height < 1:
        return 0, (max(width, 0), max(height, 0))
    size = resized_size(width, height, limits)
    return patch_tokens(*size), size
