"""A local fake of POST /v1/messages/count_tokens, for tests only (loopback, ephemeral port).

It validates requests the way the API documents them (auth, headers, required fields, roles,
content blocks, media types, base64, url/file sources and server tools rejected, 32 MB limit,
tool_use/tool_result pairing) and answers with a deterministic count that is deliberately *not*
our estimator, so tests can tell an exact number from an estimate. Faults can be scripted
(a queue consumed one per request) or made permanent.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Recognisable so tests can grep every output for it; shaped like a real key on purpose.
CANARY_KEY = "sk-ant-api03-CANARY-do-not-leak-7f3a9c2e1b"
MAX_BODY = 32 * 1024 * 1024
PATH = "/v1/messages/count_tokens"
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
BLOCK_TYPES = ("text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking")
SERVER_TOOL_PREFIXES = ("web_search_", "web_fetch_", "code_execution_", "tool_search_")
TOP_LEVEL = {"model", "messages", "system", "tools", "tool_choice", "thinking", "output_config",
             "cache_control", "speed"}
IMAGE_TOKENS = 750
DOCUMENT_TOKENS = 1500
TOOLS_OVERHEAD = 300
FRAME = 3


@dataclass(slots=True)
class Fault:
    """One scripted misbehaviour: an HTTP status (with headers), a delay, a drop or bad JSON."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    malformed: bool = False
    message: str = "scripted fault"


ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
               500: "api_error", 529: "overloaded_error"}


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _check_base64(data: Any, what: str) -> bytes:
    if not isinstance(data, str) or not data:
        raise BadRequest(f"{what}: source.data must be a non-empty base64 string")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"{what}: source.data is not valid base64") from exc


def _block_tokens(block: Any, where: str) -> int:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        kind = block.get("type") if isinstance(block, dict) else type(block).__name__
        raise BadRequest(f"{where}: unsupported content block type {kind!r}")
    kind = block["type"]
    if kind == "text":
        text = block.get("text")
        if not isinstance(text, str) or not text:
            raise BadRequest(f"{where}: text content blocks must be non-empty")
        return _tokens(text)
    if kind in ("image", "document"):
        source = block.get("source")
        if not isinstance(source, dict):
            raise BadRequest(f"{where}.source: Field required")
        stype = source.get("type")
        if stype in ("url", "file"):
            raise BadRequest(f"{where}: {stype} sources are not supported by token counting; "
                             "send images and PDFs as base64")
        if kind == "image":
            if stype != "base64":
                raise BadRequest(f"{where}.source.type: must be base64")
            if source.get("media_type") not in IMAGE_TYPES:
                raise BadRequest(f"{where}.source.media_type: must be one of {', '.join(IMAGE_TYPES)}")
            _check_base64(source.get("data"), where)
            return IMAGE_TOKENS
        if stype == "base64":
            if source.get("media_type") != "application/pdf":
                raise BadRequest(f"{where}.source.media_type: must be application/pdf")
            if not _check_base64(source.get("data"), where).startswith(b"%PDF"):
                raise BadRequest(f"{where}: the PDF specified was not valid")
            return DOCUMENT_TOKENS
        if stype == "text":
            data = source.get("data")
            if not isinstance(data, str) or not data:
                raise BadRequest(f"{where}.source.data: must be a non-empty string")
            return 5 + _tokens(data)
        raise BadRequest(f"{where}.source.type: unsupported {stype!r}")
    if kind == "tool_use":
        if not all(isinstance(block.get(k), str) and block.get(k) for k in ("id", "name")):
            raise BadRequest(f"{where}: tool_use needs id and name")
        if not isinstance(block.get("input"), dict):
            raise BadRequest(f"{where}.input: must be an object")
        return 8 + _tokens(block["name"]) + _tokens(json.dumps(block["input"]))
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, str):
            return 4 + _tokens(content)
        return 4 + sum(_block_tokens(b, f"{where}.content") for b in content)
    return 0  # thinking from earlier turns is not counted


def count_request(body: Any, *, reject_prefill: bool = False) -> int:
    """Validate a count_tokens body; return its deterministic count or raise BadRequest."""
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    for key in ("model", "messages"):
        if key not in body:
            raise BadRequest(f"{key}: Field required")
    extra = set(body) - TOP_LEVEL
    if extra:
        raise BadRequest(f"{sorted(extra)[0]}: Extra inputs are not permitted")
    if not isinstance(body["model"], str) or not body["model"]:
        raise BadRequest("model: must be a non-empty string")
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: at least one message is required")
    total = FRAME
    system = body.get("system")
    if isinstance(system, str):
        total += 2 + _tokens(system)
    elif isinstance(system, list):
        total += 2 + sum(_block_tokens(b, "system") for b in system)
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise BadRequest("tools: must be a list")
        for i, tool in enumerate(tools):
            kind = tool.get("type", "") if isinstance(tool, dict) else ""
            if isinstance(kind, str) and kind.startswith(SERVER_TOOL_PREFIXES):
                raise BadRequest(f"tools.{i}: server tools are not supported by token counting")
            if not isinstance(tool, dict) or not tool.get("name") or "input_schema" not in tool:
                raise BadRequest(f"tools.{i}: name and input_schema are required")
        if tools:
            total += TOOLS_OVERHEAD + _tokens(json.dumps(tools, sort_keys=True))
    pending: list[str] = []
    for i, msg in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            raise BadRequest(f"{where}.role: must be 'user' or 'assistant'")
        if i == 0 and msg["role"] != "user":
            raise BadRequest("messages: first message must use the \"user\" role")
        content = msg.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        if not isinstance(blocks, list) or not blocks:
            raise BadRequest(f"{where}: all messages must have non-empty content")
        if isinstance(content, str) and not content:
            raise BadRequest(f"{where}: all messages must have non-empty content")
        results = [b.get("tool_use_id") for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        if msg["role"] == "user":
            unknown = [r for r in results if r not in pending]
            if unknown:
                raise BadRequest(f"{where}: unexpected tool_use_id found in tool_result blocks: {unknown[0]}. "
                                 "Each tool_result block must have a corresponding tool_use block in the "
                                 "previous message.")
            unanswered = [p for p in pending if p not in results]
            if unanswered:
                raise BadRequest(f"{where}: tool_use ids were found without tool_result blocks immediately "
                                 f"after: {unanswered[0]}")
            pending = []
        elif results:
            raise BadRequest(f"{where}: tool_result blocks are only allowed in user messages")
        else:
            pending = [str(b.get("id")) for b in blocks if isinstance(b, dict) and b.get("type") == "tool_use"]
        total += FRAME + sum(_block_tokens(b, f"{where}.content.{j}") for j, b in enumerate(blocks))
    if reject_prefill and messages[-1]["role"] == "assistant":
        raise BadRequest("This model does not support assistant message prefill. "
                         "The conversation must end with a user message.")
    return total


class _QuietServer(ThreadingHTTPServer):
    """Clients that time out or hang up mid-answer are expected here; don't print tracebacks."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class FakeAnthropic:
    """The fake endpoint. Start with `start()`, stop with `stop()`; `url` is the base URL for the SDK."""

    def __init__(self, key: str = CANARY_KEY) -> None:
        self.key = key
        self.reject_prefill = False
        self.requests = 0
        self.bodies: list[Any] = []
        self.headers: list[dict[str, str]] = []
        self.faults: deque[Fault] = deque()
        self.always: Fault | None = None
        self.models: list[dict[str, Any]] = []  # what GET /v1/models lists (empty: nothing to learn)
        self.log: list[tuple[float, Fault | None]] = []  # (monotonic arrival, fault played) per count request
        self.model_listings = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeAnthropic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def script(self, *faults: Fault) -> None:
        """Queue faults; each request consumes one (before any validation)."""
        self.faults.extend(faults)

    def reset_counters(self) -> None:
        with self._lock:
            self.requests = 0
            self.bodies.clear()
            self.headers.clear()
            self.log.clear()

    def _next_fault(self) -> Fault | None:
        with self._lock:
            self.requests += 1
            fault = self.faults.popleft() if self.faults else self.always
            self.log.append((time.monotonic(), fault))
            return fault

    def _authorized(self, h: BaseHTTPRequestHandler) -> bool:
        """Bearer (SDK 2.x) or x-api-key (curl, SDK 1.x) with the right key; else answers 401."""
        auth = h.headers.get("authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else h.headers.get("x-api-key")
        if key != self.key:
            self._send_error(h, 401, "authentication_error", "invalid x-api-key")
            return False
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve_models(self)

        return Handler

    def _send_json(self, h: BaseHTTPRequestHandler, status: int, payload: Any,
                   headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        rid = f"req_fake{next(self._ids):06d}"
        h.send_response(status)
        h.send_header("content-type", "application/json")
        h.send_header("request-id", rid)
        h.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _send_error(self, h: BaseHTTPRequestHandler, status: int, kind: str, message: str,
                    headers: dict[str, str] | None = None) -> None:
        payload = {"type": "error", "error": {"type": kind, "message": message},
                   "request_id": f"req_fake{next(self._ids):06d}"}
        self._send_json(h, status, payload, headers)

    def _serve_models(self, h: BaseHTTPRequestHandler) -> None:
        """GET /v1/models: the Models API listing (one page), counted apart from count_tokens requests."""
        if h.path.split("?")[0] != "/v1/models":
            self._send_error(h, 404, "not_found_error", "Not found")
            return
        if not self._authorized(h):
            return
        with self._lock:
            self.model_listings += 1
        data = [{"type": "model", "id": m["id"], "display_name": m["id"], "created_at": "2026-01-01T00:00:00Z",
                 "lifecycle": "active", "max_input_tokens": m.get("max_input_tokens"),
                 "max_tokens": m.get("max_tokens")} for m in self.models]
        self._send_json(h, 200, {"data": data, "has_more": False,
                                 "first_id": data[0]["id"] if data else None,
                                 "last_id": data[-1]["id"] if data else None})

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        fault = self._next_fault()
        if length > MAX_BODY:
            h.close_connection = True
            self._send_error(h, 413, "request_too_large", "Request exceeds the maximum allowed size of 32 MB")
            return
        raw = h.rfile.read(length)
        with self._lock:
            self.headers.append({k.lower(): v for k, v in h.headers.items()})
            try:
                self.bodies.append(json.loads(raw))
            except ValueError:
                self.bodies.append(None)
        if fault is not None and self._apply(h, fault):
            return
        if h.path.split("?")[0] != PATH:
            self._send_error(h, 404, "not_found_error", f"Not found: {h.path}")
            return
        if not self._authorized(h):
            return
        if not h.headers.get("anthropic-version"):
            self._send_error(h, 400, "invalid_request_error", "anthropic-version: header is required")
            return
        if not (h.headers.get("content-type") or "").startswith("application/json"):
            self._send_error(h, 400, "invalid_request_error", "content-type must be application/json")
            return
        try:
            body = json.loads(raw)
            tokens = count_request(body, reject_prefill=self.reject_prefill)
        except ValueError:
            self._send_error(h, 400, "invalid_request_error", "request body is not valid JSON")
            return
        except BadRequest as exc:
            self._send_error(h, exc.status, "invalid_request_error", str(exc))
            return
        self._send_json(h, 200, {"input_tokens": tokens})

    def _apply(self, h: BaseHTTPRequestHandler, fault: Fault) -> bool:
        """Play a fault; True when it produced the whole answer."""
        if fault.delay and self._stopping.wait(fault.delay):
            return True
        if fault.drop:
            h.send_response(200)
            h.send_header("content-type", "application/json")
            h.send_header("content-length", "100")
            h.end_headers()
            h.wfile.write(b'{"input_tok')
            h.wfile.flush()
            h.close_connection = True
            return True
        if fault.malformed:
            self._send_json(h, 200, None, raw=b'{"input_tokens": 12,,')
            return True
        if fault.status is not None:
            kind = ERROR_TYPES.get(fault.status, "api_error")
            self._send_error(h, fault.status, kind, fault.message, fault.headers)
            return True
        return False


# ---------------------------------------------------------------------------------------------------
# Hand-built requests and estimates (the shapes request.py and estimate.py produce), so API tests
# don't depend on the rest of the pipeline.

SERVER_OR_URL = ("url", "file")


def _rejected(fragment: Any) -> bool:
    if not isinstance(fragment, dict):
        return False
    source = fragment.get("source")
    if isinstance(source, dict) and source.get("type") in SERVER_OR_URL:
        return True
    return str(fragment.get("type", "")).startswith(SERVER_TOOL_PREFIXES)


def make_request(model: str = "claude-sonnet-4-6", *, system: Any = None, messages: list[dict[str, Any]],
                 tools: list[dict[str, Any]] | None = None, tool_choice: dict[str, Any] | None = None,
                 attachments: tuple[dict[str, Any], ...] = (), thinking: dict[str, Any] | None = None) -> Any:
    """A CountRequest with parts named as in docs/ARCHITECTURE.md (attachments go first in the
    first user message, blocks become `messages[i].content[j]`)."""
    from promptls.model import CountRequest, Part, Span

    span = Span.at(0)
    parts: list[Part] = []
    body: dict[str, Any] = {"model": model}
    if system is not None:
        body["system"] = system
        parts.append(Part("system", "system", "system", span, system))
    out_messages = []
    attached = False
    for i, msg in enumerate(messages):
        pid = f"messages[{i}]"
        content = msg["content"]
        kids: list[Part] = []
        if isinstance(content, list):
            kids = [Part(f"{pid}.content[{j}]", "block", "block", span, b, parent=pid, api_ok=not _rejected(b))
                    for j, b in enumerate(content)]
        if msg["role"] == "user" and attachments and not attached:
            attached = True
            att_parts = [Part(f"attachments[{k}]", "attachment", "attachment", span, b, parent=pid,
                              api_ok=not _rejected(b)) for k, b in enumerate(attachments)]
            content = list(attachments) + ([{"type": "text", "text": content}] if isinstance(content, str)
                                           else content)
            kids = att_parts + kids
        message = {"role": msg["role"], "content": content}
        parts.append(Part(pid, "message", pid, span, message, role=msg["role"],
                          api_ok=all(k.api_ok for k in kids)))
        parts.extend(kids)
        out_messages.append(message)
    body["messages"] = out_messages
    if tools:
        body["tools"] = tools
        kids = [Part(f"tools[{i}]", "tool", t.get("name", "tool"), span, t, parent="tools",
                     api_ok=not _rejected(t)) for i, t in enumerate(tools)]
        parts.append(Part("tools", "tools", "tools", span, tools, api_ok=all(k.api_ok for k in kids)))
        parts.extend(kids)
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    if thinking is not None:
        body["thinking"] = thinking
        parts.append(Part("thinking", "thinking", "thinking", span, thinking))
    return CountRequest(model, body, parts)


def rough_estimate(request: Any, scale: float = 1.0) -> Any:
    """A stand-in for the offline estimator: JSON length / 3 per part, never equal to the fake's count."""
    from promptls.model import Counts, PartCount

    parts = {p.id: PartCount(max(1, round(len(json.dumps(p.fragment)) / 3 * scale)), False)
             for p in request.parts}
    total = sum(parts[p.id].tokens for p in request.top_parts) + 11
    return Counts(total, False, parts)
