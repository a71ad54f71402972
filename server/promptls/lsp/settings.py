"""Settings: `promptls.toml` (or pyproject) per root, the editor's `promptls` section over it,
then the command line / trust over both."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from ..config import Config, find_root, load_config
from ..model import Finding

SECTION = "promptls"
CONFIG_FILES = ("promptls.toml", "pyproject.toml")
log = logging.getLogger(__name__)


class Settings:
    def __init__(self, mode_override: str | None = None) -> None:
        self.mode_override = mode_override
        self.trusted = True
        self.editor: dict[str, Any] = {}
        self.api_limits: dict[str, dict[str, int]] = {}  # windows from the Models API, under the config
        self._roots: dict[Path, tuple[Config, list[Finding]]] = {}

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
        """Ask the client for the `promptls` section (when it can answer) and forget cached configs."""
        ws = ls.client_capabilities.workspace
        if ws and ws.configuration:
            try:
                (section,) = await ls.workspace_configuration_async(
                    types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)]))
                self.editor = _plain(section) if isinstance(_plain(section), dict) else {}
            except Exception as exc:  # a client that fails this request must not stop counting
                log.warning("workspace/configuration failed: %s", exc)
        self.invalidate()

    def invalidate(self) -> None:
        self._roots.clear()

    def root_of(self, path: Path) -> Path:
        return find_root(path)

    def config_for(self, path: Path) -> Config:
        return self.root_config(self.root_of(path))[0]

    def root_config(self, root: Path) -> tuple[Config, list[Finding]]:
        """The merged config of a root and the findings of its config file (cached until invalidated)."""
        if root not in self._roots:
            try:
                cfg, findings = load_config(root)
            except Exception:
                log.exception("reading the configuration of %s failed", root)
                cfg, findings = Config(root=root), []
            cfg = cfg.with_editor_settings(self.editor)
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

    def value(self, key: str, default: Any) -> Any:
        return self.editor.get(key, default)


def _plain(value: Any) -> Any:
    """Configuration answers may arrive as namedtuples (pygls' fallback for untyped JSON)."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
