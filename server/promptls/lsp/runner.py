"""The line between the event loop and the engine: every engine call goes through `Runner.call`.

The event loop owns LSP I/O, the document store, publication and the API counter (async I/O).
Everything that parses, reads or stats files, tokenizes, walks every report, touches SQLite or runs
the garbage collector is a `Runner.call`: it runs in the one engine thread, one call at a time
(never on the loop, never on pygls' own pool, which also reads stdin). Calls are taken by priority,
then in order: the open documents' runs (`EDITING`) go before the workspace index and the disk
checks (`BACKGROUND`), so a keystroke never queues behind a file nobody is looking at. While an
open document's run is in flight (`foreground()`), and for `GRACE_S` after it, no background call
starts at all: the loop's steps between the run's engine calls, its publication and the requests
the editor sends right after it (inlay hints, lenses) would otherwise wait for the GIL behind a
file nobody is looking at. Start-up work (engine import, tokenizer, text memo) runs in a warm-up
thread of its own, so the first file's parse does not queue behind it; only estimates wait for it
(`wait_warm`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from . import heap

log = logging.getLogger(__name__)
T = TypeVar("T")

EDITING = 0  # a run of an open document, and what its answer waits for
BACKGROUND = 2  # the workspace index, files read from disk, polling, heap settling
GRACE_S = 0.05  # after an open document's run: the editor's follow-up requests come within this


def priority_of(version: int | None) -> int:
    """An open buffer's run (it has a version) is `EDITING`; a file read from disk is `BACKGROUND`.
    The API limiter takes the same priorities."""
    return EDITING if version is not None else BACKGROUND

_Job = tuple[int, int, Callable[..., Any], tuple[Any, ...], "Future[Any]"]


class EngineThread:
    """One worker thread taking jobs by (priority, arrival); while anything holds it (`hold`), and
    for `grace_s` after the last release, only `EDITING` jobs. A job whose caller was cancelled before
    it started (a superseded keystroke's run) is skipped."""

    def __init__(self, name: str, grace_s: float = GRACE_S) -> None:
        self._jobs: list[_Job] = []
        self._ready = threading.Condition()
        self._order = itertools.count()
        self._closed = False
        self._holds = 0
        self._grace_s = grace_s
        self._quiet_at = 0.0  # monotonic time from which background jobs may start again
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, priority: int, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the engine thread is shut down")
            heapq.heappush(self._jobs, (priority, next(self._order), fn, args, future))
            self._ready.notify()
        return future

    def hold(self) -> None:
        with self._ready:
            self._holds += 1

    def release(self) -> None:
        with self._ready:
            self._holds -= 1
            self._quiet_at = time.monotonic() + self._grace_s
            self._ready.notify()

    def _wait_s(self) -> float | None:
        """0 when the next job may start now; else how long to wait (None: until notified)."""
        if not self._jobs:
            return None
        if self._jobs[0][0] <= EDITING:
            return 0
        if self._holds:
            return None
        return max(0.0, self._quiet_at - time.monotonic())

    def shutdown(self) -> None:
        """Cancel what has not started; the running job finishes on its own (the thread is a daemon)."""
        with self._ready:
            self._closed = True
            jobs, self._jobs = self._jobs, []
            self._ready.notify()
        for job in jobs:
            job[4].cancel()

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._closed and (wait_s := self._wait_s()) != 0:
                    self._ready.wait(wait_s)
                if self._closed:
                    return
                _, _, fn, args, future = heapq.heappop(self._jobs)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            del fn, args, future  # nothing of a finished job stays alive while the thread waits


class Runner:
    def __init__(self) -> None:
        self._engine = EngineThread("promptls-engine")
        self._warm = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promptls-warmup")
        self._warmed: Future[None] | None = None
        self._imported: set[bool] = set()

    async def call(self, fn: Callable[..., T], *args: Any, priority: int = EDITING) -> T:
        """`fn(*args)` in the engine thread, after every queued call of a more urgent `priority`."""
        return await asyncio.wrap_future(self._engine.submit(priority, fn, *args))

    @contextlib.contextmanager
    def foreground(self) -> Iterator[None]:
        """Around an open document's run, up to its publication: no background call starts meanwhile."""
        self._engine.hold()
        try:
            yield
        finally:
            self._engine.release()

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
        await self.call(heap.settle, True, priority=BACKGROUND)

    def shutdown(self) -> None:
        self._engine.shutdown()
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
