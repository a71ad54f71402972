"""A minimal LSP client over stdio with raw JSON-RPC framing, for timing real server processes.

Raw framing (rather than pygls' client) keeps the measured path short and identical for every
server: a message is time-stamped the moment its bytes are parsed. Server-to-client requests are
answered from `configuration` (workspace/configuration) or with null (registrations, progress,
refresh), so any server that asks its client for things keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Capabilities of a modern editor: push diagnostics, inlay hints with refresh, progress, configuration.
CAPABILITIES: dict[str, Any] = {
    "workspace": {"configuration": True, "workspaceFolders": True,
                  "inlayHint": {"refreshSupport": True},
                  "didChangeConfiguration": {"dynamicRegistration": True}},
    "textDocument": {"synchronization": {"didSave": True},
                     "publishDiagnostics": {"relatedInformation": True, "versionSupport": True},
                     "inlayHint": {"dynamicRegistration": False},
                     "hover": {"contentFormat": ["markdown", "plaintext"]}},
    "window": {"workDoneProgress": True},
}


class LspError(Exception):
    """The server answered a request with an error, died, or did not answer in time."""


class LspClient:
    """One server process. Notifications are kept in `events` as (monotonic time, method, params)."""

    def __init__(self, cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
                 configuration: Callable[[str], Any] | None = None) -> None:
        self.cmd, self.cwd, self.env = cmd, cwd, env
        self.configuration = configuration or (lambda section: None)
        self.proc: asyncio.subprocess.Process | None = None
        self.events: list[tuple[float, str, Any]] = []
        self.changed = asyncio.Event()
        self.spawned_at = 0.0
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        self.spawned_at = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            *self.cmd, cwd=self.cwd, env={**os.environ, **(self.env or {})},
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            limit=64 * 1024 * 1024)
        self._reader = asyncio.create_task(self._read())

    async def initialize(self, root: Path, options: Any = None, timeout: float = 60.0) -> dict[str, Any]:
        result = await self.request("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(), "rootPath": str(root),
            "capabilities": CAPABILITIES, "initializationOptions": options,
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}]}, timeout)
        self.notify("initialized", {})
        return result

    async def stop(self) -> None:
        """shutdown + exit, then kill the process if it lingers."""
        if self.proc is None:
            return
        with contextlib.suppress(LspError, ConnectionError):
            await self.request("shutdown", None, timeout=5)
            self.notify("exit", None)
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()

    # -- messages -----------------------------------------------------------------------------------

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}, separators=(",", ":")).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def notify(self, method: str, params: Any) -> None:
        self._write({"method": method, "params": params})

    async def request(self, method: str, params: Any, timeout: float = 30.0) -> Any:
        rid = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        self._write({"id": rid, "method": method, "params": params})
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise LspError(f"{method}: no answer within {timeout}s") from None
        finally:
            self._pending.pop(rid, None)

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        try:
            while True:
                length = 0
                while (line := await out.readline()) not in (b"\r\n", b"\n"):
                    if not line:
                        raise ConnectionError("server closed its stdout")
                    name, _, value = line.decode("ascii").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                self._dispatch(json.loads(await out.readexactly(length)))
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(LspError(f"server exited: {exc}"))

    def _dispatch(self, msg: dict[str, Any]) -> None:
        now = time.monotonic()
        if "method" not in msg:
            future = self._pending.get(msg.get("id"))
            if future is not None and not future.done():
                if "error" in msg:
                    future.set_exception(LspError(str(msg["error"])))
                else:
                    future.set_result(msg.get("result"))
            return
        method, params = msg["method"], msg.get("params")
        if "id" in msg:
            result: Any = None
            if method == "workspace/configuration":
                result = [self.configuration(item.get("section", "")) for item in params["items"]]
            self._write({"id": msg["id"], "result": result})
        self.events.append((now, method, params))
        self.changed.set()

    # -- waiting ------------------------------------------------------------------------------------

    async def wait_event(self, predicate: Callable[[str, Any], bool], *, since: int = 0,
                         timeout: float = 60.0) -> tuple[float, Any]:
        """The first notification at index ≥ `since` that satisfies `predicate`: (arrival time, params)."""
        seen = since
        async with asyncio.timeout(timeout):
            while True:
                for t, method, params in self.events[seen:]:
                    if predicate(method, params):
                        return t, params
                seen = len(self.events)
                self.changed.clear()
                await self.changed.wait()

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = path.as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yaml", "version": version, "text": text}})
        return uri

    def close(self, uri: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def diagnostics_for(uri: str, wanted: Callable[[list[dict[str, Any]]], bool] = bool
                    ) -> Callable[[str, Any], bool]:
    """A predicate for `wait_event`: publishDiagnostics for `uri` whose list satisfies `wanted`."""
    return lambda method, params: (method == "textDocument/publishDiagnostics" and params["uri"] == uri
                                   and wanted(params["diagnostics"]))


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) of a live process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a live process has used (from /proc): unlike wall time, barely moved by
    other work on a shared machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None
