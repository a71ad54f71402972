"""The data that flows through promptls: positions, findings, the parsed prompt, the request, counts, reports.

Everything here is plain data (dataclasses), so the engine stays pure and the LSP, the CLI and the
API client only exchange these values. Positions are 0-based lines and columns counted in Unicode
code points of the source text (what PyYAML marks give); the LSP converts columns to the client's
position encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any, Literal, get_args

Mode = Literal["auto", "api", "offline"]  # where counts come from (config `mode`, `--mode`)
MODES: tuple[Mode, ...] = get_args(Mode)
HintLevel = Literal["all", "totals", "off"]  # which inlay hints the editor shows (config `hints`)
HINT_LEVELS: tuple[HintLevel, ...] = get_args(HintLevel)


class CountState(StrEnum):
    """Where a file's numbers stand (`promptls/fileStatus` `state`, the CLI's api line)."""

    EXACT = "exact"
    ESTIMATE = "estimate"
    COUNTING = "counting"
    OFFLINE = "offline"
    RATE_LIMITED = "rate-limited"
    NO_KEY = "no-key"
    ERROR = "error"

# A path into the YAML data, like a JSON pointer: ("messages", 1, "content", 0, "image").
DataPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, order=True)
class Pos:
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Span:
    start: Pos
    end: Pos

    @staticmethod
    def at(line: int, col: int = 0, end_line: int | None = None, end_col: int | None = None) -> Span:
        return Span(Pos(line, col), Pos(line if end_line is None else end_line, col if end_col is None else end_col))

    def to_json(self) -> dict[str, dict[str, int]]:
        return {
            "start": {"line": self.start.line, "col": self.start.col},
            "end": {"line": self.end.line, "col": self.end.col},
        }


FILE_START = Span.at(0, 0)


class Severity(IntEnum):
    """Same numbers as LSP DiagnosticSeverity."""

    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(slots=True)
class Finding:
    """One thing worth telling the user, anchored to a range of a file.

    `code` is stable and documented (README, "Finding codes"); messages may change.
    `blocking=True` marks findings that make the file invalid (CLI exit 2), as opposed to
    over-budget findings (exit 1) and advice (exit 0).
    """

    code: str
    message: str
    severity: Severity
    span: Span = FILE_START
    path: str | None = None
    blocking: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.label,
            "message": self.message,
            "range": self.span.to_json(),
        }
        if self.path is not None:
            out["path"] = self.path
        if self.data:
            out["data"] = self.data
        return out


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


# ---------------------------------------------------------------------------------------------------
# request.py output: the count_tokens request and the parts it is made of


@dataclass(slots=True)
class Part:
    """A countable piece of the request, shown to the user with its own number.

    Top-level parts (parent None) are system, each message, tools (the group) and thinking; their
    sum plus `overhead` is the total. Children (content blocks, attachments, single tools) are shown
    on their own lines but are already inside their parent's number.
    `fragment` is the API JSON of the part (a system value, a message dict, a block dict, a tool
    dict) used by the estimator and by attribution. `api_ok=False` means count_tokens rejects it
    (url/file sources, server tools): it is estimated even when the rest is exact.
    """

    id: str
    kind: str  # system | message | block | attachment | tools | tool | thinking
    label: str
    span: Span
    fragment: Any
    parent: str | None = None
    role: str | None = None
    detail: str = ""
    api_ok: bool = True
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class CachePosition:
    """One cacheable block in render order (tools → system → messages): the part whose tokens hold it
    (`share` of that part's tokens when it holds several blocks), its block type and the template
    variables its text uses, as written."""

    part_id: str
    label: str
    block_type: str
    span: Span
    variables: tuple[str, ...] = ()
    share: float = 1.0


@dataclass(frozen=True, slots=True)
class CacheBreakpoint:
    """A `cache_control` marker: the position it ends on, its TTL ("5m" | "1h") and the key's range.
    `automatic` is the request-level marker, which the API places on the last cacheable block."""

    position: int
    ttl: str
    span: Span
    automatic: bool = False


@dataclass(slots=True)
class CountRequest:
    """A complete count_tokens body plus its parts. `body` is exactly what would be sent."""

    model: str
    body: dict[str, Any]
    parts: list[Part]
    positions: list[CachePosition] = field(default_factory=list)
    breakpoints: list[CacheBreakpoint] = field(default_factory=list)

    def part(self, part_id: str) -> Part:
        for p in self.parts:
            if p.id == part_id:
                return p
        raise KeyError(part_id)

    @property
    def top_parts(self) -> list[Part]:
        return [p for p in self.parts if p.parent is None]


# ---------------------------------------------------------------------------------------------------
# counting output


@dataclass(slots=True)
class PartCount:
    tokens: int
    exact: bool


@dataclass(slots=True)
class Counts:
    """Tokens for one CountRequest. `total` and `parts` each say whether they are exact.

    `source` is "estimate", "api" or "cache"; `requests` how many HTTP requests this took,
    `cache_hits` how many answers came from the cache.
    """

    total: int
    exact: bool
    parts: dict[str, PartCount]
    source: str = "estimate"
    requests: int = 0
    cache_hits: int = 0
    error: str | None = None


# ---------------------------------------------------------------------------------------------------
# engine output


@dataclass(slots=True)
class PartReport:
    id: str
    kind: str
    label: str
    span: Span
    tokens: int
    exact: bool
    parent: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "parent": self.parent,
            "range": self.span.to_json(),
            "tokens": self.tokens,
            "exact": self.exact,
            "detail": self.detail,
        }


@dataclass(slots=True)
class VariantReport:
    """Total for one testData row."""

    row: int
    total: int
    exact: bool


@dataclass(slots=True)
class BreakpointReport:
    """One breakpoint with the tokens of the prefix it closes and whether it caches."""

    span: Span
    ttl: str
    automatic: bool
    part_id: str
    label: str
    prefix_tokens: int
    exact: bool
    caches: bool  # prefix ≥ the model's minimum
    stable: bool  # no per-call content before it: later calls can read it


@dataclass(slots=True)
class CacheReport:
    """What prompt caching does to this file's input cost, per call, in US dollars.

    `first_call_usd` writes every caching breakpoint's prefix; `cached_call_usd` reads the stable
    prefix and re-writes what follows it up to the last caching breakpoint; `break_even_calls` is the
    smallest number of calls at which caching costs no more than not caching (None: never)."""

    breakpoints: list[BreakpointReport]
    min_tokens: int
    min_source: str
    write_5m_tokens: int
    write_1h_tokens: int
    read_tokens: int
    uncached_usd: float
    first_call_usd: float
    cached_call_usd: float
    break_even_calls: int | None


@dataclass(slots=True)
class ModelComparison:
    """This prompt on another model, counted with that model's own tokenizer."""

    model: str
    name: str
    tokenizer: str
    total: int
    exact: bool
    cost_usd: float
    context_window: int
    fits: bool


@dataclass(slots=True)
class FileReport:
    path: str
    model: str | None  # the Claude id counted with (None when the file is unusable)
    model_written: str | None
    parts: list[PartReport]
    overhead: int
    total: int
    exact: bool
    context_window: int | None
    max_output: int | None
    cost_usd: float | None
    findings: list[Finding]
    variants: list[VariantReport] = field(default_factory=list)
    source: str = "estimate"
    requests: int = 0
    cache_hits: int = 0
    caching: CacheReport | None = None
    comparison: list[ModelComparison] = field(default_factory=list)

    @classmethod
    def unusable(cls, path: str, findings: list[Finding], model_written: str | None = None) -> FileReport:
        """The report of a file with nothing to count (unreadable, or invalid before a model is known)."""
        return cls(path=path, model=None, model_written=model_written, parts=[], overhead=0, total=0, exact=False,
                   context_window=None, max_output=None, cost_usd=None, findings=findings)

    @property
    def valid(self) -> bool:
        return not any(f.blocking for f in self.findings)

    @property
    def over_budget(self) -> bool:
        return any(f.code in OVER_BUDGET_CODES for f in self.findings)


OVER_BUDGET_CODES = frozenset({"budget-exceeded", "glob-budget-exceeded", "context-window-exceeded",
                               "workspace-budget-exceeded"})


@dataclass(slots=True)
class WorkspaceReport:
    files: list[FileReport]
    total: int
    exact: bool
    budget: int | None
    findings: list[Finding]
    requests: int = 0
    cache_hits: int = 0
