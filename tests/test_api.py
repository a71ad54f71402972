"""Exact counts through the real SDK over real HTTP against the local fake endpoint: exactness,
economy (cache, one-part edits), every fault degrading to the estimate without raising, the key
never leaking, rejected parts never sent, and calibration learning from exact counts."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from promptls.counting.api import ApiCounter, ApiSettings, make_counter, settings_from_env
from promptls.counting.cache import FILE_NAME, CountCache
from promptls.counting.ratelimit import RateLimiter
from promptls.model import Counts
from tests.fakeapi import CANARY_KEY, FakeAnthropic, Fault, count_request, make_request, rough_estimate
from tests.fakeclock import FakeClock

pytest_plugins = ["tests.conftest_api"]

MODEL = "claude-sonnet-4-6"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
WEATHER = {"name": "get_weather", "description": "Weather for a city.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


@dataclass
class Info:
    id: str = MODEL
    context_window: int = 200_000
    tokenizer: str = "v3"


def prompt(question: str = "Summarise the quarterly filing.", system: str = "You are a careful analyst.") -> Any:
    return copy.deepcopy(make_request(
        MODEL,
        system=system,
        messages=[
            {"role": "user", "content": question},
            {"role": "assistant", "content": "Revenue grew 4%."},
            {"role": "user", "content": [{"type": "text", "text": "Compare with last quarter."},
                                         {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                                      "data": PNG}}]},
        ],
        tools=[WEATHER],
    ))


@pytest.fixture
def cache(tmp_path: Path) -> CountCache:
    return CountCache(tmp_path / "cache" / FILE_NAME)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def counter_for(fake: FakeAnthropic, cache: CountCache, clock: FakeClock | None = None, **kw: Any) -> ApiCounter:
    settings = ApiSettings(api_key=CANARY_KEY, base_url=fake.url, rpm=10_000, **kw)
    if clock is None:
        return ApiCounter(settings, cache)
    return ApiCounter(settings, cache, RateLimiter(settings.rpm, clock=clock, sleep=clock.sleep), clock=clock)


async def count(counter: ApiCounter, request: Any, estimate: Counts | None = None) -> Counts:
    return await asyncio.wait_for(counter.count(request, Info(), 0, estimate or rough_estimate(request)), timeout=20)


def leaks(fake: FakeAnthropic, cache: CountCache, counts: Counts, caplog: pytest.LogCaptureFixture) -> list[str]:
    where = []
    if counts.error and CANARY_KEY in counts.error:
        where.append("Counts.error")
    if CANARY_KEY in caplog.text:
        where.append("logs")
    for f in Path(cache.location).parent.glob(f"{FILE_NAME}*"):
        if CANARY_KEY.encode() in f.read_bytes():
            where.append(f.name)
    return where


async def test_total_is_the_endpoints_count_and_marked_exact(fake_api: FakeAnthropic, cache: CountCache) -> None:
    counter = counter_for(fake_api, cache)
    request = prompt()
    early: list[tuple[Counts, int]] = []
    estimate = rough_estimate(request)
    counts = await asyncio.wait_for(
        counter.count(request, Info(), 0, estimate, on_update=lambda c: early.append((c, fake_api.requests))), 20)
    # The exact total is published as soon as it arrives, before the per-part requests.
    [(first, served_then)] = early
    assert (first.total, first.exact, served_then) == (count_request(request.body), True, 1)
    assert first.parts == estimate.parts
    assert counts.total == count_request(request.body)
    assert counts.exact and counts.source == "api" and counts.error is None
    assert all(pc.exact for pid, pc in counts.parts.items() if pid != "tools[0]")
    top = sum(counts.parts[p.id].tokens for p in request.top_parts)
    assert 0 <= counts.total - top < 40  # only framing is left for the overhead
    assert counts.parts["messages[2].content[1]"].tokens == 750  # the fake's image price, not our estimate
    assert counts.requests == fake_api.requests
    assert counter.state == "exact"
    assert {h["authorization"] for h in fake_api.headers} == {f"Bearer {CANARY_KEY}"}
    assert fake_api.bodies[0] == request.body  # the total goes first, exactly as built
    await counter.aclose()


async def test_counting_again_costs_nothing_even_after_a_restart(fake_api: FakeAnthropic, cache: CountCache) -> None:
    counter = counter_for(fake_api, cache)
    first = await count(counter, prompt())
    served = fake_api.requests
    again = await count(counter, prompt())
    assert fake_api.requests == served
    assert (again.requests, again.source, again.total, again.exact) == (0, "cache", first.total, True)
    assert again.cache_hits == served
    assert again.parts == first.parts
    reopened = counter_for(fake_api, CountCache(Path(cache.location)))
    assert (await count(reopened, prompt())).requests == 0
    assert fake_api.requests == served


@pytest.mark.parametrize("edit", ["question", "system", "block", "tool"])
async def test_editing_one_part_costs_at_most_two_requests(fake_api: FakeAnthropic, cache: CountCache,
                                                           edit: str) -> None:
    counter = counter_for(fake_api, cache)
    await count(counter, prompt())
    if edit == "question":
        edited = prompt(question="Summarise the annual filing.")
    elif edit == "system":
        edited = prompt(system="You are a bold analyst.")
        edited.part("system").fragment = edited.body["system"]
    elif edit == "block":
        edited = prompt()
        edited.body["messages"][2]["content"][0]["text"] = "Compare with last year."
    else:
        edited = prompt()
        edited.body["tools"][0]["description"] = "Current weather for a city."
    fake_api.reset_counters()
    counts = await count(counter, edited)
    assert 1 <= fake_api.requests <= 2
    assert counts.total == count_request(edited.body) and counts.exact


async def test_url_image_and_server_tool_are_never_sent(fake_api: FakeAnthropic, cache: CountCache,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url_image = {"type": "image", "source": {"type": "url", "url": "https://example.com/chart.png"}}
    request = make_request(MODEL, messages=[{"role": "user", "content": [url_image, {"type": "text", "text": "Hi"}]}],
                           tools=[WEATHER, {"type": "web_search_20250305", "name": "web_search"}])
    estimate = rough_estimate(request)
    counts = await count(counter_for(fake_api, cache), request, estimate)
    sent = json.dumps(fake_api.bodies)
    assert "example.com" not in sent and "web_search" not in sent
    assert fake_api.requests > 0
    stripped = copy.deepcopy(request.body)
    stripped["messages"][0]["content"].pop(0)
    stripped["tools"].pop(1)
    guessed = estimate.parts["messages[0].content[0]"].tokens + estimate.parts["tools[1]"].tokens
    expected = count_request(stripped) + guessed
    assert counts.total == expected and not counts.exact
    assert counts.parts["messages[0].content[0]"] == estimate.parts["messages[0].content[0]"]
    assert counts.parts["messages[0].content[1]"].exact
    assert counts.error and "messages[0].content[0]" in counts.error and "tools[1]" in counts.error


FAULTS = {
    "401": Fault(status=401, message=f"invalid x-api-key {CANARY_KEY}"),
    "403": Fault(status=403),
    "413": Fault(status=413),
    "429": Fault(status=429, headers={"retry-after": "20"}),
    "429-ms": Fault(status=429, headers={"retry-after-ms": "1500"}),
    "500": Fault(status=500),
    "529": Fault(status=529, message="Overloaded"),
    "timeout": Fault(delay=5.0),
    "dropped": Fault(drop=True),
    "malformed": Fault(malformed=True),
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_faults_give_the_estimate_and_never_leak_the_key(name: str, fake_api: FakeAnthropic, cache: CountCache,
                                                               clock: FakeClock,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    counter = counter_for(fake_api, cache, clock, timeout=0.3)
    request = prompt()
    estimate = rough_estimate(request)
    fake_api.script(FAULTS[name])
    counts = await count(counter, request, estimate)
    assert counts.total == estimate.total and not counts.exact
    assert counts.error
    assert fake_api.requests == 1 or name == "413"  # a failed total stops the round; a 413 does not
    assert leaks(fake_api, cache, counts, caplog) == []
    assert counter.stats.errors == 1
    if name in ("401", "403"):
        assert counter.disabled_reason and counter.state == "error"
        assert counter.disabled_reason in counts.error
        clock.now += 3600
        later = await count(counter, request, estimate)
        assert fake_api.requests == 1 and later.error == counter.disabled_reason
    elif name.startswith("429"):
        wait = 20.0 if name == "429" else 1.5
        assert counts.error.startswith("rate-limited") and counter.state == "rate-limited"
        assert counter.limiter.paused_for() == pytest.approx(wait)
        assert (await count(counter, request, estimate)).requests == 0
        clock.now += wait + 0.01
        recovered = await count(counter, request, estimate)
        assert recovered.exact and recovered.total == count_request(request.body)
    elif name == "413":
        assert counts.error.startswith("request: 413") and counter.disabled_reason is None
    else:
        assert counter.state == "error" and "retrying in 1s" in counts.error
        assert (await count(counter, request, estimate)).requests == 0  # backing off
        clock.now += 1.01
        recovered = await count(counter, request, estimate)
        assert recovered.exact and counter.state == "exact"


async def test_400_on_a_part_names_it_and_keeps_the_counter_on(fake_api: FakeAnthropic, cache: CountCache) -> None:
    request = make_request(MODEL, messages=[{"role": "user", "content": "Hello"},
                                            {"role": "assistant", "content": [{"type": "text", "text": ""}]},
                                            {"role": "user", "content": "Go on"}])
    estimate = rough_estimate(request)
    counter = counter_for(fake_api, cache)
    counts = await count(counter, request, estimate)
    assert counter.disabled_reason is None and counter.state == "exact"
    assert not counts.exact and counts.total == estimate.total
    assert counts.error and "messages[1].content[0]: 400 invalid_request_error" in counts.error
    assert "non-empty" in counts.error
    assert counts.parts["messages[0]"].exact and counts.parts["messages[2]"].exact
    assert not counts.parts["messages[1]"].exact


async def test_minimal_requests_suit_models_without_prefill(fake_api: FakeAnthropic, cache: CountCache) -> None:
    fake_api.reject_prefill = True
    request = make_request(MODEL, messages=[
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "Use the tool.", "signature": "sig"},
                                          {"type": "tool_use", "id": "toolu_9", "name": "get_weather",
                                           "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "18 C"}]},
    ], tools=[WEATHER])
    counts = await count(counter_for(fake_api, cache), request)
    assert counts.error is None and counts.exact
    assert all(pc.exact for pid, pc in counts.parts.items() if pid != "tools[0]")
    assert counts.parts["messages[2].content[0]"].tokens == 1  # "18 C" beyond a bare tool_result


async def test_cancelling_aborts_a_slow_request(fake_api: FakeAnthropic, cache: CountCache) -> None:
    counter = counter_for(fake_api, cache)
    fake_api.script(Fault(delay=10.0))
    task = asyncio.create_task(counter.count(prompt(), Info(), 0, rough_estimate(prompt())))
    for _ in range(200):
        if fake_api.requests:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=2)
    assert counter.stats.errors == 0


async def test_exact_counts_calibrate_the_estimator(fake_api: FakeAnthropic, cache: CountCache) -> None:
    counter = counter_for(fake_api, cache)
    request = prompt()
    exact = count_request(request.body)
    estimate = rough_estimate(request)
    estimate.total = round(exact / 1.25)  # the estimator undercounts by a fifth
    assert cache.correction(MODEL) == 1.0
    await count(counter, request, estimate)
    assert cache.correction(MODEL) == pytest.approx(exact / estimate.total)
    assert cache.correction(MODEL) == pytest.approx(1.25, abs=0.01)
    # The next estimate, corrected, lands on the exact number; the report shows the old error.
    assert round(estimate.total * cache.correction(MODEL)) == exact
    [(model, n, err)] = cache.calibration_report()
    assert (model, n) == (MODEL, 1) and err == pytest.approx(abs(estimate.total - exact) / exact * 100)


async def test_modes_and_settings(monkeypatch: pytest.MonkeyPatch, cache: CountCache) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    assert make_counter(settings_from_env("auto", 50), cache) is None
    assert make_counter(settings_from_env("offline", 50), cache) is None
    keyless = make_counter(settings_from_env("api", 50), cache)
    assert keyless is not None and keyless.state == "no-key"
    request = prompt()
    counts = await keyless.count(request, Info(), 0, rough_estimate(request))
    assert counts.total == rough_estimate(request).total and "ANTHROPIC_API_KEY" in (counts.error or "")
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY_KEY)
    settings = settings_from_env("auto", 42)
    assert (settings.api_key, settings.base_url, settings.rpm, settings.max_retries) == (
        CANARY_KEY, "http://127.0.0.1:9", 42, 0)
    # the user config's base_url (the argument) is used only when ANTHROPIC_BASE_URL is not set
    assert settings_from_env("auto", 42, base_url="http://config").base_url == "http://127.0.0.1:9"
    monkeypatch.delenv("ANTHROPIC_BASE_URL")
    assert settings_from_env("auto", 42, base_url="http://config").base_url == "http://config"
    assert CANARY_KEY not in repr(settings)
    counter = make_counter(settings, cache)
    assert counter is not None and counter.state == "exact"
    await counter.aclose()


async def test_count_total_makes_one_request_and_leaves_parts_estimated(fake_api: FakeAnthropic,
                                                                        cache: CountCache) -> None:
    counter = counter_for(fake_api, cache)
    request = prompt()
    estimate = rough_estimate(request)
    counts = await asyncio.wait_for(counter.count_total(request, Info(), 2, estimate), 20)
    assert fake_api.requests == 1
    assert counts.total == count_request(request.body) and counts.exact
    assert counts.parts == estimate.parts
