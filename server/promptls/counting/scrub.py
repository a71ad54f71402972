"""The API key kept out of every log record, whichever library makes it.

With ANTHROPIC_LOG=debug the SDK logs response headers, which an endpoint may have filled with the key;
the SDK's and httpx's loggers are not ours to filter one by one, so the record factory redacts the key
(and anything shaped like a key) once, when a record is created.
"""

from __future__ import annotations

import logging
import re
from typing import Any

KEY_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}")


_SECRETS: set[str] = set()
_scrubbing = False


def _scrub(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "[redacted]")
    return KEY_PATTERN.sub("[redacted]", text)


def install_log_scrubbing(key: str | None) -> None:
    """Redact `key` (and anything shaped like a key) from every log record made from now on, whichever
    logger makes it: the SDK's and httpx's loggers are not ours to filter one by one, and handlers come
    and go, so the record factory does it once, when a record is created."""
    global _scrubbing
    if key:
        _SECRETS.add(key)
    if _scrubbing:
        return
    _scrubbing = True
    make = logging.getLogRecordFactory()

    def scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it later, as it always does
            return record
        clean = _scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info:
            record.exc_text = _scrub(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = _scrub(record.stack_info)
        return record

    logging.setLogRecordFactory(scrubbed)
