"""How numbers read everywhere (CLI tables, inlay hints, hovers): `≈` marks an estimate."""

from __future__ import annotations


def tokens(n: int, exact: bool) -> str:
    """`1,204` when exact, `≈ 1,204` when estimated."""
    return f"{n:,}" if exact else f"≈ {n:,}"


def usd(amount: float | None) -> str:
    """`$0.0017` below a cent, `$0.037` above, `<$0.0001` for what would print as `$0.0000`; empty when
    there is no price."""
    if amount is None:
        return ""
    if amount == 0:
        return "$0"
    if amount < 0.00005:
        return "<$0.0001"
    return f"${amount:.4f}" if amount < 0.01 else f"${amount:.3f}"
