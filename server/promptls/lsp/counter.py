"""The API counter(s) the server counts with: one per distinct (mode, rpm, base_url), one cache.

Nothing here is created when the workspace is untrusted or the mode is offline, so no request can
leave the machine; a missing key is a state (`no-key`), not an error.
"""

from __future__ import annotations

import logging
from typing import Any

from ..config import Config
from .state import NO_KEY, OFFLINE

log = logging.getLogger(__name__)


class Counters:
    def __init__(self) -> None:
        self._counters: dict[tuple, Any] = {}
        self._cache: Any = None
        self._cache_failed = False

    @property
    def cache(self) -> Any:
        """The shared SQLite count cache (also holds the estimator's per-model corrections)."""
        if self._cache is None and not self._cache_failed:
            try:
                from ..counting.cache import CountCache

                self._cache = CountCache()
            except Exception:
                self._cache_failed = True
                log.exception("the count cache cannot be opened; counting without it")
        return self._cache

    def for_config(self, config: Config, offline_only: bool) -> tuple[Any | None, str]:
        """(counter or None, the state to show when there is none). The first call for a config
        imports the SDK: make it from the engine thread, not the event loop."""
        if offline_only or config.mode == "offline":
            return None, OFFLINE
        key = (config.mode, config.requests_per_minute, config.base_url)
        if key not in self._counters:
            self._counters[key] = self._make(config)
        counter = self._counters[key]
        return counter, (NO_KEY if counter is None else "")

    def correction(self, counter: Any, model_id: str | None) -> float:
        if model_id is None:
            return 1.0
        try:
            if counter is not None:  # calibration is per endpoint: the counter knows which
                return float(counter.correction(model_id))
            if self.cache is not None:
                return float(self.cache.correction(model_id))
        except Exception:
            log.exception("reading the estimate correction failed")
        return 1.0

    async def aclose(self) -> None:
        for counter in self._counters.values():
            if counter is not None:
                try:
                    await counter.aclose()
                except Exception:
                    log.exception("closing the API client failed")
        self._counters.clear()

    def _make(self, config: Config) -> Any | None:
        try:
            from ..pipeline import open_counter

            return open_counter(config, self.cache)[0]
        except Exception:
            log.exception("the API counter cannot be created; counting offline")
            return None
