"""pytest-lsp harness: the real server process over stdio, driven with captured editor capabilities.

`lsp_session` starts one server per test in a fresh temporary workspace, with the capabilities of
VS Code or Neovim (parametrised), an isolated cache directory and no API key unless a test passes
one. `Session` wraps the client with the waits and views the tests need.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.conftest_api import fake_api  # noqa: F401  (re-exported fixture: the fake count_tokens endpoint)
from tests.fakeapi import CANARY_KEY, FakeAnthropic

SERVER = [sys.executable, "-m", "promptls.lsp"]
CLIENTS = ["visual_studio_code", "neovim"]
WAIT_S = 30.0  # a bound on a wait, not a sleep: generous so a loaded machine is not a failure


async def wait_until(predicate: Callable[[], Any], timeout: float = WAIT_S, what: str = "condition") -> None:
    """Poll instead of wait_for_notification: no race with messages that already arrived."""
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


def capabilities(name: str) -> types.ClientCapabilities:
    """Captured capabilities; `vscode-pull` adds what vscode-languageclient 11 declares for pull
    diagnostics (the 1.65 capture predates it)."""
    if name == "vscode-pull":
        caps = copy.deepcopy(client_capabilities("visual_studio_code"))
        caps.text_document.diagnostic = types.DiagnosticClientCapabilities(dynamic_registration=True)
        caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
        caps.workspace.inlay_hint = types.InlayHintWorkspaceClientCapabilities(refresh_support=True)
        return caps
    return client_capabilities(name)


class Session:
    def __init__(self, client: LanguageClient, root: Path, name: str) -> None:
        self.client = client
        self.root = root
        self.name = name
        self.published: list[tuple[str, int | None]] = []
        self.refreshes = 0
        self.diagnostic_refreshes = 0
        self.status_changes: list[str] = []
        self.registrations: list[types.Registration] = []
        self.versions: dict[str, int] = {}

    # -- documents
    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def open(self, rel: str, text: str | None = None) -> str:
        uri = self.uri(rel)
        text = (self.root / rel).read_text(encoding="utf-8") if text is None else text
        self.versions[uri] = 1
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="yaml", version=1, text=text)))
        return uri

    def change(self, uri: str, text: str) -> int:
        version = self.versions[uri] = self.versions[uri] + 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        return version

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))

    # -- views
    async def status(self, uri: str) -> dict[str, Any] | None:
        result = await self.client.protocol.send_request_async("promptls/fileStatus", {"uri": uri})
        return _plain(result)

    async def stats(self) -> dict[str, Any]:
        stats = _plain(await self.client.protocol.send_request_async("promptls/_stats", {}))
        stats["runs"] = {uri: n for uri, n in stats["runs"]}
        return stats

    async def wait_status(self, uri: str, predicate: Callable[[dict[str, Any]], bool], what: str,
                          timeout: float = WAIT_S) -> dict[str, Any]:
        """Ask `promptls/fileStatus` again after each `statusChanged` until `predicate` holds."""
        last: dict[str, Any] | None = None
        try:
            async with asyncio.timeout(timeout):
                while True:
                    seen = len(self.status_changes)
                    last = await self.status(uri)
                    if last is not None and predicate(last):
                        return last
                    while len(self.status_changes) == seen:
                        await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; last status {last}") from None

    async def hints(self, uri: str, start: int = 0, end: int = 10_000) -> list[tuple[int, int, str]]:
        hints = await self.client.text_document_inlay_hint_async(types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=start, character=0),
                              end=types.Position(line=end, character=0))))
        return [(h.position.line, h.position.character, h.label) for h in hints or []]

    def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        return list(self.client.diagnostics.get(uri, ()))

    def codes(self, uri: str) -> list[str]:
        return [str(d.code) for d in self.diagnostics(uri)]

    async def wait_diagnostics(self, uri: str, predicate: Callable[[list[types.Diagnostic]], bool],
                               what: str, timeout: float = WAIT_S) -> list[types.Diagnostic]:
        await wait_until(lambda: uri in self.client.diagnostics and predicate(self.diagnostics(uri)),
                         timeout, what)
        return self.diagnostics(uri)


def _plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


StartSession = Callable[..., Awaitable[Session]]


def api_env(fake: FakeAnthropic) -> dict[str, str]:
    """Environment that points the server's SDK at the fake endpoint."""
    return {"ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": CANARY_KEY}


@pytest.fixture(params=CLIENTS)
def client_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest_asyncio.fixture
async def lsp_session(client_name: str, tmp_path: Path) -> AsyncIterator[StartSession]:
    """A factory: `await lsp_session(files, settings=..., env=..., init_options=..., caps=...)`."""
    started: list[LanguageClient] = []

    async def start(files: dict[str, str | bytes] | None = None, *, settings: dict[str, Any] | None = None,
                    env: dict[str, str] | None = None, init_options: dict[str, Any] | None = None,
                    caps: str | None = None, args: tuple[str, ...] = ()) -> Session:
        root = tmp_path / "ws"
        root.mkdir(exist_ok=True)
        (root / ".git").mkdir(exist_ok=True)
        write(root, files or {})
        server_env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "PROMPTLS_"))}
        server_env.update({"XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1",
                           "PROMPTLS_CACHE_DIR": str(tmp_path / "promptls-cache"),
                           "PROMPTLS_USER_CONFIG": str(tmp_path / "user-config.toml"),
                           "PROMPTLS_TEST_HOOKS": "1"})  # promptls/_stats
        server_env.update(env or {})
        config = ClientServerConfig(server_command=[*SERVER, *args], server_env=server_env)
        client = await config.start()
        started.append(client)
        session = Session(client, root, caps or client_name)
        _instrument(client, session)
        if settings is not None:
            client.set_configuration({"promptls": settings})
        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities(caps or client_name),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="ws")],
            initialization_options=init_options))
        return session

    yield start
    for client in started:
        try:
            async with asyncio.timeout(3):
                await client.shutdown_session()
        except (TimeoutError, RuntimeError):
            if client._server is not None and client._server.returncode is None:
                client._server.kill()


@contextlib.asynccontextmanager
async def neovim_server(command: list[str], env: dict[str, str], root: Path, *, folder: str = "ws",
                        **init: Any) -> AsyncIterator[tuple[LanguageClient, Session]]:
    """`promptls serve` started by `command` (a shell line that redirects stderr, or starts it inside a
    checkout), initialised with Neovim's capabilities on `root`; killed on the way out."""
    client = await ClientServerConfig(server_command=command, server_env=env).start()
    try:
        session = Session(client, root, "neovim")
        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities("neovim"), root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=folder)], **init))
        yield client, session
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()


def _instrument(client: LanguageClient, session: Session) -> None:
    """Handlers pytest-lsp lacks, and a record of every diagnostics publication."""

    @client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)
    def on_hint_refresh(params: None) -> None:
        session.refreshes += 1

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(params: types.RegistrationParams) -> None:
        session.registrations.extend(params.registrations)

    @client.feature("promptls/statusChanged")
    def on_status(params: Any) -> None:
        session.status_changes.append(getattr(params, "uri", ""))

    default = client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams) -> None:
        session.published.append((params.uri, params.version))
        default(params)

    client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record

    default_refresh = client.protocol.fm.features[types.WORKSPACE_DIAGNOSTIC_REFRESH]

    def count_refresh(params: None) -> Any:
        session.diagnostic_refreshes += 1
        return default_refresh(params)

    client.protocol.fm.features[types.WORKSPACE_DIAGNOSTIC_REFRESH] = count_refresh
