"""GitHub Models `{{var}}` templates: find the variables a text uses, fill them from a testData row, and
say truthfully what happens to the ones without a value.

gh-models replaces the exact text `{{name}}`; we also accept blanks inside the braces
(`{{ name }}`), which people write by habit from Mustache/Jinja. Substitution is one pass, so a
value that itself contains `{{x}}` is inserted literally, as gh-models would send it.

Values missing from the file are of three kinds, each with its own finding, located at the
`{{var}}` itself:
- filled at run time (no testData, or `testData: []`; or declared in `variables:` without a
  default): `gh models run --var` or the `actions/ai-inference` action's `input:` give them. One
  information finding per file, not one warning per variable.
- nested one level down in testData rows (`- vars: {topic: …}`): GitHub Models substitutes only a
  row's top-level keys, so the placeholder is sent as written; saying "add it to testData" would be
  wrong advice, so the finding says what happens and why.
- really missing from a testData row: a warning per variable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from .model import DataPath, Finding, PromptDocument, PromptSpec, Severity, Span

VARIABLE = re.compile(r"\{\{\s*([^\s{}]+)\s*\}\}")
# Keys under which prompt libraries nest a testData row's values (GitHub Models does not look there).
NEST_KEYS = ("vars", "inputs", "variables")


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


def declarations(raw: Any) -> dict[str, tuple[bool, Any]]:
    """`variables:` as written: a mapping of values, or a list of declarations (`- name: topic`,
    `default: …`, or a bare name). Returns name -> (has a value, value)."""
    out: dict[str, tuple[bool, Any]] = {}
    if isinstance(raw, dict):
        for k, v in raw.items():
            out[str(k)] = (True, v)
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, str) and item.strip():
                out[item.strip()] = (False, None)
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                out[item["name"]] = ("default" in item, item.get("default"))
            elif isinstance(item, dict) and len(item) == 1:  # `- topic: value`
                ((k, v),) = item.items()
                out[str(k)] = (True, v)
    return out


# ---------------------------------------------------------------------------------------------------
# findings


def _texts(spec: PromptSpec) -> Iterator[tuple[str, DataPath]]:
    """Every text the request fills from a row (what request.py substitutes), in file order."""
    if isinstance(spec.system, str):
        yield spec.system, spec.system_path or ("system",)
    elif spec.system is not None:
        for b in spec.system:
            if b.kind == "text":
                yield str(b.value), b.path
    for m in spec.messages:
        if isinstance(m.content, str):
            yield m.content, (*m.path, "content")
        else:
            for b in m.content:
                if b.kind == "text":
                    yield str(b.value), b.path


class _Locator:
    """Finds where a placeholder is written inside a node's source range."""

    def __init__(self, doc: PromptDocument) -> None:
        from .lineindex import LineIndex

        self.doc = doc
        self.lines = LineIndex(doc.text[1:] if doc.text.startswith("\ufeff") else doc.text)

    def locate(self, path: DataPath, name: str) -> Span:
        span = self.doc.span(path)
        text = self.lines.text
        start, end = self.lines.index(span.start), self.lines.index(span.end)
        pattern = re.compile(r"\{\{\s*" + re.escape(name) + r"\s*\}\}")
        m = pattern.search(text, start, max(end, start)) or pattern.search(text, start)
        if m is None:
            return span
        return Span(self.lines.pos(m.start()), self.lines.pos(m.end()))


def _names(names: list[str]) -> str:
    shown = [f"{{{{{n}}}}}" for n in names]
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def template_findings(spec: PromptSpec, doc: PromptDocument) -> list[Finding]:
    """The findings about `{{var}}` placeholders that no value fills, each at the `{{var}}`."""
    first_use: dict[str, DataPath] = {}
    for text, path in _texts(spec):
        if "{{" in text:
            for name in variables(text):
                first_use.setdefault(name, path)
    if not first_use:
        return []
    data = doc.data if isinstance(doc.data, dict) else {}
    declared = declarations(data.get("variables"))
    base = {k: v for k, (has, v) in declared.items() if has}
    raw_rows = data.get("testData")
    rows = [(i, {**base, **r}, r) for i, r in enumerate(raw_rows)
            if isinstance(r, dict)] if isinstance(raw_rows, list) else []
    locator = _Locator(doc)
    out: list[Finding] = []
    runtime: list[str] = []
    nested: dict[str, tuple[int, str]] = {}
    for name, path in first_use.items():
        if not rows:
            if name not in base:
                runtime.append(name)
            continue
        lacking = [(i, raw) for i, row, raw in rows if name not in row]
        if not lacking:
            continue
        nest = [(i, key) for i, raw in lacking for key in NEST_KEYS
                if isinstance(raw.get(key), dict) and name in raw[key]]
        if len(nest) == len(lacking):
            nested[name] = nest[0]
        elif name in declared:
            runtime.append(name)
        else:
            which = (f"testData row {lacking[0][0] + 1}" if len(lacking) == 1 else
                     "any testData row" if len(lacking) == len(rows) else
                     f"testData rows {', '.join(str(i + 1) for i, _ in lacking)}")
            out.append(Finding(
                "template-variable-missing",
                f"no value for {{{{{name}}}}} in {which}: sent and counted as written; add `{name}:` to "
                f"{'the row' if len(lacking) == 1 else 'the rows'}",
                Severity.WARNING, locator.locate(path, name),
                data={"variable": name, "rows": [i for i, _ in lacking]}))
    if nested:
        names = list(nested)
        row, key = nested[names[0]]
        key_span = doc.key_span(("testData", row, key))
        out.append(Finding(
            "template-variable-nested",
            f"{_names(names)} {'is' if len(names) == 1 else 'are'} in testData under `{key}:` (row {row + 1}, "
            f"line {key_span.start.line + 1}), but GitHub Models fills only a row's top-level keys: sent and "
            f"counted as written. Move {'it' if len(names) == 1 else 'them'} up one level to fill "
            f"{'it' if len(names) == 1 else 'them'}",
            Severity.WARNING, locator.locate(first_use[names[0]], names[0]),
            data={"variables": names, "key": key, "row": row}))
    if runtime:
        why = "no testData" if not rows else "declared in `variables:` without a default"
        out.append(Finding(
            "template-runtime-variables",
            f"{_names(runtime)} {'gets its value' if len(runtime) == 1 else 'get their values'} at run time "
            f"({why}; `gh models run --var`, or `input:` of actions/ai-inference): counted without "
            f"{'it' if len(runtime) == 1 else 'them'}",
            Severity.INFO, locator.locate(first_use[runtime[0]], runtime[0]),
            data={"variables": runtime}))
    return sorted(out, key=lambda f: f.span.start)
