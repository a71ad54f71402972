"""Context windows and output limits from Anthropic's Models API, when a key is present.

The catalog's dated table goes stale; `client.models.list()` knows each model's `max_input_tokens`
and `max_tokens` (not prices). The answer is kept for a day in the cache folder, one file per endpoint
(what a fake or hostile endpoint lists never applies to another), so a CLI run or a server start costs
at most one listing a day. Failures are silent: the table stays in charge. A damaged or tampered file
is ignored with a note. Precedence: the table, then these limits, then the user's `[models]` config.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

from .cache import default_cache_path

log = logging.getLogger("promptls.models")

FILE_PREFIX = "model-limits-"
TTL_S = 24 * 3600
LIST_TIMEOUT_S = 10.0
MAX_LIMIT = 100_000_000  # tokens; a window or output limit beyond this is not a real model's
FIELDS = ("context_window", "max_output")

Limits = dict[str, dict[str, int]]  # model id -> {"context_window": n, "max_output": m}


def _path(endpoint: str) -> Path:
    digest = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
    return default_cache_path().parent / f"{FILE_PREFIX}{digest}.json"


def _valid_limit(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_LIMIT


def _read(path: Path, endpoint: str, now: float) -> tuple[Limits | None, str | None]:
    """(fresh limits or None, a note when the file exists but cannot be used)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as exc:
        return None, f"ignored the damaged model-limits cache {path} ({type(exc).__name__})"
    limits = data.get("limits") if isinstance(data, dict) else None
    fetched = data.get("fetched_at") if isinstance(data, dict) else None
    if (not isinstance(limits, dict) or not isinstance(fetched, int | float) or not math.isfinite(fetched)
            or data.get("endpoint") != endpoint
            or not all(isinstance(k, str) and isinstance(v, dict) and v and set(v) <= set(FIELDS)
                       and all(_valid_limit(n) for n in v.values()) for k, v in limits.items())):
        return None, f"ignored the damaged model-limits cache {path} (not what promptls writes)"
    if not 0 <= now - fetched <= TTL_S:
        return None, None
    return limits, None


def _write(path: Path, endpoint: str, limits: Limits, now: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"endpoint": endpoint, "fetched_at": now, "limits": limits}), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.info("model limits not cached (%s)", type(exc).__name__)


async def fetch_limits(client: Any) -> Limits:
    """Every listed model's limits; {} when the listing fails for any reason."""
    limits: Limits = {}
    try:
        async for model in client.models.list(limit=1000, timeout=LIST_TIMEOUT_S):
            entry = {}
            if _valid_limit(model.max_input_tokens):
                entry["context_window"] = model.max_input_tokens
            if _valid_limit(model.max_tokens):
                entry["max_output"] = model.max_tokens
            if entry and isinstance(model.id, str):
                limits[model.id] = entry
    except Exception as exc:  # the listing is a nicety: any failure keeps the table's figures
        log.info("model listing failed (%s); using the catalog's windows", type(exc).__name__)
        return {}
    return limits


async def model_limits(client: Any, endpoint: str, now: float | None = None) -> tuple[Limits, str | None]:
    """(limits, note): this endpoint's cached limits when fresh, else a new listing (cached when it
    succeeds); the note says when a damaged cache file was ignored."""
    now = time.time() if now is None else now
    path = _path(endpoint)
    cached, note = _read(path, endpoint, now)
    if cached is not None:
        return cached, None
    limits = await fetch_limits(client)
    if limits:
        _write(path, endpoint, limits, now)
    return limits, note


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
