"""A validated prompt spec -> the count_tokens request it describes, cut into the parts users see.

Template variables are filled from one testData row; attachments are loaded (confined to the
workspace) and become base64 image/document blocks, prepended to the first user message as the
seed app did. Anything that cannot be loaded is left out of the request and reported.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .model import (
    Attachment,
    BlockSpec,
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
from .templates import substitute

# (ref, span, kind hint) -> Attachment; the engine binds root, base dir and allowed roots.
Loader = Callable[[str, Span], Attachment]

SERVER_TOOL_PREFIXES = ("web_search_", "web_fetch_", "code_execution_", "tool_search_")


class _Builder:
    def __init__(self, spec: PromptSpec, doc: PromptDocument, model: str, row: dict[str, Any],
                 load: Loader) -> None:
        self.spec, self.doc, self.model, self.row, self.load = spec, doc, model, row, load
        self.parts: list[Part] = []
        self.findings: list[Finding] = []
        self.missing: dict[str, Span] = {}

    # -- helpers -------------------------------------------------------------------------------

    def line_span(self, path: DataPath) -> Span:
        """The first line of a node: where its hint goes."""
        return self.doc.span(path)

    def fill(self, text: str, path: DataPath) -> str:
        out, missing = substitute(text, self.row)
        for name in missing:
            self.missing.setdefault(name, self.doc.span(path))
        return out

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
        if isinstance(spec.system, str):
            value: Any = self.fill(spec.system, path)
        else:
            value = [self.text_block(b) for b in spec.system]
        span = self.doc.key_span(path) if spec.system_path and spec.system_path[0] == "system" else self.line_span(path)
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
        return block

    def messages(self, first_user_extra: list[tuple[dict[str, Any], Part]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        first_user_done = False
        for i, m in enumerate(self.spec.messages):
            pid = f"messages[{i}]"
            part = Part(pid, "message", f"{m.role} #{i + 1}", self.line_span(m.path), None, role=m.role)
            self.parts.append(part)
            first_kid = len(self.parts)
            content = self.content(m, pid)
            kids = [p for p in self.parts[first_kid:] if p.parent == pid]  # not all parts: 10k messages stay linear
            if m.role == "user" and not first_user_done and first_user_extra:
                first_user_done = True
                blocks = [b for b, _ in first_user_extra]
                for _, apart in first_user_extra:
                    apart.parent = pid
                    kids.append(apart)
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
        tools_part = Part("tools", "tools", f"tools ({len(spec.tools)})", self.doc.key_span(path), spec.tools)
        self.parts.append(tools_part)
        for i, tool in enumerate(spec.tools):
            name = str(tool.get("name") or tool.get("type") or f"tool {i + 1}")
            server_tool = str(tool.get("type", "")).startswith(SERVER_TOOL_PREFIXES)
            self.parts.append(Part(f"tools[{i}]", "tool", name, self.line_span((*path, i)), tool,
                                   parent="tools", api_ok=not server_tool))
        tools_part.api_ok = all(p.api_ok for p in self.parts if p.parent == "tools")
        return spec.tools

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
        for name, span in self.missing.items():
            self.findings.append(Finding(
                "template-variable-missing",
                f"no value for {{{{{name}}}}}: counted as written (add it to testData or variables)",
                Severity.WARNING, span, data={"variable": name}))
        return CountRequest(self.model, body, self.parts), self.findings


def build_request(spec: PromptSpec, doc: PromptDocument, model: str, row: dict[str, Any] | None,
                  load: Loader) -> tuple[CountRequest, list[Finding]]:
    """Build the request for one testData row (or none)."""
    return _Builder(spec, doc, model, row or {}, load).build()


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
