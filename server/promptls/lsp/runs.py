"""One document's run: the offline estimate (published at once), then the exact count.

An edit schedules a debounced run for its URI. The synchronous steps of `pipeline` go through the
runner (engine thread); the API counter is awaited on the event loop. Every result is checked
against the document version it was computed for before it is stored, so a stale one is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ..config import Config
from ..model import CountState, FileReport
from . import heap
from .counter import Counter, Counters
from .positions import split_lines
from .runner import priority_of
from .state import DocResult, Stamp
from .workspace_index import WorkspaceIndex

if TYPE_CHECKING:
    from ..engine import Analysis
    from ..pipeline import Estimated
    from .server import PromptServer
    from .settings import Settings

log = logging.getLogger(__name__)

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0


class Runs:
    def __init__(self, ls: PromptServer) -> None:
        self.ls = ls
        self._api_warned = False
        self._limits_asked = False

    def schedule(self, uri: str, delay_s: float | None = None) -> None:
        if not self.ls.is_prompt(uri):
            return  # other YAML files the editor attached us to are none of our business
        if delay_s is None:
            path = self.ls.path_of(uri)
            delay_s = self.ls.settings.config_for(path).debounce_ms / 1000 if path else 0.3
        self.ls.scheduler.debounce(uri, delay_s, lambda: self.count(uri))

    def recount_all(self) -> None:
        """Every open prompt file again, then the workspace index (settings or windows changed)."""
        self.ls.settings.invalidate()
        for uri in list(self.ls.workspace.text_documents):
            if self.ls.is_prompt(uri):
                self.schedule(uri, 0)
        self.ls.scheduler.spawn(self.ls.watch.index_workspace(), "promptls:index")

    async def count(self, uri: str, priority: int | None = None) -> None:
        """Estimate (published at once), then the exact count when a counter is available."""
        result = await self.estimate(uri)
        if result is not None:
            if priority is None:
                priority = priority_of(result.version)
            await self.exact(result, priority)

    async def estimate(self, uri: str) -> DocResult | None:
        """The offline result of `uri` (its open buffer, else the file on disk), stored and published."""
        path = self.ls.path_of(uri)
        if path is None:
            return None
        if not self.ls.is_open(uri):
            return await self._estimate(uri, path, None, None)
        doc = self.ls.workspace.get_text_document(uri)
        with self.ls.runner.foreground():
            return await self._estimate(uri, path, doc.source, doc.version)

    async def _estimate(self, uri: str, path: Path, text: str | None, version: int | None) -> DocResult | None:
        ls = self.ls
        queue = priority_of(version)  # a file nobody has open waits
        ls.docs.state(uri).runs += 1
        offline_only = ls.settings.offline_only
        await ls.runner.import_engine(not offline_only)
        config, analyzed = await ls.runner.call(_analyze, ls.settings, path, text, priority=queue)
        counter, idle = await self.counter_for(config)
        if isinstance(analyzed, FileReport):
            from ..pipeline import Estimated

            estimated, attachments, stamps = Estimated(analyzed), frozenset[Path](), {}
        else:
            if analyzed.request is not None:
                await ls.runner.wait_warm()  # ctok's vocabulary is built once, by the warm-up thread
            if ls.stale(uri, version):
                return None
            estimated, attachments, stamps = await ls.runner.call(
                _estimate, analyzed, config, ls.counters, counter, priority=queue)
        if ls.stale(uri, version):
            return None
        if version is None and not ls.is_prompt(uri):
            return None  # the root's `include` changed while the file was read: no longer ours
        ls.stats.estimates += 1
        state = idle if counter is None else (CountState.COUNTING if estimated.countable else CountState.ESTIMATE)
        result = DocResult(uri=uri, path=path, version=version, lines=split_lines(estimated.text),
                           report=estimated.report, config=config, state=state, analysis=estimated.analysis,
                           attachments=attachments, stamps=stamps, estimated=estimated, source=text)
        ls.publisher.store(result)
        return result

    async def counter_for(self, config: Config) -> tuple[Counter | None, CountState]:
        """The counter (made in the engine thread the first time: SDK import, SQLite open); on the
        first one, the Models API's windows are asked for once per session."""
        counters = self.ls.counters
        offline_only = self.ls.settings.offline_only
        if counters.made(config, offline_only):
            counter, idle = counters.for_config(config, offline_only)
        else:
            counter, idle = await self.ls.runner.call(counters.for_config, config, offline_only)
        if counter is not None and not self._limits_asked:
            self._limits_asked = True
            self.ls.scheduler.spawn(self.refresh_model_limits(counter), "promptls:model-limits")
        return counter, idle

    async def exact(self, result: DocResult, priority: int) -> None:
        from .. import pipeline

        counter, _ = self.ls.counters.for_config(result.config, self.ls.settings.offline_only)
        estimated = result.estimated
        if counter is None or estimated is None or not estimated.countable:
            return
        exact = await pipeline.count_exact(estimated, counter, priority)
        if exact is None or self.ls.stale(result.uri, result.version):
            return
        report = await self.ls.runner.call(pipeline.exact_report, estimated, exact, result.config,
                                           priority=priority_of(result.version))
        if self.ls.stale(result.uri, result.version):
            return
        counts = exact.counts
        self.ls.stats.exact += 1
        self.warn_once(counts.exact, counts.error, result.version is not None)
        state = (CountState.EXACT if counts.exact else CountState.RATE_LIMITED
                 if counter.state == CountState.RATE_LIMITED else CountState.ERROR if counts.error
                 else CountState.ESTIMATE)
        self.ls.publisher.store(replace(result, report=report, state=state, api_error=counts.error))
        self.retry_if_transient(result, counter, counts.exact)  # last: it replaces this run's task

    def warn_once(self, exact: bool, error: str | None, open_file: bool) -> None:
        """One message per outage, not one per file or per keystroke."""
        if exact:
            self._api_warned = False
        elif error and not self._api_warned and open_file:
            self._api_warned = True
            self.ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"promptls: exact counts unavailable ({error}); showing estimates"))

    def retry_if_transient(self, result: DocResult, counter: Counter, exact: bool) -> None:
        """An open document whose exact count failed for a passing reason (429, outage, timeout) is
        counted again once the counter may send, so exact numbers come back without another edit."""
        state = self.ls.docs.get(result.uri)
        if state is None:
            return
        if exact or result.version is None:
            state.retry_s = None
            return
        if counter.disabled_reason or counter.state not in (CountState.RATE_LIMITED, CountState.ERROR):
            return
        state.retry_s = min((state.retry_s or RETRY_FIRST_S / 2) * 2, RETRY_MAX_S)
        self.schedule(result.uri, max(counter.limiter.paused_for() + 0.05, state.retry_s))

    def edited(self, uri: str) -> None:
        """An edit is a fresh attempt: retries start short again."""
        if (state := self.ls.docs.get(uri)) is not None:
            state.retry_s = None
        self.schedule(uri)

    async def refresh_model_limits(self, counter: Counter) -> None:
        """Context windows from the Models API (cached a day, asked once per session); when they
        change anything, every file is checked again against them."""
        limits = await counter.model_limits()
        if limits and limits != self.ls.settings.api_limits:
            self.ls.settings.api_limits = limits
            self.recount_all()


def _analyze(settings: Settings, path: Path, text: str | None) -> tuple[Config, Analysis | FileReport]:
    """Engine thread: the file's config (reads promptls.toml when not cached) and its analysis."""
    from ..pipeline import analyze

    config = settings.config_for(path)
    return config, analyze(path, config, text)


def _estimate(analysis: Analysis, config: Config, counters: Counters, counter: Counter | None
              ) -> tuple[Estimated, frozenset[Path], dict[Path, Stamp]]:
    """Engine thread: the offline report (the correction is an SQLite read), the files it read and their stat."""
    from ..pipeline import estimate

    estimated = estimate(analysis, config, counter if counter is not None else counters.cache)  # per endpoint
    attachments = WorkspaceIndex.attachment_paths(analysis)
    stamps = WorkspaceIndex.stamps([analysis.path, *attachments])
    heap.settle()  # freezes what survived a full collection, if one ran (see heap.py)
    return estimated, attachments, stamps
