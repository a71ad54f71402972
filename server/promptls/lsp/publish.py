"""Storing results and telling the client: diagnostics (pushed or pulled), hint refresh, status.

Diagnostics are sent only when they differ from what the client was last shown for that version.
The workspace budget (a pass over every report of a root) is recomputed in the engine thread after
a store, coalesced per root, and republishes only the files whose workspace findings changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ..config import Config
from ..model import FileReport, Finding
from .diagnostics import PULL, to_diagnostics
from .state import DocResult

if TYPE_CHECKING:
    from .server import PromptServer

log = logging.getLogger(__name__)

STATUS_CHANGED = "promptls/statusChanged"
PULL_WAIT_S = 3.0


class Publisher:
    def __init__(self, ls: PromptServer) -> None:
        self.ls = ls

    def store(self, result: DocResult) -> None:
        ls = self.ls
        if result.version is None:
            result = result.closed()
        ls.docs.store(result)
        ls.index.track(result)
        if not ls.watch.indexing:
            self.update_workspace_findings(result.config.root)
        self.publish(result.uri)
        if ls.is_open(result.uri):
            if ls.supports_hint_refresh():
                ls.workspace_inlay_hint_refresh(None)
            ls.protocol.notify(STATUS_CHANGED, {"uri": result.uri})

    def forget(self, uri: str) -> None:
        """Drop everything about `uri` and clear what the client shows for it."""
        ls = self.ls
        state = ls.docs.forget(uri)
        ls.index.untrack(uri)
        if state is None:
            return
        if state.result is not None:
            self.update_workspace_findings(state.result.config.root)
        if state.shown is not None and state.shown[1]:
            self._send(uri, None, [])

    # -- workspace budget ---------------------------------------------------------------------------

    def update_workspace_findings(self, root: Path) -> None:
        """Recompute the workspace budget of one root soon (one pass per burst of stores)."""
        self.ls.scheduler.debounce(f"workspace-budget:{root}", 0, lambda: self._workspace_findings(root))

    async def _workspace_findings(self, root: Path) -> None:
        ls = self.ls
        members = [(r.uri, str(r.path), r.report) for r in ls.docs.results() if r.config.root == root]
        if not members:
            return
        found = await ls.runner.call(_workspace_findings, ls.settings.root_config, root,
                                     [report for _, _, report in members])
        ls.config_diagnostics.publish(ls, root, ls.settings.root_config(root)[1])  # cached: read above
        by_path = {path: uri for uri, path, _ in members}
        fresh: dict[str, list[Finding]] = {uri: [] for uri, _, _ in members}
        for f in found:  # at promptls.toml's line: shown on the largest file, the one prompt file it names first
            uri = by_path.get(f.path or "") or by_path.get(next(iter(f.data.get("largest", [])), ""))
            if uri is not None:
                fresh[uri].append(f)
        for uri, findings in fresh.items():
            state = ls.docs.get(uri)
            if state is None or state.result is None:
                continue  # forgotten meanwhile
            old, state.workspace_findings = state.workspace_findings, findings
            if [(f.code, f.message) for f in old] != [(f.code, f.message) for f in findings]:
                self.publish(uri)

    # -- diagnostics --------------------------------------------------------------------------------

    def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        """Open files show all their findings; other files only the workspace-level ones."""
        ls = self.ls
        state = ls.docs.get(uri)
        if state is None or (result := state.result) is None:
            return []
        findings = list(state.workspace_findings)
        lines = result.lines
        if ls.is_open(uri):
            findings = list(result.report.findings) + findings
            if result.version is None:  # just opened, still the kept-small result read from disk
                lines = ls.current_lines(uri) or lines
        return to_diagnostics(findings, lines, ls.workspace.position_codec)

    def publish(self, uri: str) -> None:
        ls = self.ls
        diags = self.diagnostics(uri)
        state = ls.docs.get(uri)
        result = state.result if state is not None else None
        version = result.version if result is not None and ls.is_open(uri) else None
        shown = state.shown if state is not None else None
        if shown == (version, diags):
            return
        if not diags and shown is None and not ls.is_open(uri):
            return  # nothing to say about a file nobody is looking at
        ls.docs.state(uri).shown = (version, diags)
        self._send(uri, version, diags)

    def _send(self, uri: str, version: int | None, diags: list[types.Diagnostic]) -> None:
        ls = self.ls
        if ls.diag_mode == PULL:
            ls.scheduler.debounce("diagnostic-refresh", 0.05, self.request_diagnostic_refresh)
            return
        ls.stats.published += 1
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=diags))

    async def request_diagnostic_refresh(self) -> None:
        """Pull mode: ask the client to pull again (batched: one refresh per burst of changes)."""
        ws = self.ls.client_capabilities.workspace
        if ws and ws.diagnostics and ws.diagnostics.refresh_support:
            self.ls.workspace_diagnostic_refresh(None)

    async def pulled(self, uri: str) -> list[types.Diagnostic]:
        """`textDocument/diagnostic`: the current version's diagnostics (waiting for its run, bounded)."""
        await self.wait_current(uri)
        diags = self.diagnostics(uri)
        result = self.ls.docs.result(uri)
        self.ls.docs.state(uri).shown = (result.version if result is not None else None, diags)
        return diags

    def pulled_workspace(self) -> list[types.WorkspaceDocumentDiagnosticReport]:
        return [types.WorkspaceFullDocumentDiagnosticReport(uri=uri, version=None, items=self.diagnostics(uri))
                for uri in self.ls.docs.uris_with_results() if not self.ls.is_open(uri)]

    # -- waiting for the current run ----------------------------------------------------------------

    async def wait_current(self, uri: str) -> None:
        """Let a pending run for the current version finish before answering a pull (bounded)."""
        ls = self.ls
        task = ls.scheduler.pending(uri)
        if task is None:
            return
        try:
            async with asyncio.timeout(PULL_WAIT_S):
                while (result := ls.docs.result(uri)) is None or ls.stale(uri, result.version):
                    if task.done():
                        return
                    await asyncio.wait({task}, timeout=0.05)
        except TimeoutError:
            pass

    async def open_result(self, uri: str) -> DocResult | None:
        """The result for a request on an open document. A file just opened may still hold the kept-small
        result of the workspace index (no parsed document): wait for its own run (bounded) instead."""
        result = self.ls.docs.result(uri)
        if result is not None and result.version is None and self.ls.is_open(uri):
            await self.wait_current(uri)
            result = self.ls.docs.result(uri)
        return result


def _workspace_findings(root_config: Callable[[Path], tuple[Config, list[Finding]]], root: Path,
                        reports: list[FileReport]) -> list[Finding]:
    """Engine thread: the workspace budget of one root over its files' reports."""
    from ..budget import workspace_findings

    try:
        config = root_config(root)[0]
        return workspace_findings(reports, config)
    except Exception:
        log.exception("workspace budget failed")
        return []
