"""libyaml's event stream -> plain data, the range of every node and the findings met on the way.

PyYAML's own composer recurses (the C one segfaults on ~100k nested brackets) and forgets where
aliases were written, so `Builder` replays the events itself: no recursion, a depth limit, an
alias-expansion budget against billion-laughs files, cycle detection, duplicate-key warnings and merge
keys (`<<`). Exceeding a limit raises `TooComplex`; everything else becomes a `Finding`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from .lineindex import LineIndex
from .model import DataPath, Finding, Pos, Severity, Span

MAX_DEPTH = 200
MAX_ALIAS_NODES = 100_000

_TAG = "tag:yaml.org,2002:"
_YAML_ONLY_BREAKS = re.compile("[\x85\u2028\u2029]")


class TooComplex(Exception):
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


class Builder:
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
                raise TooComplex(f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes", event.start_mark.index)
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
            raise TooComplex(f"nested deeper than {MAX_DEPTH} levels", event.start_mark.index)
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
