"""The JSON Schema of the prompt file format (draft-07: what yaml-language-server supports best).

Shipped as `promptls/prompt.schema.json` and in the VS Code extension, so editors complete and check
the promptls additions; it accepts every GitHub Models prompt file.
"""

from __future__ import annotations

from typing import Any

from .schemakeys import MIN_THINKING_BUDGET, ROLES, SYSTEM_ALIASES, THINKING_TYPES, TOOL_CHOICES

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
