"""Completion from the line being typed: top-level keys, roles, block kinds, model ids and
attachment paths (listing the folder being typed, never outside the workspace root)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from ..config import Config
from .positions import to_code_points

TOP_KEYS = ("model", "system", "messages", "tools", "tool_choice", "attachments", "testData", "variables",
            "budget", "modelParameters", "thinking", "name", "description", "responseFormat")
ROLES = ("user", "assistant", "system")
BLOCK_KINDS = ("text", "image", "document", "tool_use", "tool_result", "thinking")
MESSAGE_KEYS = ("role", "content")
NESTED_KEYS = {
    "modelParameters": ("maxTokens", "temperature", "topP", "stop"),
    "budget": ("input_tokens",),
    "thinking": ("type", "budget_tokens"),
    "tool_choice": ("type", "name", "disable_parallel_tool_use"),
}
PATH_KEYS = ("image", "document")
_KEY_VALUE = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[\w.-]+)\s*:\s*(?P<value>.*)$")
_LIST_ITEM = re.compile(r"^(?P<indent>\s*)-\s+(?P<value>[^:]*)$")
_BARE = re.compile(r"^(?P<indent>\s*)(?P<word>[\w-]*)$")


def _enclosing_key(lines: list[str], line: int, indent: int) -> str | None:
    """The nearest mapping key above `line` that is indented less than `indent`."""
    for n in range(line - 1, -1, -1):
        text = lines[n]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        own = len(text) - len(text.lstrip(" "))
        if own < indent:
            m = re.match(r"^\s*(?:-\s+)?([\w.-]+)\s*:", text)
            return m.group(1) if m else None
    return None


def _items(words: tuple[str, ...] | list[str], kind: types.CompletionItemKind, rng: types.Range,
           suffix: str = "", detail: str | None = None) -> list[types.CompletionItem]:
    return [types.CompletionItem(label=w, kind=kind, detail=detail,
                                 text_edit=types.TextEdit(range=rng, new_text=w + suffix)) for w in words]


def _model_items(config: Config, rng: types.Range) -> list[types.CompletionItem]:
    from .. import catalog

    items = []
    for i, info in enumerate(catalog.all_models(config.models)):
        items.append(types.CompletionItem(
            label=info.id, kind=types.CompletionItemKind.Value, sort_text=f"{int(info.retired)}{i:04d}",
            detail=f"{info.name}: {info.context_window:,} tok window, ${info.price_input:g}/MTok in"
            + (" (retired)" if info.retired else ""), deprecated=info.retired or None,
            text_edit=types.TextEdit(range=rng, new_text=info.id)))
    return items


def _path_items(typed: str, path: Path, config: Config, line: int, col_units: int, codec: PositionCodec
                ) -> list[types.CompletionItem]:
    folder_part, _, name_part = typed.rpartition("/")
    folder = (path.parent / folder_part).resolve() if folder_part else path.parent.resolve()
    roots = [config.root.resolve(), *config.allowed_roots]
    if not any(folder.is_relative_to(r) for r in roots) or not folder.is_dir():
        return []
    start = col_units - codec.client_num_units(name_part)
    rng = types.Range(start=types.Position(line=line, character=start),
                      end=types.Position(line=line, character=col_units))
    items = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries[:500]:
        if entry.name.startswith(".") or entry.name in config.exclude:
            continue
        is_dir = entry.is_dir()
        items.append(types.CompletionItem(
            label=entry.name + ("/" if is_dir else ""),
            kind=types.CompletionItemKind.Folder if is_dir else types.CompletionItemKind.File,
            text_edit=types.TextEdit(range=rng, new_text=entry.name + ("/" if is_dir else "")),
            command=types.Command(title="more", command="editor.action.triggerSuggest") if is_dir else None))
    return items


def complete(lines: list[str], pos: types.Position, codec: PositionCodec, path: Path, config: Config
             ) -> types.CompletionList | None:
    if pos.line >= len(lines):
        return None
    line, col = to_code_points(lines, pos, codec)
    text = lines[line]
    before = text[:col]
    col_units = codec.client_num_units(before)

    def value_range(value: str) -> types.Range:
        return types.Range(start=types.Position(line=line, character=col_units - codec.client_num_units(value)),
                           end=types.Position(line=line, character=col_units))

    items: list[types.CompletionItem] = []
    if m := _KEY_VALUE.match(before):
        key, value = m.group("key"), m.group("value")
        rng = value_range(value)
        if key == "model":
            items = _model_items(config, rng)
        elif key == "role":
            items = _items(ROLES, types.CompletionItemKind.EnumMember, rng)
        elif key == "type" and _enclosing_key(lines, line, len(m.group("indent")) + 1) == "content":
            items = _items(BLOCK_KINDS, types.CompletionItemKind.EnumMember, rng)
        elif key in PATH_KEYS:
            items = _path_items(value, path, config, line, col_units, codec)
    elif m := _LIST_ITEM.match(before):
        parent = _enclosing_key(lines, line, len(m.group("indent")) + 1)
        value = m.group("value")
        if parent == "attachments":
            items = _path_items(value, path, config, line, col_units, codec)
        elif parent == "content":
            items = _items(BLOCK_KINDS, types.CompletionItemKind.Property, value_range(value), ": ")
        elif parent == "messages":
            items = _items(MESSAGE_KEYS, types.CompletionItemKind.Property, value_range(value), ": ")
    elif m := _BARE.match(before):
        indent, word = len(m.group("indent")), m.group("word")
        if indent == 0:
            items = _items(TOP_KEYS, types.CompletionItemKind.Property, value_range(word), ": ")
        else:
            parent = _enclosing_key(lines, line, indent)
            if parent in NESTED_KEYS:
                items = _items(NESTED_KEYS[parent], types.CompletionItemKind.Property, value_range(word), ": ")
            elif parent == "messages":
                items = _items(MESSAGE_KEYS, types.CompletionItemKind.Property, value_range(word), ": ")
    if not items:
        return None
    return types.CompletionList(is_incomplete=False, items=items)
