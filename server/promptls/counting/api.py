"""Exact counts from Anthropic's count_tokens endpoint, without making anyone wait or burning quota.

`ApiCounter.count` answers from the cache when it can, sends the total first and then the per-part
requests of attribution.py at a lower priority, and never raises for API trouble: it returns the
estimate it was given, with `Counts.error` saying why. We own retrying (the SDK's retries are off):
429 pauses the limiter for the server's retry-after, 5xx/529/timeouts/dropped connections back off
exponentially, 401/403 switch the counter off for the session, and 400/413 are reported on the
part whose request failed. The API key is kept out of every message we produce, and out of every log
record any library makes (`scrub.install_log_scrubbing`, which every counter with a key calls).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import anthropic

from ..model import CountRequest, Counts, CountState, Mode
from .attribution import Body, attribute, plan_request
from .cache import MAX_TOKENS, CountCache, request_key
from .endpoint import endpoint_id, resolve_base_url
from .ratelimit import RateLimiter
from .scrub import KEY_PATTERN, install_log_scrubbing

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RPM = 50
DEFAULT_RETRY_AFTER_S = 10.0
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0


class _ModelInfo(Protocol):
    @property
    def id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """How to reach count_tokens. `api_key` is excluded from repr so it never lands in a log."""

    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    max_retries: int = 0
    rpm: int = DEFAULT_RPM
    mode: Mode = "auto"


def settings_from_env(mode: Mode = "auto", rpm: int = DEFAULT_RPM, base_url: str | None = None,
                      timeout: float = DEFAULT_TIMEOUT_S) -> ApiSettings:
    """Key from `ANTHROPIC_API_KEY`; base URL from `ANTHROPIC_BASE_URL`, else the argument (the user
    config's `base_url`: never a repository's, see config.USER_ONLY)."""
    key = (os.environ.get("ANTHROPIC_API_KEY") or "").strip() or None
    url = resolve_base_url(base_url)
    return ApiSettings(api_key=key, base_url=url, timeout=timeout, rpm=rpm, mode=mode)


@dataclass(slots=True)
class CounterStats:
    requests: int = 0
    cache_hits: int = 0
    errors: int = 0


class _Stop(Exception):
    """Raised inside a run when no further request should be sent (auth, rate limit, outage)."""


@dataclass(slots=True)
class _Run:
    """Bookkeeping for one `count` call."""

    answers: dict[str, int] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)
    bad: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    cache_hits: int = 0
    stopped: str | None = None


class ApiCounter:
    """Exact counts for CountRequests; one per process, shared by every document."""

    def __init__(self, settings: ApiSettings, cache: CountCache, limiter: RateLimiter | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 client: anthropic.AsyncAnthropic | None = None) -> None:
        self.settings = settings
        self.cache = cache
        self.endpoint = endpoint_id(settings.base_url)  # cached counts, limits and calibration are bound to it
        self.notes: list[str] = []  # things the user should know that are not errors (a damaged side file)
        self.limiter = limiter or RateLimiter(settings.rpm, clock=clock)
        self.stats = CounterStats()
        self.disabled_reason: str | None = None
        self.last_error: str | None = None
        self._clock = clock
        self._failures = 0
        self._retry_at = 0.0
        self._rate_limited_until = 0.0
        self._no_key = not settings.api_key
        self._client = client
        if self._no_key:
            self.disabled_reason = "no API key: set ANTHROPIC_API_KEY for exact counts (showing estimates)"
        else:
            install_log_scrubbing(settings.api_key)
        if not self._no_key and client is None:
            self._client = anthropic.AsyncAnthropic(api_key=settings.api_key, base_url=settings.base_url,
                                                    max_retries=settings.max_retries, timeout=settings.timeout)

    # -- status --------------------------------------------------------------------------------

    @property
    def state(self) -> CountState:
        """exact | rate-limited | no-key | error (the LSP's `promptls/fileStatus` vocabulary)."""
        if self._no_key:
            return CountState.NO_KEY
        if self.disabled_reason:
            return CountState.ERROR
        now = self._clock()
        if now < self._rate_limited_until:
            return CountState.RATE_LIMITED
        if now < self._retry_at:
            return CountState.ERROR
        return CountState.EXACT

    def scrub(self, text: str) -> str:
        """`text` with the API key (and anything shaped like one) replaced."""
        key = self.settings.api_key
        if key:
            text = text.replace(key, "[redacted]")
        return KEY_PATTERN.sub("[redacted]", text)

    def correction(self, model: str) -> float:
        """The estimator's correction for `model` as learned from this endpoint."""
        return self.cache.correction(model, endpoint=self.endpoint)

    def _key(self, model: str, body: Body) -> str:
        return request_key(model, body, self.endpoint)

    async def model_limits(self) -> dict[str, dict[str, int]]:
        """Context windows and max output per model from this endpoint's Models API (cached a day); {} on
        any trouble."""
        if self._no_key or self.disabled_reason or self._client is None:
            return {}
        from .models import model_limits

        limits, note = await model_limits(self._client, self.endpoint)
        if note:
            log.warning("%s", note)
            self.notes.append(note)
        return limits

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    # -- counting ------------------------------------------------------------------------------

    async def count(self, request: CountRequest, info: _ModelInfo | None, priority: int, estimate: Counts,
                    on_update: Callable[[Counts], None] | None = None) -> Counts:
        """Exact counts for `request`; `estimate` is returned (with `error`) where the API can't help.

        The estimate should come from the estimator with `cache.correction(request.model)` applied,
        so calibration learns the ratio against the raw estimate.
        """
        return await self._count(request, priority, estimate, on_update, with_parts=True)

    async def count_total(self, request: CountRequest, info: _ModelInfo | None, priority: int,
                          estimate: Counts) -> Counts:
        """Only the exact total (one request at most); parts stay as estimated. For testData rows."""
        return await self._count(request, priority, estimate, None, with_parts=False)

    async def _count(self, request: CountRequest, priority: int, estimate: Counts,
                     on_update: Callable[[Counts], None] | None, *, with_parts: bool) -> Counts:
        if self.disabled_reason:
            return _fallback(estimate, self.disabled_reason)
        plan = plan_request(request)
        run = _Run()
        bodies = plan.bodies() if with_parts else plan.bodies()[:1]
        total_key = self._key(request.model, plan.total)
        await self._fetch(run, request.model, bodies[0][1], priority)
        total = run.answers.get(total_key)
        extra = sum(estimate.parts[p].tokens for p in plan.estimated
                    if p in estimate.parts and request.part(p).kind in ("block", "attachment", "tool"))
        if total is not None and on_update is not None:
            self._notify(on_update, Counts(total + extra, not plan.estimated, dict(estimate.parts),
                                           "api" if run.requests else "cache", run.requests, run.cache_hits))
        for _label, body in bodies[1:]:
            await self._fetch(run, request.model, body, priority + 1)
        if with_parts:
            parts, _missing = attribute(plan, request, estimate,
                                        lambda b: run.answers.get(self._key(request.model, b)))
        else:
            parts = dict(estimate.parts)
        exact_total = total is not None
        counts = Counts(
            total=total + extra if total is not None else estimate.total,
            exact=exact_total and not plan.estimated,
            parts=parts,
            source=("api" if run.requests else "cache") if run.answers else "estimate",
            requests=run.requests,
            cache_hits=run.cache_hits,
            error=self._error_text(run, bodies, request.model, plan.notes),
        )
        if total is not None and total_key in run.fresh and not plan.estimated and estimate.total > 0:
            correction = self.correction(request.model)
            self.cache.record_calibration(request.model, total, round(estimate.total / correction),
                                          estimate.total, endpoint=self.endpoint)
        return counts

    def _notify(self, on_update: Callable[[Counts], None], counts: Counts) -> None:
        try:
            on_update(counts)
        except Exception:
            log.exception("on_update callback failed")

    def _error_text(self, run: _Run, bodies: list[tuple[str, Body]], model: str, notes: list[str]) -> str | None:
        messages: list[str] = []
        if run.stopped:
            messages.append(run.stopped)
        labels = {self._key(model, b): label for label, b in bodies}
        for key, msg in run.bad.items():
            messages.append(f"{labels.get(key, 'request')}: {msg}")
        messages.extend(notes)
        return self.scrub("; ".join(messages)) if messages else None

    def _blocked(self) -> str | None:
        if self.disabled_reason:
            return self.disabled_reason
        now = self._clock()
        if now < self._rate_limited_until:
            return f"rate-limited: showing estimates, retrying in {math.ceil(self._rate_limited_until - now)}s"
        if now < self._retry_at:
            left = math.ceil(self._retry_at - now)
            return f"{self.last_error or 'API unavailable'}; showing estimates, retrying in {left}s"
        return None

    async def _fetch(self, run: _Run, model: str, body: Body, priority: int) -> None:
        key = self._key(model, body)
        if key in run.answers or key in run.bad:
            return
        cached = self.cache.get(key)
        if cached is not None:
            run.answers[key] = cached
            run.cache_hits += 1
            self.stats.cache_hits += 1
            return
        if run.stopped:
            return
        if (why := self._blocked()) is not None:
            run.stopped = why
            return
        await self.limiter.acquire(priority)
        if (why := self._blocked()) is not None:
            run.stopped = why
            return
        run.requests += 1
        self.stats.requests += 1
        send = asyncio.ensure_future(self._send(body))
        try:
            # A newer edit may cancel this run; the request is already out, and its answer (a 429's
            # retry-after, a 5xx back-off) must still reach the limiter, so it is not cancelled with us.
            tokens = await asyncio.shield(send)
        except asyncio.CancelledError:
            send.add_done_callback(_consume)
            raise
        except _Stop as stop:
            run.stopped = str(stop)
            return
        except _BadRequest as bad:
            run.bad[key] = str(bad)
            return
        self._failures = 0
        self.last_error = None
        run.answers[key] = tokens
        run.fresh.add(key)
        self.cache.put(key, tokens)

    async def _send(self, body: Body) -> int:
        assert self._client is not None
        try:
            result = await self._client.messages.count_tokens(**body)
            tokens = getattr(result, "input_tokens", None)
            if not isinstance(tokens, int) or isinstance(tokens, bool) or not 0 <= tokens <= MAX_TOKENS:
                raise _Malformed("count_tokens answered without a valid input_tokens")
            return tokens
        except asyncio.CancelledError:
            raise
        except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
            self.stats.errors += 1
            self.disabled_reason = self.scrub(
                f"Anthropic API refused the key ({_describe(exc)}): exact counts are off for this session; "
                "showing estimates. Check ANTHROPIC_API_KEY and restart.")
            log.warning("%s", self.disabled_reason)
            raise _Stop(self.disabled_reason) from None
        except anthropic.RateLimitError as exc:
            self.stats.errors += 1
            wait = _retry_after(exc.response.headers)
            self._rate_limited_until = self._clock() + wait
            self.limiter.pause_until(self._rate_limited_until)
            log.info("count_tokens rate-limited; pausing %.1fs", wait)
            raise _Stop(f"rate-limited: showing estimates, retrying in {math.ceil(wait)}s") from None
        except anthropic.APIStatusError as exc:
            self.stats.errors += 1
            if exc.status_code >= 500 or exc.status_code == 408:
                raise _Stop(self._back_off(_describe(exc))) from None
            message = self.scrub(_describe(exc))
            log.info("count_tokens rejected a request: %s", message)
            raise _BadRequest(message) from None
        except anthropic.APITimeoutError:
            self.stats.errors += 1
            raise _Stop(self._back_off(f"count_tokens timed out after {self.settings.timeout:g}s")) from None
        except anthropic.APIConnectionError as exc:
            self.stats.errors += 1
            raise _Stop(self._back_off(f"cannot reach the Anthropic API ({exc.message})")) from None
        except Exception as exc:
            self.stats.errors += 1
            raise _Stop(self._back_off(f"unexpected answer from the Anthropic API ({type(exc).__name__})")) from None

    def _back_off(self, why: str) -> str:
        self._failures += 1
        delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (self._failures - 1))
        self._retry_at = self._clock() + delay
        self.last_error = self.scrub(why)
        log.info("%s; backing off %.0fs", self.last_error, delay)
        return f"{self.last_error}; showing estimates, retrying in {math.ceil(delay)}s"


class _BadRequest(Exception):
    """The API rejected this particular body (400/404/413/422...)."""


class _Malformed(Exception):
    pass


def _describe(exc: anthropic.APIStatusError) -> str:
    kind = exc.type or getattr(exc, "error_code", None) or "error"
    msg = exc.api_message or exc.message
    return f"{exc.status_code} {kind}: {msg}"


def _retry_after(headers: Any) -> float:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    return DEFAULT_RETRY_AFTER_S


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of a send nobody awaits any more (its effects are already recorded)."""
    if not task.cancelled():
        task.exception()


def _fallback(estimate: Counts, why: str) -> Counts:
    return Counts(estimate.total, False, dict(estimate.parts), "estimate", 0, 0, why)


def make_counter(settings: ApiSettings, cache: CountCache, limiter: RateLimiter | None = None) -> ApiCounter | None:
    """The counter for `settings`, or None when counting is offline (mode offline, or auto without a key)."""
    if settings.mode == "offline" or (settings.mode == "auto" and not settings.api_key):
        return None
    return ApiCounter(settings, cache, limiter)
