"""Which prompt files exist, which files each one reads, and what changed on disk since we looked.

The stat snapshot lets the server notice edits without client file watching (Neovim on Linux):
polling costs one `stat` per tracked file and reads nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..model import FileReport
from ..workspace import AttachmentIndex, discover
from .state import DocResult, Stamp

if TYPE_CHECKING:
    from ..config import Config
    from ..engine import Analysis


class Found(NamedTuple):
    """A prompt file as discovery sees it (computed in the engine thread: resolve and stat are syscalls)."""

    path: Path
    resolved: Path
    stamp: Stamp


def stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class WorkspaceIndex:
    def __init__(self) -> None:
        self.prompts: dict[str, Path] = {}  # uri -> path of every prompt file we know
        self._uri_of: dict[Path, str] = {}
        self._attachments = AttachmentIndex()
        self._stamps: dict[Path, Stamp] = {}
        self._resolved: dict[Path, Path] = {}  # prompt path -> resolved (taken once, at discovery)

    @staticmethod
    def discover(folders: list[Path], config_for: Callable[[Path], Config]) -> list[Found]:
        """Every prompt file under `folders`, each once: those matching the `include` globs of the
        folder's root, outside its `exclude` (engine thread)."""
        out: list[Found] = []
        seen: set[Path] = set()
        for folder in folders:
            config = config_for(folder / "x")
            for p in discover([folder], config.exclude, config.include, config.root):
                if (resolved := p.resolve()) not in seen:
                    seen.add(resolved)
                    out.append(Found(p, resolved, stamp(p)))
        return out

    @staticmethod
    def stamps(paths: Iterable[Path]) -> dict[Path, Stamp]:
        return {p: stamp(p) for p in paths}

    def add_prompt(self, uri: str, path: Path, found: Found | None = None) -> None:
        self.prompts[uri] = path
        resolved = self._resolved[path] = found.resolved if found else path.resolve()
        self._uri_of[resolved] = uri
        self._stamps.setdefault(path, found.stamp if found else stamp(path))

    def track(self, result: DocResult) -> None:
        """Remember the attachments of the latest analysis and the stat taken when it read them
        (`attachment_paths` gives them resolved)."""
        if self.prompts.get(result.uri) != result.path:
            self.add_prompt(result.uri, result.path)
        self._attachments.update(self._resolved[result.path], result.attachments, resolved=True)
        self._stamps.update(result.stamps)

    def untrack(self, uri: str) -> None:
        path = self.prompts.pop(uri, None)
        if path is not None:
            self._uri_of.pop(self._resolved.pop(path, None) or path.resolve(), None)
            self._attachments.remove(path)
            self._stamps.pop(path, None)

    def users_of(self, path: Path) -> list[str]:
        """URIs of the prompt files that read `path`."""
        return [uri for p in self._attachments.prompts_using(path) if (uri := self._uri_of.get(p))]

    def changed_files(self, extra: Iterable[Path] = ()) -> list[tuple[Path, bool]]:
        """(path, deleted) for every tracked file whose stat changed since the last call. Runs in the
        engine thread while the loop may track and untrack files: it works on snapshots."""
        live = self._attachments.attachments() | set(self.prompts.values())
        for path in extra:
            self._stamps.setdefault(path, stamp(path))
            live.add(path)
        changed = []
        for path in list(self._stamps):
            if path not in live and path.resolve() not in live:
                self._stamps.pop(path, None)
                continue
            now, before = stamp(path), self._stamps.get(path)
            if now != before and path in self._stamps:
                self._stamps[path] = now
                changed.append((path, now is None))
        return changed

    @staticmethod
    def attachment_paths(analysis: Analysis | None) -> frozenset[Path]:
        """Files an analysis read or tried to read (a missing file may appear later)."""
        if analysis is None or analysis.spec is None:
            return frozenset()
        base = analysis.path.parent
        out: set[Path] = set()
        refs = [a.ref for a in analysis.spec.attachments]
        for message in analysis.spec.messages:
            if isinstance(message.content, list):
                refs += [b.value for b in message.content if b.kind in ("image", "document")
                         and isinstance(b.value, str)]
        for ref in refs:
            if isinstance(ref, str) and ref and "://" not in ref and not ref.startswith("data:"):
                out.add((base / ref).resolve())
        if analysis.request is not None:
            out.update(p.attachment.resolved for p in analysis.request.parts
                       if p.attachment is not None and p.attachment.resolved is not None)
        return frozenset(out)


class Offline(NamedTuple):
    """What a worker process sends back for one file of the cold index: what a closed file's result
    keeps (`DocResult.closed`), small enough to pickle by the thousand."""

    report: FileReport
    first_line: str
    attachments: frozenset[Path]
    stamps: dict[Path, Stamp]
    countable: bool


_FIRST_BREAK = re.compile(r"\r\n|\r|\n")


def estimate_offline(job: tuple[Path, Config, str | None]) -> Offline:
    """In a worker (offline_pool.py): one file read from disk and estimated, as `Runs.estimate` does
    for a file that is not open; corrections are those of the endpoint named (None: none)."""
    from ..offline_pool import worker_cache
    from ..pipeline import analyze, estimate

    path, config, endpoint = job
    analysis = analyze(path, config)
    if isinstance(analysis, FileReport):
        return Offline(analysis, "", frozenset(), {}, False)
    estimated = estimate(analysis, config, worker_cache(endpoint) if endpoint is not None else None)
    attachments = WorkspaceIndex.attachment_paths(analysis)
    return Offline(estimated.report, _FIRST_BREAK.split(estimated.text, maxsplit=1)[0], attachments,
                   WorkspaceIndex.stamps([path, *attachments]), estimated.countable)
