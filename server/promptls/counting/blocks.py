"""The estimate of each piece of a request: content blocks, documents, tools, the system prompt, thinking.

Every function takes what the body holds as written and never raises: anything unrecognised is
counted as its JSON text. Frames and overheads come from the framing model in `framing.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..catalog import ModelInfo
from ..model import Attachment
from . import framing
from .media import est_image, est_pdf, pdf_facts
from .texttokens import Est, est_text, heuristic


def est_document(block: Mapping[str, Any], info: ModelInfo, att: Attachment | None) -> Est:
    est = Est(fixed=framing.DOCUMENT_FRAME)
    for key in ("title", "context"):
        if block.get(key):
            est += est_text(block[key], info)
    source = block.get("source")
    source = source if isinstance(source, Mapping) else {}
    kind = source.get("type")
    if att is not None and att.kind == "pdf":
        return est + est_pdf(att.pages, att.text or "", info)
    if att is not None and att.kind == "text":
        return est + est_text(att.text or "", info)
    if kind == "text":
        return est + est_text(source.get("data", ""), info)
    if kind == "content":
        content = source.get("content", "")
        if isinstance(content, list):
            return est + sum((est_block(b, info, current_turn=False) for b in content), Est())
        return est + est_text(content, info)
    if kind == "base64" and isinstance(source.get("data"), str):
        if source.get("media_type", "application/pdf") == "application/pdf":
            pages, text = pdf_facts(source["data"])
            return est + est_pdf(pages, text, info)
        return est + est_text(source["data"], info)
    return est + est_pdf(None, "", info)  # url / file source: size unknown



def est_block(block: Any, info: ModelInfo, *, current_turn: bool, att: Attachment | None = None) -> Est:
    """One content block. Never raises: anything unrecognised is counted as its JSON text."""
    if isinstance(block, str):
        return est_text(block, info)
    if not isinstance(block, Mapping):
        return est_text(block, info)
    kind = block.get("type")
    if kind == "text":
        return est_text(block.get("text", ""), info)
    if kind == "image":
        return est_image(block, info, att)
    if kind == "document":
        return est_document(block, info, att)
    if kind == "tool_use" or kind == "server_tool_use":
        return est_text(block.get("name", ""), info) + est_text(block.get("input", {}), info) \
            + Est(fixed=framing.TOOL_USE_FRAME)
    if kind == "tool_result":
        content = block.get("content", "")
        inner = (sum((est_block(b, info, current_turn=False) for b in content), Est())
                 if isinstance(content, list) else est_text(content, info))
        return inner + Est(fixed=framing.TOOL_RESULT_FRAME)
    if kind == "thinking":
        # Thinking from earlier assistant turns is dropped by the API; the current turn's counts.
        return est_text(block.get("thinking", ""), info) if current_turn else Est()
    if kind == "redacted_thinking":
        data = block.get("data", "")
        return Est(text=heuristic(data, info.tokenizer)) if current_turn and isinstance(data, str) else Est()
    rest = {k: v for k, v in block.items() if k not in ("type", "cache_control", "citations")}
    return est_text(rest, info)


def content_blocks(message: Any) -> list[Any]:
    content = message.get("content") if isinstance(message, Mapping) else None
    if isinstance(content, list):
        return content
    return [] if content is None else [content]


def current_turn_start(messages: list[Any]) -> int:
    """Index after the last user message that is more than tool results: what follows is the
    assistant turn being generated, whose thinking is counted."""
    start = 0
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        blocks = content_blocks(message)
        if not blocks or any(not (isinstance(b, Mapping) and b.get("type") == "tool_result") for b in blocks):
            start = i + 1
    return start


def est_tool(tool: Any, info: ModelInfo) -> Est:
    """One tool definition: name, description and compact input_schema, each as text (framing.py)."""
    if not isinstance(tool, Mapping):
        return est_text(tool, info)
    kind = str(tool.get("type") or "custom")
    if kind != "custom" and "input_schema" not in tool:
        for prefix, tokens in framing.ANTHROPIC_TOOL_TOKENS.items():
            if kind.startswith(prefix):
                return Est(fixed=tokens)
        return est_text({k: v for k, v in tool.items() if k != "cache_control"}, info)
    est = Est(fixed=framing.TOOL_FRAME)
    for key in ("name", "description"):
        if tool.get(key):
            est += est_text(tool[key], info)
    if "input_schema" in tool:
        est += est_text(tool["input_schema"], info)
    return est


def est_system(system: Any, info: ModelInfo) -> Est:
    if system is None:
        return Est()
    if isinstance(system, list):
        est = Est()
        for block in system:
            est += est_text(block.get("text", "") if isinstance(block, Mapping) else block, info)
        return est + Est(fixed=framing.SYSTEM_FRAME)
    return est_text(system, info) + Est(fixed=framing.SYSTEM_FRAME)


def est_thinking(config: Any) -> Est:
    if isinstance(config, Mapping) and config.get("type") in ("enabled", "adaptive"):
        return Est(fixed=framing.THINKING_CONFIG_TOKENS)
    return Est()
