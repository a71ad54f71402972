"""Debounced background work: one asyncio task per key, a newer request cancels the older one.

Engine work is not done here but through `runner.Runner`. Exceptions in these tasks would otherwise
vanish (nobody awaits them), so every task is kept referenced until it ends and its failure is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Task[Any]] = {}
        self._background: set[asyncio.Task[Any]] = set()

    def debounce(self, key: str, delay_s: float, job: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run `job` after `delay_s` unless another `debounce(key, ...)` comes first."""
        self.cancel(key)

        async def later() -> None:
            if delay_s > 0:
                await asyncio.sleep(delay_s)
            await job()

        task = asyncio.create_task(later(), name=f"promptls:{key}")
        self._pending[key] = task
        task.add_done_callback(lambda t: self._finished(key, t))
        return task

    def cancel(self, key: str) -> None:
        if (old := self._pending.pop(key, None)) is not None:
            old.cancel()

    def pending(self, key: str) -> asyncio.Task[Any] | None:
        return self._pending.get(key)

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """Fire-and-forget work that no edit cancels (workspace indexing, polling)."""
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def shutdown(self) -> None:
        for task in [*self._pending.values(), *self._background]:
            task.cancel()

    def _finished(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        _log_failure(task)

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        _log_failure(task)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("background task %s failed", task.get_name(), exc_info=exc)
