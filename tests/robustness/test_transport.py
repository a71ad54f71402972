"""The server's stdio transport (issue 11, items 9 and 10): after a bad Content-Length or binary garbage it
reads on from the next header instead of going deaf, and every request gets a response: ParseError,
InvalidRequest, InvalidParams, and InvalidRequest after `shutdown`, as JSON-RPC and LSP ask."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptls.lsp.transport import Framer

WAIT_S = 30.0


class RawClient:
    """The server over pipes, written to byte by byte as a broken client would."""

    def __init__(self, tmp_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "PROMPTLS_"))}
        env.update({"PROMPTLS_CACHE_DIR": str(tmp_path / "cache"), "PROMPTLS_USER_CONFIG": str(tmp_path / "u.toml"),
                    "PROMPTLS_TEST_HOOKS": "1"})  # promptls/_stats
        self.proc = subprocess.Popen([sys.executable, "-m", "promptls", "serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        framer = Framer()
        while chunk := self.proc.stdout.read1(65536):
            for body in framer.feed(chunk):
                self.messages.put(json.loads(body))

    def raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict[str, Any], length: int | None = None) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.raw(b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body)

    def response(self, msg_id: int | None) -> dict[str, Any]:
        """The response with `msg_id` (notifications and requests from the server are skipped)."""
        while True:
            try:
                message = self.messages.get(timeout=WAIT_S)
            except queue.Empty:
                raise AssertionError(f"no response with id {msg_id} within {WAIT_S}s: the server went deaf") from None
            if "method" not in message and message.get("id") == msg_id:
                return message

    def request(self, msg_id: int, method: str, params: Any = None) -> dict[str, Any]:
        self.send({"id": msg_id, "method": method, "params": params})
        return self.response(msg_id)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[RawClient]:
    c = RawClient(tmp_path)
    init = c.request(1, "initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
    assert "capabilities" in init["result"]
    c.send({"method": "initialized", "params": {}})
    yield c
    if c.proc.poll() is None:
        c.proc.kill()
    c.proc.wait(timeout=10)


STATS = "promptls/_stats"


def test_server_reads_on_after_framing_errors(client: RawClient) -> None:
    """Each kind of broken frame, then a request that must still be answered."""
    breakers = {
        "binary garbage": lambda: client.raw(b"\x00\xff\xfe\x89PNG\r\n\x1a\n garbage without a header \xc3\x28"),
        "Content-Length too long": lambda: client.send({"method": "$/noop"}, length=400),
        "Content-Length too short": lambda: client.send({"method": "$/noop", "params": {"x": 1}}, length=10),
        "Content-Length not a number": lambda: client.raw(b"Content-Length: twelve\r\n\r\n{}"),
        "Content-Length absurd": lambda: client.raw(b"Content-Length: 99999999999999\r\n\r\n{}"),
        "header without a length": lambda: client.raw(b"Content-Type: application/json\r\n\r\n{\"a\": 1}"),
    }
    for i, (what, breaker) in enumerate(breakers.items(), start=10):
        breaker()
        answer = client.request(i, STATS, {})
        assert "result" in answer, f"after {what}: {answer}"
    assert client.proc.poll() is None


def test_every_request_gets_an_answer(client: RawClient, tmp_path: Path) -> None:
    client.raw(b"Content-Length: 9\r\n\r\n{not json")
    assert client.response(None)["error"]["code"] == -32700  # ParseError, id null

    client.send({"id": 20, "method": "textDocument/hover", "params": {"textDocument": 5, "position": "top"}})
    error = client.response(20)["error"]
    assert error["code"] == -32602 and "textDocument/hover" in error["message"]  # InvalidParams

    client.raw(b'Content-Length: 29\r\n\r\n{"id": 21, "method": "hover"}')  # no "jsonrpc": not a 2.0 request
    assert client.response(21)["error"]["code"] == -32600

    client.raw(b"Content-Length: 6\r\n\r\n[1, 2]")  # a batch: LSP has none
    assert client.response(None)["error"]["code"] == -32600

    uri = (tmp_path / "a.prompt.yaml").as_uri()
    hover = {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}
    assert client.request(22, "textDocument/hover", hover).get("error") is None  # still serving

    assert client.request(30, "shutdown")["result"] is None
    second = client.request(31, "shutdown")
    assert second["error"]["code"] == -32600  # InvalidRequest: already shut down
    after = client.request(32, "textDocument/hover", hover)
    assert after["error"]["code"] == -32600 and "shut down" in after["error"]["message"]
    client.send({"method": "exit"})
    assert client.proc.wait(timeout=WAIT_S) == 0


def test_exit_without_shutdown_is_code_1(client: RawClient) -> None:
    client.send({"method": "exit"})
    assert client.proc.wait(timeout=WAIT_S) == 1


def test_framer_survives_any_split_of_the_stream() -> None:
    """The same damaged stream fed whole, byte by byte and in odd chunks gives the same messages."""
    def frame(obj: Any, length: int | None = None) -> bytes:
        body = json.dumps(obj).encode()
        return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body

    stream = b"".join([frame({"a": 1}), frame({"b": 2}, 100), frame({"c": "\u00e9\r\n"}), b"\x00\xffjunk",
                       frame({"d": 4}, 3), frame({"e": 5}), b"content-length: 7\r\nContent-Type: x\r\n\r\n",
                       frame({"f": 6})])
    results = []
    for size in (len(stream), 1, 7, 64):
        framer, messages = Framer(), []
        for i in range(0, len(stream), size):
            for body in framer.feed(stream[i:i + size]):
                try:
                    messages.append(json.loads(body))
                except ValueError:
                    framer.push_back(body)  # what the server does with a body that is not JSON
        results.append(messages)
    assert all(r == results[0] for r in results)
    assert results[0] == [{"a": 1}, {"c": "\u00e9\r\n"}, {"e": 5}, {"f": 6}]
