"""The API counter(s) the server counts with: one per distinct (mode, rpm, base_url), one cache.

Nothing here is created when the workspace is untrusted or the mode is offline, so no request can
leave the machine; a missing key is a state (`no-key`), not an error. Counters are made through
`pipeline.open_counter`, the same constructor the CLI uses.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..config import Config
from ..model import CountState

if TYPE_CHECKING:
    from ..counting.api import ApiCounter
    from ..counting.cache import CountCache

    Counter = ApiCounter
else:
    Counter = object

log = logging.getLogger(__name__)
CounterKey = tuple[str, int, str | None]


class Counters:
    def __init__(self) -> None:
        self._counters: dict[CounterKey, tuple[ApiCounter | None, CountState]] = {}
        self._cache: CountCache | None = None
        self._cache_failed = False

    @property
    def cache(self) -> CountCache | None:
        """The shared SQLite count cache (also holds the estimator's per-model corrections).
        Opened on first use: from the engine thread (`Runs.counter_for`)."""
        if self._cache is None and not self._cache_failed:
            try:
                from ..counting.cache import CountCache

                self._cache = CountCache()
            except Exception:
                self._cache_failed = True
                log.exception("the count cache cannot be opened; counting without it")
        return self._cache

    @staticmethod
    def _key(config: Config) -> CounterKey:
        return (config.mode, config.requests_per_minute, config.base_url)

    def made(self, config: Config, offline_only: bool) -> bool:
        """Whether `for_config` can answer without importing or opening anything."""
        return offline_only or config.mode == "offline" or self._key(config) in self._counters

    def for_config(self, config: Config, offline_only: bool) -> tuple[ApiCounter | None, CountState]:
        """(counter or None, the state to show when there is none). The first call for a config
        imports the SDK and opens the cache: make it from the engine thread, not the event loop."""
        if offline_only or config.mode == "offline":
            return None, CountState.OFFLINE
        key = self._key(config)
        if key not in self._counters:
            self._counters[key] = self._make(config)
        return self._counters[key]

    async def aclose(self) -> None:
        for counter, _ in self._counters.values():
            if counter is not None:
                try:
                    await counter.aclose()
                except Exception:
                    log.exception("closing the API client failed")
        self._counters.clear()

    def _make(self, config: Config) -> tuple[ApiCounter | None, CountState]:
        try:
            from ..pipeline import open_counter

            return open_counter(config, self.cache)
        except Exception:
            log.exception("the API counter cannot be created; counting offline")
            return None, CountState.OFFLINE
