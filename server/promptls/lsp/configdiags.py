"""Findings on the config files themselves (the user's config.toml, a repository's promptls.toml), shown
as diagnostics on those files: a key the repository may not set is ignored visibly, on its own line."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris

from ..model import Finding
from .diagnostics import to_diagnostics
from .positions import split_lines

log = logging.getLogger(__name__)


class ConfigDiagnostics:
    def __init__(self) -> None:
        self._shown: dict[Path, dict[str, list[types.Diagnostic]]] = {}  # root -> uri -> diagnostics

    def publish(self, ls: Any, root: Path, findings: list[Finding]) -> None:
        """Publish `findings` (a root's config findings) on their files; clear files that have none now."""
        by_file: dict[str, list[Finding]] = {}
        for f in findings:
            if f.path:
                by_file.setdefault(f.path, []).append(f)
        fresh: dict[str, list[types.Diagnostic]] = {}
        for path, found in by_file.items():
            try:
                lines = split_lines(Path(path).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                lines = [""]
            uri = uris.from_fs_path(path) or Path(path).as_uri()
            fresh[uri] = to_diagnostics(found, lines, ls.workspace.position_codec)
        old = self._shown.get(root, {})
        for uri in set(old) | set(fresh):
            if old.get(uri) != fresh.get(uri):
                ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                    uri=uri, diagnostics=fresh.get(uri, [])))
        self._shown[root] = fresh
