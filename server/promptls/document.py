"""YAML text -> plain data plus the source range of every node (`PromptDocument`).

PyYAML's own composer recurses (the C one segfaults on ~100k nested brackets) and forgets where
aliases were written, so this module builds the data itself from libyaml's event stream: no
recursion, a depth limit, an alias-expansion budget against billion-laughs files, cycle detection,
duplicate-key warnings, and merge keys (`<<`). Every problem becomes a located `Finding`;
`parse_document` never raises.
"""

from __future__ import annotations

import contextlib
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from .model import FILE_START, DataPath, Finding, Pos, PromptDocument, Severity, Span

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MAX_DEPTH = 200
MAX_ALIAS_NODES = 100_000

_TAG = "tag:yaml.org,2002:"
# Characters YAML 1.1 refuses (libyaml raises a ReaderError without a line/column for them).
_BAD_CHAR = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LSP_BREAK = re.compile(r"\r\n|\r|\n")
_YAML_ONLY_BREAKS = re.compile("[\x85\u2028\u2029]")


class LineIndex:
    """Maps a code-point offset in `text` to a 0-based line/column, counting line breaks as LSP does
    (\\n, \\r\\n, \\r), so positions agree with editors even where YAML sees extra breaks (U+2028)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _LSP_BREAK.finditer(text))]

    def pos(self, index: int) -> Pos:
        index = max(0, min(index, len(self.text)))
        line = bisect_right(self.starts, index) - 1
        return Pos(line, index - self.starts[line])

    def index(self, pos: Pos) -> int:
        """The offset of a line/column (clamped to the text)."""
        if pos.line >= len(self.starts):
            return len(self.text)
        return min(self.starts[max(pos.line, 0)] + max(pos.col, 0), len(self.text))


def position_of(text: str, index: int) -> Pos:
    """Line/column (code points, LSP line breaks) of offset `index` in `text`."""
    return LineIndex(text).pos(index)


def char_span(text: str, index: int) -> Span:
    """A one-character span at `index` (empty at a line break or the end), for pointing at a problem."""
    start = position_of(text, index)
    width = 1 if index < len(text) and text[index] not in "\r\n" else 0
    return Span(start, Pos(start.line, start.col + width))


class _TooComplex(Exception):
    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


@dataclass(slots=True)
class _Anchor:
    value: Any
    size: int
    root: DataPath
    entries: list[tuple[DataPath, Span, bool]]


@dataclass(slots=True)
class _Frame:
    """A collection being built. `record=False` for complex keys, whose ranges are not kept."""

    is_map: bool
    value: Any
    path: DataPath
    start: Pos
    flow: bool
    anchor: str | None
    entry_mark: int
    record: bool
    is_key: bool = False
    size: int = 1
    last_end: Pos | None = None
    key: str | None = None
    key_span: Span | None = None
    key_is_merge: bool = False
    value_mark: int = 0
    seen_keys: set[str] = field(default_factory=set)
    merges: list[tuple[Any, list[tuple[DataPath, Span, bool]], DataPath]] = field(default_factory=list)


class _Builder:
    """Consumes libyaml events for one document and produces data, spans and findings."""

    def __init__(self, text: str, loader: Any) -> None:
        self.text = text
        self.loader = loader
        self.resolvers: dict[str | None, list[tuple[str, re.Pattern[str]]]] = loader.yaml_implicit_resolvers
        self.lines = LineIndex(text)
        self.yaml_lines_ok = _YAML_ONLY_BREAKS.search(text) is None
        self.spans: dict[DataPath, Span] = {}
        self.key_spans: dict[DataPath, Span] = {}
        self.entries: list[tuple[DataPath, Span, bool]] = []  # every recorded range, in order
        self.keep_entries = "&" in text or "<<" in text  # only anchors and merges replay ranges
        self.findings: list[Finding] = []
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: dict[str, int] = {}
        self.stack: list[_Frame] = []
        self.alias_nodes = 0
        self.root: Any = None
        self.root_done = False
        self.last_index = 0  # where the last event started: the depth rule's resume point

    # -- positions ---------------------------------------------------------------------------------

    def pos(self, mark: Any) -> Pos:
        # libyaml's end-of-stream mark sits on a virtual line after text without a final newline.
        if self.yaml_lines_ok and mark.index < len(self.text):
            return Pos(mark.line, mark.column)
        return self.lines.pos(mark.index)

    def node_span(self, event: Any) -> Span:
        start, end = self.pos(event.start_mark), self.pos(event.end_mark)
        if getattr(event, "style", None) in ("|", ">"):
            # Block scalars end at the next token; stop at their last character instead.
            i, lo = event.end_mark.index, event.start_mark.index
            while i > lo and self.text[i - 1] in " \t\r\n":
                i -= 1
            end = self.lines.pos(i)
        return Span(start, end)

    # -- recording ---------------------------------------------------------------------------------

    def record(self, path: DataPath, span: Span, is_key: bool = False) -> None:
        if self.stack and not self.stack[-1].record:
            return
        (self.key_spans if is_key else self.spans)[path] = span
        if self.keep_entries:
            self.entries.append((path, span, is_key))

    def forget(self, prefix: DataPath) -> None:
        """Drop ranges under `prefix` (a duplicate key's earlier value)."""
        n = len(prefix)
        for table in (self.spans, self.key_spans):
            for p in [p for p in table if p[:n] == prefix]:
                del table[p]

    def rebase(self, entries: list[tuple[DataPath, Span, bool]], old: DataPath, new: DataPath,
               skip_root: bool) -> None:
        n = len(old)
        for p, span, is_key in entries:
            if skip_root and p == old:
                continue
            self.record(new + p[n:], span, is_key)

    # -- events --------------------------------------------------------------------------------------

    def child_path(self) -> DataPath | None:
        """Path of the node about to start, or None when it is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if not top.is_map:
            return (*top.path, len(top.value))
        if top.key is None:
            return None
        return (*top.path, top.key)

    def resolve(self, value: str) -> str:
        """The implicit tag of a plain scalar (PyYAML's Resolver.resolve without its per-call overhead)."""
        for tag, regexp in (*self.resolvers.get(value[:1], ()), *self.resolvers.get(None, ())):
            if regexp.match(value):
                return tag
        return _TAG + "str"

    def scalar_value(self, event: Any) -> Any:
        tag = event.tag
        if tag is None:
            if not event.implicit[0]:
                return event.value  # quoted or block scalar: a string
            tag = self.resolve(event.value)
            if tag == _TAG + "str":
                return event.value
        node = yaml.ScalarNode(tag, event.value)
        try:
            if tag == _TAG + "null":
                return None
            if tag == _TAG + "bool":
                return SafeConstructor.construct_yaml_bool(self.loader, node)
            if tag == _TAG + "int":
                return SafeConstructor.construct_yaml_int(self.loader, node)
            if tag == _TAG + "float":
                return SafeConstructor.construct_yaml_float(self.loader, node)
        except (ValueError, TypeError, OverflowError):
            pass
        # Strings, timestamps, !!binary and unknown tags stay as written.
        return event.value

    def push_key(self, key: str, span: Span, is_merge: bool) -> None:
        top = self.stack[-1]
        top.key, top.key_span, top.key_is_merge = key, span, is_merge
        top.value_mark = len(self.entries)

    def add_value(self, value: Any, span: Span, size: int) -> None:
        """Attach a finished node to its parent (or make it the root)."""
        if not self.stack:
            self.root, self.root_done = value, True
            return
        top = self.stack[-1]
        top.size += size
        top.last_end = span.end
        if not top.is_map:
            top.value.append(value)
            return
        key = top.key
        assert key is not None
        if top.key_is_merge:
            top.merges.append((value, self.entries[top.value_mark:], (*top.path, key)))
        else:
            if key in top.seen_keys and top.record:
                self.findings.append(Finding(
                    "yaml-duplicate-key", f"duplicate key `{key}`: this later value wins",
                    Severity.WARNING, top.key_span or span, data={"key": key}))
            top.seen_keys.add(key)
            top.value[key] = value
        top.key = None

    def on_key(self, value: Any, span: Span, is_merge: bool = False) -> None:
        key = value if isinstance(value, str) else str(value)
        top = self.stack[-1]
        if key in top.seen_keys and top.record:
            self.forget((*top.path, key))
        self.push_key(key, span, is_merge)
        self.record((*top.path, key), span, is_key=True)

    def scalar(self, event: Any) -> None:
        path = self.child_path()
        span = self.node_span(event)
        if path is None:
            # Keys keep their source text: `true:` is the key "true", `1:` the key "1".
            is_merge = event.value == "<<" and event.implicit[0] and event.tag is None
            if event.anchor:
                self.anchors[event.anchor] = _Anchor(event.value, 1, (), [])
            self.on_key(event.value, span, is_merge)
            return
        value = self.scalar_value(event)
        self.record(path, span)
        if event.anchor:
            self.anchors[event.anchor] = _Anchor(value, 1, path, [(path, span, False)])
        self.add_value(value, span, 1)

    def alias(self, event: Any) -> None:
        span = self.node_span(event)
        name = event.anchor
        if name in self.open_anchors:
            self.findings.append(Finding(
                "yaml-recursive-alias", f"alias *{name} refers to the node that contains it (a cycle)",
                Severity.ERROR, span, blocking=True))
            value, size, anchor = None, 1, None
        elif name not in self.anchors:
            self.findings.append(Finding(
                "yaml-undefined-alias", f"alias *{name} has no anchor &{name} before it",
                Severity.ERROR, span, blocking=True))
            value, size, anchor = None, 1, None
        else:
            anchor = self.anchors[name]
            value, size = anchor.value, anchor.size
            self.alias_nodes += size
            if self.alias_nodes > MAX_ALIAS_NODES:
                raise _TooComplex(f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes", event.start_mark.index)
        path = self.child_path()
        if path is None:
            self.on_key(value, span)
            return
        self.record(path, span)
        if anchor is not None:
            self.rebase(anchor.entries, anchor.root, path, skip_root=True)
        self.add_value(value, span, size)

    def start(self, event: Any, is_map: bool) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise _TooComplex(f"nested deeper than {MAX_DEPTH} levels", event.start_mark.index)
        path = self.child_path()
        is_key = path is None
        record = not is_key and (not self.stack or self.stack[-1].record)
        frame = _Frame(is_map, {} if is_map else [], path if path is not None else (), self.pos(event.start_mark),
                       bool(event.flow_style), event.anchor, len(self.entries), record, is_key)
        if event.anchor:
            self.open_anchors[event.anchor] = self.open_anchors.get(event.anchor, 0) + 1
        self.stack.append(frame)

    def end(self, event: Any) -> None:
        frame = self.stack.pop()
        if frame.is_map and frame.merges:
            self.apply_merges(frame)
        end = self.pos(event.end_mark) if frame.flow or frame.last_end is None else frame.last_end
        span = Span(frame.start, end)
        if frame.anchor:
            self.open_anchors[frame.anchor] -= 1
            if not self.open_anchors[frame.anchor]:
                del self.open_anchors[frame.anchor]
        if frame.is_key:
            self.on_key(frame.value, span)
            return
        self.record(frame.path, span)
        if frame.anchor:
            entries = self.entries[frame.entry_mark:]
            self.anchors[frame.anchor] = _Anchor(frame.value, frame.size, frame.path, entries)
        self.add_value(frame.value, span, frame.size)

    def apply_merges(self, frame: _Frame) -> None:
        """`<<: *base` / `<<: [*a, *b]`: keys written here win, then earlier merge sources."""
        own = frame.value
        merged: dict[str, Any] = {}
        for value, entries, merge_path in frame.merges:
            sources = [(value, merge_path)] if isinstance(value, dict) else \
                [(v, (*merge_path, i)) for i, v in enumerate(value)] if isinstance(value, list) else []
            if not sources or not all(isinstance(v, dict) for v, _ in sources):
                self.findings.append(Finding(
                    "yaml-bad-merge", "`<<` needs a mapping or a list of mappings", Severity.ERROR,
                    self.spans.get(merge_path, frame.key_span or Span(frame.start, frame.start)), blocking=True))
                continue
            for src, src_path in sources:
                for k, v in src.items():
                    if k in own or k in merged:
                        continue
                    merged[k] = v
                    sub = (*src_path, k)
                    n = len(sub)
                    picked = [e for e in entries if e[0][:n] == sub]
                    self.rebase(picked, sub, (*frame.path, k), skip_root=False)
        self.forget((*frame.path, "<<"))
        frame.value = {**merged, **own}

    def run(self) -> None:
        """Consume events up to the end of the first document."""
        loader = self.loader
        while not self.root_done:
            event = loader.get_event()
            self.last_index = event.start_mark.index
            if isinstance(event, yaml.ScalarEvent):
                self.scalar(event)
            elif isinstance(event, yaml.AliasEvent):
                self.alias(event)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                self.start(event, isinstance(event, yaml.MappingStartEvent))
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                self.end(event)
            elif isinstance(event, yaml.StreamEndEvent):
                return


def _depth_rule_windows(builder: _Builder, exc: yaml.YAMLError) -> list[int]:
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


def _first_bad_char(text: str) -> Finding | None:
    m = _BAD_CHAR.search(text)
    if m is None:
        return None
    ch = m.group()
    code = ord(ch)
    if ch == "\x00":
        msg = "the file contains a NUL character: is it a binary file? Prompt files are UTF-8 YAML text"
    elif 0xDC80 <= code <= 0xDCFF:
        msg = f"byte 0x{code - 0xDC00:02x} is not valid UTF-8: save the file as UTF-8"
    else:
        msg = f"YAML does not allow the control character U+{code:04X} here"
    return Finding("yaml-invalid-character", msg, Severity.ERROR, char_span(text, m.start()), blocking=True,
                   data={"codepoint": code})


def _syntax_finding(exc: yaml.YAMLError, text: str, lines: LineIndex) -> Finding:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    index = mark.index if mark is not None else getattr(exc, "position", 0) or 0
    message = f"YAML: {problem}"
    if text[index:index + 1] == "\t":
        message += " (YAML indents with spaces; tabs are not allowed here)"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    data: dict[str, Any] = {}
    if context and context_mark is not None:
        cpos = lines.pos(context_mark.index)
        message += f" ({context} started at line {cpos.line + 1}, column {cpos.col + 1})"
        data["context"] = {"line": cpos.line, "col": cpos.col}
    jinja = _JINJA_LINE.search(text)
    if jinja is not None:  # a template of a prompt file, not one: say so rather than only what YAML saw
        at = lines.pos(jinja.start(1))
        tag = jinja.group(1).strip()
        tag = tag if len(tag) <= 40 else tag[:37] + "..."
        data["jinja"] = {"line": at.line, "col": at.col}
        message = (f"this is a Jinja template (`{tag}` on line {at.line + 1}), not YAML: GitHub Models and promptls "
                   f"read prompt files as YAML; count the rendered file instead ({message})")
        index = jinja.start(1)
    return Finding("yaml-syntax", message, Severity.ERROR, char_span(text, index), blocking=True, data=data)


# A line that starts with a Jinja statement or comment tag: `{% import ... %}`, `{# ... #}`.
_JINJA_LINE = re.compile(r"^[ \t]*(\{[%#].*?)$", re.MULTILINE)


_EMPTY_MESSAGE = ("the file is empty: a prompt file is a YAML mapping with at least `messages:`, e.g.\n"
                  "model: claude-sonnet-4-6\nmessages:\n  - role: user\n    content: Hello")


def parse_document(text: str, path: Path | None) -> PromptDocument:
    """Parse one prompt file. Never raises: every problem is a finding in `.findings`.

    `data` is None when the text is not usable (syntax error, too complex, invalid characters);
    a non-mapping root keeps its data but gets a blocking `schema-root` finding.
    """
    doc = PromptDocument(text, path, None, {}, {}, [])
    bad = _first_bad_char(text)
    if bad is not None:
        doc.findings.append(bad)
        return doc
    # A leading BOM is not content (editors hide it); libyaml skips it without counting it.
    body = text[1:] if text.startswith("\ufeff") else text
    builder = _Builder(body, _Loader(body))
    try:
        try:
            builder.run()
        except yaml.YAMLError as exc:
            # libyaml scans up to 1,024 characters ahead and, since PyYAML 6.0.4, stops at its own nesting
            # limit there, before our depth rule sees the events. Our rule decides: replay a prefix of the
            # text with the pure-Python loader (no such limit, the same marks); if the rule does not fire
            # before the error, the original error stands.
            for end in _depth_rule_windows(builder, exc):
                replay = _Builder(body[:end], yaml.SafeLoader(body[:end]))
                with contextlib.suppress(yaml.YAMLError):
                    replay.run()
            raise
        if builder.root_done:
            _check_single_document(builder, doc)
    except _TooComplex as exc:
        doc.findings.append(Finding(
            "yaml-too-complex", f"YAML too complex: {exc}; refusing to expand it", Severity.ERROR,
            char_span(body, exc.index), blocking=True))
        return doc
    except yaml.YAMLError as exc:
        doc.findings.append(_syntax_finding(exc, body, builder.lines))
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


def _check_single_document(builder: _Builder, doc: PromptDocument) -> None:
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
