"""The offline estimator: every part of a count_tokens request, without the API.

Text goes through ctok (exact for text on its held-out corpora); images through the published
28-px patch rule (`promptls.vision`) at the model's tier; PDFs, tools, turns and documents through
the framing model in `framing.py`. Each estimate splits into text tokens, which the per-model
`correction` learnt from exact counts scales, and fixed tokens (frames, overheads, images), which
it does not. The one-message frame is attributed to no part: it is the `overhead`.

Text is counted whole, exactly as ctok counts it (`tokenizer.py`: natively at ≥ 10 MB/s where the
extension is built, else ctok itself), and memoised per text, so the LSP re-estimating a
200-message file on a keystroke counts only the message that changed.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import io
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..catalog import ModelInfo
from ..model import Attachment, CountRequest, Counts, Part, PartCount
from . import framing, tokenizer
from .textcache import TextCountStore, text_key

# The memo holds what an edit re-estimates (every text of the open files); counting is native, so
# it need not hold a whole workspace. Texts past _SHORT_KEY_CHARS are keyed by their store digest.
_SHORT_KEY_CHARS = 64
_CACHE_ENTRIES = 8_192
_HEADER_B64_CHARS = 65_536
_MAX_DECODE_B64_CHARS = 48 * 1024 * 1024


@dataclass(slots=True)
class Est:
    """Tokens of one piece: `text` is scaled by calibration, `fixed` is not."""

    text: int = 0
    fixed: int = 0

    def __add__(self, other: Est) -> Est:
        return Est(self.text + other.text, self.fixed + other.fixed)

    def final(self, correction: float) -> int:
        return max(0, round(self.text * correction)) + self.fixed


# ---------------------------------------------------------------------------------------------------
# text


class _LRU:
    """A small thread-safe LRU (the LSP may estimate from worker threads)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


_TEXT_CACHE = _LRU(_CACHE_ENTRIES)
_SIZE_CACHE = _LRU(4_096)
_PDF_CACHE = _LRU(256)


def clear_caches() -> None:
    """Forget memoised counts (tests; a long-running server never needs to)."""
    for cache in (_TEXT_CACHE, _SIZE_CACHE, _PDF_CACHE):
        cache.clear()


@functools.cache
def message_frame(version: str) -> int:
    """ctok's one-user-message frame for this tokenizer (v3: 7, v4.7: 11, v4.8: 6). Kept in the
    store too, so a run whose texts are all remembered never loads a vocabulary."""
    key = text_key(version, "\0message-frame")
    if _STORE is not None and (n := _STORE.get(key)) is not None:
        return n
    n = tokenizer.message_frame(version)
    if _STORE is not None:
        _STORE.put(key, n)
    return n


def warm_up(tokenizers: Iterable[str] = ("3.0",)) -> None:
    """Load the tokenizer's vocabularies before the first estimate needs them (natively ~0.1 s,
    pure ctok ~0.7 s each); the server calls this in a worker thread at start-up."""
    for version in tokenizers:
        tokenizer.content_tokens("a", version)


def _heuristic(text: str, tokenizer: str) -> int:
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / framing.BYTES_PER_TOKEN.get(tokenizer, 3.5))


_STORE: TextCountStore | None = None


def use_store(store: TextCountStore | None) -> None:
    """Remember text counts across runs in `store` (the CLI and the server open one; tests don't)."""
    global _STORE
    _STORE = store


def flush_store() -> None:
    """Write remembered counts now (end of a CLI run, server shutdown)."""
    if _STORE is not None:
        _STORE.flush()


def _count(text: str, version: str) -> int:
    """Content tokens of one piece of text, memoised by (text or its digest, tokenizer) in memory
    and, when a store is in use, on disk."""
    short = len(text) <= _SHORT_KEY_CHARS
    key: Any = (text, version) if short else text_key(version, text)
    hit = _TEXT_CACHE.get(key)
    if hit is not None:
        return hit
    store = _STORE
    stored_key = (text_key(version, text) if short else key) if store is not None else b""
    n = store.get(stored_key) if store is not None else None
    if n is None:
        try:
            n = tokenizer.content_tokens(text, version)
        except Exception:  # an unknown tokenizer version from a config, or a future regression: never fail
            n = _heuristic(text, version)
        if store is not None:
            store.put(stored_key, n)
    _TEXT_CACHE.put(key, n)
    return n


def text_tokens(text: str, tokenizer: str) -> int:
    """Content tokens of `text` as Claude's `tokenizer` generation counts them: ctok's count of the
    whole text without the message frame. Texts past what one request may carry
    (`framing.HUGE_TEXT_CHARS`, which the API refuses anyway) are sized by bytes instead."""
    if not text:
        return 0
    if len(text) > framing.HUGE_TEXT_CHARS:
        return _heuristic(text, tokenizer)
    return _count(text, tokenizer)


def _as_text(value: Any) -> str:
    """A value as the text the model sees: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return str(value)


def _text(value: Any, info: ModelInfo) -> Est:
    return Est(text=text_tokens(_as_text(value), info.tokenizer))


# ---------------------------------------------------------------------------------------------------
# images and PDFs


def _b64_prefix_size(data: str) -> tuple[int, int] | None:
    """Pixel size from base64 image data, decoding only the header when it can. Keyed by the
    prefix: the size is read from it."""
    head = data[:_HEADER_B64_CHARS]
    key = (len(data), hashlib.blake2b(head.encode("ascii", "replace"), digest_size=16).digest())
    hit = _SIZE_CACHE.get(key)
    if hit is not None:
        return hit or None
    from PIL import Image

    size: tuple[int, int] | None = None
    candidates = [head[: len(head) // 4 * 4]]
    if len(data) > len(head) and len(data) <= _MAX_DECODE_B64_CHARS:
        candidates.append(data)
    for chunk in candidates:
        try:
            with Image.open(io.BytesIO(base64.b64decode(chunk))) as img:
                size = img.size
            break
        except (binascii.Error, ValueError, OSError, Image.DecompressionBombError):
            continue
    _SIZE_CACHE.put(key, size or ())
    return size


def _image_size(block: Mapping[str, Any], att: Attachment | None) -> tuple[int, int] | None:
    if att is not None and att.width and att.height:
        return att.width, att.height
    source = block.get("source")
    if isinstance(source, Mapping) and source.get("type") == "base64" and isinstance(source.get("data"), str):
        return _b64_prefix_size(source["data"])
    return None


def _image(block: Mapping[str, Any], info: ModelInfo, att: Attachment | None) -> Est:
    from .. import vision

    size = _image_size(block, att)
    if size is None:
        return Est(fixed=vision.TIERS[info.image_tier].max_tokens + framing.IMAGE_FRAME)
    return Est(fixed=vision.image_tokens(size[0], size[1], info.image_tier)[0] + framing.IMAGE_FRAME)


def _pdf_facts(data: str) -> tuple[int | None, str]:
    """(pages, extracted text) of base64 PDF data written inline (attachments come measured)."""
    key = hashlib.blake2b(data.encode("ascii", "replace"), digest_size=16).digest()
    hit = _PDF_CACHE.get(key)
    if hit is not None:
        return hit
    facts: tuple[int | None, str] = (None, "")
    if len(data) <= _MAX_DECODE_B64_CHARS:
        try:
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(base64.b64decode(data)))
            texts = (page.extract_text() or "" for page in reader.pages)
            facts = (len(reader.pages), "\n".join(t for t in texts if t.strip()))
        except Exception:  # pypdf raises many types on damaged input; an estimate must not fail
            facts = (None, "")
    _PDF_CACHE.put(key, facts)
    return facts


def _pdf(pages: int | None, text: str, info: ModelInfo) -> Est:
    if not pages:
        pages = framing.UNKNOWN_PDF_PAGES
        known_text = Est(fixed=pages * framing.PDF_TEXT_TOKENS_PER_PAGE) if not text else Est()
    else:
        known_text = Est()
    image = pages * framing.PDF_PAGE_IMAGE_TOKENS.get(info.image_tier, framing.PDF_PAGE_IMAGE_TOKENS["standard"])
    return Est(text=text_tokens(text, info.tokenizer), fixed=image) + known_text


def _document(block: Mapping[str, Any], info: ModelInfo, att: Attachment | None) -> Est:
    est = Est(fixed=framing.DOCUMENT_FRAME)
    for key in ("title", "context"):
        if block.get(key):
            est += _text(block[key], info)
    source = block.get("source")
    source = source if isinstance(source, Mapping) else {}
    kind = source.get("type")
    if att is not None and att.kind == "pdf":
        return est + _pdf(att.pages, att.text or "", info)
    if att is not None and att.kind == "text":
        return est + _text(att.text or "", info)
    if kind == "text":
        return est + _text(source.get("data", ""), info)
    if kind == "content":
        content = source.get("content", "")
        if isinstance(content, list):
            return est + sum((_block(b, info, current_turn=False) for b in content), Est())
        return est + _text(content, info)
    if kind == "base64" and isinstance(source.get("data"), str):
        if source.get("media_type", "application/pdf") == "application/pdf":
            pages, text = _pdf_facts(source["data"])
            return est + _pdf(pages, text, info)
        return est + _text(source["data"], info)
    return est + _pdf(None, "", info)  # url / file source: size unknown


# ---------------------------------------------------------------------------------------------------
# blocks, messages, tools


def _block(block: Any, info: ModelInfo, *, current_turn: bool, att: Attachment | None = None) -> Est:
    """One content block. Never raises: anything unrecognised is counted as its JSON text."""
    if isinstance(block, str):
        return _text(block, info)
    if not isinstance(block, Mapping):
        return _text(block, info)
    kind = block.get("type")
    if kind == "text":
        return _text(block.get("text", ""), info)
    if kind == "image":
        return _image(block, info, att)
    if kind == "document":
        return _document(block, info, att)
    if kind == "tool_use" or kind == "server_tool_use":
        return _text(block.get("name", ""), info) + _text(block.get("input", {}), info) \
            + Est(fixed=framing.TOOL_USE_FRAME)
    if kind == "tool_result":
        content = block.get("content", "")
        inner = (sum((_block(b, info, current_turn=False) for b in content), Est())
                 if isinstance(content, list) else _text(content, info))
        return inner + Est(fixed=framing.TOOL_RESULT_FRAME)
    if kind == "thinking":
        # Thinking from earlier assistant turns is dropped by the API; the current turn's counts.
        return _text(block.get("thinking", ""), info) if current_turn else Est()
    if kind == "redacted_thinking":
        data = block.get("data", "")
        return Est(text=_heuristic(data, info.tokenizer)) if current_turn and isinstance(data, str) else Est()
    rest = {k: v for k, v in block.items() if k not in ("type", "cache_control", "citations")}
    return _text(rest, info)


def _content_blocks(message: Any) -> list[Any]:
    content = message.get("content") if isinstance(message, Mapping) else None
    if isinstance(content, list):
        return content
    return [] if content is None else [content]


def _current_turn_start(messages: list[Any]) -> int:
    """Index after the last user message that is more than tool results: what follows is the
    assistant turn being generated, whose thinking is counted."""
    start = 0
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        blocks = _content_blocks(message)
        if not blocks or any(not (isinstance(b, Mapping) and b.get("type") == "tool_result") for b in blocks):
            start = i + 1
    return start


def _tool(tool: Any, info: ModelInfo) -> Est:
    """One tool definition: name, description and compact input_schema, each as text (framing.py)."""
    if not isinstance(tool, Mapping):
        return _text(tool, info)
    kind = str(tool.get("type") or "custom")
    if kind != "custom" and "input_schema" not in tool:
        for prefix, tokens in framing.ANTHROPIC_TOOL_TOKENS.items():
            if kind.startswith(prefix):
                return Est(fixed=tokens)
        return _text({k: v for k, v in tool.items() if k != "cache_control"}, info)
    est = Est(fixed=framing.TOOL_FRAME)
    for key in ("name", "description"):
        if tool.get(key):
            est += _text(tool[key], info)
    if "input_schema" in tool:
        est += _text(tool["input_schema"], info)
    return est


def _system(system: Any, info: ModelInfo) -> Est:
    if system is None:
        return Est()
    if isinstance(system, list):
        est = Est()
        for block in system:
            est += _text(block.get("text", "") if isinstance(block, Mapping) else block, info)
        return est + Est(fixed=framing.SYSTEM_FRAME)
    return _text(system, info) + Est(fixed=framing.SYSTEM_FRAME)


def _thinking(config: Any) -> Est:
    if isinstance(config, Mapping) and config.get("type") in ("enabled", "adaptive"):
        return Est(fixed=framing.THINKING_CONFIG_TOKENS)
    return Est()


# ---------------------------------------------------------------------------------------------------
# the request


def estimate(request: CountRequest, info: ModelInfo, correction: float = 1.0) -> Counts:
    """Estimated tokens for every part of `request` and its total (all `exact=False`).

    Top-level parts + overhead = total; overhead holds what belongs to no part (the message
    frame, and any piece of the body no part stands for). `correction` scales text tokens only.
    """
    body = request.body if isinstance(request.body, Mapping) else {}
    if not math.isfinite(correction) or correction <= 0:
        correction = 1.0
    by_fragment: dict[int, Part] = {id(p.fragment): p for p in request.parts if p.parent is not None}
    child_est: dict[str, Est] = {}

    messages = body.get("messages")
    messages = messages if isinstance(messages, list) else []
    current_from = _current_turn_start(messages)
    message_est: list[Est] = []
    previous_role: str | None = None
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, Mapping) else None
        est = Est(fixed=framing.turn_frame(str(role), previous_role))
        previous_role = str(role)
        current = i >= current_from and role == "assistant"
        for block in _content_blocks(message):
            part = by_fragment.get(id(block))
            block_est = _block(block, info, current_turn=current, att=part.attachment if part else None)
            if part is not None:
                child_est[part.id] = block_est
            est += block_est
        message_est.append(est)

    tools = body.get("tools")
    tools = tools if isinstance(tools, list) else []
    tools_est = Est()
    for tool in tools:
        one = _tool(tool, info)
        part = by_fragment.get(id(tool))
        if part is not None:
            child_est[part.id] = one
        tools_est += one
    if tools:
        tools_est += Est(fixed=info.tool_overhead(body.get("tool_choice")
                                                  if isinstance(body.get("tool_choice"), Mapping) else None))

    pieces: dict[str, Est] = {"system": _system(body.get("system"), info), "tools": tools_est,
                              "thinking": _thinking(body.get("thinking"))}
    pieces.update({f"messages[{i}]": est for i, est in enumerate(message_est)})

    parts: dict[str, PartCount] = {}
    claimed: set[str] = set()
    top_total = 0
    for part in request.parts:
        if part.parent is None:
            if part.id in pieces and part.id not in claimed:
                est = pieces[part.id]
                claimed.add(part.id)
            else:  # a part the body does not hold as we know it: count its fragment
                est = _fallback(part, info)
            tokens = est.final(correction)
            top_total += tokens
        else:
            known = child_est.get(part.id)
            est = known if known is not None else _fallback(part, info)
            tokens = est.final(correction)
        parts[part.id] = PartCount(tokens, exact=False)

    unclaimed = Est(fixed=message_frame(info.tokenizer))
    for key, est in pieces.items():
        if key not in claimed:
            unclaimed += est
    overhead = unclaimed.final(correction)
    return Counts(total=top_total + overhead, exact=False, parts=parts, source="estimate")


def _fallback(part: Part, info: ModelInfo) -> Est:
    """A part whose fragment was not found in the body: estimate the fragment on its own."""
    fragment = part.fragment
    if part.kind == "tool":
        return _tool(fragment, info)
    if part.kind == "tools":
        return sum((_tool(t, info) for t in fragment), Est()) if isinstance(fragment, list) else _text(fragment, info)
    if part.kind == "system":
        return _system(fragment, info)
    if part.kind == "thinking":
        return _thinking(fragment)
    if part.kind == "message":
        return sum((_block(b, info, current_turn=False) for b in _content_blocks(fragment)), Est())
    if isinstance(fragment, Mapping):
        return _block(fragment, info, current_turn=False, att=part.attachment)
    return _text(fragment, info) if fragment is not None else Est()


def overhead_of(counts: Counts, request: CountRequest) -> int:
    """Total minus the top-level parts: what the UI shows as overhead."""
    return counts.total - sum(counts.parts[p.id].tokens for p in request.top_parts if p.id in counts.parts)
