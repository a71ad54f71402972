"""GitHub Models `{{var}}` templates: find the variables a text uses and fill them from a testData row.

gh-models replaces the exact text `{{name}}`; we also accept blanks inside the braces
(`{{ name }}`), which people write by habit from Mustache/Jinja. Substitution is one pass, so a
value that itself contains `{{x}}` is inserted literally, as gh-models would send it.
"""

from __future__ import annotations

import re
from typing import Any

VARIABLE = re.compile(r"\{\{\s*([^\s{}]+)\s*\}\}")


def variables(text: str) -> list[str]:
    """Variable names used in `text`, in order of first use, each once."""
    return list(dict.fromkeys(m.group(1) for m in VARIABLE.finditer(text)))


def render_value(value: Any) -> str:
    """How a testData value reads inside the prompt: YAML booleans and null as written in YAML."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def substitute(text: str, row: dict[str, Any]) -> tuple[str, list[str]]:
    """Fill `{{var}}` from `row`. Returns the text and the names that had no value (left as written)."""
    missing: dict[str, None] = {}

    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in row:
            return render_value(row[name])
        missing[name] = None
        return m.group(0)

    if "{{" not in text:
        return text, []
    return VARIABLE.sub(fill, text), list(missing)
