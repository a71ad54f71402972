"""The parsed prompt: what document.py, schema.py and attachments.py produce.

`PromptDocument` is the YAML as data with the range of every node; `PromptSpec` is that data checked
and typed, still in the user's vocabulary; `Attachment` is one loaded file. Plain data, so the engine
stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .findings import FILE_START, DataPath, Finding, Span

# ---------------------------------------------------------------------------------------------------
# document.py output: YAML text -> plain data + the source range of every node


@dataclass(slots=True)
class PromptDocument:
    """A parsed prompt file. `data` is the plain YAML value (None when the text is not usable YAML).

    `spans[path]` is the range of the value node at that data path, `key_spans[path]` the range of
    the mapping key that introduces it (absent for list items and the root).
    """

    text: str
    path: Path | None
    data: Any
    spans: dict[DataPath, Span]
    key_spans: dict[DataPath, Span]
    findings: list[Finding]

    def span(self, path: DataPath) -> Span:
        """Range of the node at `path`, falling back to the nearest ancestor that has one."""
        p = path
        while p:
            if p in self.spans:
                return self.spans[p]
            p = p[:-1]
        return self.spans.get((), FILE_START)

    def key_span(self, path: DataPath) -> Span:
        return self.key_spans.get(path) or self.span(path)


# ---------------------------------------------------------------------------------------------------
# schema.py output: plain data -> a typed prompt spec (still in the user's vocabulary)


@dataclass(slots=True)
class BlockSpec:
    """One content block as written. `kind` is text | image | document | tool_use | tool_result |
    thinking | raw (any other API block passed through). `value` is the text (text), the path or
    URL (image/document shorthand), or the raw API dict (raw and API-shaped blocks)."""

    kind: str
    value: Any
    path: DataPath
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. title, cache_control, media_type


@dataclass(slots=True)
class MessageSpec:
    role: str  # user | assistant  (system messages are hoisted by schema.py)
    content: str | list[BlockSpec]
    path: DataPath


@dataclass(slots=True)
class AttachmentRef:
    """An attachment named in the file: a path relative to the prompt file (or a URL)."""

    ref: str
    path: DataPath  # data path of the string naming it
    kind: str | None = None  # image | document | text | None (sniff)
    title: str | None = None  # document title, from `{path, title}`


@dataclass(slots=True)
class PromptSpec:
    model: str | None
    system: str | list[BlockSpec] | None
    system_path: DataPath | None
    messages: list[MessageSpec]
    tools: list[dict[str, Any]]
    tools_path: DataPath | None
    tool_choice: dict[str, Any] | None
    attachments: list[AttachmentRef]
    test_data: list[dict[str, Any]]  # rows; `variables` becomes a single row
    max_tokens: int | None  # modelParameters.maxTokens / max_tokens
    budget_input_tokens: int | None
    thinking: dict[str, Any] | None
    hoisted_system_paths: list[DataPath] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------
# attachments.py output


@dataclass(slots=True)
class Attachment:
    """A loaded attachment. `kind` is image | pdf | text. Bytes are kept only when they will be sent."""

    ref: str
    resolved: Path | None
    kind: str | None
    media_type: str | None
    size: int = 0
    sha256: str = ""
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    text: str | None = None  # PDF extracted text or the text file's contents
    data: bytes | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.kind is not None and not any(f.blocking for f in self.findings)

    def detail(self) -> str:
        if self.kind == "image" and self.width and self.height:
            return f"{self.width}×{self.height} image"
        if self.kind == "pdf" and self.pages is not None:
            return f"{self.pages} page{'s' if self.pages != 1 else ''}"
        if self.kind == "text":
            return "text"
        return ""

