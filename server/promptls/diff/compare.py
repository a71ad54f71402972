"""Pure comparison: two `FileReport`s of one prompt file (base and working tree) → a `FileDiff`.

Parts pair by id (`system`, `messages[1]`, `tools[0]`...); each side is priced at its own model, so a
model switch re-prices the whole file. Findings pair by code and message with the numbers taken out,
so "over budget by 1,200" and "over budget by 1,350" are the same finding, still there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import FileReport, Finding, Severity
from ..render.table import file_order

ADDED, REMOVED, MODIFIED, RENAMED = "added", "removed", "modified", "renamed"
IGNORED_FINDINGS = frozenset({"api-error"})  # about this run's connection, not about the change


@dataclass(slots=True)
class PartDiff:
    id: str
    label: str
    parent: str | None
    before: int | None  # None: the part does not exist on that side
    after: int | None
    exact: bool

    @property
    def delta(self) -> int:
        return (self.after or 0) - (self.before or 0)


@dataclass(slots=True)
class FileDiff:
    status: str  # added | removed | modified | renamed
    path: str  # the working-tree path (the base path when removed)
    old_path: str | None  # the base path when renamed
    before: FileReport | None
    after: FileReport | None
    attachments: list[str] = field(default_factory=list)  # changed attachments this file reads
    parts: list[PartDiff] = field(default_factory=list)
    appeared: list[Finding] = field(default_factory=list)
    disappeared: list[Finding] = field(default_factory=list)

    @property
    def tokens_before(self) -> int:
        return self.before.total if self.before else 0

    @property
    def tokens_after(self) -> int:
        return self.after.total if self.after else 0

    @property
    def delta(self) -> int:
        return self.tokens_after - self.tokens_before

    @property
    def delta_pct(self) -> float | None:
        return pct(self.delta, self.tokens_before)

    @property
    def cost_before(self) -> float | None:
        return self.before.cost_usd if self.before else None

    @property
    def cost_after(self) -> float | None:
        return self.after.cost_usd if self.after else None

    @property
    def cost_delta(self) -> float:
        return (self.cost_after or 0.0) - (self.cost_before or 0.0)

    @property
    def model_before(self) -> str | None:
        return self.before.model if self.before else None

    @property
    def model_after(self) -> str | None:
        return self.after.model if self.after else None

    @property
    def model_changed(self) -> bool:
        return bool(self.before and self.after and self.model_before != self.model_after)

    @property
    def exact(self) -> bool:
        return all(r.exact for r in (self.before, self.after) if r is not None)

    @property
    def display(self) -> str:
        return f"{self.old_path} → {self.path}" if self.old_path and self.old_path != self.path else self.path


@dataclass(slots=True)
class Totals:
    files: int
    before: int
    after: int
    cost_before: float
    cost_after: float
    exact: bool

    @property
    def delta(self) -> int:
        return self.after - self.before

    @property
    def delta_pct(self) -> float | None:
        return pct(self.delta, self.before)

    @property
    def cost_delta(self) -> float:
        return self.cost_after - self.cost_before


def pct(delta: int, before: int) -> float | None:
    """Δ% of the base (None when the base is 0 and something was added: there is no percentage)."""
    if not before:
        return 0.0 if delta == 0 else None
    return delta / before * 100.0


def compare(status: str, path: str, old_path: str | None, before: FileReport | None, after: FileReport | None,
            attachments: list[str] | None = None) -> FileDiff:
    return FileDiff(status, path, old_path if status == RENAMED else None, before, after, sorted(attachments or []),
                    _parts(before, after), *_findings(before, after))


def _parts(before: FileReport | None, after: FileReport | None) -> list[PartDiff]:
    old = {p.id: p for p in before.parts} if before else {}
    new = {p.id: p for p in after.parts} if after else {}
    order = [p.id for p in file_order(after.parts if after else [])]
    order += [p.id for p in file_order(before.parts if before else []) if p.id not in new]
    out = []
    for pid in order:
        b, a = old.get(pid), new.get(pid)
        shown = a or b
        assert shown is not None
        out.append(PartDiff(pid, shown.label, shown.parent, b.tokens if b else None, a.tokens if a else None,
                            all(p.exact for p in (a, b) if p is not None)))
    if before or after:
        out.append(PartDiff("overhead", "overhead", None, before.overhead if before else None,
                            after.overhead if after else None, all(r.exact for r in (before, after) if r)))
    return out


_NUMBER = re.compile(r"[\d.,]*\d")


def finding_key(f: Finding) -> tuple[str, str]:
    return f.code, _NUMBER.sub("#", f.message)


def _shown(report: FileReport | None) -> list[Finding]:
    if report is None:
        return []
    return [f for f in report.findings if f.severity <= Severity.INFO and f.code not in IGNORED_FINDINGS]


def _findings(before: FileReport | None, after: FileReport | None) -> tuple[list[Finding], list[Finding]]:
    old, new = _shown(before), _shown(after)
    old_keys = {finding_key(f) for f in old}
    new_keys = {finding_key(f) for f in new}
    return ([f for f in new if finding_key(f) not in old_keys], [f for f in old if finding_key(f) not in new_keys])


def totals(files: list[FileDiff]) -> Totals:
    return Totals(len(files), sum(f.tokens_before for f in files), sum(f.tokens_after for f in files),
                  sum(f.cost_before or 0.0 for f in files), sum(f.cost_after or 0.0 for f in files),
                  all(f.exact for f in files))


@dataclass(frozen=True, slots=True)
class Gate:
    """`--fail-above N` (tokens) or `N%` (of the base total): the increase that fails the run."""

    amount: float
    percent: bool

    @staticmethod
    def parse(text: str) -> Gate:
        raw = text.strip().replace(",", "").replace("_", "")
        percent = raw.endswith("%")
        number = raw.removesuffix("%").strip()
        try:
            amount = float(number) if percent else int(number)
        except ValueError:
            raise ValueError(f"--fail-above expects a token count (1500) or a percentage (10%), got {text!r}") \
                from None
        if amount < 0 or amount != amount:
            raise ValueError(f"--fail-above must not be negative, got {text!r}")
        return Gate(float(amount), percent)

    def __str__(self) -> str:
        return f"{self.amount:g}%" if self.percent else f"{int(self.amount):,} tokens"

    def exceeded(self, t: Totals) -> bool:
        if t.delta <= 0:
            return False
        if not self.percent:
            return t.delta > self.amount
        share = t.delta_pct
        return share is None or share > self.amount  # growth from nothing passes any percentage
