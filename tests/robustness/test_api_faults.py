"""The real server against a misbehaving count_tokens endpoint: 429 storms with retry-after, 500/529
bursts, dropped connections, malformed JSON and slow answers. The editor must keep answering at
once (hover within 200 ms), show estimates meanwhile, go back to exact counts by itself when the
endpoint recovers, and never send more than the configured rate."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from lsprotocol import types

from promptls import engine
from promptls.config import Config
from promptls.counting.ratelimit import WINDOW_S
from tests.fakeapi import FakeAnthropic, Fault, count_request
from tests.lsp.conftest import Session, StartSession, api_env

RPM = 30
HOVER_BOUND_S = 0.2
PROMPT = """\
model: claude-sonnet-4-6
system: You are a careful analyst who answers in short bullet points.
messages:
  - role: user
    content: Summarise the filing for the board, version {n}.
"""


async def hover_in_time(session: Session, uri: str) -> float:
    """Hover over `system:`; fail if the answer takes longer than the bound. Returns the latency."""
    start = time.monotonic()
    async with asyncio.timeout(HOVER_BOUND_S):
        hover = await session.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=2)))
    assert hover is not None and "tok" in hover.contents.value
    return time.monotonic() - start


def assert_rate_respected(log: list[tuple[float, Fault | None]], rpm: int) -> None:
    """No 60 s window over `rpm`, no burst over the bucket, and every 429's retry-after honoured."""
    times = [t for t, _ in log]
    capacity = min(rpm, 5)
    for i, start in enumerate(times):
        in_window = [t for t in times[i:] if t - start < WINDOW_S]
        assert len(in_window) <= rpm
        for j in range(i, len(times)):
            allowed = capacity + (times[j] - start) * rpm / WINDOW_S + 1e-6
            assert j - i + 1 <= allowed + 1, f"{j - i + 1} requests in {times[j] - start:.2f}s"
    trace = [(round(t - times[0], 2), f and (f.status, f.drop, f.malformed, f.delay)) for t, f in log]
    for i, (t, fault) in enumerate(log):
        if fault is not None and fault.status == 429:
            wait = float(fault.headers["retry-after"])
            early = [u for u in times[i + 1:] if u < t + wait - 0.05]
            # One request may already have been on its way when the 429 came back; no new one may start.
            assert len(early) <= 1, f"{len(early)} requests within {wait}s of a 429: {trace}"


async def test_fault_storm_server_stays_responsive_and_recovers(lsp_session: StartSession,
                                                                timed_api: FakeAnthropic) -> None:
    fake = timed_api
    fake.always = Fault(status=429, headers={"retry-after": "1"}, message="rate limit exceeded")
    session = await lsp_session({"a.prompt.yaml": PROMPT.format(n=0)}, env=api_env(fake),
                                settings={"requestsPerMinute": RPM, "debounceMs": 50})
    uri = session.open("a.prompt.yaml")
    limited = await session.wait_status(uri, lambda s: s["state"] == "rate-limited", "estimates during the storm")
    assert limited["exact"] is False and limited["total"] > 0
    assert all("≈" in label for _, _, label in await session.hints(uri))

    latencies = []
    n = 0
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # the 429 storm: keep typing and hovering
        n += 1
        session.change(uri, PROMPT.format(n=n))
        latencies.append(await hover_in_time(session, uri))
        await asyncio.sleep(0.15)
    storm = [f for _, f in fake.log if f is not None]
    assert len(storm) >= 2 and all(f.status == 429 for f in storm)

    fake.always = None  # then every other kind of fault, each followed by a good answer
    ok = Fault()
    fake.script(Fault(status=500), ok, Fault(status=529), ok, Fault(drop=True), ok, Fault(malformed=True), ok,
                Fault(delay=0.6), ok)
    deadline = time.monotonic() + 20.0
    while fake.faults and time.monotonic() < deadline:
        n += 1
        session.change(uri, PROMPT.format(n=n))
        latencies.append(await hover_in_time(session, uri))
        await asyncio.sleep(0.3)
    assert not fake.faults, "the server stopped asking the endpoint during the faults"
    status = await session.status(uri)
    assert status is not None and status["total"] > 0

    fake.always = Fault(status=500)  # one last outage right after the final edit ...
    n += 1
    final = PROMPT.format(n=n)
    session.change(uri, final)
    await session.wait_status(uri, lambda s: s["state"] == "error", "the outage after the last edit")
    fake.always = None  # ... then the endpoint recovers: exact counts come back without another edit
    exact = await session.wait_status(uri, lambda s: s["state"] == "exact", "recovery to exact counts",
                                      timeout=20)
    analysis = engine.analyze_text(final, session.root / "a.prompt.yaml", Config(root=session.root))
    assert analysis.request is not None
    assert exact["total"] == count_request(analysis.request.body)
    (total,) = [label for _, _, label in await session.hints(uri) if label.startswith("Σ")]
    assert total.startswith(f"Σ {exact['total']:,} /")
    assert max(latencies) < HOVER_BOUND_S
    assert_rate_respected(fake.log, RPM)


async def test_timeouts_fall_back_to_estimates_without_waiting(timed_api: FakeAnthropic, tmp_path: Path) -> None:
    """A request that outlives the client timeout is a fault like any other (SDK retries are off)."""
    from promptls.counting.api import ApiCounter, settings_from_env
    from promptls.counting.cache import CountCache

    text = PROMPT.format(n=1)
    config = Config(root=tmp_path)
    analysis = engine.analyze_text(text, tmp_path / "a.prompt.yaml", config)
    estimate = engine.estimate_counts(analysis, config)
    assert analysis.request is not None and analysis.info is not None and estimate is not None
    settings = settings_from_env()
    counter = ApiCounter(type(settings)(api_key=settings.api_key, base_url=settings.base_url, timeout=0.5),
                         CountCache(tmp_path / "cache"))
    timed_api.always = Fault(delay=5.0)
    start = time.monotonic()
    counts = await counter.count(analysis.request, analysis.info, 0, estimate)
    assert time.monotonic() - start < 2.0
    assert counts.exact is False and counts.total == estimate.total
    assert counts.error is not None and "timed out" in counts.error
    assert len(timed_api.log) == 1  # no retry storm of its own
    await counter.aclose()


async def test_a_429_is_honoured_even_when_its_caller_was_cancelled(timed_api: FakeAnthropic, tmp_path: Path) -> None:
    """A newer edit cancels the count in flight; the answer still arrives and its retry-after must
    still pause the counter, or the next edit goes out straight into the rate limit."""
    from promptls.counting.api import ApiCounter, settings_from_env
    from promptls.counting.cache import CountCache

    config = Config(root=tmp_path)
    analyses = [engine.analyze_text(PROMPT.format(n=n), tmp_path / "a.prompt.yaml", config) for n in (1, 2)]
    counter = ApiCounter(settings_from_env(), CountCache(tmp_path / "cache"))
    timed_api.script(Fault(status=429, headers={"retry-after": "5"}, delay=0.3))
    first = asyncio.create_task(counter.count(analyses[0].request, analyses[0].info, 0,
                                              engine.estimate_counts(analyses[0], config)))
    await wait_for_requests(timed_api, 1)
    first.cancel()
    await asyncio.sleep(0.6)  # the 429 has been answered by now
    counts = await counter.count(analyses[1].request, analyses[1].info, 0, engine.estimate_counts(analyses[1], config))
    assert len(timed_api.log) == 1, "a request was sent while the server asked to wait 5 s"
    assert counts.error is not None and "rate-limited" in counts.error
    await counter.aclose()


async def wait_for_requests(fake: FakeAnthropic, n: int) -> None:
    async with asyncio.timeout(5):
        while len(fake.log) < n:
            await asyncio.sleep(0.01)
