"""Persistent cache of exact counts and the estimator's per-model calibration (SQLite).

Exact counts are keyed by a hash of (endpoint, model, canonical request JSON), so reopening a workspace
or re-running the CLI costs no API calls, and calibration is kept per (endpoint, model): what one
endpoint answered is never shown for another (endpoint.py). Values read back are validated (a count is
an integer in [0, MAX_TOKENS], a ratio finite and positive) and anything else is treated as missing.
The database lives in the user cache directory, uses WAL and a busy timeout so several servers and
CLIs can share it, and is bounded (least recently used rows are evicted). It never holds anything but
hashes and numbers: no request text, no key.
Failure is never fatal: a corrupt file is moved aside and recreated, an unwritable location or a
database that stays locked falls back to an in-memory cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import platformdirs

from ..limits import MAX_REQUEST_BYTES
from .endpoint import endpoint_id, resolve_base_url

log = logging.getLogger(__name__)

FILE_NAME = "counts.sqlite3"
MAX_ROWS = 200_000
BUSY_TIMEOUT_MS = 2000
CORRECTION_MIN, CORRECTION_MAX = 0.5, 2.0
# Recent exact counts weigh more than old ones once this many samples exist (exponential average).
CALIBRATION_WINDOW = 50
MAX_TOKENS = MAX_REQUEST_BYTES  # no token is shorter than a byte: a larger count was not from count_tokens

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
    key TEXT PRIMARY KEY,
    tokens INTEGER NOT NULL,
    last_used REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS counts_last_used ON counts(last_used);
CREATE TABLE IF NOT EXISTS endpoint_calibration (
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    n INTEGER NOT NULL,
    ratio REAL NOT NULL,
    abs_err_pct REAL NOT NULL,
    PRIMARY KEY (endpoint, model)
);
"""


def request_key(model: str, body: Any, endpoint: str) -> str:
    """sha256 of the endpoint identity, the model and the canonical JSON of the request body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{endpoint}\n{model}\n{canonical}".encode()).hexdigest()


def valid_tokens(value: Any) -> int | None:
    """`value` as a token count if it can be one (an int in [0, MAX_TOKENS]), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS:
        return value
    return None


def default_cache_path() -> Path:
    """`$PROMPTLS_CACHE_DIR/counts.sqlite3`, else the platform's user cache dir."""
    env = os.environ.get("PROMPTLS_CACHE_DIR")
    base = Path(env) if env else Path(platformdirs.user_cache_dir("promptls"))
    return base / FILE_NAME


class CountCache:
    """SQLite-backed count cache; `location` says where it really lives ("memory" after a fallback).

    Calibration is read and learned for `endpoint` (default: the one the environment names) unless a
    call names another; the API counter passes its own.
    """

    def __init__(self, path: Path | None = None, *, max_rows: int = MAX_ROWS, endpoint: str | None = None) -> None:
        if path is not None and path.is_dir():
            path = path / FILE_NAME
        self.endpoint = endpoint or endpoint_id(resolve_base_url())
        self.path = path or default_cache_path()
        self.max_rows = max_rows
        self.warning: str | None = None
        self.location = "memory"
        self._lock = threading.RLock()  # the engine may call from a worker thread; one statement at a time
        self._db = self._open()

    # -- opening and recovery ------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            db = self._connect(self.path)
            self.location = str(self.path)
            return db
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                return self._memory(f"cache at {self.path} is not usable ({exc}); using memory")
        self._move_aside()
        try:
            db = self._connect(self.path)
            self.location = str(self.path)
            self.warning = f"cache at {self.path} was corrupt; moved aside and recreated"
            log.warning("%s", self.warning)
            return db
        except sqlite3.DatabaseError as exc:
            return self._memory(f"cache at {self.path} could not be recreated ({exc}); using memory")

    def _connect(self, path: Path) -> sqlite3.Connection:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise sqlite3.OperationalError(f"cannot create {path.parent}: {exc.strerror}") from exc
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.execute("SELECT count(*) FROM counts").fetchone()
            db.execute("SELECT count(*) FROM endpoint_calibration").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _memory(self, why: str) -> sqlite3.Connection:
        self.warning = why
        log.warning("%s", why)
        self.location = "memory"
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        db.executescript(_SCHEMA)
        return db

    def _move_aside(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{self.path}{suffix}")
            if src.exists():
                with contextlib.suppress(OSError):
                    src.replace(Path(f"{self.path}.corrupt-{stamp}{suffix}"))

    def _recover(self, exc: sqlite3.Error) -> None:
        """Called when a query fails: corruption → recreate; anything else → memory."""
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        if self.location != "memory" and _is_corruption(exc):
            self._move_aside()
            self._db = self._open()
        else:
            self._db = self._memory(f"cache error ({exc}); using memory")

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Execute with one recovery attempt; a still-locked database is skipped (returns [])."""
        with self._lock:
            for attempt in range(2):
                try:
                    return self._db.execute(sql, params).fetchall()
                except sqlite3.Error as exc:
                    if _is_locked(exc):
                        log.debug("cache busy, skipped: %s", exc)
                        return []
                    if attempt:
                        return []
                    self._recover(exc)
            return []

    # -- counts --------------------------------------------------------------------------------

    def get(self, key: str) -> int | None:
        """The cached count, or None; a value no count_tokens answer can have is dropped as missing."""
        rows = self._run("SELECT tokens FROM counts WHERE key = ?", (key,))
        if not rows:
            return None
        tokens = valid_tokens(rows[0][0])
        if tokens is None:
            log.warning("cache: ignored an invalid count (%r)", rows[0][0])
            self._run("DELETE FROM counts WHERE key = ?", (key,))
            return None
        self._run("UPDATE counts SET last_used = ? WHERE key = ?", (time.time(), key))
        return tokens

    def put(self, key: str, tokens: int) -> None:
        self._run("INSERT OR REPLACE INTO counts (key, tokens, last_used) VALUES (?, ?, ?)",
                  (key, int(tokens), time.time()))
        rows = self._run("SELECT count(*) FROM counts")
        excess = (rows[0][0] - self.max_rows) if rows else 0
        if excess > 0:
            self._run("DELETE FROM counts WHERE key IN "
                      "(SELECT key FROM counts ORDER BY last_used LIMIT ?)", (excess,))

    def __len__(self) -> int:
        rows = self._run("SELECT count(*) FROM counts")
        return int(rows[0][0]) if rows else 0

    # -- calibration ---------------------------------------------------------------------------

    def record_calibration(self, model: str, exact: int, raw_estimate: int, shown_estimate: int, *,
                           endpoint: str | None = None) -> None:
        """Learn from one exact count: the ratio exact/raw estimate, and the shown estimate's error."""
        if exact <= 0 or raw_estimate <= 0:
            return
        ratio = exact / raw_estimate
        err = abs(shown_estimate - exact) / exact * 100.0
        # One statement, so concurrent processes never lose an update.
        self._run(
            "INSERT INTO endpoint_calibration (endpoint, model, n, ratio, abs_err_pct) VALUES (?, ?, 1, ?, ?) "
            "ON CONFLICT(endpoint, model) DO UPDATE SET n = n + 1, "
            "ratio = ratio + (excluded.ratio - ratio) / min(n + 1, ?), "
            "abs_err_pct = abs_err_pct + (excluded.abs_err_pct - abs_err_pct) / (n + 1)",
            (endpoint or self.endpoint, model, ratio, err, CALIBRATION_WINDOW))

    def correction(self, model: str, *, endpoint: str | None = None) -> float:
        """Factor to multiply the offline estimate by (1.0 when nothing valid is known yet)."""
        rows = self._run("SELECT ratio FROM endpoint_calibration WHERE endpoint = ? AND model = ?",
                         (endpoint or self.endpoint, model))
        ratio = rows[0][0] if rows else None
        if not isinstance(ratio, int | float) or isinstance(ratio, bool) or not math.isfinite(ratio) or ratio <= 0:
            return 1.0
        return min(CORRECTION_MAX, max(CORRECTION_MIN, float(ratio)))

    def calibration_report(self, *, endpoint: str | None = None) -> list[tuple[str, int, float]]:
        """(model, exact counts seen, mean absolute error of the shown estimate in %) per model; rows
        that are not numbers a real run could leave are left out."""
        rows = self._run("SELECT model, n, abs_err_pct FROM endpoint_calibration WHERE endpoint = ? "
                         "ORDER BY model", (endpoint or self.endpoint,))
        return [(str(m), n, float(e)) for m, n, e in rows
                if isinstance(n, int) and n > 0 and isinstance(e, int | float) and math.isfinite(e) and e >= 0]

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()


def _is_locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _is_corruption(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("not a database", "malformed", "corrupt", "disk image"))
