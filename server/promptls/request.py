"""A validated prompt spec -> the count_tokens request it describes, cut into the parts users see.

Template variables are filled from one testData row; attachments are loaded (confined to the
workspace) and become base64 image/document blocks, prepended to the first user message as the
seed app did. Anything that cannot be loaded is left out of the request and reported.

Prompt caching: `cache_control` is read wherever the API takes it (system text blocks, tools,
message content blocks and the request-level automatic breakpoint) and sent with the count, except
markers the API would reject (invalid, or past the 4th), so the count still works; the cacheable
blocks in render order and the breakpoints go into the request for `caching`.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from . import caching
from .model import (
    Attachment,
    BlockSpec,
    CacheBreakpoint,
    CachePosition,
    CountRequest,
    DataPath,
    Finding,
    MessageSpec,
    Part,
    PromptDocument,
    PromptSpec,
    Severity,
    Span,
)
from .templates import substitute, variables

# (ref, span, kind hint) -> Attachment; the engine binds root, base dir and allowed roots.
Loader = Callable[[str, Span], Attachment]

SERVER_TOOL_PREFIXES = ("web_search_", "web_fetch_", "code_execution_", "tool_search_")


class _Builder:
    def __init__(self, spec: PromptSpec, doc: PromptDocument, model: str, row: dict[str, Any],
                 load: Loader) -> None:
        self.spec, self.doc, self.model, self.row, self.load = spec, doc, model, row, load
        self.parts: list[Part] = []
        self.findings: list[Finding] = []
        # Cacheable blocks per section, each with the dict that carries its marker (None: no marker).
        self.cache: dict[str, list[tuple[CachePosition, dict[str, Any] | None, Span | None]]] = {
            "tools": [], "system": [], "messages": []}

    # -- helpers -------------------------------------------------------------------------------

    def line_span(self, path: DataPath) -> Span:
        """The first line of a node: where its hint goes."""
        return self.doc.span(path)

    def marker(self, holder: dict[str, Any], base: DataPath) -> tuple[dict[str, Any] | None, Span | None]:
        """Validate `holder`'s cache_control in place (dropped when the API would reject it)."""
        if "cache_control" not in holder:
            return None, None
        span = self.doc.key_span((*base, "cache_control"))
        value, problem = caching.marker(holder["cache_control"], span)
        if problem is not None:
            self.findings.append(problem)
            del holder["cache_control"]
            return None, None
        holder["cache_control"] = value
        return holder, span

    def position(self, section: str, part_id: str, label: str, span: Span, *, block_type: str = "text",
                 text: str = "", holder: dict[str, Any] | None = None, base: DataPath = (),
                 share: float = 1.0) -> None:
        carrier, key_span = self.marker(holder, base) if holder is not None else (None, None)
        self.cache[section].append((CachePosition(part_id, label, block_type, span, tuple(variables(text)), share),
                                    carrier, key_span))

    def fill(self, text: str, path: DataPath) -> str:
        """Placeholders without a value stay as written; templates.template_findings says why."""
        return substitute(text, self.row)[0]

    def attachment_block(self, ref: str, path: DataPath, kind: str | None,
                         extra: dict[str, Any]) -> tuple[dict[str, Any] | None, Attachment]:
        att = self.load(ref, self.doc.span(path))
        self.findings.extend(att.findings)
        if not att.ok and att.resolved is not None:
            return None, att
        block: dict[str, Any]
        is_url = att.resolved is None
        if is_url:
            source: dict[str, Any] = {"type": "url", "url": ref}
            block_type = "image" if (att.kind or kind) == "image" else "document"
        elif att.kind == "image":
            source = {"type": "base64", "media_type": att.media_type, "data": _b64(att)}
            block_type = "image"
        elif att.kind == "pdf":
            source = {"type": "base64", "media_type": "application/pdf", "data": _b64(att)}
            block_type = "document"
        else:
            source = {"type": "text", "media_type": "text/plain", "data": att.text or ""}
            block_type = "document"
        block = {"type": block_type, "source": source}
        if block_type == "document":
            for key in ("title", "context", "citations"):
                if key in extra:
                    block[key] = extra[key]
        if "cache_control" in extra:
            block["cache_control"] = extra["cache_control"]
        return block, att

    # -- parts ---------------------------------------------------------------------------------

    def system(self) -> Any:
        spec = self.spec
        if spec.system is None:
            return None
        path = spec.system_path or ("system",)
        span = self.doc.key_span(path) if spec.system_path and spec.system_path[0] == "system" else self.line_span(path)
        if isinstance(spec.system, str):
            value: Any = self.fill(spec.system, path)
            self.position("system", "system", "system", span, text=spec.system)
        else:
            value = [self.text_block(b) for b in spec.system]
            size = sum(len(str(b.value)) for b in spec.system) or 1
            for b, block in zip(spec.system, value, strict=True):
                self.position("system", "system", "system text", self.line_span(b.path), text=str(b.value),
                              holder=block, base=_base(b), share=len(str(b.value)) / size if len(value) > 1 else 1.0)
        self.parts.append(Part("system", "system", "system", span, value))
        return value

    def text_block(self, b: BlockSpec) -> dict[str, Any]:
        block: dict[str, Any] = {"type": "text", "text": self.fill(str(b.value), b.path)}
        if "cache_control" in b.extra:
            block["cache_control"] = b.extra["cache_control"]
        return block

    def block(self, b: BlockSpec, parent: str, index: int) -> dict[str, Any] | None:
        pid = f"{parent}.content[{index}]"
        span = self.line_span(b.path)
        att: Attachment | None = None
        api_ok = True
        if b.kind == "text":
            block: dict[str, Any] | None = self.text_block(b)
            label = "text"
        elif b.kind in ("image", "document"):
            block, att = self.attachment_block(str(b.value), b.path, b.kind, b.extra)
            label = f"{b.kind} {b.value}"
            api_ok = att.resolved is not None
        else:
            block = dict(b.value) if isinstance(b.value, dict) else {"type": b.kind, "value": b.value}
            label = str(block.get("type", b.kind))
            source = block.get("source")
            if isinstance(source, dict) and source.get("type") in ("url", "file"):
                api_ok = False
        if block is None:
            return None
        self.parts.append(Part(pid, "block", label, span, block, parent=parent,
                               detail=att.detail() if att else "", api_ok=api_ok, attachment=att))
        self.position("messages", pid, label, span, block_type=str(block.get("type", b.kind)),
                      text=str(b.value) if b.kind == "text" else "", holder=block, base=_base(b))
        return block

    def messages(self, first_user_extra: list[tuple[dict[str, Any], Part]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        first_user_done = False
        for i, m in enumerate(self.spec.messages):
            pid = f"messages[{i}]"
            part = Part(pid, "message", f"{m.role} #{i + 1}", self.line_span(m.path), None, role=m.role)
            self.parts.append(part)
            first_kid = len(self.parts)
            first_position = len(self.cache["messages"])
            content = self.content(m, pid)
            if isinstance(m.content, str):
                self.position("messages", pid, part.label, part.span, text=m.content)
            kids = [p for p in self.parts[first_kid:] if p.parent == pid]  # not all parts: 10k messages stay linear
            if m.role == "user" and not first_user_done and first_user_extra:
                first_user_done = True
                blocks = [b for b, _ in first_user_extra]
                for _, apart in first_user_extra:
                    apart.parent = pid
                    kids.append(apart)
                self.cache["messages"][first_position:first_position] = [
                    (CachePosition(apart.id, apart.label, str(b.get("type", "document")), apart.span), None, None)
                    for b, apart in first_user_extra]
                content = blocks + ([{"type": "text", "text": content}] if isinstance(content, str) else content)
            message = {"role": m.role, "content": content}
            part.fragment = message
            part.api_ok = all(p.api_ok for p in kids)
            out.append(message)
        return out

    def content(self, m: MessageSpec, pid: str) -> str | list[dict[str, Any]]:
        if isinstance(m.content, str):
            return self.fill(m.content, (*m.path, "content"))
        blocks = []
        for j, b in enumerate(m.content):
            block = self.block(b, pid, j)
            if block is not None:
                blocks.append(block)
        return blocks

    def attachments(self) -> list[tuple[dict[str, Any], Part]]:
        out = []
        for k, ref in enumerate(self.spec.attachments):
            block, att = self.attachment_block(ref.ref, ref.path, ref.kind, {"title": ref.title} if ref.title else {})
            if block is None:
                continue
            part = Part(f"attachments[{k}]", "attachment", f"attachment {ref.ref}", self.line_span(ref.path),
                        block, detail=att.detail(), api_ok=att.resolved is not None, attachment=att)
            out.append((block, part))
        return out

    def tools(self) -> list[dict[str, Any]] | None:
        spec = self.spec
        if not spec.tools:
            return None
        path = spec.tools_path or ("tools",)
        written = self.doc.data.get("tools") if isinstance(self.doc.data, dict) else None
        written = written if isinstance(written, list) else []
        tools = [dict(t) for t in spec.tools]  # copies: an invalid cache_control is dropped from what is sent
        tools_part = Part("tools", "tools", f"tools ({len(tools)})", self.doc.key_span(path), tools)
        self.parts.append(tools_part)
        for i, tool in enumerate(tools):
            name = str(tool.get("name") or tool.get("type") or f"tool {i + 1}")
            server_tool = str(tool.get("type", "")).startswith(SERVER_TOOL_PREFIXES)
            at = next((k for k, t in enumerate(written) if t == spec.tools[i]), i)  # invalid tools are skipped
            span = self.line_span((*path, at))
            self.parts.append(Part(f"tools[{i}]", "tool", name, span, tool, parent="tools", api_ok=not server_tool))
            self.position("tools", f"tools[{i}]", f"tool {name}", span, block_type="tool", holder=tool,
                          base=(*path, at))
        tools_part.api_ok = all(p.api_ok for p in self.parts if p.parent == "tools")
        return tools

    def build(self) -> tuple[CountRequest, list[Finding]]:
        body: dict[str, Any] = {"model": self.model}
        system = self.system()
        if system is not None:
            body["system"] = system
        extra = self.attachments()
        body["messages"] = self.messages(extra)
        if extra and not any(m.role == "user" for m in self.spec.messages):
            self.findings.append(Finding("attachments-no-user-message",
                                         "attachments need a user message to go into; they are not counted",
                                         Severity.WARNING, self.doc.key_span(("attachments",))))
        # Parts created for attachments go right after their message, in file order.
        attachment_parts = [p for _, p in extra if p.parent is not None]
        for ap in reversed(attachment_parts):
            idx = next(i for i, p in enumerate(self.parts) if p.id == ap.parent)
            self.parts.insert(idx + 1, ap)
        tools = self.tools()
        if tools is not None:
            body["tools"] = tools
        if self.spec.tool_choice is not None:
            body["tool_choice"] = self.spec.tool_choice
        if self.spec.thinking is not None:
            body["thinking"] = self.spec.thinking
        positions, breakpoints = self.breakpoints(body)
        request = CountRequest(self.model, body, self.parts, positions, breakpoints)
        self.findings += caching.structure_findings(request, self.spec)
        return request, self.findings

    def breakpoints(self, body: dict[str, Any]) -> tuple[list[CachePosition], list[CacheBreakpoint]]:
        """Cacheable blocks in render order and the breakpoints on them, the request-level one included;
        markers past the API's limit are taken out of `body` (the finding says so)."""
        entries = [*self.cache["tools"], *self.cache["system"], *self.cache["messages"]]
        positions = [pos for pos, _, _ in entries]
        explicit = [(i, holder, span) for i, (_, holder, span) in enumerate(entries)
                    if holder is not None and span is not None]
        bps = [CacheBreakpoint(i, caching.ttl_of(holder["cache_control"]), span) for i, holder, span in explicit]
        top = self.doc.data.get("cache_control") if isinstance(self.doc.data, dict) else None
        if top is not None:
            span = self.doc.key_span(("cache_control",))
            value, problem = caching.marker(top, span)
            at = caching.automatic_position(positions)
            if problem is not None:
                self.findings.append(problem)
            else:
                body["cache_control"] = value
            if value is not None and at is not None:
                ttl = caching.ttl_of(value)
                same = next((b for b in bps if b.position == at), None)
                if same is not None and same.ttl != ttl:
                    self.findings.append(Finding(
                        "cache-ttl-order", f"the request-level cache_control ({ttl}) lands on the last block, whose "
                        f"own breakpoint (line {same.span.start.line + 1}) has ttl {same.ttl}: the API rejects "
                        "the request", Severity.ERROR, span))
                elif same is None:  # an explicit marker with the same TTL there makes it a no-op
                    bps.append(CacheBreakpoint(at, ttl, span, automatic=True))
        for n, (_, holder, _) in enumerate(explicit):
            if n >= caching.MAX_BREAKPOINTS:
                del holder["cache_control"]
        if len(bps) > caching.MAX_BREAKPOINTS and "cache_control" in body and len(explicit) >= caching.MAX_BREAKPOINTS:
            del body["cache_control"]
        return positions, sorted(bps, key=lambda b: b.position)


def build_request(spec: PromptSpec, doc: PromptDocument, model: str, row: dict[str, Any] | None,
                  load: Loader) -> tuple[CountRequest, list[Finding]]:
    """Build the request for one testData row (or none)."""
    return _Builder(spec, doc, model, row or {}, load).build()


def _base(b: BlockSpec) -> DataPath:
    """The data path of the mapping that holds a block's `cache_control` (shorthand blocks record the
    path of their `text:`/`image:`/`document:` value)."""
    if b.kind in ("text", "image", "document") and b.path and b.path[-1] in ("text", "image", "document"):
        return b.path[:-1]
    return b.path


_B64_CACHE: OrderedDict[str, str] = OrderedDict()
_B64_CACHE_BYTES = 64 * 1024 * 1024


def _b64(att: Attachment) -> str:
    """Base64 of an attachment, memoised by content hash: the LSP rebuilds requests on every edit."""
    key = att.sha256
    if key and key in _B64_CACHE:
        _B64_CACHE.move_to_end(key)
        return _B64_CACHE[key]
    data = base64.b64encode(att.data or b"").decode("ascii")
    if key:
        _B64_CACHE[key] = data
        while sum(len(v) for v in _B64_CACHE.values()) > _B64_CACHE_BYTES and len(_B64_CACHE) > 1:
            _B64_CACHE.popitem(last=False)
    return data
