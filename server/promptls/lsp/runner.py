"""The line between the event loop and the engine: every engine call goes through `Runner.call`.

The event loop owns LSP I/O, the document store, publication and the API counter (async I/O).
Everything that parses, reads or stats files, tokenizes, walks every report, touches SQLite or runs
the garbage collector is a `Runner.call`: it runs in the one engine thread, one call at a time
(never on the loop, never on pygls' own pool, which also reads stdin). Start-up work (engine import,
tokenizer, text memo) runs in a warm-up thread of its own, so the first file's parse does not queue
behind it; only estimates wait for it (`wait_warm`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from . import heap

log = logging.getLogger(__name__)
T = TypeVar("T")


class Runner:
    def __init__(self) -> None:
        self._engine = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promptls-engine")
        self._warm = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promptls-warmup")
        self._warmed: Future[None] | None = None
        self._imported: set[bool] = set()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in the engine thread."""
        return await asyncio.get_running_loop().run_in_executor(self._engine, fn, *args)

    def warm_up(self, with_api: bool) -> None:
        self._warmed = self._warm.submit(_prewarm, with_api)

    async def wait_warm(self) -> None:
        """Until the start-up warm-up has finished (ctok's vocabulary is built once, there)."""
        if self._warmed is not None and not self._warmed.done():
            await asyncio.wrap_future(self._warmed)

    async def import_engine(self, with_api: bool) -> None:
        """The engine and the SDK import (seconds, once) in the engine thread; one hop less per
        keystroke once done."""
        if with_api not in self._imported:
            await self.call(_import_engine, with_api)
            self._imported.add(with_api)

    async def settle_heap(self) -> None:
        """A full collection and a freeze, between runs (after start-up, an index, a full pass)."""
        await self.call(heap.settle, True)

    def shutdown(self) -> None:
        self._engine.shutdown(wait=False, cancel_futures=True)
        self._warm.shutdown(wait=False, cancel_futures=True)


def _import_engine(with_api: bool) -> None:
    from .. import pipeline  # noqa: F401

    if with_api and (os.environ.get("ANTHROPIC_API_KEY") or "").strip():
        from ..counting import api  # noqa: F401


def _prewarm(with_api: bool) -> None:
    """Import the engine and load the tokenizer while the client is still starting up."""
    try:
        _import_engine(with_api)
        from ..config import Config
        from ..counting.estimate import use_store, warm_up
        from ..counting.textcache import open_default
        from ..engine import analyze_text, estimate_counts

        use_store(open_default())  # text seen in an earlier session is not tokenized again
        warm_up()
        from ..diff import head  # noqa: F401  (the hover's helpers: its first answer imports nothing)
        from . import cachehover  # noqa: F401
        config = Config(root=Path.cwd())
        estimate_counts(analyze_text("messages: [{role: user, content: hi}]\n", Path("warm.prompt.yaml"), config),
                        config)
        heap.settle(collect=True)
    except Exception:
        log.exception("warming up the engine failed")
