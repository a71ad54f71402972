"""Prompt files of a workspace, which attachments each one reads, and the workspace total."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from .budget import workspace_findings
from .config import Config
from .model import FileReport, WorkspaceReport

PROMPT_SUFFIXES = (".prompt.yaml", ".prompt.yml")


def is_prompt_file(path: Path | str) -> bool:
    return str(path).endswith(PROMPT_SUFFIXES)


def discover(paths: Iterable[Path], exclude: Iterable[str] = Config.__dataclass_fields__["exclude"].default
             ) -> Iterator[Path]:
    """Prompt files under the given files or folders, sorted, each once; skips excluded folder names."""
    skip = set(exclude)
    seen: set[Path] = set()
    for root in paths:
        if root.is_file():
            candidates: Iterable[Path] = [root]
        else:
            found = []
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if d not in skip)
                found.extend(Path(dirpath) / f for f in sorted(filenames) if is_prompt_file(f))
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

    def update(self, prompt: Path, attachments: Iterable[Path]) -> None:
        prompt = prompt.resolve()
        new = {a.resolve() for a in attachments}
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


def summarize(reports: list[FileReport], config: Config) -> WorkspaceReport:
    findings = workspace_findings(reports, config)
    by_path = {}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    for r in reports:
        r.findings.extend(by_path.get(r.path, []))
    return WorkspaceReport(
        files=reports, total=sum(r.total for r in reports), exact=all(r.exact for r in reports) and bool(reports),
        budget=config.workspace_budget, findings=findings,
        requests=sum(r.requests for r in reports), cache_hits=sum(r.cache_hits for r in reports))
