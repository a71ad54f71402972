"""A persistent memo of the offline estimator's text counts, so unchanged text is not tokenized twice.

The native tokenizer counts at ≥ 10 MB/s, so the memo's worth is elsewhere now: a run whose texts
are all remembered (a warm `promptls count`, a server restart) never loads a vocabulary, and where
the extension is not built (pure ctok, ~0.3 MB/s) it still saves tens of seconds per workspace.
Counts are keyed by a digest of (tokenizer, text) and stored in SQLite next to the count_tokens
cache (`PROMPTLS_CACHE_DIR` or the user cache directory). Only digests and integers are stored. Any
trouble (read-only directory, corrupt or locked file) turns the store into a no-op: estimates then
cost what they cost without it, nothing fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("promptls.textcache")

FILE_NAME = "text-counts.sqlite3"
MAX_ROWS = 1_000_000
FLUSH_EVERY = 500


def text_key(tokenizer: str, text: str) -> bytes:
    return hashlib.blake2b(f"{tokenizer}\0{text}".encode("utf-8", "surrogatepass"), digest_size=16).digest()


class TextCountStore:
    """get/put of content-token counts; writes are batched and flushed every FLUSH_EVERY puts and on
    `flush()`. Safe to share between threads (one connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._pending: dict[bytes, int] = {}
        self._db: sqlite3.Connection | None = None
        try:
            self._db = self._open()
        except (sqlite3.Error, OSError) as exc:
            self._recover(exc)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=2.0, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS counts (key BLOB PRIMARY KEY, tokens INTEGER NOT NULL)")
        db.execute("SELECT count(*) FROM counts WHERE rowid = 1").fetchone()  # fails now if corrupt
        return db

    def _recover(self, exc: BaseException) -> None:
        """A corrupt file is moved aside and recreated once; anything else disables the store."""
        if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in str(exc) or "malformed" in str(exc)):
            try:
                self.path.replace(self.path.with_suffix(".corrupt"))
                self._db = self._open()
                return
            except (sqlite3.Error, OSError):
                pass
        log.warning("text count cache disabled (%s): estimates will not be remembered", type(exc).__name__)
        self._db = None

    def get(self, key: bytes) -> int | None:
        with self._lock:
            if key in self._pending:
                return self._pending[key]
            if self._db is None:
                return None
            try:
                row = self._db.execute("SELECT tokens FROM counts WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error as exc:
                self._recover(exc)
                return None
        return row[0] if row else None

    def put(self, key: bytes, tokens: int) -> None:
        with self._lock:
            if self._db is None:
                return
            self._pending[key] = tokens
            if len(self._pending) < FLUSH_EVERY:
                return
        self.flush()

    def flush(self) -> None:
        with self._lock:
            if self._db is None or not self._pending:
                return
            rows, self._pending = list(self._pending.items()), {}
            try:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO counts (key, tokens) VALUES (?, ?)", rows)
                excess = self._db.execute("SELECT max(rowid) - ? FROM counts", (MAX_ROWS,)).fetchone()[0]
                if excess and excess > 0:
                    self._db.execute("DELETE FROM counts WHERE rowid <= ?", (excess,))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                log.info("text count cache write skipped (%s)", type(exc).__name__)

    def close(self) -> None:
        self.flush()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def open_default() -> TextCountStore:
    """The store beside the count_tokens cache (same directory rules)."""
    from .cache import default_cache_path

    return TextCountStore(default_cache_path().parent / FILE_NAME)
