"""Keep the garbage collector's full passes off the typing path.

A full collection walks every tracked object, including ctok's vocabulary (~70 ms once loaded), so
an edit that happens to trigger one takes several times longer than the others. Objects that
survive a full collection are long-lived (tokenizer, imports, the workspace reports), so they are
moved out of the collector's sight with `gc.freeze()` the next time the server is between runs.
The engine's data holds no reference cycles, so frozen objects are still freed by reference
counting when the server drops them; only cyclic garbage alive at a freeze would stay.
"""

from __future__ import annotations

import gc
from typing import Any

_full_pass_seen = False


def _note(phase: str, info: dict[str, Any]) -> None:
    global _full_pass_seen
    if phase == "stop" and info.get("generation") == 2:
        _full_pass_seen = True


def install() -> None:
    """Start watching for full collections (idempotent)."""
    if _note not in gc.callbacks:
        gc.callbacks.append(_note)


def settle(collect: bool = False) -> None:
    """Freeze what survived the last full collection; with `collect`, run one first (after start-up
    and after a workspace index, when a pause costs nobody anything)."""
    global _full_pass_seen
    if collect:
        gc.collect()
    if collect or _full_pass_seen:
        gc.freeze()
        _full_pass_seen = False
