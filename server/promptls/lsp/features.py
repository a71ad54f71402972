"""Every LSP method the server answers, registered in one place (`register`).

Each handler only unpacks its parameters and calls the module that does the work: `runs` (counting
a document), `publisher` (diagnostics), `watch` (workspace and disk), `settings`, or a presentation
module (`hints`, `hover`, `links`, `completion`, `codelens`, `status`) on a prepared result.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from . import codelens, completion, hover, links, status, testhooks, textsync
from .diagnostics import PULL, choose_mode
from .hints import inlay_hints
from .server import PromptServer  # a real import: pygls reads the handlers' annotations at run time

FILE_STATUS = "promptls/fileStatus"
RECOUNT = "promptls.recount"
RECOUNT_WORKSPACE = "promptls.recountWorkspace"
CONFIG_SECTION = "promptls"


def register(server: PromptServer) -> None:
    """Register every feature, command and custom request of promptls on `server`."""
    feature, command = server.feature, server.command

    @feature(types.INITIALIZE)
    def initialize(ls: PromptServer, params: types.InitializeParams) -> None:
        textsync.install(ls)
        ls.settings.read_initialization_options(params.initialization_options)
        ls.runner.warm_up(not ls.settings.offline_only)
        ls.diag_mode = choose_mode(params.capabilities)
        if ls.diag_mode == PULL:
            feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
                identifier="promptls", inter_file_dependencies=True, workspace_diagnostics=True))(pull_document)
            feature(types.WORKSPACE_DIAGNOSTIC)(pull_workspace)

    async def pull_document(ls: PromptServer, params: types.DocumentDiagnosticParams
                            ) -> types.DocumentDiagnosticReport:
        return types.RelatedFullDocumentDiagnosticReport(items=await ls.publisher.pulled(params.text_document.uri))

    def pull_workspace(ls: PromptServer, params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
        return types.WorkspaceDiagnosticReport(items=ls.publisher.pulled_workspace())

    @feature(types.INITIALIZED)
    async def initialized(ls: PromptServer, params: types.InitializedParams) -> None:
        watching = await ls.register_dynamic(CONFIG_SECTION)
        await ls.settings.pull(ls)
        if not watching:
            ls.scheduler.spawn(ls.watch.poll(), "promptls:poll")
        ls.scheduler.spawn(ls.watch.index_workspace(), "promptls:index")

    @feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def config_changed(ls: PromptServer, params: types.DidChangeConfigurationParams) -> None:
        await ls.settings.pull(ls)
        ls.runs.recount_all()

    @feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def folders_changed(ls: PromptServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        await ls.settings.pull(ls)  # settings are pulled per folder
        ls.runs.recount_all()

    @feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: PromptServer, params: types.DidChangeWatchedFilesParams) -> None:
        ls.watch.files_changed(params.changes)

    @feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PromptServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        if not ls.is_prompt(uri):
            return  # a YAML file the root's include does not name: not ours
        if (path := ls.path_of(uri)) is not None:
            ls.index.add_prompt(uri, path)
        ls.runs.schedule(uri, 0)

    @feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PromptServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.runs.edited(params.text_document.uri)

    @feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: PromptServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.runs.schedule(params.text_document.uri, 0)
        await ls.watch.check_disk()

    @feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PromptServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.scheduler.cancel(uri)
        if (path := ls.path_of(uri)) is not None and path.is_file():
            ls.publisher.publish(uri)  # only workspace findings stay on a closed file
            ls.runs.schedule(uri, 0)  # back to the version on disk, for the workspace total
        else:
            ls.publisher.forget(uri)

    @feature(types.TEXT_DOCUMENT_INLAY_HINT)
    def inlay_hint(ls: PromptServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        uri = params.text_document.uri
        result, lines = ls.hint_result(uri), ls.current_lines(uri)
        if result is None or lines is None:
            return []
        return inlay_hints(result, lines, ls.workspace.position_codec, params.range, result.config.hints)

    @feature(types.TEXT_DOCUMENT_HOVER)
    async def on_hover(ls: PromptServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        result, lines = await ls.publisher.open_result(uri), ls.current_lines(uri)
        if result is None or lines is None:
            return None
        return hover.hover(result, lines, params.position, ls.workspace.position_codec)

    @feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[":", "/", " "]))
    def on_completion(ls: PromptServer, params: types.CompletionParams) -> types.CompletionList | None:
        uri = params.text_document.uri
        path, lines = ls.path_of(uri), ls.current_lines(uri)
        if path is None or lines is None or not ls.is_prompt(uri):
            return None
        config = ls.settings.config_for(path)
        return completion.complete(lines, params.position, ls.workspace.position_codec, path, config)

    @feature(types.TEXT_DOCUMENT_DOCUMENT_LINK)
    async def on_links(ls: PromptServer, params: types.DocumentLinkParams) -> list[types.DocumentLink]:
        result = await ls.publisher.open_result(params.text_document.uri)
        if result is None:
            return []
        return links.document_links(result, ls.workspace.position_codec, ls.supports_link_tooltips())

    @feature(types.TEXT_DOCUMENT_CODE_LENS)
    def on_code_lens(ls: PromptServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        return codelens.code_lenses(params.text_document.uri, ls.is_prompt(params.text_document.uri))

    @command(RECOUNT)
    async def recount(ls: PromptServer, *args: Any) -> None:
        uri = uri_param(list(args)) if args else ""
        await ls.watch.check_disk()
        for target in [uri] if uri else [u for u in ls.workspace.text_documents if ls.is_prompt(u)]:
            ls.runs.schedule(target, 0)

    @command(RECOUNT_WORKSPACE)
    def recount_workspace(ls: PromptServer, *args: Any) -> None:
        ls.runs.recount_all()

    @feature(FILE_STATUS)
    def file_status(ls: PromptServer, params: Any) -> dict[str, Any] | None:
        result = ls.docs.result(uri_param(params))
        return status.file_status(result) if result is not None else None

    @feature(types.SHUTDOWN)
    async def shutdown(ls: PromptServer, params: Any) -> None:
        await ls.shutdown_engine()

    if testhooks.enabled():
        @feature(testhooks.STATS)
        def stats(ls: PromptServer, params: Any) -> dict[str, Any]:
            return testhooks.stats(ls)


def uri_param(params: Any) -> str:
    """Custom requests arrive as namedtuples; commands may pass a bare string."""
    if isinstance(params, str):
        return params
    if isinstance(params, dict):
        return str(params.get("uri", ""))
    if isinstance(params, list | tuple) and params and not hasattr(params, "_fields"):
        return uri_param(params[0])
    return str(getattr(params, "uri", "") or "")
