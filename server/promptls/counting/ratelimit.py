"""Client-side rate limiting for count_tokens: a token bucket capped by a sliding 60 s window.

The bucket smooths bursts (capacity min(rpm, 5)); the window log guarantees that no 60 s span
ever holds more than `rpm` requests, which a bucket alone cannot (capacity + refill > rpm).
Waiters are served by priority (lower first: 0 = the document being edited, 1 = its parts,
2 = background files), then in arrival order. A 429 pauses everyone until the server's
`retry-after`. Clock and sleep are injectable so tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable

WINDOW_S = 60.0
# The server counts arrivals, we count departures; transit jitter of a few ms could otherwise put
# rpm + 1 arrivals into one minute (measured in bench/: 61 in 59.993 s). Keep a second of slack.
GUARD_S = 1.0
# Float slack: a refill that lands a hair under one token must not turn into endless tiny sleeps.
EPSILON = 1e-6
MIN_SLEEP_S = 1e-3

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """Token bucket + sliding-window cap with priority-ordered waiters."""

    def __init__(self, rpm: int, *, capacity: int | None = None, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.rpm = max(1, int(rpm))
        self.capacity = max(1, capacity if capacity is not None else min(self.rpm, 5))
        self._rate = self.rpm / WINDOW_S
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self.capacity)
        self._stamp = clock()
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._waiters: list[tuple[int, int]] = []
        self._seq = itertools.count()
        self._changed = asyncio.Event()

    # -- state ---------------------------------------------------------------------------------

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        while self._sent and self._sent[0] <= now - WINDOW_S - GUARD_S:
            self._sent.popleft()

    def _wait_needed(self, now: float) -> float:
        self._refill(now)
        waits = [self._paused_until - now]
        if self._tokens < 1.0 - EPSILON:
            waits.append((1.0 - self._tokens) / self._rate)
        if len(self._sent) >= self.rpm:
            waits.append(self._sent[0] + WINDOW_S + GUARD_S - now)
        wait = max(0.0, *waits)
        return max(wait, MIN_SLEEP_S) if wait > 0.0 else 0.0

    def paused_for(self) -> float:
        """Seconds left of a server-imposed pause (429), 0 when none."""
        return max(0.0, self._paused_until - self._clock())

    def pause_until(self, monotonic_ts: float) -> None:
        """Hold every request until `monotonic_ts` (same clock as the limiter)."""
        self._paused_until = max(self._paused_until, monotonic_ts)
        self._notify()

    def penalize(self, retry_after_s: float) -> None:
        """Pause for `retry_after_s` seconds from now (the server's retry-after)."""
        self.pause_until(self._clock() + max(0.0, retry_after_s))

    # -- waiting -------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def acquire(self, priority: int = 0) -> None:
        """Wait for a send slot; lower `priority` numbers go first. Cancellation leaves the queue."""
        entry = (priority, next(self._seq))
        heapq.heappush(self._waiters, entry)
        self._notify()
        try:
            while True:
                if self._waiters[0] != entry:
                    await self._changed.wait()
                    continue
                now = self._clock()
                wait = self._wait_needed(now)
                if wait <= 0.0:
                    self._tokens = max(0.0, self._tokens - 1.0)
                    self._sent.append(now)
                    return
                changed = self._changed
                sleeper = asyncio.ensure_future(self._sleep(wait))
                notified = asyncio.ensure_future(changed.wait())
                try:
                    await asyncio.wait({sleeper, notified}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    sleeper.cancel()
                    notified.cancel()
        finally:
            self._waiters.remove(entry)
            heapq.heapify(self._waiters)
            self._notify()
