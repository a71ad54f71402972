"""JSON-RPC over stdio that never goes deaf and answers every request.

pygls 2.1's reader (`pygls.io_.run_async`) takes a header only when a whole line is exactly
`Content-Length: N\\r\\n`. After one wrong Content-Length or some binary garbage, the next header is glued
to the tail of the previous body on one "line" and never recognised again: the server stays alive but
answers nothing. It also drops, without a reply, requests whose params do not fit their type, and
requests after `shutdown`. This module replaces the reader and wraps the protocol:

- `Framer` resynchronises on the next `Content-Length:` header after any framing error. A header may
  stand anywhere; a claimed body that holds a raw `Content-Length: N\\r\\n` (impossible inside valid JSON,
  whose strings cannot hold a raw CR LF) is a lie, and reading restarts at that header; a body that is
  not JSON is given back (`push_back`), so a header it swallowed is found again.
- `PromptProtocol` (a pygls `LanguageServerProtocol`) answers a body that is not JSON with ParseError,
  a request that is not JSON-RPC with InvalidRequest, wrong-typed params with InvalidParams, and any
  request after `shutdown` (a second `shutdown` included) with InvalidRequest, as JSON-RPC and LSP ask.
- `serve_stdio` is the read loop; it stops at `exit` (code 0 after `shutdown`, else 1) or end of input.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest, JsonRpcParseError
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024 * 1024  # far above any real message (a 20 MB prompt file, escaped); a bigger claim is noise
MAX_HEADER = 8192
READ_CHUNK = 65536
_HEADER = re.compile(rb"content-length:", re.IGNORECASE)
_TRUE_HEADER = re.compile(rb"content-length:[ \t]*\d+\r\n", re.IGNORECASE)  # never inside valid JSON
_LENGTH = re.compile(rb"content-length:[ \t]*(\d+)[ \t]*$", re.IGNORECASE)


class Framer:
    """Bytes in, message bodies out; `errors` counts the framing errors it recovered from."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._checked = 0  # how far the pending body has been searched for a header (a big body arrives in pieces)
        self._lost = False  # between a framing error and the next good message: one warning per episode
        self.errors = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buf += data
        while True:
            body = self._next()
            if body is None:
                return
            yield body

    def _next(self) -> bytes | None:
        buf = self._buf
        start = _HEADER.search(buf)
        if start is None:
            keep = len(b"content-length:") - 1  # a header may be arriving in pieces
            if buf[:-keep].strip():
                self._error("bytes outside any message")
            self._drop(max(0, len(buf) - keep))
            return None
        if start.start():
            if buf[: start.start()].strip():
                self._error("bytes before a header")
            self._drop(start.start())
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEADER:
                self._skip_header("a header without an end")
            return None
        length = None
        for line in bytes(buf[:end]).split(b"\r\n"):
            if (m := _LENGTH.match(line)) is not None:
                length = int(m.group(1))
        if length is None or length > MAX_BODY:
            self._skip_header(f"a bad Content-Length ({bytes(buf[:min(end, 80)])!r})")
            return self._next()
        body_start = end + 4
        body_end = min(len(buf), body_start + length)
        lie = _TRUE_HEADER.search(buf, max(body_start, self._checked - 32), body_end)
        if lie is not None:
            self._error("a Content-Length longer than its message")
            self._drop(lie.start())
            return self._next()
        if len(buf) < body_start + length:
            self._checked = body_end
            return None
        body = bytes(buf[body_start: body_start + length])
        self._drop(body_start + length)
        self._lost = False
        return body

    def push_back(self, body: bytes) -> None:
        """A body that turned out not to be JSON: its Content-Length lied, so read it again as a stream
        (the next header may start inside it)."""
        self._buf[:0] = body
        self._checked = 0
        self._lost = True

    def _drop(self, n: int) -> None:
        del self._buf[:n]
        self._checked = 0

    def _skip_header(self, why: str) -> None:
        self._error(why)
        self._drop(len(b"content-length:"))

    def _error(self, why: str) -> None:
        if not self._lost:
            self._lost = True
            self.errors += 1
            log.warning("JSON-RPC framing error (%s); reading on from the next header", why)


class PromptProtocol(LanguageServerProtocol):
    """pygls' protocol, plus an answer for every request it would have dropped."""

    exited = False

    def handle_body(self, body: bytes) -> bool:
        """Parse, structure and dispatch one message body; any request that cannot be handled is answered.
        False when the body is not JSON at all (its framing is suspect)."""
        try:
            message = json.loads(body, object_hook=self.structure_message)
        except Exception as exc:  # not JSON, or params that do not fit: find out which, answer if asked
            return self._reject(body, exc)
        if not hasattr(message, "jsonrpc"):  # a JSON object that is no JSON-RPC message at all
            return self._reject(body, JsonRpcInvalidRequest("not a JSON-RPC 2.0 message"))
        self.handle_message(message)
        return True

    def handle_message(self, message: Any) -> None:
        if getattr(message, "method", None) == "exit":
            self.exited = True
        if self._shutdown and _is_request(message):
            self._send_response(message.id, error=JsonRpcInvalidRequest(
                f"the server is shut down: {message.method} refused (only exit is accepted)").to_response_error())
            return
        super().handle_message(message)

    def _reject(self, body: bytes, exc: Exception) -> bool:
        try:
            raw = json.loads(body)
        except ValueError:
            log.warning("JSON-RPC parse error: %s", exc)
            self._error(None, JsonRpcParseError("the message body is not valid JSON"))
            return False
        if not isinstance(raw, dict):
            self._error(None, JsonRpcInvalidRequest("a JSON-RPC message must be an object"))
            return True
        msg_id, method = raw.get("id"), raw.get("method")
        if not isinstance(msg_id, int | str) or isinstance(msg_id, bool):
            log.warning("dropped a notification or response that cannot be handled: %s", exc)
        elif raw.get("jsonrpc") != "2.0" or not isinstance(method, str):
            self._error(msg_id, JsonRpcInvalidRequest("not a JSON-RPC 2.0 request (jsonrpc, method)"))
        else:
            cause = exc.__cause__ or exc
            log.warning("invalid params for %s: %s", method, cause)
            self._error(msg_id, JsonRpcInvalidParams(f"invalid params for {method}: {_first_line(cause)}"))
        return True

    def _error(self, msg_id: int | str | None, error: JsonRpcException) -> None:
        if msg_id is None:  # JSON-RPC: "id": null when it could not be read
            self._send_data({"jsonrpc": "2.0", "id": None, "error": {"code": error.code, "message": error.message}})
        else:
            self._send_response(msg_id, error=error.to_response_error())


def _is_request(message: Any) -> bool:
    return getattr(message, "id", None) is not None and isinstance(getattr(message, "method", None), str)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def serve_stdio(server: LanguageServer, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """Serve `server` (created with `protocol_cls=PromptProtocol`) until `exit` or end of input; the exit code."""
    protocol = server.protocol
    assert isinstance(protocol, PromptProtocol)
    server._stop_event = stop = threading.Event()
    protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    reader: Any = stdin or sys.stdin.buffer  # read1: a buffered reader (BinaryIO does not declare it)

    async def loop() -> int:
        framer = Framer()
        io = asyncio.get_running_loop()
        while not stop.is_set():
            chunk = await io.run_in_executor(server.thread_pool, reader.read1, READ_CHUNK)
            if not chunk:
                break
            for body in framer.feed(chunk):
                try:
                    if not protocol.handle_body(body):
                        framer.push_back(body)
                except Exception as exc:  # the loop must outlive any one message
                    server.report_server_error(exc, JsonRpcException)
                if protocol.exited:
                    return 0 if protocol._shutdown else 1
            await asyncio.sleep(0)  # let the handlers of this chunk start before blocking on the next read
        return 0 if protocol._shutdown else 1

    try:
        return asyncio.run(loop())
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
        return 1
    except SystemExit:  # pygls' own `exit` handler may end the loop this way
        return 0 if protocol._shutdown else 1
    except KeyboardInterrupt:
        return 130
    finally:
        server.shutdown()

