"""Settings: `promptls.toml` (or pyproject) per root, the editor's `promptls` section over it,
then the command line / trust over both.

The editor's section is pulled per workspace folder (`workspace/configuration` with `scopeUri`), so
VS Code's folder settings apply to that folder only; a root outside every folder gets the unscoped
answer (or `initializationOptions.promptls` from clients that cannot be asked). A value of the
wrong shape is ignored and shown to the user once (`window/showMessage`), never dropped silently.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris
from pygls.lsp.server import LanguageServer

from ..config import Config, find_root, load_config
from ..model import Finding, Mode

SECTION = "promptls"
CONFIG_FILES = ("promptls.toml", "pyproject.toml")
log = logging.getLogger(__name__)

Section = dict[str, Any]


class Settings:
    def __init__(self, mode_override: Mode | None = None) -> None:
        self.mode_override = mode_override
        self.trusted = True
        self.editor: Section = {}  # unscoped: initializationOptions, or the answer without a folder
        self.folders: dict[Path, Section] = {}  # per workspace folder
        self.api_limits: dict[str, dict[str, int]] = {}  # windows from the Models API, under the config
        self._roots: dict[Path, tuple[Config, list[Finding]]] = {}
        self._root_of: dict[Path, Path] = {}
        self._shown: set[str] = set()  # messages about bad editor values already shown

    @property
    def offline_only(self) -> bool:
        return not self.trusted or self.mode_override == "offline"

    def read_initialization_options(self, options: Any) -> None:
        if isinstance(options, dict):
            if options.get("trusted") is False:
                self.trusted = False
            if isinstance(options.get(SECTION), dict):
                self.editor = dict(options[SECTION])

    async def pull(self, ls: LanguageServer) -> None:
        """Ask the client for the `promptls` section of every workspace folder (when it can answer)
        and forget cached configs; bad values become one visible message each."""
        ws = ls.client_capabilities.workspace
        if ws and ws.configuration:
            folders = [(f.uri, p) for f in ls.workspace.folders.values() if (p := _path(f.uri)) is not None]
            items = [types.ConfigurationItem(section=SECTION, scope_uri=uri) for uri, _ in folders]
            try:
                answers = await ls.workspace_configuration_async(types.ConfigurationParams(
                    items=[types.ConfigurationItem(section=SECTION), *items]))
                sections = [s if isinstance(s := _plain(a), dict) else {} for a in answers]
                self.editor = sections[0] if sections else {}
                self.folders = {path: section for (_, path), section in zip(folders, sections[1:], strict=False)}
            except Exception as exc:  # a client that fails this request must not stop counting
                log.warning("workspace/configuration failed: %s", exc)
        self.invalidate()
        self.report_problems(ls)

    def report_problems(self, ls: LanguageServer) -> None:
        problems = sorted({p for section in (self.editor, *self.folders.values())
                           for p in Config(root=Path.cwd()).apply_editor(section)[1]})
        fresh = [p for p in problems if p not in self._shown]
        self._shown = set(problems)
        if fresh:
            ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Warning, message="promptls: " + "; ".join(fresh)))

    def invalidate(self) -> None:
        self._roots.clear()
        self._root_of.clear()

    def root_of(self, path: Path) -> Path:
        """The project root of `path` (memoised: it stats markers up the tree)."""
        parent = path.parent
        if (root := self._root_of.get(parent)) is None:
            root = self._root_of[parent] = find_root(path)
        return root

    def config_for(self, path: Path) -> Config:
        return self.root_config(self.root_of(path))[0]

    def editor_section(self, root: Path) -> Section:
        """The folder's answer for the innermost workspace folder holding `root`, else the unscoped one."""
        holders = [f for f in self.folders if root == f or root.is_relative_to(f)]
        return self.folders[max(holders, key=lambda f: len(f.parts))] if holders else self.editor

    def root_config(self, root: Path) -> tuple[Config, list[Finding]]:
        """The merged config of a root and the findings of its config file (cached until invalidated)."""
        if root not in self._roots:
            try:
                cfg, findings = load_config(root)
            except Exception:
                log.exception("reading the configuration of %s failed", root)
                cfg, findings = Config(root=root), []
            cfg = cfg.with_editor_settings(self.editor_section(root))
            if self.api_limits:
                from ..pipeline import with_model_limits

                cfg = with_model_limits(cfg, self.api_limits)
            if self.offline_only:
                cfg = cfg.with_mode("offline")
            elif self.mode_override:
                cfg = cfg.with_mode(self.mode_override)
            self._roots[root] = (cfg, findings)
        return self._roots[root]

    def known_roots(self) -> list[Path]:
        return list(self._roots)


def _path(uri: str) -> Path | None:
    fs = uris.to_fs_path(uri)
    return Path(fs).resolve() if fs else None


def _plain(value: Any) -> Any:
    """Configuration answers may arrive as namedtuples (pygls' fallback for untyped JSON)."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
