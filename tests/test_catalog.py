"""The model catalog: every row usable, ids resolved the way people write them, config overrides."""

from __future__ import annotations

import ctok
import pytest

from promptls import catalog
from promptls.catalog import ModelInfo, resolve


def test_every_model_has_window_prices_tokenizer_and_overhead() -> None:
    for info in catalog.all_models():
        assert info.context_window >= 200_000, info.id
        assert 0 < info.max_output < info.context_window, info.id
        for price in (info.price_input, info.price_output, info.price_cache_write_5m,
                      info.price_cache_write_1h, info.price_cache_read):
            assert price > 0, info.id
        assert info.price_cache_read < info.price_input < info.price_cache_write_5m <= info.price_cache_write_1h
        assert info.price_output > info.price_input, info.id
        assert info.tokenizer in catalog.TOKENIZERS, info.id
        assert ctok.token_count("hi", info.tokenizer) > 0  # ctok accepts the version string
        assert info.image_tier in catalog.IMAGE_TIERS, info.id
        assert info.tool_overhead_auto > 0 and info.tool_overhead_any > 0, info.id
        assert info.family in catalog.FAMILIES, info.id


def test_ids_and_aliases_are_unique() -> None:
    names = catalog.model_ids()
    assert len(names) == len(set(names))


def test_catalog_is_dated_and_default_is_a_current_v3_model() -> None:
    assert catalog.CATALOG_DATE == "2026-10-31"
    default = resolve(catalog.DEFAULT_MODEL)
    assert default is not None and not default.retired
    assert default.tokenizer == "3.0" and default.context_window == 1_000_000


@pytest.mark.parametrize(("written", "expected"), [
    ("claude-sonnet-4-6", "claude-sonnet-4-6"),
    ("claude-opus-4-5", "claude-opus-4-5-20251101"),
    ("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
    ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
    ("claude-3-5-sonnet-latest", "claude-3-5-sonnet-20241022"),
    ("anthropic/claude-sonnet-4-6", "claude-sonnet-4-6"),
    ("  Anthropic/Claude-Opus-4-8 \n", "claude-opus-4-8"),
    ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet-20241022"),
    ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet-20241022"),
    ("claude-sonnet-4@20250514", "claude-sonnet-4-20250514"),
])
def test_resolve_ids_aliases_and_provider_spellings(written: str, expected: str) -> None:
    info = resolve(written)
    assert info is not None and info.id == expected
    assert info.matched_from is None


@pytest.mark.parametrize("model_id", [
    "claude-3-opus-20240229", "claude-3-sonnet-20240229", "claude-3-haiku-20240307",
    "claude-3-5-sonnet-20240620", "claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022",
    "claude-3-7-sonnet-20250219", "claude-sonnet-4-20250514", "claude-opus-4-20250514",
    "claude-opus-4-1-20250805",
])
def test_retired_ids_resolve_with_historic_facts(model_id: str) -> None:
    info = resolve(model_id)
    assert info is not None and info.id == model_id and info.retired
    assert info.context_window == 200_000 and info.tokenizer == "3.0" and info.image_tier == "standard"


def test_active_models_are_not_retired() -> None:
    for model_id in ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "claude-fable-5-1",
                     "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"):
        info = resolve(model_id)
        assert info is not None and not info.retired, model_id


@pytest.mark.parametrize("model_id", ["gpt-4o", "openai/gpt-4.1", "meta/llama-3.3-70b-instruct",
                                      "mistral-large", "", "   ", "claude-2.1", "claude-instant-1.2"])
def test_non_claude_or_unplaceable_ids_resolve_to_none(model_id: str) -> None:
    assert resolve(model_id) is None


def test_unknown_claude_id_resolves_by_family_and_says_so() -> None:
    info = resolve("claude-sonnet-5-5-20261101")
    assert info is not None and info.id == "claude-sonnet-5-5"
    assert info.matched_from == "claude-sonnet-5-5-20261101"
    newer = resolve("claude-opus-6")
    assert newer is not None and newer.id == "claude-opus-5-5" and newer.matched_from == "claude-opus-6"
    latest = resolve("claude-haiku-latest")
    assert latest is not None and latest.id == "claude-haiku-5-5"


def test_image_tier_is_high_from_claude_4_7_on() -> None:
    high = ["claude-opus-4-7", "claude-opus-4-8", "claude-opus-5", "claude-opus-5-5", "claude-sonnet-5",
            "claude-sonnet-5-5", "claude-haiku-5-5", "claude-fable-5", "claude-fable-5-1"]
    standard = ["claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-4-5", "claude-haiku-4-5",
                "claude-sonnet-4-5", "claude-3-7-sonnet-20250219", "claude-3-haiku-20240307"]
    assert {m: resolve(m).image_tier for m in high} == dict.fromkeys(high, "high")  # type: ignore[union-attr]
    assert {m: resolve(m).image_tier for m in standard} == dict.fromkeys(standard, "standard")  # type: ignore[union-attr]


def test_tokenizer_families_follow_ctok_and_flag_guesses() -> None:
    def tok(model_id: str) -> ModelInfo:
        info = resolve(model_id)
        assert info is not None
        return info

    assert tok("claude-opus-4-6").tokenizer == tok("claude-sonnet-4-6").tokenizer == "3.0"
    assert tok("claude-haiku-4-5").tokenizer == "3.0"
    assert tok("claude-opus-4-7").tokenizer == "4.7"
    assert {tok(m).tokenizer for m in ("claude-opus-4-8", "claude-sonnet-5", "claude-fable-5")} == {"4.8"}
    assert not tok("claude-opus-4-8").tokenizer_assumed
    for model_id in ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5", "claude-fable-5-1"):
        assert tok(model_id).tokenizer == "4.8" and tok(model_id).tokenizer_assumed, model_id
        assert tok(model_id).overhead_assumed, model_id


def test_tool_overhead_by_tool_choice() -> None:
    info = resolve("claude-sonnet-4-6")
    assert info is not None
    assert info.tool_overhead(None) == info.tool_overhead({"type": "auto"}) == 497
    assert info.tool_overhead({"type": "none"}) == 497
    assert info.tool_overhead({"type": "any"}) == info.tool_overhead({"type": "tool", "name": "x"}) == 589


def test_overrides_patch_known_models_and_add_new_ones() -> None:
    overrides = {
        "claude-sonnet-4-6": {"context_window": 200_000, "price_input": 2.5},
        "anthropic/claude-house-1": {"context_window": 50_000, "aliases": ["house"], "tokenizer": "4.8"},
    }
    patched = resolve("claude-sonnet-4-6", overrides)
    assert patched is not None and patched.context_window == 200_000 and patched.price_input == 2.5
    assert patched.max_output == 128_000  # untouched fields keep the table's values
    added = resolve("claude-house-1", overrides)
    assert added is not None and added.id == "claude-house-1" and added.context_window == 50_000
    assert added.tokenizer == "4.8"
    assert resolve("house", overrides) == added
    assert resolve("claude-house-1") is None
    assert "claude-house-1" in [m.id for m in catalog.all_models(overrides)]
    assert resolve("claude-sonnet-4-6").context_window == 1_000_000  # type: ignore[union-attr]  # table unchanged


def test_config_alias_can_map_a_non_claude_id() -> None:
    overrides = {"claude-opus-4-8": {"aliases": ["gpt-4o"]}}
    info = resolve("GPT-4o", overrides)
    assert info is not None and info.id == "claude-opus-4-8"


def test_bad_override_values_are_skipped_and_reported() -> None:
    overrides = {"claude-sonnet-4-6": {"context_window": "lots", "tokenizer": "9.9", "colour": "red",
                                       "max_output": 1000},
                 "gpt-4o": {"context_window": 1}}
    info = resolve("claude-sonnet-4-6", overrides)
    assert info is not None and info.context_window == 1_000_000 and info.tokenizer == "3.0"
    assert info.max_output == 1000
    problems = {(model, field) for model, field, _ in catalog.check_overrides(overrides)}
    assert problems == {("claude-sonnet-4-6", "context_window"), ("claude-sonnet-4-6", "tokenizer"),
                        ("claude-sonnet-4-6", "colour"), ("gpt-4o", None)}
    assert resolve("gpt-4o", overrides) is None


def test_cost_uses_input_price_and_haiku_5_5_price_band() -> None:
    sonnet = resolve("claude-sonnet-4-6")
    assert sonnet is not None
    assert catalog.cost_usd(sonnet, 1_000_000) == pytest.approx(3.0)
    assert catalog.cost_usd(sonnet, 12_345) == pytest.approx(12_345 * 3 / 1e6)
    haiku = resolve("claude-haiku-5-5")
    assert haiku is not None and haiku.price_threshold == 100_000
    assert catalog.cost_usd(haiku, 100_000) == pytest.approx(0.01)
    assert catalog.cost_usd(haiku, 200_000) == pytest.approx(0.10)  # whole prompt at the long band
    assert catalog.input_prices(haiku, 200_000)[3] == 0.05
