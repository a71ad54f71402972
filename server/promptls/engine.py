"""The pure engine: text in, `Analysis` out (`analyze_text`), counts in, `FileReport` out (`make_report`).

`analyze_text` is offline (parse, validate, load attachments, build the request); counting is a
separate step so the LSP can show the estimate at once and the exact count when it arrives. The
steps are chained in one place, `pipeline.py`, which the CLI and the language server both call.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from . import budget, caching, catalog
from .attachments import load_attachment
from .config import Config
from .counting.attribution import with_tool_system_row
from .counting.estimate import estimate
from .document import parse_document, position_of
from .limits import request_limit_findings
from .model import (
    FILE_START,
    Attachment,
    CountRequest,
    Counts,
    FileReport,
    Finding,
    PartReport,
    PromptDocument,
    PromptSpec,
    Severity,
    Span,
    VariantReport,
)
from .request import build_request
from .schema import to_spec
from .templates import template_findings

MAX_PROMPT_BYTES = 20 * 1024 * 1024


@dataclass(slots=True)
class Analysis:
    path: Path
    doc: PromptDocument
    spec: PromptSpec | None
    info: catalog.ModelInfo | None
    request: CountRequest | None
    variants: list[tuple[int, CountRequest]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def model_written(self) -> str | None:
        return self.spec.model if self.spec else None


def _model(spec: PromptSpec, doc: PromptDocument, config: Config) -> tuple[catalog.ModelInfo, list[Finding]]:
    default_id = config.default_model or catalog.DEFAULT_MODEL
    default = catalog.resolve(default_id, config.models) or catalog.resolve(catalog.DEFAULT_MODEL)
    assert default is not None
    findings: list[Finding] = []
    span = doc.span(("model",))
    if not spec.model:
        return default, findings
    info = catalog.resolve(spec.model, config.models)
    written = spec.model.strip()
    if info is None:
        bare = written.lower().removeprefix("anthropic/")
        if bare.startswith("claude"):
            findings.append(Finding("model-unknown", f"unknown Claude model `{written}`: counted as {default.id}",
                                    Severity.WARNING, span, data={"model": written}))
        else:
            findings.append(Finding("model-not-claude", f"`{written}` is not a Claude model: counted as {default.id}",
                                    Severity.INFO, span, data={"model": written, "counted_as": default.id}))
        return default, findings
    if info.matched_from:
        findings.append(Finding("model-unknown", f"`{written}` is not in promptls' model table "
                                f"({catalog.CATALOG_DATE}): windows and prices of {info.id} are used",
                                Severity.INFO, span, data={"model": written}))
    if info.retired:
        findings.append(Finding("model-retired", f"{info.id} is retired; the API no longer serves it",
                                Severity.WARNING, span, data={"model": info.id}))
    return info, findings


def _request_model(spec: PromptSpec, info: catalog.ModelInfo) -> str:
    """The id sent to count_tokens: the catalog id, except for a Claude id newer than the table,
    which is sent as written so exact counts use the real model."""
    if info.matched_from and spec.model:
        return spec.model.strip().removeprefix("anthropic/")
    return info.id


def analyze_text(text: str, path: Path, config: Config) -> Analysis:
    """Parse, validate and build the request(s) for one prompt file. Never raises on bad input."""
    doc = parse_document(text, path)
    findings = list(doc.findings)
    spec, spec_findings = to_spec(doc, config.default_model or catalog.DEFAULT_MODEL) if doc.data is not None \
        else (None, [])
    findings += spec_findings
    if spec is None:
        return _finish(Analysis(path, doc, spec, None, None, findings=findings))
    base_dir = path.parent

    def load(ref: str, span: Span) -> Attachment:
        return load_attachment(ref, base_dir=base_dir, root=config.root, allowed_roots=config.allowed_roots, span=span)

    rows = spec.test_data or [{}]
    findings += template_findings(spec, doc)
    if any(f.blocking for f in findings):
        # Not counted, but every independent problem is reported in this pass: a malformed `tools:`
        # must not hide a missing image.
        findings += build_request(spec, doc, catalog.DEFAULT_MODEL, rows[0], load)[1]
        return _finish(Analysis(path, doc, spec, None, None, findings=_sorted(_dedupe(findings))))
    info, model_findings = _model(spec, doc, config)
    findings += model_findings
    request, req_findings = build_request(spec, doc, _request_model(spec, info), rows[0], load)
    findings += req_findings
    variants: list[tuple[int, CountRequest]] = []
    if len(rows) > 1:
        variants.append((0, request))
        for i, row in enumerate(rows[1:], start=1):
            req, _ = build_request(spec, doc, _request_model(spec, info), row, load)
            variants.append((i, req))
    findings += request_limit_findings(request, info, FILE_START)
    return _finish(Analysis(path, doc, spec, info, request, variants, _sorted(_dedupe(findings))))


def _sorted(findings: list[Finding]) -> list[Finding]:
    """In file order (stable: findings at one position keep the order they were found in)."""
    return sorted(findings, key=lambda f: f.span.start)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple] = set()
    out = []
    for f in findings:
        key = (f.code, f.message, f.span)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _finish(analysis: Analysis) -> Analysis:
    for f in analysis.findings:
        if f.path is None:
            f.path = str(analysis.path)
    return analysis


def read_prompt_file(path: Path) -> tuple[str | None, list[Finding]]:
    """Read a prompt file as UTF-8; unreadable, huge or non-UTF-8 files become located findings."""
    try:
        size = path.stat().st_size
        if size > MAX_PROMPT_BYTES:
            return None, [Finding("file-too-large", f"prompt file is {size:,} bytes; the limit is "
                                  f"{MAX_PROMPT_BYTES:,}", Severity.ERROR, FILE_START, str(path), blocking=True)]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Finding("file-unreadable", f"cannot read file: {exc.strerror or exc}", Severity.ERROR,
                              FILE_START, str(path), blocking=True)]
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        text = raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raw = raw[bom:]  # positions count from the text's first character, as the editor shows it
        before = raw[: exc.start].decode("utf-8")  # valid up to the first bad byte
        at = position_of(before, len(before))  # \r and \r\n end lines too, as in the editor
        return None, [Finding("file-not-utf8", f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded",
                              Severity.ERROR, Span.at(at.line, at.col, at.line, at.col + 1), str(path),
                              blocking=True)]
    return text, []


def estimate_counts(analysis: Analysis, config: Config, correction: float = 1.0) -> Counts | None:
    if analysis.request is None or analysis.info is None:
        return None
    return estimate(analysis.request, analysis.info, correction)


def estimate_variants(analysis: Analysis, correction: float = 1.0) -> list[tuple[int, Counts]]:
    if analysis.info is None:
        return []
    return [(row, estimate(req, analysis.info, correction)) for row, req in analysis.variants]


def make_report(analysis: Analysis, counts: Counts | None, config: Config,
                variant_counts: list[tuple[int, Counts]] | tuple = ()) -> FileReport:
    """Attach counts to parts and add size findings (budget, window) and cost."""
    findings = list(analysis.findings)
    info, request, spec = analysis.info, analysis.request, analysis.spec
    if counts is None or request is None or info is None or spec is None:
        report = FileReport.unusable(str(analysis.path), findings, analysis.model_written)
        if info is not None:
            report.model, report.context_window, report.max_output = info.id, info.context_window, info.max_output
        return report
    parts = []
    for p in request.parts:
        pc = counts.parts.get(p.id)
        parts.append(PartReport(p.id, p.kind, p.label, p.span, pc.tokens if pc else 0, bool(pc and pc.exact),
                                p.parent, p.detail))
    parts = with_tool_system_row(parts)
    top = sum(pr.tokens for pr in parts if pr.parent is None)
    variants = [VariantReport(row, c.total, c.exact) for row, c in variant_counts]
    worst_total, worst_exact, worst_row = counts.total, counts.exact, None
    if variants:
        worst = max(variants, key=lambda v: v.total)
        worst_total, worst_exact, worst_row = worst.total, worst.exact, worst.row
    doc = analysis.doc
    budget_span = doc.key_span(("budget",)) if ("budget",) in doc.spans else None
    mt_path = next((p for p in (("modelParameters", "maxTokens"), ("modelParameters", "max_tokens"),
                                ("max_tokens",)) if p in doc.spans), None)
    findings += budget.file_findings(
        path=analysis.path, total=worst_total, exact=worst_exact, worst_row=worst_row,
        file_budget=spec.budget_input_tokens, budget_span=budget_span, config=config,
        context_window=info.context_window, max_output=info.max_output, max_tokens=spec.max_tokens,
        max_tokens_span=doc.span(mt_path) if mt_path else None, model=info.id)
    if counts.error:
        findings.append(Finding("api-error", counts.error, Severity.INFO, FILE_START))
    cache_findings, cache_report = caching.report(request, counts, info, spec)
    findings += cache_findings
    findings = _sorted(findings)
    for f in findings:
        if f.path is None:
            f.path = str(analysis.path)
    return FileReport(
        path=str(analysis.path), model=info.id, model_written=spec.model, parts=parts,
        overhead=counts.total - top, total=counts.total, exact=counts.exact,
        context_window=info.context_window, max_output=info.max_output,
        cost_usd=catalog.cost_usd(info, counts.total), findings=findings, variants=variants,
        source=counts.source, requests=counts.requests, cache_hits=counts.cache_hits, caching=cache_report)


def analyze_file(path: Path, config: Config) -> FileReport:
    """Offline report for one file on disk (`pipeline.offline_report` without learnt corrections)."""
    from .pipeline import offline_report

    return offline_report(path, config)
