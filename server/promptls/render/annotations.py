"""Machine formats for CI: GitHub workflow commands and SARIF 2.1.0 for code scanning."""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..model import Finding, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice",
                 Severity.HINT: "notice"}
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note", Severity.HINT: "note"}


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def github(findings: list[tuple[str, Finding]]) -> str:
    """`::warning file=…,line=…::message` lines (1-based positions); without a path, an annotation
    of the run (GitHub shows it in the job summary)."""
    lines = []
    for path, f in findings:
        if not path:
            lines.append(github_unlocated(f.severity, f.code, f.message))
            continue
        s = f.span
        props = (f"file={_escape_prop(path)},line={s.start.line + 1},col={s.start.col + 1},"
                 f"endLine={s.end.line + 1},endColumn={s.end.col + 1},title={_escape_prop('promptls ' + f.code)}")
        lines.append(f"::{_GITHUB_LEVEL[f.severity]} {props}::{_escape_data(f.message)}")
    return "\n".join(lines)


def github_unlocated(severity: Severity, code: str, message: str) -> str:
    return f"::{_GITHUB_LEVEL[severity]} title={_escape_prop('promptls ' + code)}::{_escape_data(message)}"


def sarif(findings: list[tuple[str, Finding]]) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for path, f in findings:
        rules.setdefault(f.code, {"id": f.code, "name": f.code, "shortDescription": {"text": f.code.replace("-", " ")},
                                  "helpUri": "https://github.com/promptls/promptls#finding-codes"})
        s = f.span
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": list(rules).index(f.code),
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
        }
        if path:
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": path},
                "region": {"startLine": s.start.line + 1, "startColumn": s.start.col + 1,
                           "endLine": s.end.line + 1, "endColumn": max(s.end.col + 1, 1)},
            }}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "promptls", "version": __version__, "semanticVersion": __version__,
                                "informationUri": "https://github.com/promptls/promptls",
                                "rules": list(rules.values())}},
            "results": results,
        }],
    }
