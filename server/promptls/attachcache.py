"""The attachment load cache: the language server loads attachments on every keystroke.

Keyed by (resolved path, mtime, size, inode), bounded in entries and bytes, shared by threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from .limits import MiB
from .model import Attachment

CACHE_MAX_ENTRIES = 64
CACHE_MAX_BYTES = 256 * MiB

CacheKey = tuple[str, int, int, int]
_cache: OrderedDict[CacheKey, Attachment] = OrderedDict()
_cache_bytes = 0
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached load (tests; a workspace reload)."""
    global _cache_bytes
    with _cache_lock:
        _cache.clear()
        _cache_bytes = 0



def _weight(att: Attachment) -> int:
    return len(att.data or b"") + len(att.text or "")


def cache_get(key: CacheKey, *, need_bytes: bool) -> Attachment | None:
    with _cache_lock:
        hit = _cache.get(key)
        if hit is None or (need_bytes and hit.kind is not None and hit.data is None):
            return None
        _cache.move_to_end(key)
        return hit


def cache_put(key: CacheKey, att: Attachment) -> None:
    global _cache_bytes
    with _cache_lock:
        old = _cache.pop(key, None)
        if old is not None:
            _cache_bytes -= _weight(old)
        _cache[key] = att
        _cache_bytes += _weight(att)
        while len(_cache) > 1 and (len(_cache) > CACHE_MAX_ENTRIES or _cache_bytes > CACHE_MAX_BYTES):
            _, evicted = _cache.popitem(last=False)
            _cache_bytes -= _weight(evicted)
