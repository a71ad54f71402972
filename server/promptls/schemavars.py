"""The values `{{var}}` placeholders are filled from: `variables:` (values or declarations) and `testData:` rows.

promptls reads these but never sends them, so a bad value is a warning and is left out.
"""

from __future__ import annotations

from typing import Any

from .schemacheck import Checker
from .templates import declarations


def read_variables(c: Checker, data: dict[str, Any]) -> dict[str, Any]:
    """Values from `variables:`: a mapping of values, or a list of declarations whose `default` is a value
    (the others are filled at run time)."""
    raw = data.get("variables")
    if raw is None:
        return {}
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            if isinstance(item, str) or (isinstance(item, dict) and ("name" in item or len(item) == 1)):
                if isinstance(item, dict) and "name" in item and not isinstance(item["name"], str):
                    c.ignored(("variables", i, "name"), "the variable's name", item["name"])
                continue
            c.ignored(("variables", i), "a declaration such as {name: topic, default: ...}", item)
    elif not isinstance(raw, dict):
        c.ignored(("variables",), "a mapping of names to values, or a list of declarations ({name, default})",
                  raw)
        return {}
    return {k: v for k, (has, v) in declarations(raw).items() if has}


def read_test_data(c: Checker, data: dict[str, Any]) -> list[dict[str, Any]]:
    """testData rows, each completed by `variables` (whose values alone make one row)."""
    base = read_variables(c, data)
    raw = data.get("testData")
    if raw is None:
        return [dict(base)] if base else []
    if not isinstance(raw, list):
        c.ignored(("testData",), "a list of rows (mappings of variable names to values)", raw)
        return [dict(base)] if base else []
    rows = []
    for i, row in enumerate(raw):
        if not isinstance(row, dict):
            c.ignored(("testData", i), "a mapping of variable names to values", row)
            continue
        rows.append({**base, **row})
    return rows or ([dict(base)] if base else [])

