"""The model table: context windows, prices, tokenizer generation, image tier and tool-use overhead.

One dated table, because these facts go stale: every row is sourced from
/work/shared/reference/anthropic-api.md (§2 tool-use overhead, §3 models and prices) unless its
`notes` say otherwise, and users override or add rows in `promptls.toml`:

    [models."claude-sonnet-4-6"]
    context_window = 200000

Sources by column:
- windows, max output, prices ($/MTok): §3 table (pricing page and per-model overview pages).
  Retired models carry the figures they had while served (Anthropic's pricing and models pages of
  their time; not in the reference), so old files still get a sensible window and cost.
- active vs retired: "All active models support token counting" plus the count_tokens
  `supportedModels` list (§1, Oct 2026). A model absent from that list is treated as retired.
- tokenizer: ctok's family table (v3 = Claude 3 through Opus 4.6, incl. Sonnet 4.6 / Haiku 4.5;
  "4.7" = Opus 4.7; "4.8" = Opus 4.8, Sonnet 5, Fable 5, and per ctok's README Opus 5) and the
  token-counting page ("Opus 4.7 and later Opus models, Fable 5, Mythos 5, Mythos Preview and
  Sonnet 5 use a newer tokenizer"). Where nothing places a model, "4.8" with `tokenizer_assumed`.
- image tier: "high" for Claude 4.7 and later, "standard" otherwise (§2 Images).
- tool overhead (tokens the API adds when `tools` is sent, excluding the tools themselves): the
  newest §2 table; the older 2025 table for Claude 3.x; models with no row borrow their nearest
  sibling's figures with `overhead_assumed`.
- minimum cacheable prefix (`cache_min_tokens`, gathered `CACHE_MIN_DATE`): the published figures
  disagree between sources and revisions, so every row names its own (`cache_min_source`, see
  `_CACHE_MIN`); config overrides it like any field (`cache_min_tokens = 2048`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .modelids import parse_id

CATALOG_DATE = "2026-10-31"
CACHE_MIN_DATE = "2026-12-01"
DEFAULT_MODEL = "claude-sonnet-4-6"

TOKENIZERS = ("3.0", "4.7", "4.8")
IMAGE_TIERS = ("standard", "high")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What promptls knows about one model. Prices are US dollars per million tokens.

    A model with two price bands (Haiku 5.5) keeps the prompt ≤ `price_threshold` band in the
    plain fields and the long-prompt band in the `*_long` fields; the band is picked by the size
    of the whole prompt, as long-context pricing works elsewhere on the platform.
    `matched_from` is set when `resolve` matched an unknown id to this row by family and version,
    so the UI can say which model the count stands for.
    """

    id: str
    name: str
    aliases: tuple[str, ...]
    context_window: int
    max_output: int
    price_input: float
    price_output: float
    price_cache_write_5m: float
    price_cache_write_1h: float
    price_cache_read: float
    tokenizer: str
    image_tier: str
    tool_overhead_auto: int
    tool_overhead_any: int
    retired: bool = False
    released: str | None = None
    notes: str = ""
    tokenizer_assumed: bool = False
    overhead_assumed: bool = False
    specs_assumed: bool = False
    price_threshold: int | None = None
    price_input_long: float | None = None
    price_output_long: float | None = None
    price_cache_write_5m_long: float | None = None
    price_cache_write_1h_long: float | None = None
    price_cache_read_long: float | None = None
    matched_from: str | None = None
    cache_min_tokens: int = 1024
    cache_min_source: str = ""
    cache_min_assumed: bool = False

    @property
    def family(self) -> str | None:
        return parse_id(self.id)[0]

    def tool_overhead(self, tool_choice: Mapping[str, Any] | None) -> int:
        """The tool-use system prompt for this tool_choice (auto/none vs any/tool), given ≥ 1 tool."""
        kind = (tool_choice or {}).get("type", "auto")
        return self.tool_overhead_any if kind in ("any", "tool") else self.tool_overhead_auto


def _row(id: str, name: str, window: int, max_out: int, prices: tuple[float, float, float, float, float],
         tokenizer: str, tier: str, overhead: tuple[int, int], aliases: tuple[str, ...] = (),
         **extra: Any) -> ModelInfo:
    """One table row; `prices` = (input, 5m write, 1h write, cache read, output), the §3 column order."""
    p_in, p_w5, p_w1h, p_read, p_out = prices
    released = extra.pop("released", None) or _snapshot_date(id)
    cache_min, cache_source, cache_assumed = _CACHE_MIN[id]
    extra.update(cache_min_tokens=cache_min, cache_min_source=cache_source, cache_min_assumed=cache_assumed)
    return ModelInfo(id=id, name=name, aliases=aliases, context_window=window, max_output=max_out,
                     price_input=float(p_in), price_output=float(p_out), price_cache_write_5m=float(p_w5),
                     price_cache_write_1h=float(p_w1h), price_cache_read=float(p_read), tokenizer=tokenizer,
                     image_tier=tier, tool_overhead_auto=overhead[0], tool_overhead_any=overhead[1],
                     released=released, **extra)


def _snapshot_date(model_id: str) -> str | None:
    m = re.search(r"-(\d{4})(\d{2})(\d{2})$", model_id)
    return f"{m[1]}-{m[2]}-{m[3]}" if m else None


# Minimum cacheable prefix per model: (tokens, source, assumed). Below it a breakpoint is accepted and
# silently never caches. Sources (newest first where they disagree):
_SKILLS = ("anthropics/skills skills/claude-api/shared/prompt-caching.md (commit fc9191c, the Fable 5.1 "
           "revision)")
_SKILLS_OLD = "anthropics/skills prompt-caching.md, 2026-06 revision (reference §8)"
_LITELLM = "docs.litellm.ai prompt_caching (2026-10-07)"
_DOCS_2025 = "docs.anthropic.com prompt-caching, cache limitations (2025, quoted in haystack-core-integrations#2051)"
_ISSUE_1194 = ("measured: github.com/anthropics/anthropic-sdk-python/issues/1194 (2026-02, no cache at ~1,024, "
               "caches from 2,048) and BerriAI/litellm-docs#49 (2026-04-29, Bedrock: 2,038 no cache, 2,067 cached)")
_CACHE_MIN: dict[str, tuple[int, str, bool]] = {
    "claude-fable-5-2": (512, f"no published figure; Fable 5.1's per {_SKILLS}", True),
    "claude-mythos-5-2": (512, f"no published figure; Mythos 5.1's per {_SKILLS}", True),
    "claude-fable-5-1": (512, _SKILLS, False),
    "claude-mythos-5-1": (512, _SKILLS, False),
    "claude-fable-5": (512, f"{_SKILLS}; {_LITELLM} (older: 2,048 in {_SKILLS_OLD})", False),
    "claude-mythos-5": (512, f"{_SKILLS}; {_LITELLM}", False),
    "claude-mythos-preview": (2048, _SKILLS, False),
    "claude-opus-5-5": (512, f"no published figure; Opus 5's per {_SKILLS}", True),
    "claude-opus-5": (512, f"{_SKILLS}; {_LITELLM}", False),
    "claude-opus-4-8": (1024, f"{_SKILLS}; {_LITELLM} (older: 4,096 in {_SKILLS_OLD})", False),
    "claude-opus-4-7": (2048, f"{_SKILLS} (LiteLLM's Bedrock table and {_SKILLS_OLD}: 4,096)", False),
    "claude-opus-4-6": (4096, f"{_SKILLS}; {_LITELLM}; quoted docs in anthropic-sdk-python#1194", False),
    "claude-opus-4-5-20251101": (4096, f"{_SKILLS}; {_LITELLM}; quoted docs in anthropic-sdk-python#1194", False),
    "claude-sonnet-5-5": (1024, f"no published figure; Sonnet 5's per {_SKILLS}", True),
    "claude-sonnet-5": (1024, f"{_SKILLS}; {_LITELLM}", False),
    "claude-sonnet-4-6": (2048, f"{_ISSUE_1194}; {_SKILLS_OLD}; the docs quoted in #1194 and {_SKILLS} say 1,024",
                          False),
    "claude-sonnet-4-5-20250929": (1024, f"{_SKILLS}; {_LITELLM}", False),
    "claude-haiku-5-5": (512, "Haiku 5.5 model page as quoted by a third party (reference §8; unverified)", True),
    "claude-haiku-4-5-20251001": (4096, f"{_SKILLS}; {_LITELLM}; quoted docs in anthropic-sdk-python#1194", False),
    "claude-opus-4-1-20250805": (1024, f"{_SKILLS}; {_LITELLM}", False),
    "claude-opus-4-20250514": (1024, f"{_SKILLS}; {_LITELLM}; {_DOCS_2025}", False),
    "claude-sonnet-4-20250514": (1024, f"{_SKILLS}; {_LITELLM}; {_DOCS_2025}", False),
    "claude-3-7-sonnet-20250219": (1024, _DOCS_2025, False),
    "claude-3-5-sonnet-20241022": (1024, _DOCS_2025, False),
    "claude-3-5-sonnet-20240620": (1024, _DOCS_2025, False),
    "claude-3-5-haiku-20241022": (2048, f"{_DOCS_2025}; {_SKILLS}", False),
    "claude-3-opus-20240229": (1024, _DOCS_2025, False),
    "claude-3-sonnet-20240229": (1024, f"{_DOCS_2025} (Claude 3 family row)", True),
    "claude-3-haiku-20240307": (2048, _DOCS_2025, False),
}

M, K = 1_000_000, 1_000
_FABLE = (10, 12.50, 20, 0.25, 50)
_FABLE_5 = (10, 12.50, 20, 1, 50)
_OPUS_5 = (5, 6.25, 10, 0.50, 25)
_OPUS_3 = (15, 18.75, 30, 1.50, 75)
_SONNET_3 = (3, 3.75, 6, 0.30, 15)
_SONNET_5 = (2, 2.50, 4, 0.20, 10)
_HISTORIC = "historic figures from Anthropic's pricing/models pages while it was served"
_NOT_ACTIVE = "absent from the count_tokens supportedModels list (Oct 2026): retired"
_NO_SPECS = "in SDK 2.10 ModelParam and supportedModels, no published specs: window and prices copied from"

TABLE: tuple[ModelInfo, ...] = (
    # -- current generation (§3) -----------------------------------------------------------------
    _row("claude-fable-5-2", "Claude Fable 5.2", 1 * M, 128 * K, _FABLE, "4.8", "high", (290, 410),
         tokenizer_assumed=True, overhead_assumed=True, specs_assumed=True,
         notes=f"{_NO_SPECS} Fable 5.1; tool overhead borrowed from Opus 4.8 (same tokenizer as Fable 5)"),
    _row("claude-mythos-5-2", "Claude Mythos 5.2", 1 * M, 128 * K, _FABLE, "4.8", "high", (290, 410),
         tokenizer_assumed=True, overhead_assumed=True, specs_assumed=True,
         notes=f"{_NO_SPECS} Mythos 5.1; tool overhead borrowed from Opus 4.8"),
    _row("claude-fable-5-1", "Claude Fable 5.1", 1 * M, 128 * K, _FABLE, "4.8", "high", (290, 410),
         tokenizer_assumed=True, overhead_assumed=True,
         notes="current top model; cache read 0.025x; tool overhead borrowed from Opus 4.8"),
    _row("claude-mythos-5-1", "Claude Mythos 5.1", 1 * M, 128 * K, _FABLE, "4.8", "high", (290, 410),
         tokenizer_assumed=True, overhead_assumed=True,
         notes="limited availability (Project Glasswing); tool overhead borrowed from Opus 4.8"),
    _row("claude-fable-5", "Claude Fable 5", 1 * M, 128 * K, _FABLE_5, "4.8", "high", (290, 410),
         released="2026-06-09", overhead_assumed=True,
         notes="legacy; same tokenizer as Opus 4.8 (skills models.md); tool overhead borrowed from Opus 4.8"),
    _row("claude-mythos-5", "Claude Mythos 5", 1 * M, 128 * K, _FABLE_5, "4.8", "high", (290, 410),
         overhead_assumed=True, notes="invitation-only; tool overhead borrowed from Opus 4.8"),
    _row("claude-mythos-preview", "Claude Mythos Preview", 1 * M, 128 * K, _FABLE_5, "4.8", "high", (290, 410),
         tokenizer_assumed=True, overhead_assumed=True, specs_assumed=True,
         notes="SDK lists it deprecated on 2026-06-30; newer tokenizer per the token-counting page "
               "(4.7 vs 4.8 frame unknown); specs copied from Mythos 5"),
    _row("claude-opus-5-5", "Claude Opus 5.5", 1 * M, 128 * K, (4, 5, 8, 0.20, 20), "4.8", "high", (286, 406),
         tokenizer_assumed=True, overhead_assumed=True,
         notes="current Opus; thinking can't be disabled; cache read 0.05x; tool overhead borrowed from Opus 5"),
    _row("claude-opus-5", "Claude Opus 5", 1 * M, 128 * K, _OPUS_5, "4.8", "high", (286, 406),
         released="2026-07-24",
         notes="legacy; v4.8 vocabulary per ctok's README (Opus 5 also makes trailing ASCII whitespace "
               "free, which the estimator does not model)"),
    _row("claude-opus-4-8", "Claude Opus 4.8", 1 * M, 128 * K, _OPUS_5, "4.8", "high", (290, 410)),
    _row("claude-opus-4-7", "Claude Opus 4.7", 1 * M, 128 * K, _OPUS_5, "4.7", "high", (675, 804)),
    _row("claude-opus-4-6", "Claude Opus 4.6", 1 * M, 128 * K, _OPUS_5, "3.0", "standard", (497, 589)),
    _row("claude-opus-4-5-20251101", "Claude Opus 4.5", 200 * K, 64 * K, _OPUS_5, "3.0", "standard", (496, 588),
         aliases=("claude-opus-4-5",)),
    _row("claude-sonnet-5-5", "Claude Sonnet 5.5", 1 * M, 128 * K, _SONNET_5, "4.8", "high", (354, 474),
         tokenizer_assumed=True, overhead_assumed=True,
         notes="current Sonnet; third parties report cache read cut to 0.10 on 2026-10-07 (unverified); "
               "tool overhead borrowed from Sonnet 5"),
    _row("claude-sonnet-5", "Claude Sonnet 5", 1 * M, 128 * K, _SONNET_5, "4.8", "high", (354, 474),
         notes="third parties report an introductory price until 2026-08-31, then $3/$15 (unverified)"),
    _row("claude-sonnet-4-6", "Claude Sonnet 4.6", 1 * M, 128 * K, _SONNET_3, "3.0", "standard", (497, 589)),
    _row("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", 200 * K, 64 * K, _SONNET_3, "3.0", "standard",
         (496, 588), aliases=("claude-sonnet-4-5",), notes="deprecated; retires 2026-11-30"),
    _row("claude-haiku-5-5", "Claude Haiku 5.5", 1 * M, 128 * K, (0.10, 0.125, 0.20, 0.01, 0.50), "4.8", "high",
         (354, 474), tokenizer_assumed=True, overhead_assumed=True,
         price_threshold=100 * K, price_input_long=0.50, price_output_long=2.50, price_cache_write_5m_long=0.625,
         price_cache_write_1h_long=1.0, price_cache_read_long=0.05,
         notes="two price bands (prompt ≤100k / >100k) from third-party pricing fixtures (unverified); "
               "tool overhead borrowed from Sonnet 5"),
    _row("claude-haiku-4-5-20251001", "Claude Haiku 4.5", 200 * K, 64 * K, (1, 1.25, 2, 0.10, 5), "3.0",
         "standard", (496, 588), aliases=("claude-haiku-4-5",),
         notes="cache prices derived from the standard multipliers (1.25x / 2x / 0.1x)"),
    # -- retired: still named by real prompt files -------------------------------------------------
    _row("claude-opus-4-1-20250805", "Claude Opus 4.1", 200 * K, 32 * K, _OPUS_3, "3.0", "standard", (313, 315),
         aliases=("claude-opus-4-1",), retired=True, notes=f"{_NOT_ACTIVE}; {_HISTORIC}"),
    _row("claude-opus-4-20250514", "Claude Opus 4", 200 * K, 32 * K, _OPUS_3, "3.0", "standard", (313, 315),
         aliases=("claude-opus-4-0",), retired=True, notes=f"{_NOT_ACTIVE}; {_HISTORIC}"),
    _row("claude-sonnet-4-20250514", "Claude Sonnet 4", 200 * K, 64 * K, _SONNET_3, "3.0", "standard", (313, 315),
         aliases=("claude-sonnet-4-0",), retired=True, notes=f"{_NOT_ACTIVE}; {_HISTORIC}"),
    _row("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", 200 * K, 64 * K, _SONNET_3, "3.0", "standard",
         (346, 313), aliases=("claude-3-7-sonnet-latest",), retired=True,
         notes=f"{_NOT_ACTIVE}; {_HISTORIC}; tool overhead from the 2025 table"),
    _row("claude-3-5-sonnet-20241022", "Claude Sonnet 3.5 (Oct)", 200 * K, 8192, _SONNET_3, "3.0", "standard",
         (346, 313), aliases=("claude-3-5-sonnet-latest",), retired=True,
         notes=f"{_NOT_ACTIVE}; {_HISTORIC}; tool overhead from the 2025 table"),
    _row("claude-3-5-sonnet-20240620", "Claude Sonnet 3.5 (June)", 200 * K, 8192, _SONNET_3, "3.0", "standard",
         (294, 261), retired=True, notes=f"{_NOT_ACTIVE}; {_HISTORIC}; tool overhead from the 2025 table"),
    _row("claude-3-5-haiku-20241022", "Claude Haiku 3.5", 200 * K, 8192, (0.80, 1, 1.60, 0.08, 4), "3.0",
         "standard", (264, 355), aliases=("claude-3-5-haiku-latest",), retired=True,
         notes=f"{_NOT_ACTIVE}; {_HISTORIC}; tool overhead from the newest table (2025 table: 264/340)"),
    _row("claude-3-opus-20240229", "Claude Opus 3", 200 * K, 4096, _OPUS_3, "3.0", "standard", (530, 281),
         aliases=("claude-3-opus-latest",), retired=True,
         notes=f"{_NOT_ACTIVE}; {_HISTORIC}; tool overhead from the 2025 table"),
    _row("claude-3-sonnet-20240229", "Claude Sonnet 3", 200 * K, 4096, _SONNET_3, "3.0", "standard", (159, 235),
         retired=True, notes=f"{_NOT_ACTIVE}; {_HISTORIC}; cache prices derived from the standard multipliers; "
                             "tool overhead from the 2025 table"),
    _row("claude-3-haiku-20240307", "Claude Haiku 3", 200 * K, 4096, (0.25, 0.30, 0.50, 0.03, 1.25), "3.0",
         "standard", (264, 340), retired=True,
         notes=f"{_NOT_ACTIVE}; {_HISTORIC}; 1h write derived (2x); tool overhead from the 2025 table"),
)
