"""The workspace around the open files: indexing every prompt file, and noticing changes on disk.

Changes arrive as `workspace/didChangeWatchedFiles` when the client can watch files; otherwise
(Neovim on Linux) the files we depend on are re-stat'ed every couple of seconds in the engine
thread. A changed config re-checks everything; a changed attachment re-counts the files using it;
a deleted prompt file is forgotten whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls import uris

from .. import offline_pool
from ..config import Config
from ..model import CountState
from .runner import BACKGROUND
from .settings import CONFIG_FILES
from .state import DocResult
from .workspace_index import Found, Offline, estimate_offline

if TYPE_CHECKING:
    from .server import PromptServer

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 2.0


def uri_of(path: Path) -> str:
    return uris.from_fs_path(str(path)) or path.as_uri()


class Watch:
    def __init__(self, ls: PromptServer) -> None:
        self.ls = ls
        self.indexing = False
        self._index_runs = 0

    async def index_workspace(self) -> None:
        """Estimate every prompt file of the workspace (with progress), then count them exactly."""
        ls = self.ls
        folders = ls.folders()
        if not folders:
            return
        found = await ls.runner.call(ls.index.discover, folders, ls.settings.config_for, priority=BACKGROUND)
        for uri in list(ls.index.prompts):  # `include` changed: files it no longer names are not ours
            if not ls.is_prompt(uri):
                ls.publisher.forget(uri)
        self._index_runs += 1  # a config change can start an index while one runs: one token each
        token = f"promptls/index/{self._index_runs}"
        progress = ls.supports_work_done_progress() and bool(found)
        if progress:
            try:
                await ls.work_done_progress.create_async(token)
                ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                    title="promptls", message=f"estimating {len(found)} prompt files", percentage=0))
            except Exception:
                progress = False
        self.indexing = True
        estimated: list[tuple[str, DocResult]] = []  # kept small: no analysis is held for the exact pass
        done = 0

        def step(n: int) -> None:
            nonlocal done
            before, done = done, done + n
            ls.stats.indexed += n
            if progress and (done // 10 > before // 10 or done == len(found)):
                ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                    message=f"{done}/{len(found)}", percentage=int(done * 100 / len(found))))

        try:
            for entry in found:
                ls.index.add_prompt(uri_of(entry.path), entry.path, entry)
            closed = [entry for entry in found if not ls.is_open(uri_of(entry.path))]
            step(len(found) - len(closed))  # open documents have their own runs
            if offline_pool.pays(len(closed)):
                closed = await self._estimate_in_workers(closed, estimated, step)
            for entry in closed:
                uri = uri_of(entry.path)
                if not ls.is_open(uri) and await ls.runs.estimate(uri) is not None \
                        and (result := ls.docs.result(uri)) is not None:
                    estimated.append((uri, result))
                step(1)
        finally:
            self.indexing = False
            for root in {r.config.root for r in ls.docs.results()}:
                ls.publisher.update_workspace_findings(root)
            if progress:
                ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
            await ls.runner.settle_heap()
        for uri, kept in estimated:
            unchanged = not ls.is_open(uri) and ls.docs.result(uri) is kept
            if unchanged and ls.counters.for_config(kept.config, ls.settings.offline_only)[0] is not None:
                await ls.runs.count(uri, BACKGROUND)  # analysed again (text memo: no re-tokenizing)

    async def _estimate_in_workers(self, found: list[Found], estimated: list[tuple[str, DocResult]],
                                   step: Callable[[int], None]) -> list[Found]:
        """The files nobody has open, estimated in worker processes (offline_pool.py) and stored as
        `Runs.estimate` stores them. A file opened, or counted again after a change on disk, while its
        chunk was out keeps that newer result. Returns the files left to estimate here: those of
        chunks a worker failed on."""
        ls = self.ls
        uris = {entry.path: uri_of(entry.path) for entry in found}
        before = {uri: ls.docs.result(uri) for uri in uris.values()}
        configs = await ls.runner.call(lambda: [ls.settings.config_for(entry.path) for entry in found],
                                      priority=BACKGROUND)
        cache = await ls.runner.call(lambda: ls.counters.cache, priority=BACKGROUND)
        per_config: dict[int, tuple[str | None, CountState, CountState]] = {}  # endpoint, idle, countable
        for config in {id(c): c for c in configs}.values():
            counter, idle = await ls.runs.counter_for(config)
            endpoint = counter.endpoint if counter is not None else cache.endpoint if cache is not None else None
            per_config[id(config)] = ((endpoint, idle, idle) if counter is None
                                      else (endpoint, CountState.ESTIMATE, CountState.COUNTING))
        jobs = [(entry.path, config, per_config[id(config)][0]) for entry, config in zip(found, configs, strict=True)]
        failed: set[Path] = set()
        pool = offline_pool.OfflinePool()
        try:
            pending = {asyncio.wrap_future(future): chunk for chunk, future in pool.submit(estimate_offline, jobs)}
            while pending:
                finished, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for future in finished:
                    chunk = pending.pop(future)
                    try:
                        results = future.result()
                    except Exception:
                        if not failed:  # a broken pool fails every chunk: one report
                            log.exception("a worker of the workspace index failed; estimating its files here")
                        failed.update(path for path, _, _ in chunk)
                        continue
                    for (path, config, _), offline in zip(chunk, results, strict=True):
                        uri = uris[path]
                        if uri in ls.index.prompts and not ls.is_open(uri) and ls.docs.result(uri) is before[uri]:
                            self._store(uri, path, config, offline, per_config[id(config)][1:], estimated)
                    step(len(chunk))
        finally:
            await asyncio.to_thread(pool.close, True)
        return [entry for entry in found if entry.path in failed]

    def _store(self, uri: str, path: Path, config: Config, offline: Offline, states: tuple[CountState, CountState],
               estimated: list[tuple[str, DocResult]]) -> None:
        ls = self.ls
        ls.docs.state(uri).runs += 1
        ls.stats.estimates += 1
        ls.stats.indexed_in_workers += 1
        result = DocResult(uri=uri, path=path, version=None, lines=[offline.first_line], report=offline.report,
                           config=config, state=states[offline.countable], attachments=offline.attachments,
                           stamps=offline.stamps)
        ls.publisher.store(result)
        if (stored := ls.docs.result(uri)) is not None:
            estimated.append((uri, stored))

    def file_changed(self, path: Path, deleted: bool = False) -> None:
        """A file on disk changed: a config, an attachment or a prompt file that is not open."""
        ls = self.ls
        if path.name in CONFIG_FILES:
            ls.runs.recount_all()
            return
        for uri in ls.index.users_of(path):
            ls.runs.schedule(uri, 0)
        uri = uri_of(path)
        if not ls.is_open(uri) and ls.is_prompt(uri):
            if deleted or not path.exists():
                ls.publisher.forget(uri)
            else:
                ls.index.add_prompt(uri, path)
                ls.runs.schedule(uri, 0)

    def files_changed(self, changes: Sequence[types.FileEvent]) -> None:
        for change in changes:
            if (path := self.ls.path_of(change.uri)) is not None:
                self.file_changed(path, change.type == types.FileChangeType.Deleted)

    async def poll(self) -> None:
        """Without file watching from the client, re-stat what we depend on every couple of seconds."""
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            await self.check_disk()

    async def check_disk(self) -> None:
        ls = self.ls
        configs = [root / name for root in ls.settings.known_roots() for name in CONFIG_FILES]
        for path, deleted in await ls.runner.call(ls.index.changed_files, configs, priority=BACKGROUND):
            self.file_changed(path, deleted)
