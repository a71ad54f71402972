"""Text tokens: ctok's count of a text, memoised in memory and (with a store) on disk, and `Est`.

Text is counted whole, exactly as ctok counts it (`tokenizer.py`: natively at ≥ 10 MB/s where the
extension is built, else ctok itself), and memoised per text, so the LSP re-estimating a
200-message file on a keystroke counts only the message that changed. `Est` keeps text tokens, which
calibration scales, apart from fixed ones (frames, overheads, images), which it does not.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..catalog import ModelInfo
from . import framing, tokenizer
from .textcache import TextCountStore, text_key

# The memo holds what an edit re-estimates (every text of the open files); counting is native, so
# it need not hold a whole workspace. Texts past _SHORT_KEY_CHARS are keyed by their store digest.
_SHORT_KEY_CHARS = 64
_CACHE_ENTRIES = 8_192


@dataclass(slots=True)
class Est:
    """Tokens of one piece: `text` is scaled by calibration, `fixed` is not."""

    text: int = 0
    fixed: int = 0

    def __add__(self, other: Est) -> Est:
        return Est(self.text + other.text, self.fixed + other.fixed)

    def final(self, correction: float) -> int:
        return max(0, round(self.text * correction)) + self.fixed


class LRU:
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


TEXT_CACHE = LRU(_CACHE_ENTRIES)


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


def heuristic(text: str, tokenizer: str) -> int:
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
    hit = TEXT_CACHE.get(key)
    if hit is not None:
        return hit
    store = _STORE
    stored_key = (text_key(version, text) if short else key) if store is not None else b""
    n = store.get(stored_key) if store is not None else None
    if n is None:
        try:
            n = tokenizer.content_tokens(text, version)
        except Exception:  # an unknown tokenizer version from a config, or a future regression: never fail
            n = heuristic(text, version)
        if store is not None:
            store.put(stored_key, n)
    TEXT_CACHE.put(key, n)
    return n


def text_tokens(text: str, tokenizer: str) -> int:
    """Content tokens of `text` as Claude's `tokenizer` generation counts them: ctok's count of the
    whole text without the message frame. Texts past what one request may carry
    (`framing.HUGE_TEXT_CHARS`, which the API refuses anyway) are sized by bytes instead."""
    if not text:
        return 0
    if len(text) > framing.HUGE_TEXT_CHARS:
        return heuristic(text, tokenizer)
    return _count(text, tokenizer)


def as_text(value: Any) -> str:
    """A value as the text the model sees: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return str(value)


def est_text(value: Any, info: ModelInfo) -> Est:
    return Est(text=text_tokens(as_text(value), info.tokenizer))
