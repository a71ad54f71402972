"""The schema rules for the request's other sections: tools, tool_choice, attachments, max_tokens, budget
and thinking.

Keys that are sent (tools, tool_choice, thinking) get blocking errors where the API would refuse them;
keys promptls only reads (budget, maxTokens) get warnings, since what is not sent never makes a file
invalid.
"""

from __future__ import annotations

import difflib
from typing import Any

from .model import AttachmentRef, DataPath
from .schemacheck import Checker
from .schemakeys import MIN_THINKING_BUDGET, THINKING_TYPES, TOOL_CHOICES


def read_tools(c: Checker, data: dict[str, Any]) -> list[dict[str, Any]]:
    raw = data.get("tools")
    if raw is None:
        return []
    if not isinstance(raw, list):
        c.wrong_type(("tools",), "a list of tools", raw)
        return []
    tools: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, tool in enumerate(raw):
        path: DataPath = ("tools", i)
        if not isinstance(tool, dict):
            c.wrong_type(path, "a tool ({name, description, input_schema})", tool)
            continue
        name = tool.get("name")
        if not isinstance(name, str) or not name:
            if name is None:
                c.error("schema-missing", "a tool needs `name:`", path)
            else:
                c.wrong_type((*path, "name"), "the tool's name", name)
            continue
        custom = tool.get("type") in (None, "custom")
        if custom and "input_schema" not in tool:
            c.error("schema-missing", f"tool `{name}` needs `input_schema:` (a JSON Schema object)", path)
            continue
        if custom and not isinstance(tool["input_schema"], dict):
            c.wrong_type((*path, "input_schema"), "a JSON Schema object", tool["input_schema"])
            continue
        if "description" in tool and not isinstance(tool["description"], str):
            c.wrong_type((*path, "description"), "text", tool["description"])
            continue
        if name in names:
            c.error("schema-duplicate-tool", f"a tool named `{name}` is already defined: tool names must be unique",
                    (*path, "name"))
            continue
        names.add(name)
        tools.append(dict(tool))
    return tools


def read_tool_choice(c: Checker, data: dict[str, Any], tools: list[dict[str, Any]]) -> dict[str, Any] | None:
    raw = data.get("tool_choice")
    path: DataPath = ("tool_choice",)
    if raw is None:
        return None
    if isinstance(raw, str):
        if raw.strip().lower() not in TOOL_CHOICES:
            c.error("schema-tool-choice", f"tool_choice `{raw}` is not one of auto, any, none "
                    "(or {type: tool, name: NAME})", path)
            return None
        choice: dict[str, Any] = {"type": raw.strip().lower()}
    elif isinstance(raw, dict):
        kind = raw.get("type")
        if kind not in (*TOOL_CHOICES, "tool"):
            c.error("schema-tool-choice", "tool_choice.type must be auto, any, none or tool",
                    (*path, "type") if "type" in raw else path)
            return None
        choice = dict(raw)
        if kind == "tool":
            name = raw.get("name")
            names = [t["name"] for t in tools]
            if not isinstance(name, str):
                c.error("schema-tool-choice", "tool_choice {type: tool} needs `name:` of one of the tools", path)
                return None
            if name not in names:
                close = difflib.get_close_matches(name, names, n=1)
                hint = f"; did you mean `{close[0]}`?" if close else ""
                c.error("schema-tool-choice", f"tool_choice names `{name}`, which is not among the tools{hint}",
                        (*path, "name"))
                return None
    else:
        c.wrong_type(path, "auto, any, none or {type: tool, name: NAME}", raw)
        return None
    if choice["type"] in ("any", "tool") and not tools:
        c.error("schema-tool-choice", f"tool_choice `{choice['type']}` needs at least one tool in `tools:`", path)
        return None
    return choice


def read_attachments(c: Checker, data: dict[str, Any]) -> list[AttachmentRef]:
    raw = data.get("attachments")
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    refs: list[AttachmentRef] = []
    for k, item in enumerate(items):
        path: DataPath = ("attachments", k) if isinstance(raw, list) else ("attachments",)
        kind = title = None
        if isinstance(item, dict):
            title = item.get("title") if isinstance(item.get("title"), str) else None
            c.unknown_keys(item, path, ("path", "title", "kind"), where=" in an attachment")
            kind = item.get("kind")
            if kind is not None and kind not in ("image", "document", "text"):
                c.wrong_type((*path, "kind"), "image, document or text", kind)
                kind = None
            if "path" not in item:
                c.error("schema-missing", "an attachment needs `path:`", path)
                continue
            path, item = (*path, "path"), item["path"]
        if not isinstance(item, str) or not item.strip():
            c.wrong_type(path, "a file path (relative to this file) or a URL", item)
            continue
        refs.append(AttachmentRef(item.strip(), path, kind, title))
    return refs



def read_max_tokens(c: Checker, data: dict[str, Any]) -> int | None:
    params = data.get("modelParameters")
    candidates: list[tuple[Any, DataPath]] = []
    if isinstance(params, dict):
        candidates += [(params[k], ("modelParameters", k)) for k in ("maxTokens", "max_tokens") if k in params]
        if "max_tokens" in params and "maxTokens" not in params:
            c.hint("max-tokens-snake-case", "GitHub Models reads `maxTokens`, not `max_tokens`: promptls uses this "
                   "value for the context-window check, `gh models run` does not send it",
                   ("modelParameters", "max_tokens"), key=True)
    elif params is not None:
        c.ignored(("modelParameters",), "a mapping (maxTokens, temperature, topP, ...)", params)
    if "max_tokens" in data:
        candidates.append((data["max_tokens"], ("max_tokens",)))
    result = None
    for value, path in candidates:
        checked = value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
        if checked is None:
            c.ignored(path, "a positive whole number", value)
        if result is None:
            result = checked
    return result


def read_budget(c: Checker, data: dict[str, Any]) -> int | None:
    raw = data.get("budget")
    if raw is None:
        return None
    if isinstance(raw, dict):
        c.unknown_keys(raw, ("budget",), ("input_tokens", "inputTokens"), where=" in budget")
        for key in ("input_tokens", "inputTokens"):
            if key in raw:
                return _budget_value(c, raw[key], ("budget", key))
        return None
    return _budget_value(c, raw, ("budget",))


def _budget_value(c: Checker, value: Any, path: DataPath) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    c.ignored(path, "a positive whole number of input tokens", value)
    return None


def read_thinking(c: Checker, data: dict[str, Any], max_tokens: int | None) -> dict[str, Any] | None:
    raw = data.get("thinking")
    path: DataPath = ("thinking",)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        c.wrong_type(path, "a mapping such as {type: enabled, budget_tokens: 4000} or {type: adaptive}", raw)
        return None
    kind = raw.get("type")
    if kind not in THINKING_TYPES:
        c.error("schema-thinking", f"thinking.type must be one of {', '.join(THINKING_TYPES)}",
                (*path, "type") if "type" in raw else path)
        return None
    if kind == "enabled":
        if "budget_tokens" not in raw:
            c.error("schema-missing", "thinking {type: enabled} needs `budget_tokens:`", path)
            return None
        budget = c.positive_int(raw["budget_tokens"], (*path, "budget_tokens"))
        if budget is None:
            return None
        if budget < MIN_THINKING_BUDGET:
            c.warning("schema-thinking", f"budget_tokens must be at least {MIN_THINKING_BUDGET}: the API rejects "
                      f"{budget}", (*path, "budget_tokens"))
        if max_tokens is not None and budget >= max_tokens:
            c.warning("schema-thinking", f"budget_tokens ({budget}) must be less than max_tokens ({max_tokens})",
                      (*path, "budget_tokens"))
    return dict(raw)

