"""Document links on attachment paths (`attachments:`, `image:`, `document:`), inside the workspace only."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ..model import DataPath
from .positions import to_range
from .state import DocResult


def attachment_refs(result: DocResult) -> list[tuple[str, DataPath]]:
    """(ref, data path of the string naming it) for every local attachment of the file."""
    spec = result.analysis.spec if result.analysis is not None else None
    if spec is None:
        return []
    refs = [(a.ref, a.path) for a in spec.attachments]
    for message in spec.messages:
        if isinstance(message.content, list):
            refs += [(b.value, (*b.path, b.kind)) for b in message.content
                     if b.kind in ("image", "document") and isinstance(b.value, str)]
    return [(ref, path) for ref, path in refs if ref and "://" not in ref and not ref.startswith("data:")]


def _allowed(target: Path, result: DocResult) -> bool:
    roots = (result.config.root, *result.config.allowed_roots)
    return any(target.is_relative_to(root.resolve()) for root in roots)


def document_links(result: DocResult, codec: PositionCodec, tooltips: bool = False) -> list[types.DocumentLink]:
    if result.analysis is None:
        return []
    doc = result.analysis.doc
    out = []
    for ref, data_path in attachment_refs(result):
        span = doc.spans.get(data_path) or doc.spans.get(data_path[:-1])
        target = (result.path.parent / ref).resolve()
        if span is None or not target.exists() or not _allowed(target, result):
            continue
        out.append(types.DocumentLink(range=to_range(result.lines, span, codec), target=target.as_uri(),
                                      tooltip=f"open {ref}" if tooltips else None))
    return out
