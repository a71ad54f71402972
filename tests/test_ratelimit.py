"""The rate limiter on a fake clock: the per-minute cap holds in every window, lower priority
numbers go first, a 429 pause holds everyone, and a cancelled waiter leaves the queue."""

from __future__ import annotations

import asyncio

import pytest

from promptls.counting.ratelimit import GUARD_S, RateLimiter
from tests.fakeclock import FakeClock


@pytest.mark.parametrize("rpm", [1, 7, 50, 100])
async def test_never_more_than_rpm_in_any_sixty_seconds(rpm: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm, clock=clock, sleep=clock.sleep)
    stamps = []
    n = 3 * rpm + 5
    for _ in range(n):
        await limiter.acquire(2)
        stamps.append(clock.now)
    for i, start in enumerate(stamps):
        in_window = [t for t in stamps[i:] if t < start + 60.0]
        assert len(in_window) <= rpm
    # ...and it is not needlessly slow: after the initial burst it runs at the full rate, less the
    # guard second per window that absorbs network jitter.
    windows = n // rpm + 1
    assert stamps[-1] - stamps[0] <= (n - limiter.capacity) / rpm * 60.0 + 1.0 + windows * GUARD_S


async def test_a_burst_is_served_at_once_up_to_the_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(50, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        await limiter.acquire(0)
    assert clock.now == 1000.0
    await limiter.acquire(0)
    assert clock.now == pytest.approx(1000.0 + 60 / 50)


async def test_lower_priority_numbers_go_first() -> None:
    clock = FakeClock()
    limiter = RateLimiter(60, capacity=1, clock=clock, sleep=clock.sleep)
    await limiter.acquire(0)  # empty the bucket so everyone below has to queue
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await limiter.acquire(priority)
        order.append(name)

    tasks = [asyncio.create_task(take("background", 2)), asyncio.create_task(take("part", 1)),
             asyncio.create_task(take("edited", 0)), asyncio.create_task(take("background2", 2))]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert order == ["edited", "part", "background", "background2"]


async def test_a_429_pause_holds_every_request() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep)
    limiter.penalize(30.0)
    assert limiter.paused_for() == pytest.approx(30.0)
    await limiter.acquire(0)
    assert clock.now >= 1030.0
    limiter.pause_until(clock.now + 5)
    await limiter.acquire(0)
    assert clock.now >= 1035.0
    assert limiter.paused_for() == 0.0


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    gate = asyncio.Event()
    clock = FakeClock()

    async def stuck_sleep(seconds: float) -> None:
        await gate.wait()
        clock.now += seconds

    limiter = RateLimiter(60, capacity=1, clock=clock, sleep=stuck_sleep)
    await limiter.acquire(0)
    waiter = asyncio.create_task(limiter.acquire(0))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.set()
    await asyncio.wait_for(limiter.acquire(1), timeout=5)
