"""The model catalog: the row for a model id as people write it, with the user's `[models]` overrides.

The rows and their sources are in `modeltable.py`, id spelling in `modelids.py`. Users override or add
rows in `promptls.toml`, so every lookup takes the config table: known ids are patched, unknown
`claude-…` ids added, and bad entries are skipped here and reported by `check_overrides`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from .modelids import FAMILIES, normalize_id, padded, parse_id
from .modeltable import CACHE_MIN_DATE, CATALOG_DATE, DEFAULT_MODEL, IMAGE_TIERS, TABLE, TOKENIZERS, ModelInfo

__all__ = [
    "CACHE_MIN_DATE", "CATALOG_DATE", "DEFAULT_MODEL", "FAMILIES", "IMAGE_TIERS", "OVERRIDABLE", "TOKENIZERS",
    "ModelInfo", "Overrides", "all_models", "check_overrides", "cost_usd", "input_prices", "model_ids",
    "normalize_id", "resolve",
]

_FIELDS = {f.name: f for f in dataclasses.fields(ModelInfo)}
_INT_FIELDS = {"context_window", "max_output", "tool_overhead_auto", "tool_overhead_any", "price_threshold",
               "cache_min_tokens"}
_FLOAT_FIELDS = {n for n in _FIELDS if n.startswith("price_") and n != "price_threshold"}
_BOOL_FIELDS = {"retired", "tokenizer_assumed", "overhead_assumed", "specs_assumed", "cache_min_assumed"}
_STR_FIELDS = {"name", "released", "notes", "cache_min_source"}
_CHOICES = {"tokenizer": TOKENIZERS, "image_tier": IMAGE_TIERS}
OVERRIDABLE = frozenset(_INT_FIELDS | _FLOAT_FIELDS | _BOOL_FIELDS | _STR_FIELDS | set(_CHOICES) | {"aliases"})

Overrides = Mapping[str, Mapping[str, Any]]


# ---------------------------------------------------------------------------------------------------
# overrides


def _coerce(name: str, value: Any) -> Any:
    """A config value for field `name`, or raise ValueError saying what was wrong."""
    if name == "aliases":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(a, str) for a in value):
            raise ValueError("expected a list of model ids")
        return tuple(normalize_id(a) for a in value)
    if name in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if name in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("expected a whole number ≥ 0")
        return value
    if name in _FLOAT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError("expected a number ≥ 0")
        return float(value)
    if name in _CHOICES:
        text = str(value)
        if text not in _CHOICES[name]:
            raise ValueError(f"expected one of {', '.join(_CHOICES[name])}")
        return text
    if name in _STR_FIELDS:
        return str(value)
    raise ValueError(f"unknown field (known: {', '.join(sorted(OVERRIDABLE))})")


def check_overrides(overrides: Overrides | None) -> list[tuple[str, str | None, str]]:
    """Problems in a `[models]` config table as (model id, field or None, message), for config findings.
    `resolve` and `all_models` skip the same bad entries rather than fail."""
    problems: list[tuple[str, str | None, str]] = []
    for model_id, fields in (overrides or {}).items():
        if not isinstance(fields, Mapping):
            problems.append((model_id, None, "expected a table of catalog fields"))
            continue
        if not normalize_id(str(model_id)).startswith("claude"):
            problems.append((model_id, None, "model ids must start with `claude`"))
        for name, value in fields.items():
            try:
                _coerce(str(name), value)
            except ValueError as exc:
                problems.append((model_id, str(name), str(exc)))
    return problems


def _apply(base: ModelInfo, fields: Mapping[str, Any], new_id: str | None = None) -> ModelInfo:
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        try:
            changes[str(name)] = _coerce(str(name), value)
        except ValueError:
            continue
    if new_id is not None:
        changes.setdefault("name", new_id)
        changes["id"] = new_id
        changes.setdefault("aliases", ())
        changes["notes"] = changes.get("notes") or f"added in config; unset fields copied from {base.id}"
    elif changes:
        changes.setdefault("notes", (base.notes + "; " if base.notes else "") + "overridden in config")
    if "cache_min_tokens" in changes:
        changes.setdefault("cache_min_source", "set in config")
        changes.setdefault("cache_min_assumed", False)
    return dataclasses.replace(base, **changes) if changes else base


def _table(overrides: Overrides | None) -> list[ModelInfo]:
    """The built-in rows with config applied: known ids patched, unknown ones added."""
    rows = list(TABLE)
    if not overrides:
        return rows
    index = _index(rows)
    for raw_id, fields in overrides.items():
        if not isinstance(fields, Mapping):
            continue
        model_id = normalize_id(str(raw_id))
        if not model_id.startswith("claude"):
            continue
        known = index.get(model_id)
        if known is not None:
            i = rows.index(known)
            rows[i] = _apply(known, fields)
        else:
            base = _closest(rows, model_id) or next(r for r in rows if r.id == DEFAULT_MODEL)
            rows.append(_apply(dataclasses.replace(base, matched_from=None), fields, new_id=model_id))
        index = _index(rows)
    return rows


def _index(rows: Iterable[ModelInfo]) -> dict[str, ModelInfo]:
    out: dict[str, ModelInfo] = {}
    for row in rows:
        for key in (row.id, *row.aliases):
            out[key] = row
    return out


def _closest(rows: list[ModelInfo], model_id: str) -> ModelInfo | None:
    """Best effort for an unknown Claude id: same family, same version (newest snapshot), else the
    nearest version in that family (the newest one below it, else the oldest above it)."""
    family, version = parse_id(model_id)
    if family is None:
        return None
    same_family = [r for r in rows if r.family == family]
    if not same_family:
        return None

    def key(r: ModelInfo) -> tuple[tuple[int, int], bool, str]:
        return padded(parse_id(r.id)[1]), not r.retired, r.released or ""

    if not version:  # `claude-opus-latest`, `claude-sonnet`: the newest one served
        return max(same_family, key=key)
    want = padded(version)
    exact = [r for r in same_family if padded(parse_id(r.id)[1]) == want]
    if exact:
        return max(exact, key=key)
    below = [r for r in same_family if padded(parse_id(r.id)[1]) < want]
    return max(below, key=key) if below else min(same_family, key=key)


# ---------------------------------------------------------------------------------------------------
# public API


def resolve(model: str | None, overrides: Overrides | None = None) -> ModelInfo | None:
    """The catalog row for a model id as people write it, or None for non-Claude ids.

    Accepts ids, aliases (also those added in config), `anthropic/…` (GitHub Models), Bedrock and
    Vertex spellings, any case and surrounding whitespace. An unknown `claude-…` id resolves to the
    closest known model of its family with `matched_from` set; `overrides` (the config `[models]`
    table) patch or add rows.
    """
    if not isinstance(model, str) or not model.strip():
        return None
    wanted = normalize_id(model)
    rows = _table(overrides)
    found = _index(rows).get(wanted)  # config aliases may name anything, e.g. `gpt-4o`
    if found is not None:
        return found
    if not wanted.startswith("claude"):
        return None
    closest = _closest(rows, wanted)
    return dataclasses.replace(closest, matched_from=model.strip()) if closest else None


def all_models(overrides: Overrides | None = None) -> list[ModelInfo]:
    """Every row, current models first (table order), config additions last."""
    return _table(overrides)


def model_ids(overrides: Overrides | None = None, *, include_retired: bool = True) -> list[str]:
    """Ids and aliases, for completion."""
    out: list[str] = []
    for row in _table(overrides):
        if include_retired or not row.retired:
            out.extend((row.id, *row.aliases))
    return out


def input_prices(info: ModelInfo, input_tokens: int) -> tuple[float, float, float, float]:
    """(input, cache write 5m, cache write 1h, cache read) $/MTok for a prompt of this size."""
    long = info.price_threshold is not None and input_tokens > info.price_threshold
    if long and info.price_input_long is not None:
        return (info.price_input_long,
                info.price_cache_write_5m_long if info.price_cache_write_5m_long is not None
                else info.price_cache_write_5m,
                info.price_cache_write_1h_long if info.price_cache_write_1h_long is not None
                else info.price_cache_write_1h,
                info.price_cache_read_long if info.price_cache_read_long is not None else info.price_cache_read)
    return info.price_input, info.price_cache_write_5m, info.price_cache_write_1h, info.price_cache_read


def cost_usd(info: ModelInfo, input_tokens: int) -> float:
    """What sending `input_tokens` uncached input tokens costs, in US dollars."""
    return max(input_tokens, 0) * input_prices(info, input_tokens)[0] / 1_000_000
