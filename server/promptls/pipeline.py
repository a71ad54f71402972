"""The one pipeline the CLI and the language server both run: a prompt file in, a `FileReport` out.

    analyze(path, config, text)        read (unless the editor gave the text) and analyse: pure, offline
    estimate(analysis, config, cache)  offline counts and the report built on them
    count_exact(estimated, counter)    exact counts through the API counter (async; never raises)
    exact_report(estimated, exact)     the report built on the exact counts

`offline_report` chains the offline steps; `open_counter` makes the API counter for a config and
`with_model_limits` lays the Models API's windows under the config's own `[models]`. Callers choose
where each step runs (the server: the engine thread for the synchronous steps, its event loop for
the counter), never what the steps are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .config import Config
from .engine import Analysis, analyze_text, estimate_counts, estimate_variants, make_report, read_prompt_file
from .model import Counts, CountState, FileReport

if TYPE_CHECKING:
    from .counting.api import ApiCounter
    from .counting.cache import CountCache


class Corrections(Protocol):
    """Where the estimator's per-model correction factors are kept (the count cache)."""

    def correction(self, model: str) -> float: ...


@dataclass(slots=True)
class Estimated:
    """The offline step's result. `analysis` is None when the file could not be read (its report
    then holds the reason); `counts` is None when the file has no request to count."""

    report: FileReport
    text: str = ""
    analysis: Analysis | None = None
    counts: Counts | None = None
    variants: list[tuple[int, Counts]] = field(default_factory=list)

    @property
    def countable(self) -> bool:
        return self.analysis is not None and self.analysis.request is not None and self.counts is not None


@dataclass(slots=True)
class Exact:
    """The counter's answer for one file: the request's counts and each testData row's total."""

    counts: Counts
    variants: list[tuple[int, Counts]]


def analyze(path: Path, config: Config, text: str | None = None) -> Analysis | FileReport:
    """The analysis of `text` (or of the file on disk when `text` is None); an unreadable, huge or
    non-UTF-8 file gives its report instead."""
    if text is None:
        text, findings = read_prompt_file(path)
        if text is None:
            return FileReport.unusable(str(path), findings)
    return analyze_text(text, path, config)


def correction(analysis: Analysis, cache: Corrections | None) -> float:
    """The estimator's learnt factor for the model the request is sent to (what the counter records)."""
    if cache is None or analysis.request is None:
        return 1.0
    return float(cache.correction(analysis.request.model))


def estimate(analysis: Analysis, config: Config, cache: Corrections | None = None) -> Estimated:
    """Offline counts (with the learnt correction) and the report on them."""
    corr = correction(analysis, cache)
    counts = estimate_counts(analysis, config, corr)
    variants = estimate_variants(analysis, corr)
    return Estimated(make_report(analysis, counts, config, variants), analysis.doc.text, analysis, counts, variants)


def offline_report(path: Path, config: Config, cache: Corrections | None = None) -> FileReport:
    """One file's report from the estimator alone."""
    analysis = analyze(path, config)
    return analysis if isinstance(analysis, FileReport) else estimate(analysis, config, cache).report


async def count_exact(estimated: Estimated, counter: ApiCounter, priority: int, parts: bool = True) -> Exact | None:
    """Exact counts: every part (`parts`) or the total alone, then each testData row's total at the
    next lower priority. The counter falls back to the estimate on faults (with `Counts.error`)."""
    analysis, est = estimated.analysis, estimated.counts
    if analysis is None or analysis.request is None or analysis.info is None or est is None:
        return None
    info = analysis.info
    if parts:
        counts = await counter.count(analysis.request, info, priority, est)
    else:
        counts = await counter.count_total(analysis.request, info, priority, est)
    variants = [(row, await counter.count_total(request, info, priority + 1, row_est))
                for (row, request), (_, row_est) in zip(analysis.variants, estimated.variants, strict=True)]
    return Exact(counts, variants)


def exact_report(estimated: Estimated, exact: Exact, config: Config) -> FileReport:
    assert estimated.analysis is not None
    return make_report(estimated.analysis, exact.counts, config, exact.variants)


def open_counter(config: Config, cache: CountCache | None) -> tuple[ApiCounter | None, CountState]:
    """The API counter for `config`, or None and why: `offline` (the mode) or `no-key`. The key is
    looked at before the SDK is imported (about a second), so a keyless run never pays for it."""
    if config.mode == "offline":
        return None, CountState.OFFLINE
    if not (os.environ.get("ANTHROPIC_API_KEY") or "").strip():
        return None, CountState.NO_KEY
    from .counting.api import make_counter, settings_from_env

    settings = settings_from_env(config.mode, config.requests_per_minute, config.base_url)
    if settings.api_key is None or cache is None:
        return None, CountState.NO_KEY if settings.api_key is None else CountState.OFFLINE
    counter = make_counter(settings, cache)
    return counter, CountState.EXACT if counter is not None else CountState.OFFLINE


def with_model_limits(config: Config, limits: dict[str, dict[str, int]]) -> Config:
    """`config` with the Models API's windows under its own `[models]` overrides (the user's wins)."""
    if not limits:
        return config
    from .counting.models import merge_overrides

    return replace(config, models=merge_overrides(limits, config.models))
