"""Image tokens against the table Anthropic publishes on its vision page (both resolution tiers)."""

from __future__ import annotations

import pytest

from promptls.vision import TIERS, image_tokens

Row = tuple[int, tuple[int, int]]

# (width, height) -> (tokens, size Claude reads it at), per tier, from the reference's doc table.
# 2000×1500 standard: the doc prints 1269×952, the reference resized_size() yields 1270×952; the
# token count (1564) is the same either way, and the size follows the reference implementation.
STANDARD = {
    (200, 200): (64, (200, 200)),
    (1000, 1000): (1296, (1000, 1000)),
    (1092, 1092): (1521, (1092, 1092)),
    (1920, 1080): (1560, (1456, 819)),
    (2000, 1500): (1564, (1270, 952)),
    (3840, 2160): (1560, (1456, 819)),
}
HIGH = {
    (200, 200): (64, (200, 200)),
    (1000, 1000): (1296, (1000, 1000)),
    (1092, 1092): (1521, (1092, 1092)),
    (1920, 1080): (2691, (1920, 1080)),
    (2000, 1500): (3888, (2000, 1500)),
    (3840, 2160): (4784, (2576, 1449)),
}


@pytest.mark.parametrize(("size", "expected"), STANDARD.items(), ids=lambda v: str(v))
def test_standard_tier_matches_doc_table(size: tuple[int, int], expected: Row) -> None:
    assert image_tokens(*size, "standard") == expected


@pytest.mark.parametrize(("size", "expected"), HIGH.items(), ids=lambda v: str(v))
def test_high_tier_matches_doc_table(size: tuple[int, int], expected: Row) -> None:
    assert image_tokens(*size, "high") == expected


def test_a4_scan_is_shrunk_to_the_documented_size_not_billed_at_full_size() -> None:
    tokens, size = image_tokens(1075, 1520, "standard")
    assert size == (924, 1307)
    assert tokens == 33 * 47 != 2145


def test_portrait_is_the_transpose_of_landscape() -> None:
    for tier in TIERS:
        tokens, (w, h) = image_tokens(2160, 3840, tier)
        assert (tokens, (h, w)) == image_tokens(3840, 2160, tier)


@pytest.mark.parametrize("tier", TIERS)
def test_result_always_respects_the_tier(tier: str) -> None:
    limit = TIERS[tier]
    for w, h in [(9000, 10), (10, 9000), (8000, 8000), (1569, 1), (4000, 3000), (2577, 2576)]:
        tokens, (rw, rh) = image_tokens(w, h, tier)
        assert tokens <= limit.max_tokens
        assert max(rw, rh) <= limit.max_edge
        assert rw <= w and rh <= h


def test_degenerate_size_costs_nothing_and_unknown_tier_is_refused() -> None:
    assert image_tokens(0, 100, "standard")[0] == 0
    with pytest.raises(ValueError, match="unknown image tier"):
        image_tokens(10, 10, "ultra")
