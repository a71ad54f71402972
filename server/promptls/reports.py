"""What the engine reports per file and per workspace, for the CLI and the language server to present.

`FileReport` is the one result both show; `OVER_BUDGET_CODES` are the findings that make
`promptls check` exit 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .findings import Finding, Span


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
