"""What a YAML error means for the person who wrote the file: a located, actionable message.

libyaml reports characters it refuses without a position and its syntax errors in its own terms; this
module finds the character, adds where an unclosed construct started, says "tabs" for a tab and
recognises a Jinja template that is not YAML at all.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .lineindex import LineIndex, char_span
from .model import Finding, Severity

# Characters YAML 1.1 refuses (libyaml raises a ReaderError without a line/column for them).
_BAD_CHAR = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def first_bad_char(text: str) -> Finding | None:
    m = _BAD_CHAR.search(text)
    if m is None:
        return None
    ch = m.group()
    code = ord(ch)
    if ch == "\x00":
        msg = "the file contains a NUL character: is it a binary file? Prompt files are UTF-8 YAML text"
    elif 0xDC80 <= code <= 0xDCFF:
        msg = f"byte 0x{code - 0xDC00:02x} is not valid UTF-8: save the file as UTF-8"
    else:
        msg = f"YAML does not allow the control character U+{code:04X} here"
    return Finding("yaml-invalid-character", msg, Severity.ERROR, char_span(text, m.start()), blocking=True,
                   data={"codepoint": code})


def syntax_finding(exc: yaml.YAMLError, text: str, lines: LineIndex) -> Finding:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    index = mark.index if mark is not None else getattr(exc, "position", 0) or 0
    message = f"YAML: {problem}"
    if text[index:index + 1] == "\t":
        message += " (YAML indents with spaces; tabs are not allowed here)"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    data: dict[str, Any] = {}
    if context and context_mark is not None:
        cpos = lines.pos(context_mark.index)
        message += f" ({context} started at line {cpos.line + 1}, column {cpos.col + 1})"
        data["context"] = {"line": cpos.line, "col": cpos.col}
    jinja = _JINJA_LINE.search(text)
    if jinja is not None:  # a template of a prompt file, not one: say so rather than only what YAML saw
        at = lines.pos(jinja.start(1))
        tag = jinja.group(1).strip()
        tag = tag if len(tag) <= 40 else tag[:37] + "..."
        data["jinja"] = {"line": at.line, "col": at.col}
        message = (f"this is a Jinja template (`{tag}` on line {at.line + 1}), not YAML: GitHub Models and promptls "
                   f"read prompt files as YAML; count the rendered file instead ({message})")
        index = jinja.start(1)
    return Finding("yaml-syntax", message, Severity.ERROR, char_span(text, index), blocking=True, data=data)


# A line that starts with a Jinja statement or comment tag: `{% import ... %}`, `{# ... #}`.
_JINJA_LINE = re.compile(r"^[ \t]*(\{[%#].*?)$", re.MULTILINE)
