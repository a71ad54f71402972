"""The user's own settings file: `config.toml` in the platform's user config folder.

A repository's `promptls.toml` is written by whoever opened the pull request, so settings that steer
the key, the endpoint or reads outside the project root (`config.USER_ONLY`) come only from the user:
this file, the environment, editor user settings and command-line flags. The file takes the same keys
as `promptls.toml`; `PROMPTLS_USER_CONFIG` names another file instead (one per setup, tests).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import platformdirs

from .model import Finding, Severity, Span

FILE_NAME = "config.toml"


def user_config_path() -> Path:
    """`$PROMPTLS_USER_CONFIG`, else `<user config dir>/promptls/config.toml` (e.g. ~/.config/promptls)."""
    env = os.environ.get("PROMPTLS_USER_CONFIG", "").strip()
    return Path(env).expanduser() if env else Path(platformdirs.user_config_dir("promptls")) / FILE_NAME


def read_user_config() -> tuple[dict[str, Any], Path, list[Finding]]:
    """(table, file, findings): the user's settings; an absent file is an empty table, a broken one a finding."""
    path = user_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, path, []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, path, [_finding(path, f"cannot read {path}: {exc.__class__.__name__}", Span.at(0))]
    import tomllib  # only when the file exists: most runs have none, and tomllib costs ~4 ms of start-up

    try:
        return tomllib.loads(text), path, []
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(m.group(1)) - 1, int(m.group(2)) - 1) if m else (0, 0)
        return {}, path, [_finding(path, f"{path.name}: {exc}", Span.at(line, col))]


def _finding(file: Path, message: str, span: Span) -> Finding:
    return Finding("config-invalid", message, Severity.WARNING, span, path=str(file))
