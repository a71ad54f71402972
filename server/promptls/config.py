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
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields, replace
from enum import Enum
from pathlib import Path
from typing import Any, Literal, NewType, get_args, get_origin

from .model import HINT_LEVELS, MODES, Finding, HintLevel, Mode, Severity, Span

CONFIG_FILE = "promptls.toml"
ROOT_MARKERS = (CONFIG_FILE, "pyproject.toml", ".git")
__all__ = ["FIELDS", "HINT_LEVELS", "MODES", "Config", "Field", "find_root", "load_config"]


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
    mode: Mode = "auto"
    requests_per_minute: int = 50
    debounce_ms: int = 300
    budget: int | None = None  # default per-file input-token budget
    budgets: tuple[GlobBudget, ...] = ()
    workspace_budget: int | None = None
    allowed_roots: tuple[Path, ...] = ()
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    hints: HintLevel = "all"
    base_url: str | None = None  # from the user config only; ANTHROPIC_BASE_URL wins over it
    exclude: tuple[str, ...] = (".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", "dist", "build")
    include: tuple[str, ...] = ("**/*.prompt.yaml", "**/*.prompt.yml")  # GitHub Models' prompt file names
    compare_models: tuple[str, ...] = ()  # hover on `model:` / `count --compare-models`; () = current lineup
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
        return self.apply_editor(settings)[0]

    def apply_editor(self, settings: dict[str, Any]) -> tuple[Config, list[str]]:
        """This config with the editor's `promptls` section over it, and one message per bad value
        (the value is ignored and the setting below it stays)."""
        problems: list[str] = []
        changes: dict[str, Any] = {}
        for key, value in settings.items():
            spec = _EDITOR_KEYS.get(key)
            if spec is None or value is None:
                continue  # other clients' keys (trace, server.*) arrive in the same section
            try:
                changes[spec.attr] = spec.parse(value, self.root)
            except _Invalid:
                problems.append(f"setting `promptls.{key}` must be {spec.expected}; ignored")
        return replace(self, **changes), problems

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


# -- the settings, declared once -----------------------------------------------------------------
# Each value is structured by one cattrs converter from a declared type; the type's hook decides
# what is valid, so the TOML file and the editor accept exactly the same values.

PositiveInt = NewType("PositiveInt", int)
NonNegativeInt = NewType("NonNegativeInt", int)
Text = NewType("Text", str)  # stripped; empty means unset
Texts = NewType("Texts", tuple)  # a list of strings
GlobBudgets = NewType("GlobBudgets", tuple)  # {glob = n} or {glob = {input_tokens = n}}
ModelOverrides = NewType("ModelOverrides", dict)  # {model id = {catalog field = value}}


class Trust(Enum):
    """Who may set a key (the repository is input, never authority)."""

    ANY = "any"  # the repository's file, the user, the editor
    USER_ONLY = "user-only"  # steers the key, the endpoint or reads outside the root: the user only
    LOWER_ONLY = "lower-only"  # a repository may lower it, never raise it


class _Invalid(Exception):
    pass


def _int(minimum: int) -> Callable[[Any, Any], int]:
    def structure(value: Any, _: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
            return value
        raise _Invalid

    return structure


def _text(value: Any, _: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    raise _Invalid


def _texts(value: Any, _: Any) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _Invalid


def _glob_budgets(value: Any, _: Any) -> tuple[GlobBudget, ...]:
    if not isinstance(value, dict):
        raise _Invalid
    out = []
    for glob, n in value.items():
        if isinstance(n, dict):
            n = n.get("input_tokens", n.get("inputTokens"))
        out.append(GlobBudget(str(glob), _int(1)(n, int)))
    return tuple(out)


def _model_overrides(value: Any, _: Any) -> dict[str, dict[str, Any]]:
    if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
        return {str(k): dict(v) for k, v in value.items()}
    raise _Invalid


def _literal(value: Any, kind: Any) -> Any:
    if isinstance(value, str) and value in get_args(kind):
        return value
    raise _Invalid


_CONVERTER: list[Any] = []  # made on first use: importing cattrs costs ~150 ms of start-up


def _converter() -> Any:
    """The one cattrs converter, with a structure hook per declared type."""
    if not _CONVERTER:
        import cattrs

        converter = cattrs.Converter()
        for kind, hook in ((PositiveInt, _int(1)), (NonNegativeInt, _int(0)), (Text, _text), (Texts, _texts),
                           (GlobBudgets, _glob_budgets), (ModelOverrides, _model_overrides)):
            converter.register_structure_hook(kind, hook)
        converter.register_structure_hook_func(lambda t: get_origin(t) is Literal, _literal)
        _CONVERTER.append(converter)
    return _CONVERTER[0]


@dataclass(frozen=True, slots=True)
class Field:
    """One setting: its `Config` attribute, its TOML key (and aliases), its editor key (None: not
    settable from the editor), the type its value is structured to, what a valid value is, its
    documentation and who may set it. The editor contract (docs/ARCHITECTURE.md), the VS Code
    extension's package.json and settings.ts are checked against this table by tests."""

    attr: str
    toml: str
    editor: str | None
    type: Any
    expected: str
    doc: str
    aliases: tuple[str, ...] = ()
    trust: Trust = Trust.ANY
    why: str = ""  # for USER_ONLY keys: what the key decides (said in the finding that ignores it)
    relative_paths: bool = False  # strings are folders relative to the root (`~` expanded)

    def parse(self, value: Any, root: Path) -> Any:
        """The structured value; raises `_Invalid` for a value of the wrong shape."""
        try:
            parsed = _converter().structure(value, self.type)
        except _Invalid:
            raise
        except Exception as exc:
            raise _Invalid from exc
        if self.relative_paths:
            return tuple((root / Path(v).expanduser()).resolve() for v in parsed)
        return parsed

    @property
    def default(self) -> Any:
        return _DEFAULTS[self.attr]


FIELDS: tuple[Field, ...] = (
    Field("default_model", "default_model", "model", Text, "a string",
          "Default model id for files that name no Claude model (empty: the server's default).", aliases=("model",)),
    Field("mode", "mode", "mode", Mode, "one of auto, api, offline",
          "Where counts come from: auto (exact with a key, else offline), api, offline."),
    Field("requests_per_minute", "requests_per_minute", "requestsPerMinute", PositiveInt, "a positive integer",
          "Client-side limit on count_tokens requests per minute.", trust=Trust.LOWER_ONLY),
    Field("debounce_ms", "debounce_ms", "debounceMs", NonNegativeInt, "a non-negative integer",
          "Wait this long after the last keystroke before recounting."),
    Field("budget", "budget", "budget", PositiveInt, "a positive integer",
          "Default input-token budget per prompt file (a file's own `budget:` wins)."),
    Field("budgets", "budgets", "budgets", GlobBudgets, "a table of glob = token budget",
          "Input-token budgets by glob."),
    Field("workspace_budget", "workspace_budget", "workspaceBudget", PositiveInt, "a positive integer",
          "Budget for the sum of all prompt files of the workspace."),
    Field("allowed_roots", "allow_attachments_from", None, Texts, "a list of folders",
          "Folders outside the project root that attachments may be read from.", trust=Trust.USER_ONLY,
          why="which folders outside the project may be read", relative_paths=True),
    Field("models", "models", None, ModelOverrides, "a table of model id = table of catalog fields",
          "Catalog overrides per model id (context_window, max_output, prices)."),
    Field("hints", "hints", "hints", HintLevel, "one of all, totals, off",
          "Which inlay hints to show: all, totals (the file total only), off."),
    Field("base_url", "base_url", None, Text, "a string",
          "The API endpoint for count_tokens (ANTHROPIC_BASE_URL wins).", trust=Trust.USER_ONLY,
          why="where requests and the API key go"),
    Field("exclude", "exclude", None, Texts, "a list of strings",
          "Folder and file names never searched for prompt files."),
    Field("include", "include", None, Texts, "a list of strings",
          "Globs of the prompt files to check (GitHub Models' `*.prompt.yaml`, `*.prompt.yml` by default)."),
    Field("compare_models", "compare_models", "compareModels", Texts, "a list of strings",
          "Models to compare on hover over `model:` and in `count --compare-models` (empty: the current lineup)."),
)
_FILE_KEYS = {key: f for f in FIELDS for key in (f.toml, *f.aliases)}
_EDITOR_KEYS = {f.editor: f for f in FIELDS if f.editor is not None}
EDITOR_KEYS: tuple[str, ...] = tuple(_EDITOR_KEYS)



# Who may set what (from the table). Keys that decide where requests and the API key go, or what may be
# read outside the project root, come only from the user (environment, user config file, editor user
# settings, flags); found in a repository's file they are ignored with a finding. LOWER_ONLY keys a
# repository may lower, never raise.
USER_ONLY = {f.toml: f.why for f in FIELDS if f.trust is Trust.USER_ONLY}
LOWER_ONLY = {f.toml: f.attr for f in FIELDS if f.trust is Trust.LOWER_ONLY}  # file key -> Config attribute


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
        import tomllib  # only when there is a file to read (~4 ms of every start-up otherwise)

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


def _apply(cfg: Config, keys: dict[str, Field], table: dict[str, Any],
           file: Path | None) -> tuple[Config, list[Finding]]:
    findings: list[Finding] = []
    changes: dict[str, Any] = {}

    def where(key: str) -> Span:
        return _key_span(file, key) if file is not None else Span.at(0)

    for key, value in table.items():
        spec = keys.get(key)
        if spec is None:
            if file is not None:
                findings.append(Finding("config-unknown-key", f"unknown setting `{key}`", Severity.HINT,
                                        where(key), path=str(file)))
            continue
        if value is None:
            continue
        try:
            changes[spec.attr] = spec.parse(value, cfg.root)
        except _Invalid:
            if file is not None:
                findings.append(_finding(file, f"`{key}` must be {spec.expected}; using the default", where(key)))
    return replace(cfg, **changes), findings


_DEFAULTS = {f.name: f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
             for f in fields(Config) if f.default is not MISSING or f.default_factory is not MISSING}
