"""The prompt format's vocabulary: which keys are read, sent, passed through or only metadata, and the
near-miss rule that turns a misspelt key into a did-you-mean.

Files from real repositories carry their own keys, so an unknown key is only a hint; a near miss of a
key that is sent (`sytem`, `mesages`) silently drops part of the request, so that one is a warning.
"""

from __future__ import annotations

import difflib
from typing import Any

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


def near_miss(key: Any, known: tuple[str, ...] | frozenset[str]) -> str | None:
    """The known key `key` is probably a misspelling of (`sytem`, `mesages`, `tols`, `Messages`)."""
    if not isinstance(key, str):
        return None
    lowered = {k.lower(): k for k in known}
    if key.lower() in lowered:
        return lowered[key.lower()]
    close = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[close[0]] if close else None
