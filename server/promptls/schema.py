"""The prompt file format: plain YAML data -> `PromptSpec`, with located findings, and its JSON Schema.

The format is a superset of GitHub Models prompt files (`name`, `model`, `modelParameters`,
`messages` with string content, `testData`, `evaluators`, ...) plus the Anthropic request shape
(`system`, content blocks, `tools`, `tool_choice`, `thinking`, `attachments`, `budget`). Files
from real repositories carry their own keys, so unknown keys are only hints, and the well-known
metadata keys pass silently. Validation never stops at the first problem: each bad part is
reported at its own range and left out, so the rest of the file can still be shown.

This module walks the top level and the messages; content blocks are checked in `schemacheck.py`,
the other sections in `schemasections.py` and `schemavars.py`, the key tables live in `schemakeys.py`
and the JSON Schema in `promptschema.py`.
"""

from __future__ import annotations

from typing import Any

from .model import BlockSpec, DataPath, Finding, MessageSpec, PromptDocument, PromptSpec
from .promptschema import json_schema
from .schemacheck import Checker
from .schemakeys import (
    API_PASSTHROUGH_KEYS,
    KNOWN_METADATA_KEYS,
    MESSAGE_KEYS,
    ROLES,
    SPEC_KEYS,
    SYSTEM_ALIASES,
    near_miss,
)
from .schemasections import (
    read_attachments,
    read_budget,
    read_max_tokens,
    read_thinking,
    read_tool_choice,
    read_tools,
)
from .schemavars import read_test_data

__all__ = ["KNOWN_METADATA_KEYS", "json_schema", "near_miss", "to_spec"]


def to_spec(doc: PromptDocument, default_model: str) -> tuple[PromptSpec | None, list[Finding]]:
    """Validate `doc.data` and turn it into a `PromptSpec`.

    Returns only this module's findings (the document's own are in `doc.findings`). The spec is
    None when the data is not a mapping; otherwise it holds every part that is well-formed, even
    when other parts have blocking findings. `default_model` is not filled in: `spec.model` stays as
    written (None when absent) so the caller can say which model it counted with.
    """
    data = doc.data
    if not isinstance(data, dict):
        return None, []
    c = Checker(doc)
    messages_typo = None if "messages" in data else next(
        (k for k in data if k not in SPEC_KEYS and near_miss(k, SPEC_KEYS) == "messages"), None)
    silent = KNOWN_METADATA_KEYS | API_PASSTHROUGH_KEYS | ({messages_typo} if messages_typo else set())
    c.unknown_keys(data, (), SPEC_KEYS, silent)

    model = data.get("model")
    if model is not None and not isinstance(model, str):
        c.ignored(("model",), "a model id such as claude-sonnet-4-6", model)
        model = None
    model = model.strip() or None if isinstance(model, str) else None

    system_pieces: list[tuple[str | list[BlockSpec], DataPath, DataPath]] = []
    raw_system = data.get("system")
    if raw_system is not None and not (isinstance(raw_system, str) and not raw_system.strip()):
        value = c.content(data["system"], ("system",), text_only=True)
        if value is not None:
            system_pieces.append((value, ("system",), ("system",)))

    messages, hoisted = _messages(c, data, system_pieces, messages_typo)
    system, system_path = _system(system_pieces)
    tools = read_tools(c, data)
    spec = PromptSpec(
        model=model,
        system=system,
        system_path=system_path,
        messages=messages,
        tools=tools,
        tools_path=("tools",) if tools else None,
        tool_choice=read_tool_choice(c, data, tools),
        attachments=read_attachments(c, data),
        test_data=read_test_data(c, data),
        max_tokens=read_max_tokens(c, data),
        budget_input_tokens=read_budget(c, data),
        thinking=None,
        hoisted_system_paths=hoisted,
    )
    spec.thinking = read_thinking(c, data, spec.max_tokens)
    return spec, c.findings


def _messages(c: Checker, data: dict[str, Any],
              system_pieces: list[tuple[str | list[BlockSpec], DataPath, DataPath]], typo: str | None = None,
              ) -> tuple[list[MessageSpec], list[DataPath]]:
    raw = data.get("messages")
    if typo is not None:
        c.error("schema-missing", f"a prompt needs `messages:`; `{typo}` is not read: did you mean `messages`?",
                (typo,), key=True)
        return [], []
    if "messages" not in data or raw is None:
        first = next(iter(data), None)
        where = (first,) if first is not None else ()
        c.error("schema-missing", "a prompt needs `messages:` with at least one user message", where, key=True)
        return [], []
    if not isinstance(raw, list):
        c.wrong_type(("messages",), "a list of messages ({role, content})", raw)
        return [], []
    messages: list[MessageSpec] = []
    hoisted: list[DataPath] = []
    for i, item in enumerate(raw):
        path: DataPath = ("messages", i)
        if not isinstance(item, dict):
            c.wrong_type(path, "a message ({role, content})", item)
            continue
        typos = {k: near_miss(k, MESSAGE_KEYS) for k in item if k not in MESSAGE_KEYS}
        instead = {want: k for k, want in typos.items() if want in ("role", "content") and want not in item}
        c.unknown_keys(item, path, MESSAGE_KEYS, silent=frozenset(instead.values()), where=" in a message")
        missing = [k for k in ("role", "content") if k not in item]
        if missing:
            for want in missing:
                typo = instead.get(want)
                c.error("schema-missing", f"a message needs `{want}:`" + (
                    f"; `{typo}` is not read: did you mean `{want}`?" if typo else
                    " (user or assistant)" if want == "role" else ""), (*path, typo) if typo else path, key=bool(typo))
            continue
        role = item["role"]
        if not isinstance(role, str):
            c.wrong_type((*path, "role"), "user, assistant or system", role)
            continue
        role = role.strip().lower()  # gh-models accepts any case
        if role not in (*ROLES, *SYSTEM_ALIASES):
            c.error("schema-role", f"unknown role `{item['role']}`: use user, assistant or system", (*path, "role"))
            continue
        if role in SYSTEM_ALIASES:
            role = "system"
        content_path = (*path, "content")
        content = c.content(item["content"], content_path, text_only=role == "system")
        if content is None:
            continue
        if role == "system":
            hoisted.append(path)
            system_pieces.append((content, path, content_path))
        else:
            messages.append(MessageSpec(role, content, path))
    if not messages and not any(f.blocking for f in c.findings):
        c.error("schema-missing", "a prompt needs at least one user or assistant message "
                "(system messages go into the system prompt)", ("messages",), key=True)
    return messages, hoisted


def _system(pieces: list[tuple[str | list[BlockSpec], DataPath, DataPath]],
            ) -> tuple[str | list[BlockSpec] | None, DataPath | None]:
    """One source keeps its shape; several (a `system:` key and/or `role: system` messages) become text blocks."""
    if not pieces:
        return None, None
    if len(pieces) == 1:
        return pieces[0][0], pieces[0][1]
    blocks: list[BlockSpec] = []
    for value, _, content_path in pieces:
        blocks.extend([BlockSpec("text", value, content_path)] if isinstance(value, str) else value)
    return blocks, pieces[0][1]

