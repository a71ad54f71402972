"""This prompt on other models: tokens and input $ per call, each model counted with its own tokenizer.

The same text costs different tokens on different generations (the newer vocabulary of Opus 4.7 and
later counts ~30% more; token-counting page, reference §3), images depend on the model's tier and the
tool-use system prompt on the model, so every model gets its own estimate — and its own count_tokens
answer when a key is set — instead of a scaled copy of the file's number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import catalog
from .counting.estimate import estimate
from .model import CountRequest, Counts, FileReport, ModelComparison

if TYPE_CHECKING:
    from .config import Config
    from .counting.api import ApiCounter
    from .engine import Analysis

# The current lineup (models overview, reference §3), used when neither the user nor config names models.
DEFAULT_MODELS = ("claude-fable-5-1", "claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5")


def parse_models(ids: Iterable[str], overrides: catalog.Overrides | None = None
                 ) -> tuple[list[catalog.ModelInfo], list[str]]:
    """Catalog rows for ids as written (`a,b,c` pieces), and the ids that name no Claude model."""
    rows: list[catalog.ModelInfo] = []
    unknown: list[str] = []
    for raw in ids:
        model_id = raw.strip()
        if not model_id:
            continue
        info = catalog.resolve(model_id, overrides)
        if info is None:
            unknown.append(model_id)
        elif all(r.id != info.id for r in rows):
            rows.append(info)
    return rows, unknown


def models_for(config: Config) -> list[catalog.ModelInfo]:
    """What the hover on `model:` compares with: config `compare_models`, else the current lineup."""
    ids = getattr(config, "compare_models", ()) or DEFAULT_MODELS
    return parse_models(ids, config.models)[0]


def _for_model(request: CountRequest, info: catalog.ModelInfo) -> CountRequest:
    return CountRequest(info.id, {**request.body, "model": info.id}, request.parts, request.positions,
                        request.breakpoints)


def _row(info: catalog.ModelInfo, counts: Counts) -> ModelComparison:
    return ModelComparison(info.id, info.name, info.tokenizer, counts.total, counts.exact,
                           catalog.cost_usd(info, counts.total), info.context_window,
                           counts.total <= info.context_window)


def compare_offline(request: CountRequest, models: Sequence[catalog.ModelInfo],
                    correction: Callable[[str], float] | None = None) -> list[ModelComparison]:
    """Estimates of `request` on each model (its tokenizer, image tier and tool overhead)."""
    return [_row(info, estimate(_for_model(request, info), info, correction(info.id) if correction else 1.0))
            for info in models]


async def compare_exact(request: CountRequest, models: Sequence[catalog.ModelInfo], counter: ApiCounter
                        ) -> list[ModelComparison]:
    """count_tokens totals on each model (one request each, cached); estimates where the API can't answer."""
    out = []
    for info in models:
        req = _for_model(request, info)
        est = estimate(req, info, counter.cache.correction(info.id))
        out.append(_row(info, await counter.count_total(req, None, 1, est)))
    return out


def attach(reports: list[FileReport], config: Config, models: Sequence[catalog.ModelInfo],
           make_counter: Callable[[Config], tuple[Any, Any, str]]) -> None:
    """Fill `report.comparison` for `promptls count --compare-models` (exact with a key, else estimates)."""
    from .engine import analyze_text, read_prompt_file

    analyses: list[tuple[FileReport, Analysis]] = []
    for r in reports:
        text, _ = read_prompt_file(Path(r.path))
        if text is None:
            continue
        a = analyze_text(text, Path(r.path), config)
        if a.request is not None:
            analyses.append((r, a))
    if not analyses:
        return
    counter, cache, _state = make_counter(config)
    if counter is None:
        correction = cache.correction if cache is not None else None
        for r, a in analyses:
            assert a.request is not None
            r.comparison = compare_offline(a.request, models, correction)
        return

    async def run() -> None:
        try:
            for r, a in analyses:
                assert a.request is not None
                r.comparison = await compare_exact(a.request, models, counter)
        finally:
            await counter.aclose()

    asyncio.run(run())
