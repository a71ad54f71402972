"""Prompt files of a workspace, which attachments each one reads, and the workspace total."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from .budget import workspace_findings
from .config import Config
from .model import FileReport, Finding, WorkspaceReport

PROMPT_SUFFIXES = (".prompt.yaml", ".prompt.yml")
DEFAULT_INCLUDE: tuple[str, ...] = Config.__dataclass_fields__["include"].default
DEFAULT_EXCLUDE: tuple[str, ...] = Config.__dataclass_fields__["exclude"].default


@functools.lru_cache(maxsize=256)
def _glob_regex(glob: str) -> re.Pattern[str]:
    """A glob as `include` uses it: `**` any folders (also none), `*` and `?` within one name. A
    pattern without `/` matches the file name in any folder."""
    if "/" not in glob:
        glob = "**/" + glob
    out = ""
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out + r"\Z")


def matches_include(rel_path: str, include: Iterable[str] = DEFAULT_INCLUDE) -> bool:
    """True when the path (relative to the root, `/`-separated) matches one of the include globs."""
    rel_path = rel_path.replace(os.sep, "/").lstrip("/")
    return any(_glob_regex(g).match(rel_path) for g in include)


def is_prompt_file(path: Path | str, include: Iterable[str] = DEFAULT_INCLUDE, root: Path | None = None) -> bool:
    include = tuple(include)
    if include == DEFAULT_INCLUDE:
        return str(path).endswith(PROMPT_SUFFIXES)
    rel = Path(path)
    if root is not None:
        try:
            rel = rel.resolve().relative_to(root.resolve())
        except (ValueError, OSError):
            rel = Path(rel.name)
    return matches_include(rel.as_posix(), include)


def discover(paths: Iterable[Path], exclude: Iterable[str] = DEFAULT_EXCLUDE,
             include: Iterable[str] = DEFAULT_INCLUDE, root: Path | None = None) -> Iterator[Path]:
    """Prompt files under the given files or folders (those matching `include`, relative to `root`),
    sorted, each once; skips excluded folder names. A file named explicitly is always taken."""
    skip = set(exclude)
    include = tuple(include)
    seen: set[Path] = set()
    for start in paths:
        if start.is_file():
            candidates: Iterable[Path] = [start]
        else:
            base = (root or start).resolve()
            found = []
            for dirpath, dirnames, filenames in os.walk(start):
                dirnames[:] = sorted(d for d in dirnames if d not in skip)
                for f in sorted(filenames):
                    full = Path(dirpath) / f
                    if include == DEFAULT_INCLUDE:
                        ok = f.endswith(PROMPT_SUFFIXES)
                    else:
                        try:
                            rel = full.resolve().relative_to(base).as_posix()
                        except ValueError:
                            rel = f
                        ok = matches_include(rel, include)
                    if ok:
                        found.append(full)
            candidates = found
        for path in candidates:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                yield path


class AttachmentIndex:
    """Reverse index: attachment file -> prompt files that read it (to recount on change)."""

    def __init__(self) -> None:
        self._by_prompt: dict[Path, set[Path]] = {}
        self._by_attachment: dict[Path, set[Path]] = {}

    def update(self, prompt: Path, attachments: Iterable[Path], resolved: bool = False) -> None:
        """`resolved`: the caller passes resolved paths (`Path.resolve` is most of a call's cost)."""
        if not resolved:
            prompt, attachments = prompt.resolve(), [a.resolve() for a in attachments]
        new = set(attachments)
        for old in self._by_prompt.get(prompt, set()) - new:
            users = self._by_attachment.get(old)
            if users:
                users.discard(prompt)
                if not users:
                    del self._by_attachment[old]
        for a in new:
            self._by_attachment.setdefault(a, set()).add(prompt)
        self._by_prompt[prompt] = new

    def remove(self, prompt: Path) -> None:
        self.update(prompt, [])
        self._by_prompt.pop(prompt.resolve(), None)

    def prompts_using(self, attachment: Path) -> set[Path]:
        return set(self._by_attachment.get(attachment.resolve(), set()))

    def attachments(self) -> set[Path]:
        return set(self._by_attachment)


def summarize(reports: list[FileReport], config: Config, config_findings: Iterable[Finding] = ()
              ) -> WorkspaceReport:
    """The workspace total and the findings about the workspace as a whole (the workspace budget, a
    broken promptls.toml): each once, in `WorkspaceReport.findings`, not copied into every file."""
    findings = [*config_findings, *workspace_findings(reports, config)]
    for r in reports:
        r.findings.sort(key=lambda f: f.span.start)
    return WorkspaceReport(
        files=reports, total=sum(r.total for r in reports), exact=all(r.exact for r in reports) and bool(reports),
        budget=config.workspace_budget, findings=findings,
        requests=sum(r.requests for r in reports), cache_hits=sum(r.cache_hits for r in reports))
