"""Test-only requests, registered only when `PROMPTLS_TEST_HOOKS=1` is in the server's environment
(the pytest-lsp harness and the benchmarks set it); a user's server never answers them."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import PromptServer

ENV = "PROMPTLS_TEST_HOOKS"
STATS = "promptls/_stats"


@dataclass(slots=True)
class Stats:
    """How often the server did things (tests check debouncing and indexing with these)."""

    estimates: int = 0
    exact: int = 0
    published: int = 0
    indexed: int = 0
    indexed_in_workers: int = 0  # of those, estimated by the worker processes (offline_pool.py)


def enabled() -> bool:
    return os.environ.get(ENV) == "1"


def stats(ls: PromptServer) -> dict[str, Any]:
    # URIs are not identifiers: send runs as pairs so clients' object decoding keeps them intact.
    return {**asdict(ls.stats), "runs": [[uri, n] for uri, n in ls.docs.runs().items()],
            "diagnosticMode": ls.diag_mode}
