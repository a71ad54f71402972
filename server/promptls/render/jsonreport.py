"""The stable JSON report (`--format json`), documented in the README ("JSON report")."""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..model import FileReport, Severity, WorkspaceReport
from .caching import cache_json, comparison_json

SCHEMA_VERSION = 1


def file_json(r: FileReport, min_severity: Severity = Severity.HINT) -> dict[str, Any]:
    return {
        "path": r.path,
        "model": r.model,
        "model_written": r.model_written,
        "valid": r.valid,
        "total": r.total,
        "exact": r.exact,
        "source": r.source,
        "overhead": r.overhead,
        "context_window": r.context_window,
        "window_share": round(r.total / r.context_window, 6) if r.context_window else None,
        "max_output": r.max_output,
        "cost_usd": round(r.cost_usd, 6) if r.cost_usd is not None else None,
        "parts": [p.to_json() for p in r.parts],
        "variants": [{"row": v.row, "total": v.total, "exact": v.exact} for v in r.variants],
        "findings": [f.to_json() for f in r.findings if f.severity <= min_severity],
        "caching": cache_json(r.caching),
        **({"comparison": comparison_json(r.comparison)} if r.comparison else {}),
    }


def report_json(ws: WorkspaceReport, *, catalog_date: str, mode: str, min_severity: Severity = Severity.HINT
                ) -> dict[str, Any]:
    return {
        "version": SCHEMA_VERSION,
        "promptls": __version__,
        "catalog_date": catalog_date,
        "files": [file_json(r, min_severity) for r in ws.files],
        "workspace": {
            "files": len(ws.files),
            "total": ws.total,
            "exact": ws.exact,
            "budget": ws.budget,
            "findings": [f.to_json() for f in ws.findings if f.severity <= min_severity],
        },
        "api": {"mode": mode, "requests": ws.requests, "cache_hits": ws.cache_hits},
    }
