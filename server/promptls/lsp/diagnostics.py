"""Findings → LSP diagnostics, and the choice between pushing and being pulled.

Pull mode is used only when the client can both pull (`textDocument.diagnostic`) and be told to
pull again (`workspace.diagnostics.refreshSupport`): counts arrive in the background, so a client
that cannot be asked to refresh (Neovim 0.11) would keep showing the estimate's findings.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ..model import Finding, Severity
from .positions import to_range

SOURCE = "promptls"
PUSH, PULL = "push", "pull"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def choose_mode(caps: types.ClientCapabilities) -> str:
    td, ws = caps.text_document, caps.workspace
    can_pull = td is not None and td.diagnostic is not None
    can_refresh = bool(ws and ws.diagnostics and ws.diagnostics.refresh_support)
    return PULL if can_pull and can_refresh else PUSH


def to_diagnostic(finding: Finding, lines: list[str], codec: PositionCodec) -> types.Diagnostic:
    tags = [types.DiagnosticTag.Unnecessary] if finding.code == "unknown-key" else None
    return types.Diagnostic(
        range=to_range(lines, finding.span, codec),
        message=finding.message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.code,
        source=SOURCE,
        tags=tags,
        data=finding.data or None,
    )


def to_diagnostics(findings: list[Finding], lines: list[str], codec: PositionCodec) -> list[types.Diagnostic]:
    seen: set[tuple] = set()
    out = []
    for finding in findings:
        diag = to_diagnostic(finding, lines, codec)
        key = (diag.code, diag.message, diag.range.start.line, diag.range.start.character)
        if key not in seen:
            seen.add(key)
            out.append(diag)
    return out
