"""The workspace around the open files: indexing every prompt file, and noticing changes on disk.

Changes arrive as `workspace/didChangeWatchedFiles` when the client can watch files; otherwise
(Neovim on Linux) the files we depend on are re-stat'ed every couple of seconds in the engine
thread. A changed config re-checks everything; a changed attachment re-counts the files using it;
a deleted prompt file is forgotten whole.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls import uris

from ..workspace import is_prompt_file
from .runs import PRIORITY_BACKGROUND
from .settings import CONFIG_FILES
from .state import DocResult

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
        exclude = (await ls.runner.call(ls.settings.config_for, folders[0] / "x")).exclude
        found = await ls.runner.call(ls.index.discover, folders, exclude)
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
        try:
            for i, entry in enumerate(found):
                uri = uri_of(entry.path)
                ls.index.add_prompt(uri, entry.path, entry)
                if not ls.is_open(uri) and await ls.runs.estimate(uri) is not None \
                        and (result := ls.docs.result(uri)) is not None:
                    estimated.append((uri, result))
                ls.stats.indexed += 1
                if progress and (i % 10 == 9 or i == len(found) - 1):
                    ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                        message=f"{i + 1}/{len(found)}", percentage=int((i + 1) * 100 / len(found))))
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
                await ls.runs.count(uri, PRIORITY_BACKGROUND)  # analysed again (text memo: no re-tokenizing)

    def file_changed(self, path: Path, deleted: bool = False) -> None:
        """A file on disk changed: a config, an attachment or a prompt file that is not open."""
        ls = self.ls
        if path.name in CONFIG_FILES:
            ls.runs.recount_all()
            return
        for uri in ls.index.users_of(path):
            ls.runs.schedule(uri, 0)
        uri = uri_of(path)
        if is_prompt_file(uri) and not ls.is_open(uri):
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
        for path, deleted in await ls.runner.call(ls.index.changed_files, configs):
            self.file_changed(path, deleted)
