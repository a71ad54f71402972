"""Settings: the user's config file, the workspace's `promptls.toml` or `[tool.promptls]`, editor settings.

Precedence (lowest first): built-in defaults, the user config file (userconfig.py), the workspace file,
the editor's `promptls` section, command-line flags. The workspace file is input, not authority: what it
may set is decided by `USER_ONLY` and `LOWER_ONLY` below. Bad values never stop promptls: they become
findings on the config file and the default is kept.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .model import Finding, Severity, Span

CONFIG_FILE = "promptls.toml"
ROOT_MARKERS = (CONFIG_FILE, "pyproject.toml", ".git")
MODES = ("auto", "api", "offline")
HINT_LEVELS = ("all", "totals", "off")


@dataclass(frozen=True, slots=True)
class GlobBudget:
    glob: str
    input_tokens: int

    def matches(self, rel_path: str) -> bool:
        return fnmatch.fnmatchcase(rel_path, self.glob) or fnmatch.fnmatchcase(Path(rel_path).name, self.glob)


@dataclass(frozen=True, slots=True)
class Config:
    root: Path
    default_model: str | None = None  # None: catalog.DEFAULT_MODEL
    mode: str = "auto"
    requests_per_minute: int = 50
    debounce_ms: int = 300
    budget: int | None = None  # default per-file input-token budget
    budgets: tuple[GlobBudget, ...] = ()
    workspace_budget: int | None = None
    allowed_roots: tuple[Path, ...] = ()
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    hints: str = "all"
    base_url: str | None = None  # from the user config only; ANTHROPIC_BASE_URL wins over it
    exclude: tuple[str, ...] = (".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "dist", "build")
    compare_models: tuple[str, ...] = ()  # hover on `model:` / `count --compare-models`; () = current lineup
    include: tuple[str, ...] = ("**/*.prompt.yaml", "**/*.prompt.yml")  # GitHub Models' prompt file names
    source: Path | None = None  # the file the settings came from

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def budgets_for(self, path: Path) -> list[GlobBudget]:
        rel = self.rel(path)
        return [b for b in self.budgets if b.matches(rel)]

    def with_editor_settings(self, settings: dict[str, Any] | None) -> Config:
        """Merge the editor's `promptls` section (camelCase keys) over this config."""
        if not settings:
            return self
        cfg, _ = _apply(self, _EDITOR_KEYS, settings, None)
        return cfg

    def with_mode(self, mode: str | None) -> Config:
        return replace(self, mode=mode) if mode in MODES else self


def find_root(path: Path) -> Path:
    """The nearest folder (from `path` upwards) holding promptls.toml, pyproject.toml or .git."""
    start = path if path.is_dir() else path.parent
    start = start.resolve()
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return start


# (file key, editor key, attribute, kind)
_FILE_KEYS = {
    "default_model": ("default_model", "str"),
    "model": ("default_model", "str"),
    "mode": ("mode", "mode"),
    "requests_per_minute": ("requests_per_minute", "posint"),
    "debounce_ms": ("debounce_ms", "nonneg"),
    "budget": ("budget", "posint"),
    "budgets": ("budgets", "budgets"),
    "workspace_budget": ("workspace_budget", "posint"),
    "allow_attachments_from": ("allowed_roots", "paths"),
    "models": ("models", "models"),
    "hints": ("hints", "hints"),
    "base_url": ("base_url", "str"),
    "exclude": ("exclude", "strlist"),
    "compare_models": ("compare_models", "strlist"),
    "include": ("include", "strlist"),
}
_EDITOR_KEYS = {
    "model": ("default_model", "str"),
    "mode": ("mode", "mode"),
    "requestsPerMinute": ("requests_per_minute", "posint"),
    "debounceMs": ("debounce_ms", "nonneg"),
    "budget": ("budget", "posint"),
    "budgets": ("budgets", "budgets"),
    "workspaceBudget": ("workspace_budget", "posint"),
    "hints": ("hints", "hints"),
    "compareModels": ("compare_models", "strlist"),
}


# Who may set what. Keys that decide where requests and the API key go, or what may be read outside
# the project root, come only from the user (environment, user config file, editor user settings, flags);
# found in a repository's file they are ignored with a finding. A repository may lower these, never raise.
USER_ONLY = {
    "base_url": "where requests and the API key go",
    "allow_attachments_from": "which folders outside the project may be read",
}
LOWER_ONLY = {"requests_per_minute": "requests_per_minute"}  # file key -> Config attribute


def load_config(root: Path) -> tuple[Config, list[Finding]]:
    """The user config file, then promptls.toml (preferred) or pyproject's [tool.promptls] under `root`."""
    from .userconfig import read_user_config

    root = root.resolve()
    base = Config(root=root)
    env_mode = os.environ.get("PROMPTLS_MODE")
    if env_mode in MODES:
        base = replace(base, mode=env_mode)
    user_table, user_file, user_findings = read_user_config()
    if user_table:
        base, found = _apply(base, _FILE_KEYS, user_table, user_file)
        user_findings += found
    base, findings = _load_repository(root, base)
    return base, user_findings + findings


def _load_repository(root: Path, base: Config) -> tuple[Config, list[Finding]]:
    for name, table_path in ((CONFIG_FILE, ()), ("pyproject.toml", ("tool", "promptls"))):
        file = root / name
        if not file.is_file():
            continue
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            return base, [_broken(file, "config-unreadable", f"cannot read {name}: {exc.__class__.__name__}",
                                  Span.at(0))]
        except tomllib.TOMLDecodeError as exc:
            # Python < 3.14 has no lineno attribute; the message ends "(at line L, column C)".
            m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            line, col = (int(m.group(1)) - 1, int(m.group(2)) - 1) if m else (0, 0)
            return base, [_broken(file, "config-syntax", f"{name}: {exc}", Span.at(line, col))]
        table: Any = raw
        for key in table_path:
            table = table.get(key) if isinstance(table, dict) else None
        if table is None:
            continue
        if not isinstance(table, dict):
            return base, [_finding(file, f"{'.'.join(table_path)} must be a table", Span.at(0))]
        cfg, findings = _apply_repository(replace(base, source=file), table, file)
        from .catalog import check_overrides  # the catalog is big; only needed when [models] is used

        for model_id, name, message in check_overrides(cfg.models):
            where = f"models.{model_id}" + (f".{name}" if name else "")
            findings.append(_finding(file, f"`{where}`: {message}; ignored", Span.at(0)))
        return cfg, findings
    return base, []


def _broken(file: Path, code: str, message: str, span: Span) -> Finding:
    """A config file promptls cannot read: an error (exit 2), since its budgets would silently not apply."""
    return Finding(code, f"{message}; no setting of this file applies", Severity.ERROR, span, path=str(file),
                   blocking=True)


def _finding(file: Path, message: str, span: Span) -> Finding:
    return Finding("config-invalid", message, Severity.WARNING, span, path=str(file))


def _apply_repository(base: Config, table: dict[str, Any], file: Path) -> tuple[Config, list[Finding]]:
    """Apply a repository's table under the trust rules: USER_ONLY keys dropped, LOWER_ONLY keys never raised."""
    from .userconfig import user_config_path

    user_file = user_config_path()
    findings: list[Finding] = []
    for key in table.keys() & USER_ONLY.keys():
        where = f"{user_file}" + (" or ANTHROPIC_BASE_URL" if key == "base_url" else "")
        findings.append(_trust_finding(file, key, f"`{key}` in {file.name} is ignored: a repository may not "
                                       f"choose {USER_ONLY[key]}; set it in {where}"))
    cfg, found = _apply(base, _FILE_KEYS, {k: v for k, v in table.items() if k not in USER_ONLY}, file)
    for key, attr in LOWER_ONLY.items():
        old, new = getattr(base, attr), getattr(cfg, attr)
        if new > old:
            cfg = replace(cfg, **{attr: old})
            findings.append(_trust_finding(file, key, f"`{key} = {new}` in {file.name} is ignored: a repository "
                                           f"may lower it (now {old}), not raise it; set a higher value in "
                                           f"{user_file}"))
    return cfg, findings + found


def _trust_finding(file: Path, key: str, message: str) -> Finding:
    return Finding("config-user-only", message, Severity.WARNING, _key_span(file, key), path=str(file),
                   data={"key": key})


def _key_span(file: Path, key: str) -> Span:
    """The line that sets `key` in `file` (line 0 when it cannot be found)."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return Span.at(0)
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(key) and stripped[len(key):].lstrip().startswith(("=", ".")):
            return Span.at(i, len(line) - len(stripped), i, len(line))
    return Span.at(0)


def _apply(cfg: Config, keys: dict[str, tuple[str, str]], table: dict[str, Any],
           file: Path | None) -> tuple[Config, list[Finding]]:
    findings: list[Finding] = []
    changes: dict[str, Any] = {}

    def where(key: str) -> Span:
        return _key_span(file, key) if file is not None else Span.at(0)

    def bad(key: str, expected: str) -> None:
        if file is not None:
            findings.append(_finding(file, f"`{key}` must be {expected}; using the default", where(key)))

    for key, value in table.items():
        if key not in keys:
            if file is not None:
                findings.append(Finding("config-unknown-key", f"unknown setting `{key}`", Severity.HINT,
                                        where(key), path=str(file)))
            continue
        attr, kind = keys[key]
        if value is None:
            continue
        parsed = _parse(kind, value, cfg.root)
        if parsed is _INVALID:
            bad(key, _EXPECTED[kind])
        else:
            changes[attr] = parsed
    return replace(cfg, **changes), findings


_INVALID = object()
_EXPECTED = {
    "str": "a string",
    "mode": "one of auto, api, offline",
    "posint": "a positive integer",
    "nonneg": "a non-negative integer",
    "budgets": "a table of glob = token budget",
    "paths": "a list of folders",
    "models": "a table of model id = table of catalog fields",
    "hints": "one of all, totals, off",
    "strlist": "a list of strings",
}


def _parse(kind: str, value: Any, root: Path) -> Any:
    match kind:
        case "str":
            return value.strip() or None if isinstance(value, str) else _INVALID
        case "mode":
            return value if value in MODES else _INVALID
        case "hints":
            return value if value in HINT_LEVELS else _INVALID
        case "posint":
            return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else _INVALID
        case "nonneg":
            return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else _INVALID
        case "budgets":
            if not isinstance(value, dict):
                return _INVALID
            out = []
            for glob, n in value.items():
                if isinstance(n, dict):
                    n = n.get("input_tokens", n.get("inputTokens"))
                if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
                    return _INVALID
                out.append(GlobBudget(str(glob), n))
            return tuple(out)
        case "paths":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return _INVALID
            return tuple((root / Path(v).expanduser()).resolve() for v in value)
        case "strlist":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return _INVALID
            return tuple(value)
        case "models":
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                return _INVALID
            return {str(k): dict(v) for k, v in value.items()}
    return _INVALID
