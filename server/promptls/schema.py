"""The prompt file format: plain YAML data -> `PromptSpec`, with located findings, and its JSON Schema.

The format is a superset of GitHub Models prompt files (`name`, `model`, `modelParameters`,
`messages` with string content, `testData`, `evaluators`, ...) plus the Anthropic request shape
(`system`, content blocks, `tools`, `tool_choice`, `thinking`, `attachments`, `budget`). Files
from real repositories carry their own keys, so unknown keys are only hints, and the well-known
metadata keys pass silently. Validation never stops at the first problem: each bad part is
reported at its own range and left out, so the rest of the file can still be shown.
"""

from __future__ import annotations

import difflib
from typing import Any

from .model import (
    AttachmentRef,
    BlockSpec,
    DataPath,
    Finding,
    MessageSpec,
    PromptDocument,
    PromptSpec,
    Severity,
    Span,
)
from .templates import declarations, render_value

# Keys seen in GitHub Models files and prompt libraries that say something about the prompt but
# change nothing in the request.
KNOWN_METADATA_KEYS = frozenset({
    "$schema", "name", "description", "version", "authors", "author", "metadata", "tags", "evaluators",
    "responseFormat", "jsonSchema", "id", "title", "license", "notes", "owner", "owners", "maintainers",
    "category", "categories", "labels", "created", "updated", "changelog", "source", "sample", "inputs",
    "outputs", "template", "examples", "comment", "comments",
})
# Messages API fields that do not change input tokens (or that promptls does not model); accepted silently.
API_PASSTHROUGH_KEYS = frozenset({
    "temperature", "top_p", "top_k", "stop_sequences", "stream", "service_tier", "speed", "output_config",
    "cache_control", "container", "context_management", "mcp_servers",
})
SPEC_KEYS = ("model", "system", "messages", "tools", "tool_choice", "attachments", "variables", "testData",
             "budget", "modelParameters", "max_tokens", "thinking")
ROLES = ("system", "user", "assistant")
SYSTEM_ALIASES = ("developer",)  # OpenAI's name for the system role, common in GitHub Models files
# Keys whose misspelling silently drops part of the request: a near miss of one of these is a warning.
SENT_KEYS = frozenset({"model", "system", "messages", "tools", "tool_choice", "attachments", "variables",
                       "testData", "modelParameters", "thinking", "role", "content", "text", "image", "document"})
MESSAGE_KEYS = ("role", "content", "name")
SHORTHANDS = ("text", "image", "document")
SHORTHAND_OPTIONS = {
    "text": ("cache_control", "citations"),
    "image": ("cache_control", "media_type"),
    "document": ("title", "context", "cache_control", "media_type", "citations"),
}
PASSTHROUGH_BLOCK_KINDS = ("tool_use", "tool_result", "thinking")
SOURCE_TYPES = ("base64", "url", "file", "text", "content")
TOOL_CHOICES = ("auto", "any", "none")
THINKING_TYPES = ("enabled", "adaptive", "disabled")
MIN_THINKING_BUDGET = 1024


class _Checker:
    """Collects findings while walking the data; every finding gets the range of what it is about."""

    def __init__(self, doc: PromptDocument) -> None:
        self.doc = doc
        self.findings: list[Finding] = []

    def span(self, path: DataPath, key: bool = False) -> Span:
        return self.doc.key_span(path) if key else self.doc.span(path)

    def error(self, code: str, message: str, path: DataPath, key: bool = False) -> None:
        self.findings.append(Finding(code, message, Severity.ERROR, self.span(path, key), blocking=True,
                                     data={"path": _dotted(path)}))

    def warning(self, code: str, message: str, path: DataPath, key: bool = False) -> None:
        self.findings.append(Finding(code, message, Severity.WARNING, self.span(path, key),
                                     data={"path": _dotted(path)}))

    def hint(self, code: str, message: str, path: DataPath, key: bool = False) -> None:
        self.findings.append(Finding(code, message, Severity.HINT, self.span(path, key),
                                     data={"path": _dotted(path)}))

    def wrong_type(self, path: DataPath, expected: str, value: Any) -> None:
        self.error("schema-type", f"`{_dotted(path)}` must be {expected}, not {_type_name(value)}", path)

    def ignored(self, path: DataPath, expected: str, value: Any) -> None:
        """A bad value in a key promptls reads but never sends (budget, variables, testData, maxTokens):
        a warning, never an invalid file."""
        self.warning("schema-value-ignored", f"`{_dotted(path)}` should be {expected}, not {_type_name(value)}: "
                     "promptls ignores it", path)

    def unknown_keys(self, data: dict[str, Any], parent: DataPath, known: tuple[str, ...] | frozenset[str],
                     silent: frozenset[str] = frozenset(), where: str = "") -> None:
        for key in data:
            if key in known or key in silent:
                continue
            close = near_miss(key, known)
            path = (*parent, key)
            if close is not None and close in SENT_KEYS and close not in data:
                self.findings.append(Finding(
                    "key-typo", f"unknown key `{key}`{where}: neither promptls nor GitHub Models reads it, so it "
                    f"is not sent or counted; did you mean `{close}`?", Severity.WARNING, self.span(path, key=True),
                    data={"key": key, "path": _dotted(path), "suggestion": close}))
                continue
            hint = f"; did you mean `{close}`?" if close else ""
            self.findings.append(Finding(
                "unknown-key", f"unknown key `{key}`{where}: promptls ignores it{hint}", Severity.HINT,
                self.span(path, key=True), data={"key": key, "path": _dotted(path)}))

    # -- scalars ---------------------------------------------------------------------------------

    def positive_int(self, value: Any, path: DataPath) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        self.wrong_type(path, "a positive whole number", value)
        return None

    def text(self, value: Any, path: DataPath) -> str | None:
        """Text content: strings, and numbers/booleans as YAML wrote them (gh-models reads them as text)."""
        if isinstance(value, str):
            text = value
        elif value is None or isinstance(value, int | float):
            text = render_value(value)
        else:
            self.wrong_type(path, "text", value)
            return None
        if not text.strip():
            self.warning("schema-empty-content", "empty text: the API rejects text that is empty or only "
                         "whitespace", path)
        return text

    # -- content -----------------------------------------------------------------------------------

    def block(self, item: Any, path: DataPath, text_only: bool = False) -> BlockSpec | None:
        if isinstance(item, str):
            return BlockSpec("text", self.text(item, path), path)
        if not isinstance(item, dict):
            self.wrong_type(path, "a content block (text, or a mapping with text:, image:, document: or type:)",
                            item)
            return None
        if "type" in item:
            return self.api_block(item, path, text_only)
        present = [k for k in SHORTHANDS if k in item]
        if not present:
            self.error("schema-type", "a content block needs one of `text:`, `image:`, `document:` or an API "
                       "`type:`", path)
            return None
        if len(present) > 1:
            self.error("schema-type", f"a content block holds one of text/image/document, not "
                       f"{' and '.join(present)}: split it into separate blocks", (*path, present[1]), key=True)
            return None
        kind = present[0]
        if text_only and kind != "text":
            self.error("schema-type", f"the system prompt takes text only, not `{kind}:`", (*path, kind), key=True)
            return None
        self.unknown_keys(item, path, (kind, *SHORTHAND_OPTIONS[kind]), where=f" in a {kind} block")
        extra = {k: item[k] for k in SHORTHAND_OPTIONS[kind] if k in item}
        value_path = (*path, kind)
        if kind == "text":
            text = self.text(item[kind], value_path)
            return None if text is None else BlockSpec("text", text, value_path, extra)
        ref = item[kind]
        if not isinstance(ref, str) or not ref.strip():
            self.wrong_type(value_path, f"the path or URL of the {kind}", ref)
            return None
        return BlockSpec(kind, ref.strip(), value_path, extra)

    def api_block(self, item: dict[str, Any], path: DataPath, text_only: bool) -> BlockSpec | None:
        """A block written in the API's own shape; passed through as written."""
        kind = item["type"]
        if not isinstance(kind, str):
            self.wrong_type((*path, "type"), "a block type such as text, image or document", kind)
            return None
        if text_only and kind != "text":
            self.error("schema-type", f"the system prompt takes text blocks only, not `{kind}`", (*path, "type"))
            return None
        if kind == "text":
            if "text" not in item:
                self.error("schema-missing", "a text block needs `text:`", path)
                return None
            text = self.text(item["text"], (*path, "text"))
            options = {k: v for k, v in item.items() if k not in ("type", "text")}
            return None if text is None else BlockSpec("text", text, (*path, "text"), options)
        extra: dict[str, Any] = {}
        if kind in ("image", "document"):
            source = item.get("source")
            if source is None:
                self.error("schema-missing", f"an API {kind} block needs `source:` (or write `{kind}: PATH`)", path)
                return None
            if not isinstance(source, dict):
                self.wrong_type((*path, "source"), "a mapping with type: base64|url|file", source)
                return None
            source_type = source.get("type")
            if source_type not in SOURCE_TYPES:
                self.error("schema-type", f"`source.type` must be one of {', '.join(SOURCE_TYPES)}",
                           (*path, "source", "type") if "type" in source else (*path, "source"))
                return None
            if source_type in ("url", "file"):
                extra["source_type"] = source_type
        block_kind = kind if kind in PASSTHROUGH_BLOCK_KINDS else "raw"
        return BlockSpec(block_kind, dict(item), path, extra)

    def content(self, value: Any, path: DataPath, text_only: bool = False) -> str | list[BlockSpec] | None:
        if isinstance(value, list):
            if not value:
                self.warning("schema-empty-content", "no content blocks: the API rejects an empty message", path)
            blocks = [self.block(item, (*path, j), text_only) for j, item in enumerate(value)]
            return [b for b in blocks if b is not None]
        if isinstance(value, dict):
            block = self.block(value, path, text_only)
            return [block] if block is not None else None
        return self.text(value, path)


def near_miss(key: Any, known: tuple[str, ...] | frozenset[str]) -> str | None:
    """The known key `key` is probably a misspelling of (`sytem`, `mesages`, `tols`, `Messages`)."""
    if not isinstance(key, str):
        return None
    lowered = {k.lower(): k for k in known}
    if key.lower() in lowered:
        return lowered[key.lower()]
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[close[0]] if close else None


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
    c = _Checker(doc)
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
    tools = _tools(c, data)
    spec = PromptSpec(
        model=model,
        system=system,
        system_path=system_path,
        messages=messages,
        tools=tools,
        tools_path=("tools",) if tools else None,
        tool_choice=_tool_choice(c, data, tools),
        attachments=_attachments(c, data),
        test_data=_test_data(c, data),
        max_tokens=_max_tokens(c, data),
        budget_input_tokens=_budget(c, data),
        thinking=None,
        hoisted_system_paths=hoisted,
    )
    spec.thinking = _thinking(c, data, spec.max_tokens)
    return spec, c.findings


def _messages(c: _Checker, data: dict[str, Any],
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


def _tools(c: _Checker, data: dict[str, Any]) -> list[dict[str, Any]]:
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


def _tool_choice(c: _Checker, data: dict[str, Any], tools: list[dict[str, Any]]) -> dict[str, Any] | None:
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


def _attachments(c: _Checker, data: dict[str, Any]) -> list[AttachmentRef]:
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


def _variables(c: _Checker, data: dict[str, Any]) -> dict[str, Any]:
    """Values from `variables:`: a mapping of values, or a list of declarations whose `default` is a value
    (the others are filled at run time)."""
    raw = data.get("variables")
    if raw is None:
        return {}
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            if isinstance(item, str) or (isinstance(item, dict) and ("name" in item or len(item) == 1)):
                if isinstance(item, dict) and "name" in item and not isinstance(item["name"], str):
                    c.ignored(("variables", i, "name"), "the variable's name", item["name"])
                continue
            c.ignored(("variables", i), "a declaration such as {name: topic, default: ...}", item)
    elif not isinstance(raw, dict):
        c.ignored(("variables",), "a mapping of names to values, or a list of declarations ({name, default})",
                  raw)
        return {}
    return {k: v for k, (has, v) in declarations(raw).items() if has}


def _test_data(c: _Checker, data: dict[str, Any]) -> list[dict[str, Any]]:
    """testData rows, each completed by `variables` (whose values alone make one row)."""
    base = _variables(c, data)
    raw = data.get("testData")
    if raw is None:
        return [dict(base)] if base else []
    if not isinstance(raw, list):
        c.ignored(("testData",), "a list of rows (mappings of variable names to values)", raw)
        return [dict(base)] if base else []
    rows = []
    for i, row in enumerate(raw):
        if not isinstance(row, dict):
            c.ignored(("testData", i), "a mapping of variable names to values", row)
            continue
        rows.append({**base, **row})
    return rows or ([dict(base)] if base else [])


def _max_tokens(c: _Checker, data: dict[str, Any]) -> int | None:
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


def _budget(c: _Checker, data: dict[str, Any]) -> int | None:
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


def _budget_value(c: _Checker, value: Any, path: DataPath) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    c.ignored(path, "a positive whole number of input tokens", value)
    return None


def _thinking(c: _Checker, data: dict[str, Any], max_tokens: int | None) -> dict[str, Any] | None:
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


def _dotted(path: DataPath) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _type_name(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


# ---------------------------------------------------------------------------------------------------
# JSON Schema (draft-07: what yaml-language-server supports best)

_POS_INT = {"type": "integer", "minimum": 1}
_CACHE_CONTROL = {
    "type": "object",
    "description": "Prompt-caching breakpoint, e.g. {type: ephemeral} or {type: ephemeral, ttl: 1h}.",
    "properties": {"type": {"enum": ["ephemeral"]}, "ttl": {"enum": ["5m", "1h"], "description": "Cache lifetime: "
                                                             "5m (write 1.25x input) or 1h (write 2x)."}},
    "required": ["type"],
    "additionalProperties": False,
}
_ROLE_PATTERN = "^([Ss][Yy][Ss][Tt][Ee][Mm]|[Uu][Ss][Ee][Rr]|[Aa][Ss][Ss][Ii][Ss][Tt][Aa][Nn][Tt])$"
_CLAUDE_EXAMPLES = ["claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5", "anthropic/claude-sonnet-4-6"]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the prompt file format (draft-07), shipped as `promptls/prompt.schema.json`.

    It accepts every GitHub Models prompt file (extra top-level keys are allowed) and describes the
    promptls additions, so yaml-language-server can complete and check them.
    """
    defs: dict[str, Any] = {
        "cacheControl": _CACHE_CONTROL,
        "textBlock": {
            "type": "object",
            "description": "Text. Shorthand for the API block {type: text, text: ...}; {{var}} is filled from "
                           "testData/variables.",
            "properties": {"text": {"type": "string", "description": "The text."},
                           "cache_control": {"$ref": "#/definitions/cacheControl"},
                           "citations": {"type": "array"}},
            "required": ["text"],
        },
        "imageBlock": {
            "type": "object",
            "description": "An image (PNG, JPEG, GIF or WebP): a path relative to this file, or a URL.",
            "properties": {"image": {"type": "string", "minLength": 1, "description": "Path or URL of the image."},
                           "media_type": {"enum": ["image/jpeg", "image/png", "image/gif", "image/webp"]},
                           "cache_control": {"$ref": "#/definitions/cacheControl"}},
            "required": ["image"],
        },
        "documentBlock": {
            "type": "object",
            "description": "A document (PDF or a text file such as .txt, .md, .csv): a path relative to this "
                           "file, or a URL.",
            "properties": {"document": {"type": "string", "minLength": 1,
                                        "description": "Path or URL of the document."},
                           "title": {"type": "string", "description": "Document title shown to the model."},
                           "context": {"type": "string", "description": "Context about the document."},
                           "citations": {"type": "object", "properties": {"enabled": {"type": "boolean"}}},
                           "media_type": {"type": "string"},
                           "cache_control": {"$ref": "#/definitions/cacheControl"}},
            "required": ["document"],
        },
        "apiBlock": {
            "type": "object",
            "description": "A content block in the Messages API's own shape, passed through as written "
                           "(image/document sources: base64, url, file, text, content).",
            "properties": {"type": {"type": "string", "examples": [
                "text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking",
                "search_result"]},
                           "cache_control": {"$ref": "#/definitions/cacheControl"}},
            "required": ["type"],
        },
        "block": {"anyOf": [
            {"type": "string", "description": "Text."},
            {"$ref": "#/definitions/textBlock"},
            {"$ref": "#/definitions/imageBlock"},
            {"$ref": "#/definitions/documentBlock"},
            {"$ref": "#/definitions/apiBlock"},
        ]},
        "content": {
            "description": "The message text, or a list of content blocks (text:, image:, document: or API blocks).",
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/definitions/block"}},
                {"$ref": "#/definitions/textBlock"},
                {"$ref": "#/definitions/imageBlock"},
                {"$ref": "#/definitions/documentBlock"},
                {"$ref": "#/definitions/apiBlock"},
            ],
        },
        "message": {
            "type": "object",
            "description": "One conversation turn. `role: system` messages are moved into the system prompt.",
            "properties": {
                "role": {"description": "Who speaks: user, assistant, or system (hoisted into the system prompt).",
                         "anyOf": [{"enum": [*ROLES, *SYSTEM_ALIASES]},
                                   {"type": "string", "pattern": _ROLE_PATTERN}]},
                "content": {"$ref": "#/definitions/content"},
                "name": {"type": "string", "description": "Optional speaker name (ignored by Claude)."},
            },
            "required": ["role", "content"],
        },
        "tool": {
            "description": "A tool the model may call: a custom tool {name, description, input_schema} or an "
                           "Anthropic-defined tool {type, name}.",
            "anyOf": [
                {"type": "object",
                 "properties": {"name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,128}$"},
                                "description": {"type": "string", "description": "What the tool does and when to "
                                                "use it."},
                                "input_schema": {"type": "object", "description": "JSON Schema of the input."},
                                "type": {"enum": ["custom"]},
                                "cache_control": {"$ref": "#/definitions/cacheControl"}},
                 "required": ["name", "input_schema"]},
                {"type": "object",
                 "properties": {"type": {"type": "string", "description": "Versioned tool type, e.g. "
                                         "bash_20250124 or text_editor_20250728."},
                                "name": {"type": "string"}},
                 "required": ["type", "name"]},
            ],
        },
        "evaluator": {
            "type": "object",
            "description": "A GitHub Models evaluator (used by `gh models eval`; promptls ignores it).",
            "properties": {"name": {"type": "string"}, "string": {"type": "object"}, "llm": {"type": "object"},
                           "uses": {"type": "string"}},
        },
    }
    properties: dict[str, Any] = {
        "$schema": {"type": "string"},
        "name": {"type": "string", "description": "Name of the prompt."},
        "description": {"type": "string", "description": "What the prompt does."},
        "model": {"type": "string", "description": "Model id, e.g. claude-sonnet-4-6 or anthropic/claude-sonnet-4-6. "
                  "A non-Claude id is counted with the configured default Claude model.",
                  "examples": _CLAUDE_EXAMPLES},
        "modelParameters": {
            "type": "object", "description": "Model parameters (GitHub Models style).",
            "properties": {"maxTokens": {**_POS_INT, "description": "Maximum output tokens; input plus this must "
                                         "fit the model's context window."},
                           "max_tokens": {**_POS_INT, "description": "Same as maxTokens."},
                           "temperature": {"type": "number"}, "topP": {"type": "number"}},
        },
        "max_tokens": {**_POS_INT, "description": "Maximum output tokens (same as modelParameters.maxTokens)."},
        "system": {"description": "The system prompt: text, or a list of text blocks.",
                   "anyOf": [{"type": "string"},
                             {"type": "array", "items": {"anyOf": [
                                 {"type": "string"}, {"$ref": "#/definitions/textBlock"},
                                 {"type": "object", "properties": {"type": {"enum": ["text"]},
                                                                   "text": {"type": "string"},
                                                                   "cache_control": {
                                                                       "$ref": "#/definitions/cacheControl"}},
                                  "required": ["type", "text"]}]}}]},
        "cache_control": {"$ref": "#/definitions/cacheControl", "description": "Automatic prompt caching: the "
                          "API puts this breakpoint on the last cacheable block (it takes one of the 4 slots)."},
        "messages": {"type": "array", "description": "The conversation, in order.",
                     "items": {"$ref": "#/definitions/message"}},
        "tools": {"type": "array", "description": "Tools offered to the model; their definitions count as input.",
                  "items": {"$ref": "#/definitions/tool"}},
        "tool_choice": {"description": "auto, any, none, or {type: tool, name: NAME}.",
                        "anyOf": [{"enum": list(TOOL_CHOICES)},
                                  {"type": "object",
                                   "properties": {"type": {"enum": [*TOOL_CHOICES, "tool"]},
                                                  "name": {"type": "string"},
                                                  "disable_parallel_tool_use": {"type": "boolean"}},
                                   "required": ["type"]}]},
        "attachments": {"type": "array", "description": "Files prepended to the first user message (paths relative "
                        "to this file).",
                        "items": {"anyOf": [{"type": "string"},
                                            {"type": "object",
                                             "properties": {"path": {"type": "string"}, "title": {"type": "string"},
                                                            "kind": {"enum": ["image", "document", "text"]}},
                                             "required": ["path"]}]}},
        "variables": {"description": "Values for {{var}} placeholders (one test row), or a list of declarations "
                      "({name, description, type, required, default}); a declaration's `default` is a value, the "
                      "others are filled at run time.",
                      "anyOf": [{"type": "object"},
                                {"type": "array", "items": {"anyOf": [
                                    {"type": "string"},
                                    {"type": "object",
                                     "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                                                    "type": {"type": "string"}, "required": {"type": "boolean"},
                                                    "default": {}}}]}}]},
        "testData": {"type": "array", "description": "Rows of values for {{var}} placeholders; promptls counts "
                     "every row and reports the largest.", "items": {"type": "object"}},
        "budget": {"description": "Input-token budget for this file: a warning above it.",
                   "anyOf": [_POS_INT, {"type": "object",
                                        "properties": {"input_tokens": _POS_INT, "inputTokens": _POS_INT}}]},
        "thinking": {"type": "object", "description": "Extended thinking: {type: enabled, budget_tokens: N} or "
                     "{type: adaptive}.",
                     "properties": {"type": {"enum": list(THINKING_TYPES)},
                                    "budget_tokens": {"type": "integer", "minimum": MIN_THINKING_BUDGET}},
                     "required": ["type"]},
        "evaluators": {"type": "array", "items": {"$ref": "#/definitions/evaluator"}},
        "responseFormat": {"enum": ["text", "json_object", "json_schema"],
                           "description": "GitHub Models response format."},
        "jsonSchema": {"description": "GitHub Models response JSON schema (a JSON string or a mapping).",
                       "type": ["string", "object"]},
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "promptls prompt file",
        "description": "A Claude prompt (*.prompt.yaml / *.prompt.yml): a superset of GitHub Models prompt files.",
        "type": "object",
        "properties": properties,
        "required": ["messages"],
        "additionalProperties": True,
        "definitions": defs,
    }
