"""Context windows and output limits from Anthropic's Models API, when a key is present.

The catalog's dated table goes stale; `client.models.list()` knows each model's `max_input_tokens`
and `max_tokens` (not prices). The answer is kept for a day in the cache folder, so a CLI run or a
server start costs at most one listing a day. Failures are silent: the table stays in charge.
Precedence: the table, then these limits, then the user's `[models]` config.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from .cache import default_cache_path

log = logging.getLogger("promptls.models")

FILE_NAME = "model-limits.json"
TTL_S = 24 * 3600
LIST_TIMEOUT_S = 10.0

Limits = dict[str, dict[str, int]]  # model id -> {"context_window": n, "max_output": m}


def _path() -> Path:
    return default_cache_path().parent / FILE_NAME


def _read(path: Path, now: float) -> Limits | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or now - float(data.get("fetched_at", 0)) > TTL_S:
        return None
    limits = data.get("limits")
    return limits if isinstance(limits, dict) else None


def _write(path: Path, limits: Limits, now: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"fetched_at": now, "limits": limits}), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.info("model limits not cached (%s)", type(exc).__name__)


async def fetch_limits(client: Any) -> Limits:
    """Every listed model's limits; {} when the listing fails for any reason."""
    limits: Limits = {}
    try:
        async for model in client.models.list(limit=1000, timeout=LIST_TIMEOUT_S):
            entry = {}
            if isinstance(model.max_input_tokens, int) and model.max_input_tokens > 0:
                entry["context_window"] = model.max_input_tokens
            if isinstance(model.max_tokens, int) and model.max_tokens > 0:
                entry["max_output"] = model.max_tokens
            if entry:
                limits[model.id] = entry
    except Exception as exc:  # the listing is a nicety: any failure keeps the table's figures
        log.info("model listing failed (%s); using the catalog's windows", type(exc).__name__)
        return {}
    return limits


async def model_limits(client: Any, now: float | None = None) -> Limits:
    """Cached limits when fresh, else a new listing (cached when it succeeds)."""
    now = time.time() if now is None else now
    path = _path()
    cached = _read(path, now)
    if cached is not None:
        return cached
    limits = await fetch_limits(client)
    if limits:
        _write(path, limits, now)
    return limits


def merge_overrides(limits: Limits, config_models: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Catalog overrides with the API's limits for models the table knows, the user's config on top."""
    from ..catalog import resolve

    merged: dict[str, dict[str, Any]] = {}
    for model_id, entry in limits.items():
        info = resolve(model_id)
        if info is not None and info.matched_from is None:
            merged.setdefault(info.id, {}).update(entry)
    for model_id, fields in config_models.items():
        merged.setdefault(model_id, {}).update(fields)
    return merged
