"""The language server: pygls wiring, the per-document counting pipeline and publication.

An edit schedules a debounced run for its URI; the run computes the offline estimate in the engine
thread and publishes it, then awaits the exact count and publishes again. Every publication is
checked against the document version it was computed for, so a stale result is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..model import FileReport, Finding
from ..workspace import is_prompt_file
from . import codelens, completion, heap, hover, links, status, textsync
from .configdiags import ConfigDiagnostics
from .counter import Counters
from .diagnostics import PULL, PUSH, choose_mode, to_diagnostics
from .hints import inlay_hints
from .positions import split_lines
from .scheduler import Scheduler
from .settings import CONFIG_FILES, Settings
from .state import COUNTING, ERROR, ESTIMATE, EXACT, RATE_LIMITED, DocResult
from .transport import PromptProtocol, serve_stdio
from .workspace_index import WorkspaceIndex

log = logging.getLogger("promptls.lsp")

PRIORITY_EDITING = 0
PRIORITY_BACKGROUND = 2
POLL_INTERVAL_S = 2.0
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 60.0
PULL_WAIT_S = 3.0
STATUS_CHANGED = "promptls/statusChanged"
FILE_STATUS = "promptls/fileStatus"
STATS = "promptls/_stats"
RECOUNT = "promptls.recount"
RECOUNT_WORKSPACE = "promptls.recountWorkspace"


class PromptServer(LanguageServer):
    def __init__(self, mode: str | None = None) -> None:
        super().__init__("promptls", __version__, protocol_cls=PromptProtocol)  # answers every request
        self.settings = Settings(mode)
        self.scheduler = Scheduler()
        self.counters = Counters()
        self.index = WorkspaceIndex()
        self.results: dict[str, DocResult] = {}
        self.last_good: dict[str, DocResult] = {}  # hints survive a half-typed (unparsable) buffer
        self.workspace_findings: dict[str, list[Finding]] = {}
        self.config_diagnostics = ConfigDiagnostics()
        self.diag_mode = PUSH
        self.shown: dict[str, tuple[int | None, list[types.Diagnostic]]] = {}
        self.stats: dict[str, Any] = {"runs": {}, "estimates": 0, "exact": 0, "published": 0, "indexed": 0}
        self.indexing = False
        self._index_runs = 0
        self._polling = False
        self._api_warned = False
        self._limits_asked = False
        self._retry_s: dict[str, float] = {}
        self._imported: set[bool] = set()

    # -- errors -------------------------------------------------------------------------------------

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log internal errors to stderr instead of popping them up in the editor."""
        log.error("internal error (%s)", getattr(source, "__name__", source), exc_info=error)

    # -- capabilities -------------------------------------------------------------------------------

    @property
    def caps(self) -> types.ClientCapabilities:
        return self.client_capabilities

    def supports_hint_refresh(self) -> bool:
        ws = self.caps.workspace
        return bool(ws and ws.inlay_hint and ws.inlay_hint.refresh_support)

    def supports_work_done_progress(self) -> bool:
        return bool(self.caps.window and self.caps.window.work_done_progress)

    def dynamic(self, what: str) -> bool:
        ws = self.caps.workspace
        cap = getattr(ws, what, None) if ws else None
        return bool(cap and cap.dynamic_registration)

    # -- documents ----------------------------------------------------------------------------------

    def is_open(self, uri: str) -> bool:
        return uri in self.workspace.text_documents

    def current_lines(self, uri: str) -> list[str] | None:
        result = self.results.get(uri)
        if self.is_open(uri):
            source = self.workspace.get_text_document(uri).source
            return result.lines if result is not None and result.source is source else split_lines(source)
        return result.lines if result is not None else None

    def schedule(self, uri: str, delay_s: float | None = None) -> None:
        if not is_prompt_file(uri):
            return  # other YAML files the editor attached us to are none of our business
        if delay_s is None:
            path = _path(uri)
            delay_s = self.settings.config_for(path).debounce_ms / 1000 if path else 0.3
        self.scheduler.debounce(uri, delay_s, lambda: self.count(uri))

    async def count(self, uri: str, priority: int | None = None) -> None:
        """Estimate (published at once), then the exact count when a counter is available."""
        result = await self.estimate(uri)
        if result is not None:
            if priority is None:
                priority = PRIORITY_EDITING if result.version is not None else PRIORITY_BACKGROUND
            await self.exact(result, priority)

    async def estimate(self, uri: str) -> DocResult | None:
        path = _path(uri)
        if path is None:
            return None
        version: int | None = None
        text: str | None = None
        if self.is_open(uri):
            doc = self.workspace.get_text_document(uri)
            text, version = doc.source, doc.version
        config = self.settings.config_for(path)
        runs = self.stats["runs"]
        runs[uri] = runs.get(uri, 0) + 1
        # The engine and the SDK import (seconds, once) in the engine thread; the counter and its
        # SQLite cache are then made and used on the event loop only (sqlite3 objects are per thread).
        with_api = not self.settings.offline_only
        if with_api not in self._imported:  # one thread hop less per keystroke once it is done
            await self.scheduler.in_engine_thread(_import_engine, with_api)
            self._imported.add(with_api)
        counter, _ = self.counters.for_config(config, self.settings.offline_only)
        if counter is not None and not self._limits_asked:
            self._limits_asked = True
            self.scheduler.spawn(self.refresh_model_limits(counter), "promptls:model-limits")

        from .. import pipeline

        cache = getattr(counter, "cache", None) or self.counters.cache
        analyzed = await self.scheduler.in_engine_thread(pipeline.analyze, path, config, text)
        if isinstance(analyzed, FileReport):
            estimated = pipeline.Estimated(analyzed)
        else:
            if analyzed.request is not None:
                await self.scheduler.wait_warm()  # ctok's vocabulary is built once, by the warm-up thread
            if self.stale(uri, version):
                return None
            estimated = await self.scheduler.in_engine_thread(pipeline.estimate, analyzed, config, cache)
        if self.stale(uri, version):
            return None
        self.stats["estimates"] += 1
        result = DocResult(uri=uri, path=path, version=version, lines=split_lines(estimated.text),
                           report=estimated.report, config=config, state=self.idle_state(config, estimated.analysis),
                           analysis=estimated.analysis, attachments=self.index.attachment_paths(estimated.analysis),
                           estimated=estimated, source=text)
        self.store(result)
        heap.settle()
        return result

    async def exact(self, result: DocResult, priority: int) -> None:
        from .. import pipeline

        counter, _ = self.counters.for_config(result.config, self.settings.offline_only)
        if counter is None or result.estimated is None or not result.estimated.countable:
            return
        exact = await pipeline.count_exact(result.estimated, counter, priority)
        if exact is None or self.stale(result.uri, result.version):
            return
        report = await self.scheduler.in_engine_thread(pipeline.exact_report, result.estimated, exact, result.config)
        if self.stale(result.uri, result.version):
            return
        counts = exact.counts
        self.stats["exact"] += 1
        if counts.exact:
            self._api_warned = False
        elif counts.error and not self._api_warned and result.version is not None:
            self._api_warned = True  # one message per outage, not one per file or per keystroke
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Warning, message=f"promptls: exact counts unavailable ({counts.error}); "
                "showing estimates"))
        state = EXACT if counts.exact else (RATE_LIMITED if counter.state == RATE_LIMITED
                                            else ERROR if counts.error else ESTIMATE)
        self.store(replace(result, report=report, state=state, api_error=counts.error))
        self.retry_if_transient(result, counter, counts.exact)  # last: it replaces this run's task

    def retry_if_transient(self, result: DocResult, counter: Any, exact: bool) -> None:
        """An open document whose exact count failed for a passing reason (429, outage, timeout) is
        counted again once the counter may send, so exact numbers come back without another edit."""
        if exact or result.version is None:
            self._retry_s.pop(result.uri, None)
            return
        if getattr(counter, "disabled_reason", None) or getattr(counter, "state", "") not in (RATE_LIMITED, ERROR):
            return
        backoff = self._retry_s.get(result.uri, RETRY_FIRST_S / 2) * 2
        self._retry_s[result.uri] = min(backoff, RETRY_MAX_S)
        limiter = getattr(counter, "limiter", None)
        paused = limiter.paused_for() if limiter is not None else 0.0
        self.schedule(result.uri, max(paused + 0.05, self._retry_s[result.uri]))

    def idle_state(self, config: Any, analysis: Any) -> str:
        counter, none_state = self.counters.for_config(config, self.settings.offline_only)
        if counter is None:
            return none_state
        return COUNTING if analysis is not None and analysis.request is not None else ESTIMATE

    def stale(self, uri: str, version: int | None) -> bool:
        """A result is stale when the buffer moved on, or a disk read raced with the file being opened."""
        if version is None:
            return self.is_open(uri)
        return not self.is_open(uri) or self.workspace.get_text_document(uri).version != version

    def store(self, result: DocResult) -> None:
        if result.version is None:
            result = result.closed()
        self.results[result.uri] = result
        if result.report.model is not None:
            self.last_good[result.uri] = result
        self.index.track(result)
        if not self.indexing:
            self.update_workspace_findings(result.config.root)
        self.publish(result.uri)
        if self.is_open(result.uri):
            if self.supports_hint_refresh():
                self.workspace_inlay_hint_refresh(None)
            self.protocol.notify(STATUS_CHANGED, {"uri": result.uri})

    def forget(self, uri: str) -> None:
        result = self.results.pop(uri, None)
        self.last_good.pop(uri, None)
        self.index.untrack(uri)
        if result is not None:
            self.update_workspace_findings(result.config.root)
        self.publish(uri)

    # -- diagnostics --------------------------------------------------------------------------------

    def update_workspace_findings(self, root: Path) -> None:
        """Recompute the workspace budget for one root and republish the files whose findings changed."""
        from ..budget import workspace_findings

        members = [r for r in self.results.values() if r.config.root == root]
        if not members:
            return
        config, config_findings = self.settings.root_config(root)
        self.config_diagnostics.publish(self, root, config_findings)
        by_path = {str(r.path): r.uri for r in members}
        fresh: dict[str, list[Finding]] = {r.uri: [] for r in members}
        try:
            found = workspace_findings([r.report for r in members], config)
        except Exception:
            log.exception("workspace budget failed")
            found = []
        for f in found:  # at promptls.toml's line: shown on the largest file, the one prompt file it names first
            uri = by_path.get(f.path or "") or by_path.get(next(iter(f.data.get("largest", [])), ""))
            if uri is not None:
                fresh[uri].append(f)
        for uri, findings in fresh.items():
            old = self.workspace_findings.get(uri, [])
            self.workspace_findings[uri] = findings
            if [(f.code, f.message) for f in old] != [(f.code, f.message) for f in findings]:
                self.publish(uri)

    def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        """Open files show all their findings; other files only the workspace-level ones."""
        result = self.results.get(uri)
        if result is None:
            return []
        findings = list(self.workspace_findings.get(uri, []))
        lines = result.lines
        if self.is_open(uri):
            findings = list(result.report.findings) + findings
            if result.version is None:  # just opened, still the kept-small result read from disk
                lines = self.current_lines(uri) or lines
        return to_diagnostics(findings, lines, self.workspace.position_codec)

    def publish(self, uri: str) -> None:
        diags = self.diagnostics(uri)
        result = self.results.get(uri)
        version = result.version if result is not None and self.is_open(uri) else None
        if self.shown.get(uri) == (version, diags):
            return
        if not diags and uri not in self.shown and not self.is_open(uri):
            return  # nothing to say about a file nobody is looking at
        self.shown[uri] = (version, diags)
        if self.diag_mode == PULL:
            self.scheduler.debounce("diagnostic-refresh", 0.05, self.request_diagnostic_refresh)
            return
        self.stats["published"] += 1
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=diags))

    async def request_diagnostic_refresh(self) -> None:
        """Pull mode: ask the client to pull again (batched: one refresh per burst of changes)."""
        ws = self.caps.workspace
        if ws and ws.diagnostics and ws.diagnostics.refresh_support:
            self.workspace_diagnostic_refresh(None)

    async def wait_current(self, uri: str) -> None:
        """Let a pending run for the current version finish before answering a pull (bounded)."""
        task = self.scheduler.pending(uri)
        if task is None:
            return
        try:
            async with asyncio.timeout(PULL_WAIT_S):
                while (result := self.results.get(uri)) is None or self.stale(uri, result.version):
                    if task.done():
                        return
                    await asyncio.wait({task}, timeout=0.05)
        except TimeoutError:
            pass

    async def open_result(self, uri: str) -> DocResult | None:
        """The result for a request on an open document. A file just opened may still hold the kept-small
        result of the workspace index (no parsed document): wait for its own run (bounded) instead."""
        result = self.results.get(uri)
        if result is not None and result.version is None and self.is_open(uri):
            await self.wait_current(uri)
            result = self.results.get(uri)
        return result

    # -- workspace ----------------------------------------------------------------------------------

    def folders(self) -> list[Path]:
        out = [p for f in self.workspace.folders.values() if (p := _path(f.uri)) is not None]
        if not out and self.workspace.root_path:
            out.append(Path(self.workspace.root_path))
        return out

    async def index_workspace(self) -> None:
        """Estimate every prompt file of the workspace (with progress), then count them exactly."""
        folders = self.folders()
        if not folders:
            return
        exclude = self.settings.config_for(folders[0] / "x").exclude
        paths = await self.scheduler.in_engine_thread(self.index.discover, folders, exclude)
        self._index_runs += 1  # a config change can start an index while one runs: one token each
        token = f"promptls/index/{self._index_runs}"
        progress = self.supports_work_done_progress() and bool(paths)
        if progress:
            try:
                await self.work_done_progress.create_async(token)
                self.work_done_progress.begin(token, types.WorkDoneProgressBegin(
                    title="promptls", message=f"estimating {len(paths)} prompt files", percentage=0))
            except Exception:
                progress = False
        self.indexing = True
        estimated: list[tuple[str, DocResult]] = []  # kept small: no analysis is held for the exact pass
        try:
            for i, path in enumerate(paths):
                uri = uris.from_fs_path(str(path)) or path.as_uri()
                self.index.add_prompt(uri, path)
                if not self.is_open(uri) and await self.estimate(uri) is not None:
                    estimated.append((uri, self.results[uri]))
                self.stats["indexed"] += 1
                if progress and (i % 10 == 9 or i == len(paths) - 1):
                    self.work_done_progress.report(token, types.WorkDoneProgressReport(
                        message=f"{i + 1}/{len(paths)}", percentage=int((i + 1) * 100 / len(paths))))
        finally:
            self.indexing = False
            for root in {r.config.root for r in self.results.values()}:
                self.update_workspace_findings(root)
            if progress:
                self.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))
            heap.settle(collect=True)
        for uri, kept in estimated:
            unchanged = not self.is_open(uri) and self.results.get(uri) is kept
            if unchanged and self.counters.for_config(kept.config, self.settings.offline_only)[0] is not None:
                await self.count(uri, PRIORITY_BACKGROUND)  # analysed again (text memo: no re-tokenizing)

    async def refresh_model_limits(self, counter: Any) -> None:
        """Context windows from the Models API (cached a day, asked once per session); when they
        change anything, every file is checked again against them."""
        limits = await counter.model_limits()
        if limits and limits != self.settings.api_limits:
            self.settings.api_limits = limits
            self.recount_all()

    def recount_all(self) -> None:
        self.settings.invalidate()
        for uri in list(self.workspace.text_documents):
            if is_prompt_file(uri):
                self.schedule(uri, 0)
        self.scheduler.spawn(self.index_workspace(), "promptls:index")

    def file_changed(self, path: Path, deleted: bool = False) -> None:
        """A file on disk changed: a config, an attachment or a prompt file that is not open."""
        if path.name in CONFIG_FILES:
            self.recount_all()
            return
        for uri in self.index.users_of(path):
            self.schedule(uri, 0)
        uri = uris.from_fs_path(str(path)) or path.as_uri()
        if is_prompt_file(uri) and not self.is_open(uri):
            if deleted or not path.exists():
                self.forget(uri)
            else:
                self.index.add_prompt(uri, path)
                self.schedule(uri, 0)

    async def poll(self) -> None:
        """Without file watching from the client, re-stat what we depend on every couple of seconds."""
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            self.check_disk()

    def check_disk(self) -> None:
        configs = [root / name for root in self.settings.known_roots() for name in CONFIG_FILES]
        for path, deleted in self.index.changed_files(configs):
            self.file_changed(path, deleted)


def _import_engine(with_api: bool) -> None:
    from .. import engine  # noqa: F401

    if with_api and (os.environ.get("ANTHROPIC_API_KEY") or "").strip():
        from ..counting import api  # noqa: F401


def _prewarm(with_api: bool) -> None:
    """Import the engine and load the tokenizer while the client is still starting up."""
    try:
        _import_engine(with_api)
        from ..config import Config
        from ..counting.estimate import use_store, warm_up
        from ..counting.textcache import open_default
        from ..engine import analyze_text, estimate_counts

        use_store(open_default())  # text seen in an earlier session is not tokenized again
        warm_up()
        config = Config(root=Path.cwd())
        estimate_counts(analyze_text("messages: [{role: user, content: hi}]\n", Path("warm.prompt.yaml"), config),
                        config)
        heap.settle(collect=True)
    except Exception:
        log.exception("warming up the engine failed")


def _path(uri: str) -> Path | None:
    fs = uris.to_fs_path(uri)
    return Path(fs) if fs else None


def _uri(params: Any) -> str:
    """Custom requests arrive as namedtuples; commands may pass a bare string."""
    if isinstance(params, str):
        return params
    if isinstance(params, dict):
        return str(params.get("uri", ""))
    if isinstance(params, list | tuple) and params and not hasattr(params, "_fields"):
        return _uri(params[0])
    return str(getattr(params, "uri", "") or "")


def create_server(mode: str | None = None) -> PromptServer:
    server = PromptServer(mode)
    heap.install()

    @server.feature(types.INITIALIZE)
    def initialize(ls: PromptServer, params: types.InitializeParams) -> None:
        textsync.install(ls)
        ls.settings.read_initialization_options(params.initialization_options)
        ls.scheduler.warm_up(_prewarm, not ls.settings.offline_only)
        ls.diag_mode = choose_mode(params.capabilities)
        if ls.diag_mode == PULL:
            ls.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
                identifier="promptls", inter_file_dependencies=True, workspace_diagnostics=True))(pull_document)
            ls.feature(types.WORKSPACE_DIAGNOSTIC)(pull_workspace)

    async def pull_document(ls: PromptServer, params: types.DocumentDiagnosticParams
                            ) -> types.DocumentDiagnosticReport:
        uri = params.text_document.uri
        await ls.wait_current(uri)
        diags = ls.diagnostics(uri)
        result = ls.results.get(uri)
        ls.shown[uri] = (result.version if result is not None else None, diags)
        return types.RelatedFullDocumentDiagnosticReport(items=diags)

    def pull_workspace(ls: PromptServer, params: types.WorkspaceDiagnosticParams
                       ) -> types.WorkspaceDiagnosticReport:
        items: list[Any] = []
        for uri in ls.results:
            if not ls.is_open(uri):
                items.append(types.WorkspaceFullDocumentDiagnosticReport(
                    uri=uri, version=None, items=ls.diagnostics(uri)))
        return types.WorkspaceDiagnosticReport(items=items)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: PromptServer, params: types.InitializedParams) -> None:
        registrations = []
        if ls.dynamic("did_change_configuration"):
            registrations.append(types.Registration(
                id="promptls-config", method=types.WORKSPACE_DID_CHANGE_CONFIGURATION,
                register_options=types.DidChangeConfigurationRegistrationOptions(section="promptls")))
        watching = ls.dynamic("did_change_watched_files")
        if watching:
            registrations.append(types.Registration(
                id="promptls-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern="**/*")])))
        if registrations:
            try:
                await ls.client_register_capability_async(types.RegistrationParams(registrations=registrations))
            except Exception as exc:
                log.warning("dynamic registration failed: %s", exc)
                watching = False
        await ls.settings.pull(ls)
        if not watching:
            ls.scheduler.spawn(ls.poll(), "promptls:poll")
        ls.scheduler.spawn(ls.index_workspace(), "promptls:index")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def config_changed(ls: PromptServer, params: types.DidChangeConfigurationParams) -> None:
        await ls.settings.pull(ls)
        ls.recount_all()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: PromptServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            if (path := _path(change.uri)) is not None:
                ls.file_changed(path, change.type == types.FileChangeType.Deleted)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PromptServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        if (path := _path(uri)) is not None:
            ls.index.add_prompt(uri, path)
        ls.schedule(uri, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PromptServer, params: types.DidChangeTextDocumentParams) -> None:
        ls._retry_s.pop(params.text_document.uri, None)  # an edit is a fresh attempt: retries start short
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PromptServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)
        ls.check_disk()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PromptServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.scheduler.cancel(uri)
        path = _path(uri)
        if path is not None and path.is_file():
            ls.publish(uri)  # only workspace findings stay on a closed file
            ls.schedule(uri, 0)  # back to the version on disk, for the workspace total
        else:
            ls.forget(uri)

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hint(ls: PromptServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        uri = params.text_document.uri
        result, lines = ls.results.get(uri), ls.current_lines(uri)
        if result is None or lines is None:
            return []
        if result.report.model is None and uri in ls.last_good:
            result = ls.last_good[uri]
        return inlay_hints(result, lines, ls.workspace.position_codec, params.range, result.config.hints)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: PromptServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        result, lines = await ls.open_result(uri), ls.current_lines(uri)
        if result is None or lines is None:
            return None
        return hover.hover(result, lines, params.position, ls.workspace.position_codec)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[":", "/", " "]))
    def on_completion(ls: PromptServer, params: types.CompletionParams) -> types.CompletionList | None:
        uri = params.text_document.uri
        path, lines = _path(uri), ls.current_lines(uri)
        if path is None or lines is None:
            return None
        config = ls.settings.config_for(path)
        return completion.complete(lines, params.position, ls.workspace.position_codec, path, config)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_LINK)
    async def on_links(ls: PromptServer, params: types.DocumentLinkParams) -> list[types.DocumentLink]:
        result = await ls.open_result(params.text_document.uri)
        if result is None:
            return []
        td = ls.caps.text_document
        tooltips = bool(td and td.document_link and td.document_link.tooltip_support)
        return links.document_links(result, ls.workspace.position_codec, tooltips)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def on_code_lens(ls: PromptServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        return codelens.code_lenses(params.text_document.uri, ls.results.get(params.text_document.uri))

    @server.command(RECOUNT)
    def recount(ls: PromptServer, *args: Any) -> None:
        uri = _uri(list(args)) if args else ""
        targets = [uri] if uri else [u for u in ls.workspace.text_documents if is_prompt_file(u)]
        for target in targets:
            ls.check_disk()
            ls.schedule(target, 0)

    @server.command(RECOUNT_WORKSPACE)
    def recount_workspace(ls: PromptServer, *args: Any) -> None:
        ls.recount_all()

    @server.feature(FILE_STATUS)
    def file_status(ls: PromptServer, params: Any) -> dict[str, Any] | None:
        result = ls.results.get(_uri(params))
        return status.file_status(result) if result is not None else None

    @server.feature(STATS)
    def stats(ls: PromptServer, params: Any) -> dict[str, Any]:
        """Test-only: how often the engine ran, so tests can check debouncing."""
        # URIs are not identifiers: send runs as pairs so clients' object decoding keeps them intact.
        return {**ls.stats, "runs": [[uri, n] for uri, n in ls.stats["runs"].items()],
                "diagnosticMode": ls.diag_mode}

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: PromptServer, params: Any) -> None:
        ls.scheduler.shutdown()
        await ls.counters.aclose()
        from ..counting.estimate import flush_store

        flush_store()

    return server


def run(mode: str | None = None, tcp: tuple[str, int] | None = None) -> int:
    """Serve over stdio (or TCP for debugging) until `exit` or the client disconnects; the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)
    textsync.quiet_pygls()
    level = os.environ.get("PROMPTLS_LOG_LEVEL", "").upper()
    if level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        logging.getLogger("promptls").setLevel(level)
    server = create_server(mode)
    if tcp is not None:
        server.start_tcp(*tcp)
        return 0
    return serve_stdio(server)  # pygls' reader goes deaf after one bad frame (lsp/transport.py)
