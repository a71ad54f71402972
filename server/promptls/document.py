"""YAML text -> plain data plus the source range of every node (`PromptDocument`).

PyYAML's own composer recurses and forgets where aliases were written, so the data is built from
libyaml's event stream (`yamlevents.py`: depth limit, alias budget, cycles, duplicate keys, merge
keys); YAML errors become located messages in `yamlerrors.py`. This module runs the parse, applies the
depth rule where libyaml's look-ahead would pre-empt it, and checks the root. Every problem becomes a
located `Finding`; `parse_document` never raises.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import yaml

from .lineindex import char_span, position_of
from .model import FILE_START, Finding, PromptDocument, Severity
from .yamlerrors import first_bad_char, syntax_finding
from .yamlevents import MAX_ALIAS_NODES, MAX_DEPTH, Builder, TooComplex

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "parse_document", "position_of"]

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader


def _depth_rule_windows(builder: Builder, exc: yaml.YAMLError) -> list[int]:
    """Prefix lengths to replay if `MAX_DEPTH` could be crossed before the error (none if it cannot).

    Every collection starts at one of `[ { - ? :` (a block mapping at its first key's `:`), so the error
    can only hide a depth violation if enough of them lie in the text libyaml scanned ahead (a slice
    bounded by its look-ahead: an ordinary syntax error costs a short count, not a parse). The first
    prefix ends soon after the opener that would cross the limit (the pure-Python scanner is quadratic
    in the brackets it holds), the last at the error.
    """
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    end = min(mark.index + 1, len(builder.text)) if mark is not None else len(builder.text)
    start, need = builder.last_index, MAX_DEPTH - len(builder.stack) + 1
    openers = [i for i in range(start, end) if builder.text[i] in "[{-?:"]
    if len(openers) < need:
        return []
    return sorted({openers[min(2 * need, len(openers)) - 1] + 1, end})


_EMPTY_MESSAGE = ("the file is empty: a prompt file is a YAML mapping with at least `messages:`, e.g.\n"
                  "model: claude-sonnet-4-6\nmessages:\n  - role: user\n    content: Hello")


def parse_document(text: str, path: Path | None) -> PromptDocument:
    """Parse one prompt file. Never raises: every problem is a finding in `.findings`.

    `data` is None when the text is not usable (syntax error, too complex, invalid characters);
    a non-mapping root keeps its data but gets a blocking `schema-root` finding.
    """
    doc = PromptDocument(text, path, None, {}, {}, [])
    bad = first_bad_char(text)
    if bad is not None:
        doc.findings.append(bad)
        return doc
    # A leading BOM is not content (editors hide it); libyaml skips it without counting it.
    body = text[1:] if text.startswith("\ufeff") else text
    builder = Builder(body, _Loader(body))
    try:
        try:
            builder.run()
        except yaml.YAMLError as exc:
            # libyaml scans up to 1,024 characters ahead and, since PyYAML 6.0.4, stops at its own nesting
            # limit there, before our depth rule sees the events. Our rule decides: replay a prefix of the
            # text with the pure-Python loader (no such limit, the same marks); if the rule does not fire
            # before the error, the original error stands.
            for end in _depth_rule_windows(builder, exc):
                replay = Builder(body[:end], yaml.SafeLoader(body[:end]))
                with contextlib.suppress(yaml.YAMLError):
                    replay.run()
            raise
        if builder.root_done:
            _check_single_document(builder, doc)
    except TooComplex as exc:
        doc.findings.append(Finding(
            "yaml-too-complex", f"YAML too complex: {exc}; refusing to expand it", Severity.ERROR,
            char_span(body, exc.index), blocking=True))
        return doc
    except yaml.YAMLError as exc:
        doc.findings.append(syntax_finding(exc, body, builder.lines))
        return doc
    except Exception as exc:  # the server must survive any input, even one that finds a bug here
        doc.findings.append(Finding("yaml-internal-error", f"YAML: cannot parse ({type(exc).__name__}: {exc})",
                                    Severity.ERROR, blocking=True))
        return doc
    finally:
        builder.loader.dispose()
    doc.findings.extend(builder.findings)
    doc.spans, doc.key_spans = builder.spans, builder.key_spans
    root, root_span = builder.root, builder.spans.get(())
    if not builder.root_done or (root is None and root_span is not None and root_span.start == root_span.end):
        doc.findings.append(Finding("empty-file", _EMPTY_MESSAGE, Severity.ERROR, blocking=True))
        return doc
    doc.data = root
    if not isinstance(root, dict):
        kind = "a list" if isinstance(root, list) else f"the scalar `{_short(root)}`"
        doc.findings.append(Finding(
            "schema-root", f"the top level must be a mapping (keys such as model: and messages:), not {kind}",
            Severity.ERROR, builder.spans.get((), FILE_START), blocking=True))
    return doc


def _check_single_document(builder: Builder, doc: PromptDocument) -> None:
    """Report a second `---` document; the first one is still used so hints keep working."""
    loader = builder.loader
    event = loader.get_event()
    while isinstance(event, yaml.DocumentEndEvent):
        event = loader.get_event()
    if isinstance(event, yaml.DocumentStartEvent):
        doc.findings.append(Finding(
            "yaml-multiple-documents", "only one YAML document is allowed per prompt file; "
            "everything after this `---` is ignored", Severity.ERROR, builder.node_span(event), blocking=True))


def _short(value: Any) -> str:
    s = "null" if value is None else str(value)
    return s if len(s) <= 40 else s[:37] + "..."
