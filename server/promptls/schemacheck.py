"""The checker every schema rule reports through, and the rules for content (text and blocks).

Each finding gets the range of what it is about; a bad part is reported and left out, never a
reason to stop, so the rest of the file can still be shown.
"""

from __future__ import annotations

from typing import Any

from .model import BlockSpec, DataPath, Finding, PromptDocument, Severity, Span
from .schemakeys import PASSTHROUGH_BLOCK_KINDS, SENT_KEYS, SHORTHAND_OPTIONS, SHORTHANDS, SOURCE_TYPES, near_miss
from .templates import render_value


class Checker:
    """Collects findings while walking the data; every finding gets the range of what it is about."""

    def __init__(self, doc: PromptDocument) -> None:
        self.doc = doc
        self.findings: list[Finding] = []

    def span(self, path: DataPath, key: bool = False) -> Span:
        return self.doc.key_span(path) if key else self.doc.span(path)

    def error(self, code: str, message: str, path: DataPath, key: bool = False) -> None:
        self.findings.append(Finding(code, message, Severity.ERROR, self.span(path, key), blocking=True,
                                     data={"path": dotted(path)}))

    def warning(self, code: str, message: str, path: DataPath, key: bool = False) -> None:
        self.findings.append(Finding(code, message, Severity.WARNING, self.span(path, key),
                                     data={"path": dotted(path)}))

    def hint(self, code: str, message: str, path: DataPath, key: bool = False) -> None:
        self.findings.append(Finding(code, message, Severity.HINT, self.span(path, key),
                                     data={"path": dotted(path)}))

    def wrong_type(self, path: DataPath, expected: str, value: Any) -> None:
        self.error("schema-type", f"`{dotted(path)}` must be {expected}, not {type_name(value)}", path)

    def ignored(self, path: DataPath, expected: str, value: Any) -> None:
        """A bad value in a key promptls reads but never sends (budget, variables, testData, maxTokens):
        a warning, never an invalid file."""
        self.warning("schema-value-ignored", f"`{dotted(path)}` should be {expected}, not {type_name(value)}: "
                     "promptls ignores it", path)

    def unknown_keys(self, data: dict[str, Any], parent: DataPath, known: tuple[str, ...] | frozenset[str],
                     silent: frozenset[str] = frozenset(), where: str = "") -> None:
        for key in data:
            if key in known or key in silent:
                continue
            close = near_miss(key, known)
            path = (*parent, key)
            if close is not None and close in SENT_KEYS and close not in data:
                self.findings.append(Finding(
                    "key-typo", f"unknown key `{key}`{where}: neither promptls nor GitHub Models reads it, so it "
                    f"is not sent or counted; did you mean `{close}`?", Severity.WARNING, self.span(path, key=True),
                    data={"key": key, "path": dotted(path), "suggestion": close}))
                continue
            hint = f"; did you mean `{close}`?" if close else ""
            self.findings.append(Finding(
                "unknown-key", f"unknown key `{key}`{where}: promptls ignores it{hint}", Severity.HINT,
                self.span(path, key=True), data={"key": key, "path": dotted(path)}))

    # -- scalars ---------------------------------------------------------------------------------

    def positive_int(self, value: Any, path: DataPath) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        self.wrong_type(path, "a positive whole number", value)
        return None

    def text(self, value: Any, path: DataPath) -> str | None:
        """Text content: strings, and numbers/booleans as YAML wrote them (gh-models reads them as text)."""
        if isinstance(value, str):
            text = value
        elif value is None or isinstance(value, int | float):
            text = render_value(value)
        else:
            self.wrong_type(path, "text", value)
            return None
        if not text.strip():
            self.warning("schema-empty-content", "empty text: the API rejects text that is empty or only "
                         "whitespace", path)
        return text

    # -- content -----------------------------------------------------------------------------------

    def block(self, item: Any, path: DataPath, text_only: bool = False) -> BlockSpec | None:
        if isinstance(item, str):
            return BlockSpec("text", self.text(item, path), path)
        if not isinstance(item, dict):
            self.wrong_type(path, "a content block (text, or a mapping with text:, image:, document: or type:)",
                            item)
            return None
        if "type" in item:
            return self.api_block(item, path, text_only)
        present = [k for k in SHORTHANDS if k in item]
        if not present:
            self.error("schema-type", "a content block needs one of `text:`, `image:`, `document:` or an API "
                       "`type:`", path)
            return None
        if len(present) > 1:
            self.error("schema-type", f"a content block holds one of text/image/document, not "
                       f"{' and '.join(present)}: split it into separate blocks", (*path, present[1]), key=True)
            return None
        kind = present[0]
        if text_only and kind != "text":
            self.error("schema-type", f"the system prompt takes text only, not `{kind}:`", (*path, kind), key=True)
            return None
        self.unknown_keys(item, path, (kind, *SHORTHAND_OPTIONS[kind]), where=f" in a {kind} block")
        extra = {k: item[k] for k in SHORTHAND_OPTIONS[kind] if k in item}
        value_path = (*path, kind)
        if kind == "text":
            text = self.text(item[kind], value_path)
            return None if text is None else BlockSpec("text", text, value_path, extra)
        ref = item[kind]
        if not isinstance(ref, str) or not ref.strip():
            self.wrong_type(value_path, f"the path or URL of the {kind}", ref)
            return None
        return BlockSpec(kind, ref.strip(), value_path, extra)

    def api_block(self, item: dict[str, Any], path: DataPath, text_only: bool) -> BlockSpec | None:
        """A block written in the API's own shape; passed through as written."""
        kind = item["type"]
        if not isinstance(kind, str):
            self.wrong_type((*path, "type"), "a block type such as text, image or document", kind)
            return None
        if text_only and kind != "text":
            self.error("schema-type", f"the system prompt takes text blocks only, not `{kind}`", (*path, "type"))
            return None
        if kind == "text":
            if "text" not in item:
                self.error("schema-missing", "a text block needs `text:`", path)
                return None
            text = self.text(item["text"], (*path, "text"))
            options = {k: v for k, v in item.items() if k not in ("type", "text")}
            return None if text is None else BlockSpec("text", text, (*path, "text"), options)
        extra: dict[str, Any] = {}
        if kind in ("image", "document"):
            source = item.get("source")
            if source is None:
                self.error("schema-missing", f"an API {kind} block needs `source:` (or write `{kind}: PATH`)", path)
                return None
            if not isinstance(source, dict):
                self.wrong_type((*path, "source"), "a mapping with type: base64|url|file", source)
                return None
            source_type = source.get("type")
            if source_type not in SOURCE_TYPES:
                self.error("schema-type", f"`source.type` must be one of {', '.join(SOURCE_TYPES)}",
                           (*path, "source", "type") if "type" in source else (*path, "source"))
                return None
            if source_type in ("url", "file"):
                extra["source_type"] = source_type
        block_kind = kind if kind in PASSTHROUGH_BLOCK_KINDS else "raw"
        return BlockSpec(block_kind, dict(item), path, extra)

    def content(self, value: Any, path: DataPath, text_only: bool = False) -> str | list[BlockSpec] | None:
        if isinstance(value, list):
            if not value:
                self.warning("schema-empty-content", "no content blocks: the API rejects an empty message", path)
            blocks = [self.block(item, (*path, j), text_only) for j, item in enumerate(value)]
            return [b for b in blocks if b is not None]
        if isinstance(value, dict):
            block = self.block(value, path, text_only)
            return [block] if block is not None else None
        return self.text(value, path)



def dotted(path: DataPath) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def type_name(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
