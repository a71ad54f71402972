"""The language server: the parts it is made of, and `create_server` / `run`.

`PromptServer` holds the shared state (settings, the document store, the workspace index, the API
counters) and the parts that act on it: `runs` counts a document (runs.py), `publisher` stores
results and tells the client (publish.py), `watch` indexes the workspace and notices changes on
disk (watch.py); every engine call goes through `runner` (runner.py), off the event loop. All LSP
methods are registered in one place, `features.register` (features.py).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..config import Config
from ..model import Mode
from ..workspace import is_prompt_file
from . import heap, textsync
from .configdiags import ConfigDiagnostics
from .counter import Counters
from .diagnostics import PUSH
from .documents import Documents
from .positions import split_lines
from .publish import Publisher
from .runner import Runner
from .runs import Runs
from .scheduler import Scheduler
from .settings import Settings
from .state import DocResult
from .testhooks import Stats
from .transport import PromptProtocol, serve_stdio
from .watch import Watch
from .workspace_index import WorkspaceIndex

log = logging.getLogger("promptls.lsp")

SWITCH_INTERVAL_S = 0.0005


class PromptServer(LanguageServer):
    def __init__(self, mode: Mode | None = None) -> None:
        super().__init__("promptls", __version__, protocol_cls=PromptProtocol)  # answers every request
        self.settings = Settings(mode)
        self.scheduler = Scheduler()
        self.runner = Runner()
        self.counters = Counters()
        self.index = WorkspaceIndex()
        self.docs = Documents()
        self.stats = Stats()
        self.diag_mode = PUSH
        self.config_diagnostics = ConfigDiagnostics()
        self.runs = Runs(self)
        self.publisher = Publisher(self)
        self.watch = Watch(self)
        self._prompt_files: dict[str, tuple[Config, bool]] = {}  # uri -> (config it was decided on, prompt?)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log internal errors to stderr instead of popping them up in the editor."""
        log.error("internal error (%s)", getattr(source, "__name__", source), exc_info=error)

    # -- client capabilities ------------------------------------------------------------------------

    def supports_hint_refresh(self) -> bool:
        ws = self.client_capabilities.workspace
        return bool(ws and ws.inlay_hint and ws.inlay_hint.refresh_support)

    def supports_work_done_progress(self) -> bool:
        window = self.client_capabilities.window
        return bool(window and window.work_done_progress)

    def supports_link_tooltips(self) -> bool:
        td = self.client_capabilities.text_document
        return bool(td and td.document_link and td.document_link.tooltip_support)

    def dynamic(self, what: str) -> bool:
        ws = self.client_capabilities.workspace
        cap = getattr(ws, what, None) if ws else None
        return bool(cap and cap.dynamic_registration)

    async def register_dynamic(self, section: str) -> bool:
        """Ask for configuration changes and file events; True when the client watches files for us."""
        registrations = []
        if self.dynamic("did_change_configuration"):
            registrations.append(types.Registration(
                id="promptls-config", method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(section=section)))
        watching = self.dynamic("did_change_watched_files")
        if watching:
            registrations.append(types.Registration(
                id="promptls-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern="**/*")])))
        if registrations:
            try:
                await self.client_register_capability_async(types.RegistrationParams(registrations=registrations))
            except Exception as exc:
                log.warning("dynamic registration failed: %s", exc)
                watching = False
        return watching

    # -- documents ----------------------------------------------------------------------------------

    def is_open(self, uri: str) -> bool:
        return uri in self.workspace.text_documents

    def path_of(self, uri: str) -> Path | None:
        fs = uris.to_fs_path(uri)
        return Path(fs) if fs else None

    def is_prompt(self, uri: str) -> bool:
        """Whether `uri` is a prompt file: it matches its root's `include` globs (default the GitHub
        Models patterns). Other YAML files the editor sends get nothing from us. Cached per URI
        until the root's config is read again."""
        path = self.path_of(uri)
        if path is None:
            return False
        config = self.settings.config_for(path)
        cached = self._prompt_files.get(uri)
        if cached is None or cached[0] is not config:
            cached = self._prompt_files[uri] = (config, is_prompt_file(path, config.include, config.root))
        return cached[1]

    def current_lines(self, uri: str) -> list[str] | None:
        result = self.docs.result(uri)
        if self.is_open(uri):
            source = self.workspace.get_text_document(uri).source
            return result.lines if result is not None and result.source is source else split_lines(source)
        return result.lines if result is not None else None

    def hint_result(self, uri: str) -> DocResult | None:
        """The result hints are drawn from: the last one with counts while the buffer does not parse."""
        state = self.docs.get(uri)
        if state is None or state.result is None:
            return None
        if state.result.report.model is None and state.last_good is not None:
            return state.last_good
        return state.result

    def stale(self, uri: str, version: int | None) -> bool:
        """A result is stale when the buffer moved on, or a disk read raced with the file being opened."""
        if version is None:
            return self.is_open(uri)
        return not self.is_open(uri) or self.workspace.get_text_document(uri).version != version

    def folders(self) -> list[Path]:
        out = [p for f in self.workspace.folders.values() if (p := self.path_of(f.uri)) is not None]
        if not out and self.workspace.root_path:
            out.append(Path(self.workspace.root_path))
        return out

    async def shutdown_engine(self) -> None:
        self.scheduler.shutdown()
        self.runner.shutdown()
        await self.counters.aclose()
        from ..counting.estimate import flush_store

        flush_store()


def create_server(mode: Mode | None = None) -> PromptServer:
    from . import features  # features import this module (the handlers' `ls` annotation)

    server = PromptServer(mode)
    heap.install()
    features.register(server)
    return server


def run(mode: Mode | None = None, tcp: tuple[str, int] | None = None) -> int:
    """Serve over stdio (or TCP for debugging) until `exit` or the client disconnects; the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)
    textsync.quiet_pygls()
    level = os.environ.get("PROMPTLS_LOG_LEVEL", "").upper()
    if level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        logging.getLogger("promptls").setLevel(level)
    # The engine thread computes while the loop and the stdin reader wait on I/O; each wake-up of
    # theirs waits for the GIL until the engine thread is made to let go. At CPython's default (5 ms)
    # a message read during background work (the workspace index) waits 5-20 ms before it is seen.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    server = create_server(mode)
    if tcp is not None:
        server.start_tcp(*tcp)
        return 0
    return serve_stdio(server)  # pygls' reader goes deaf after one bad frame (lsp/transport.py)
