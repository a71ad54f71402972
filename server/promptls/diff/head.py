"""The open buffer against `HEAD`, for the hover on the file total: "≈ +120 tokens, +$0.0004 per call vs HEAD".

HEAD's version of the file (and the attachments it names, at HEAD) is read with git and estimated in
a background thread, never on the event loop, and kept per file and HEAD commit: a hover only looks
the numbers up. The first hover after opening a file (or after a commit) starts the work and shows
nothing about HEAD; the next one has it. Both sides are offline estimates with the same correction,
so their difference is the edit's effect, not the estimator's error against an exact count.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..render.numbers import usd
from . import git
from .render import signed

log = logging.getLogger(__name__)

RECHECK_S = 2.0  # how long a HEAD lookup is trusted before git is asked again (a commit moves HEAD)
MAX_FILES = 256


@dataclass(frozen=True, slots=True)
class HeadSide:
    """HEAD's estimate of one file. `total` None: the file is not in HEAD (new)."""

    commit: str
    total: int | None
    model: str | None
    correction: float


@dataclass(slots=True)
class _Entry:
    side: HeadSide | None  # None: not in a git repository, or HEAD unreadable
    checked: float


class HeadBaselines:
    """HEAD's numbers per file, computed off the event loop."""

    def __init__(self) -> None:
        self._entries: dict[Path, _Entry] = {}
        self._pending: set[Path] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="promptls-head")

    def get(self, path: Path, config: Any, model: str | None) -> HeadSide | None:
        """The last known HEAD side (None until the background read finished); refreshes it when old."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(path)
            stale = entry is None or now - entry.checked > RECHECK_S
            if stale and path not in self._pending:
                self._pending.add(path)
                self._pool.submit(self._refresh, path, config, model, entry.side if entry else None)
        return entry.side if entry else None

    def _refresh(self, path: Path, config: Any, model: str | None, old: HeadSide | None) -> None:
        side = old
        try:
            side = head_side(path, config, model, old)
        except git.GitError:
            side = None
        except Exception:  # a hover must never take the server down
            log.exception("reading %s at HEAD failed", path)
            side = None
        finally:
            with self._lock:
                self._pending.discard(path)
                self._entries[path] = _Entry(side, time.monotonic())
                while len(self._entries) > MAX_FILES:
                    self._entries.pop(next(iter(self._entries)))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Tests and shutdown: wait until no refresh is running."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.01)
        return False


def _correction(model: str | None) -> float:
    if not model:
        return 1.0
    try:
        from ..counting.cache import CountCache

        cache = CountCache()  # the server's cache file: the same learnt correction as the buffer's estimate
        try:
            return float(cache.correction(model))
        finally:
            cache.close()
    except Exception:
        return 1.0


def head_side(path: Path, config: Any, model: str | None, old: HeadSide | None = None) -> HeadSide | None:
    """Estimate `path` as HEAD has it (None outside a repository or before the first commit)."""
    from .. import catalog
    from ..engine import analyze_text, estimate_counts, read_prompt_file
    from .revision import Revision

    repo = git.toplevel(path)
    commit = git.commit_of(repo, "HEAD")
    if commit is None:
        return None
    correction = _correction(model)
    if old is not None and old.commit == commit and old.correction == correction:
        return old
    if not path.resolve().is_relative_to(repo):  # a link out of the repository: nothing to compare
        return None
    rel = path.resolve().relative_to(repo).as_posix()
    with Revision(repo, commit) as rev:
        if not rev.has(rel):
            return HeadSide(commit, None, None, correction)
        root = config.root.resolve()
        root_rel = root.relative_to(repo).as_posix() if root.is_relative_to(repo) else ""
        head_root = rev.path(root_rel) if root_rel not in ("", ".") else rev.root
        dest, _ = rev.materialize_prompt(rel, config.default_model or catalog.DEFAULT_MODEL)
        if dest is None:
            return HeadSide(commit, None, None, correction)
        text, _ = read_prompt_file(dest)
        if text is None:
            return HeadSide(commit, 0, None, correction)
        analysis = analyze_text(text, dest, replace(config, root=head_root))
        counts = estimate_counts(analysis, config, correction)
        return HeadSide(commit, counts.total if counts else 0, analysis.info.id if analysis.info else None, correction)


_baselines: HeadBaselines | None = None


def baselines() -> HeadBaselines:
    global _baselines
    if _baselines is None:
        _baselines = HeadBaselines()
    return _baselines


def hover_lines(result: Any) -> list[str]:
    """Markdown lines comparing the open buffer with HEAD (empty until HEAD has been read, and outside git)."""
    report = result.report
    if report.model is None or getattr(result, "version", None) is None:
        return []  # only an open buffer has something to compare
    from .. import catalog

    side = baselines().get(result.path, result.config, report.model)
    if side is None:
        return []
    if side.total is None:
        return ["", "New file: not in `HEAD`"]
    estimate = getattr(result, "estimate", None)
    mine = estimate.total if estimate is not None else report.total
    info = catalog.resolve(report.model, result.config.models)
    head_info = catalog.resolve(side.model, result.config.models) if side.model else None
    delta = mine - side.total
    cost = None
    if info is not None and head_info is not None:
        cost = catalog.cost_usd(info, mine) - catalog.cost_usd(head_info, side.total)
    if delta == 0 and not cost:
        return ["", "Same as `HEAD`"]
    line = f"≈ {signed(delta)} tokens"
    if cost is not None:
        line += f", {_signed_usd(cost)} per call"
    line += " vs `HEAD`"
    if head_info is not None and info is not None and head_info.id != info.id:
        line += f" (HEAD uses `{head_info.id}`)"
    return ["", line]


def _signed_usd(amount: float) -> str:
    if amount == 0:
        return "$0"
    shown = usd(abs(amount))
    return ("+" if amount > 0 else "-") + ("<$0.0001" if shown == "$0.0000" else shown)
