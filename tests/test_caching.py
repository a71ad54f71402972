"""Prompt caching: breakpoints read where the API takes them, each finding located at its
`cache_control` key with the numbers, the cost math against hand-computed figures, and the model
comparison counting each model with its own tokenizer."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from promptls import caching, catalog, compare, pipeline
from promptls.config import Config, load_config
from promptls.counting.api import ApiCounter, make_counter, settings_from_env
from promptls.counting.cache import FILE_NAME, CountCache
from promptls.counting.estimate import estimate
from promptls.engine import Analysis, analyze_file, analyze_text, estimate_counts
from promptls.model import BreakpointReport, Counts, FileReport, Span
from tests.fakeapi import FakeAnthropic

FIXTURES = Path(__file__).parent / "data" / "caching"


async def exact_counts(a: Analysis, counter: ApiCounter) -> Counts | None:
    """Every part counted exactly, through the one pipeline."""
    exact = await pipeline.count_exact(pipeline.estimate(a, Config(root=a.path.parent)), counter, 0)
    return exact.counts if exact is not None else None


def analyze(name: str, config: Config | None = None) -> Analysis:
    path = FIXTURES / name
    return analyze_text(path.read_text(encoding="utf-8"), path, config or Config(root=FIXTURES))


def report(name: str, config: Config | None = None) -> FileReport:
    return analyze_file(FIXTURES / name, config or Config(root=FIXTURES))


def key_span(text: str, line: int) -> Span:
    """The range of the `cache_control` key on 0-based `line` of `text`."""
    col = text.splitlines()[line].index("cache_control")
    return Span.at(line, col, line, col + len("cache_control"))


def write(tmp_path: Path, text: str, name: str = "p.prompt.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------
# the catalog column


def test_every_model_has_a_sourced_minimum_and_config_overrides_it(tmp_path: Path) -> None:
    for info in catalog.all_models():
        assert info.cache_min_tokens in (512, 1024, 2048, 4096), info.id
        assert info.cache_min_source, info.id
    assert catalog.resolve("claude-sonnet-4-6").cache_min_tokens == 2048  # the #1194 measurement
    assert "anthropic-sdk-python/issues/1194" in catalog.resolve("claude-sonnet-4-6").cache_min_source
    assert catalog.resolve("claude-opus-5").cache_min_tokens == 512
    assert catalog.resolve("claude-haiku-4-5").cache_min_tokens == 4096

    (tmp_path / "promptls.toml").write_text('[models."claude-sonnet-4-6"]\ncache_min_tokens = 16\n')
    config, problems = load_config(tmp_path)
    assert problems == []
    assert catalog.resolve("claude-sonnet-4-6", config.models).cache_min_source == "set in config"
    default = report("too-short.prompt.yaml")
    lowered = analyze_file(FIXTURES / "too-short.prompt.yaml", dataclasses.replace(config, root=FIXTURES))
    assert "cache-prefix-too-short" in {f.code for f in default.findings}
    assert "cache-prefix-too-short" not in {f.code for f in lowered.findings}
    assert lowered.caching is not None and lowered.caching.breakpoints[0].caches


# ---------------------------------------------------------------------------------------------------
# findings, each at its cache_control key


def test_prefix_below_the_model_minimum_is_a_warning_with_both_numbers() -> None:
    text = (FIXTURES / "too-short.prompt.yaml").read_text()
    r = report("too-short.prompt.yaml")
    [f] = [f for f in r.findings if f.code == "cache-prefix-too-short"]
    assert f.span == key_span(text, 4)
    system = next(p for p in r.parts if p.id == "system")
    prefix = system.tokens + r.overhead  # the frame opens the prefix; the system prompt is all of it
    assert f.data["prefix_tokens"] == prefix and f.data["min_tokens"] == 2048
    assert f"≈ {prefix:,} tokens" in f.message and "at least 2,048" in f.message and "claude-sonnet-4-6" in f.message
    assert r.caching is not None and not r.caching.breakpoints[0].caches
    # nothing caches, so caching changes nothing: no write premium is charged below the minimum
    assert r.caching.first_call_usd == r.caching.cached_call_usd == r.caching.uncached_usd
    assert r.caching.break_even_calls is None


def test_more_than_four_breakpoints_is_an_error_and_only_four_are_sent() -> None:
    text = (FIXTURES / "five-breakpoints.prompt.yaml").read_text()
    a = analyze("five-breakpoints.prompt.yaml")
    assert a.request is not None
    [f] = [f for f in a.findings if f.code == "cache-too-many-breakpoints"]
    assert f.severity.label == "error"
    assert f.data == {"breakpoints": 6, "limit": 4} and "6 cache breakpoints" in f.message
    assert "at most 4" in f.message and "request-level" in f.message
    assert f.span == key_span(text, 18)  # the 5th in render order: tool, 2 system blocks, 1st block, then this
    body = json.dumps(a.request.body)
    assert body.count('"cache_control"') == 4 and "cache_control" not in a.request.body  # automatic dropped too


def test_breakpoint_past_the_20_block_lookback_may_miss() -> None:
    text = (FIXTURES / "lookback.prompt.yaml").read_text()
    a = analyze("lookback.prompt.yaml")
    [f] = [f for f in a.findings if f.code == "cache-lookback-exceeded"]
    assert f.span == key_span(text, 29)
    assert f.data == {"blocks": 23, "limit": 20}
    assert "23 blocks after the previous one (line 6)" in f.message and "at most 20" in f.message


def test_runs_of_tool_use_and_tool_result_blocks_count_once_for_the_lookback(tmp_path: Path) -> None:
    uses = "\n".join(f"      - {{type: tool_use, id: t{i}, name: lookup, input: {{}}}}" for i in range(25))
    results = "\n".join(f"      - {{type: tool_result, tool_use_id: t{i}, content: ok}}" for i in range(25))
    path = write(tmp_path, f"""model: claude-sonnet-4-6
tools:
  - name: lookup
    input_schema: {{type: object}}
    cache_control: {{type: ephemeral}}
messages:
  - role: user
    content: Look everything up.
  - role: assistant
    content:
{uses}
  - role: user
    content:
{results}
      - text: Summarise.
        cache_control: {{type: ephemeral}}
""")
    a = analyze_text(path.read_text(), path, Config(root=tmp_path))
    assert len(a.request.breakpoints) == 2
    assert "cache-lookback-exceeded" not in {f.code for f in a.findings}


def test_variable_whose_testdata_rows_differ_before_a_breakpoint_is_a_warning() -> None:
    text = (FIXTURES / "per-call.prompt.yaml").read_text()
    r = report("per-call.prompt.yaml")
    [f] = [f for f in r.findings if f.code == "cache-prefix-varies"]
    assert f.span == key_span(text, 4)
    assert f.data == {"variables": ["customer"], "line": 3}
    assert "{{customer}}" in f.message and "2 testData rows have 2 different values" in f.message
    assert "line 3" in f.message
    # {{question}} comes after the breakpoint: not the problem
    assert "question" not in f.message
    assert r.caching is not None and not r.caching.breakpoints[0].stable and r.caching.read_tokens == 0


def test_variable_with_one_value_in_every_row_is_stable(tmp_path: Path) -> None:
    text = (FIXTURES / "per-call.prompt.yaml").read_text().replace("customer: Globex", "customer: Acme")
    path = write(tmp_path, text)
    a = analyze_text(text, path, Config(root=tmp_path))
    assert "cache-prefix-varies" not in {f.code for f in a.findings}


@pytest.mark.parametrize(("variables", "why"), [
    ("", "no testData row or `variables` gives it a value"),
    ("variables: {today: 2026-12-01}\n", "its name says it changes per call"),
])
def test_other_per_call_content_before_a_breakpoint(tmp_path: Path, variables: str, why: str) -> None:
    path = write(tmp_path, "model: claude-sonnet-4-6\nsystem:\n  - text: 'Today is {{today}}.'\n"
                           "    cache_control: {type: ephemeral}\nmessages:\n  - role: user\n    content: Hi\n"
                 + variables)
    a = analyze_text(path.read_text(), path, Config(root=tmp_path))
    [f] = [f for f in a.findings if f.code == "cache-prefix-varies"]
    assert why in f.message and f.span == key_span(path.read_text(), 3)


def test_invalid_marker_and_ttl_order_are_errors_and_the_bad_marker_is_not_sent() -> None:
    text = (FIXTURES / "ttl.prompt.yaml").read_text()
    a = analyze("ttl.prompt.yaml")
    by_code = {f.code: f for f in a.findings}
    assert by_code["cache-ttl-order"].span == key_span(text, 5)
    assert "1h breakpoint after a 5m one (line 4)" in by_code["cache-ttl-order"].message
    assert by_code["cache-control-invalid"].span == key_span(text, 7)
    assert "'10m'" in by_code["cache-control-invalid"].message
    assert [b.get("cache_control") for b in a.request.body["system"]] == [
        {"type": "ephemeral"}, {"type": "ephemeral", "ttl": "1h"}, None]


def test_request_level_breakpoint_lands_on_the_last_block_and_is_sent(tmp_path: Path) -> None:
    path = write(tmp_path, "model: claude-opus-5\ncache_control: {type: ephemeral, ttl: 1h}\nsystem: Be brief.\n"
                           "messages:\n  - role: user\n    content: Hello\n  - role: assistant\n    content:\n"
                           "      - {type: thinking, thinking: hmm, signature: s}\n")
    a = analyze_text(path.read_text(), path, Config(root=tmp_path))
    assert a.request.body["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    [bp] = a.request.breakpoints
    assert bp.automatic and bp.ttl == "1h" and bp.span == key_span(path.read_text(), 1)
    assert a.request.positions[bp.position].part_id == "messages[0]"  # walks back past the thinking block


# ---------------------------------------------------------------------------------------------------
# cost math, by hand


def _bp(prefix: int, ttl: str, *, caches: bool = True, stable: bool = True) -> BreakpointReport:
    return BreakpointReport(Span.at(0), ttl, False, "system", "system", prefix, True, caches, stable)


SONNET = catalog.resolve("claude-sonnet-4-6")  # $3 input, $3.75 5m write, $6 1h write, $0.30 read


def test_cost_5m_by_hand() -> None:
    c = caching.cost([_bp(10_000, "5m")], 12_000, SONNET)
    # first: 10,000 × 3.75 + 2,000 × 3 = 43,500 µ$; cached: 10,000 × 0.30 + 2,000 × 3 = 9,000; none: 36,000
    assert c.first_call_usd == pytest.approx(0.0435)
    assert c.cached_call_usd == pytest.approx(0.009)
    assert c.uncached_usd == pytest.approx(0.036)
    assert (c.write_5m_tokens, c.write_1h_tokens, c.read_tokens) == (10_000, 0, 10_000)
    # 0.0435 + 0.009 = 0.0525 ≤ 2 × 0.036 = 0.072; one call alone costs more than 0.036
    assert c.break_even_calls == 2


def test_cost_1h_by_hand() -> None:
    c = caching.cost([_bp(10_000, "1h")], 12_000, SONNET)
    # first: 10,000 × 6 + 2,000 × 3 = 66,000 µ$; two calls 75,000 > 72,000; three 84,000 ≤ 108,000
    assert c.first_call_usd == pytest.approx(0.066)
    assert c.cached_call_usd == pytest.approx(0.009)
    assert c.break_even_calls == 3


def test_multipliers_match_the_published_ones_and_the_models_own_read_rate() -> None:
    assert SONNET.price_cache_write_5m == 1.25 * SONNET.price_input
    assert SONNET.price_cache_write_1h == 2 * SONNET.price_input
    assert SONNET.price_cache_read == pytest.approx(0.1 * SONNET.price_input)
    opus = catalog.resolve("claude-opus-5-5")  # read 0.05×: $0.20 against $4
    c = caching.cost([_bp(10_000, "5m")], 12_000, opus)
    assert c.cached_call_usd == pytest.approx((10_000 * 0.20 + 2_000 * 4) / 1e6)
    assert c.first_call_usd == pytest.approx((10_000 * 5 + 2_000 * 4) / 1e6)


def test_mixed_ttls_bill_each_segment_at_its_own_rate_and_unstable_tails_are_rewritten() -> None:
    c = caching.cost([_bp(4_000, "1h"), _bp(10_000, "5m", stable=False)], 12_000, SONNET)
    assert (c.write_1h_tokens, c.write_5m_tokens, c.read_tokens) == (4_000, 6_000, 4_000)
    assert c.first_call_usd == pytest.approx((4_000 * 6 + 6_000 * 3.75 + 2_000 * 3) / 1e6)
    assert c.cached_call_usd == pytest.approx((4_000 * 0.30 + 6_000 * 3.75 + 2_000 * 3) / 1e6)


def test_a_breakpoint_below_the_minimum_adds_its_tokens_to_the_next_one() -> None:
    c = caching.cost([_bp(900, "5m", caches=False), _bp(10_000, "5m")], 12_000, SONNET)
    assert c.write_5m_tokens == 10_000 and c.read_tokens == 10_000


def test_report_prices_the_file_and_the_json_carries_it(tmp_path: Path) -> None:
    body = " ".join(f"Rule {i}: cite handbook section {i}." for i in range(500))
    path = write(tmp_path, f"model: claude-sonnet-4-6\nsystem:\n  - text: '{body}'\n"
                           "    cache_control: {type: ephemeral}\nmessages:\n  - role: user\n    content: Hi\n")
    r = analyze_file(path, Config(root=tmp_path))
    c = r.caching
    assert c is not None and c.breakpoints[0].caches and c.breakpoints[0].prefix_tokens > 2048
    prefix = c.breakpoints[0].prefix_tokens
    assert c.first_call_usd == pytest.approx((prefix * 3.75 + (r.total - prefix) * 3) / 1e6)
    assert c.cached_call_usd == pytest.approx((prefix * 0.30 + (r.total - prefix) * 3) / 1e6)
    from promptls.render.jsonreport import file_json

    data = file_json(r)["caching"]
    assert data["break_even_calls"] == 2 and data["write_5m_tokens"] == prefix
    assert data["breakpoints"][0]["range"]["start"] == {"line": 3, "col": 4}


# ---------------------------------------------------------------------------------------------------
# model comparison


def test_comparison_counts_each_model_with_its_own_tokenizer() -> None:
    a = analyze("per-call.prompt.yaml")
    models, unknown = compare.parse_models(["claude-sonnet-4-6", "claude-opus-4-8", "gpt-4o"])
    assert unknown == ["gpt-4o"]
    v3, v48 = compare.compare_offline(a.request, models)
    assert (v3.tokenizer, v48.tokenizer) == ("3.0", "4.8")
    assert v3.total != v48.total  # same text, two vocabularies
    assert v3.total == estimate_counts(a, Config(root=FIXTURES)).total  # the file's own model: same number
    assert v48.total == estimate(a.request, models[1]).total
    assert v48.cost_usd == pytest.approx(v48.total * 5 / 1e6)


async def test_exact_comparison_asks_count_tokens_once_per_model(fake_api: FakeAnthropic, tmp_path: Path) -> None:
    a = analyze("per-call.prompt.yaml")
    counter = make_counter(settings_from_env("api"), CountCache(tmp_path / FILE_NAME))
    assert counter is not None
    models, _ = compare.parse_models(["claude-sonnet-4-6", "claude-opus-4-8"])
    try:
        rows = await compare.compare_exact(a.request, models, counter)
    finally:
        await counter.aclose()
    assert [b["model"] for b in fake_api.bodies] == ["claude-sonnet-4-6", "claude-opus-4-8"]
    assert all(r.exact for r in rows)


async def test_the_request_level_marker_reaches_count_tokens(fake_api: FakeAnthropic, tmp_path: Path) -> None:
    path = write(tmp_path, "model: claude-sonnet-4-6\ncache_control: {type: ephemeral}\nmessages:\n"
                           "  - role: user\n    content: Hello there\n")
    a = analyze_text(path.read_text(), path, Config(root=tmp_path))
    counter = make_counter(settings_from_env("api"), CountCache(tmp_path / FILE_NAME))
    try:
        counts = await exact_counts(a, counter)
    finally:
        await counter.aclose()
    assert counts is not None and counts.exact and counts.error is None
    assert fake_api.bodies[0]["cache_control"] == {"type": "ephemeral"}


# ---------------------------------------------------------------------------------------------------
# the command line


def test_count_shows_the_cache_column_summary_and_comparison(tmp_path: Path) -> None:
    from tests.test_cli import run

    body = " ".join(f"Rule {i}: cite handbook section {i}." for i in range(500))
    write(tmp_path, f"model: claude-sonnet-4-6\nsystem:\n  - text: '{body}'\n"
                    "    cache_control: {type: ephemeral}\nmessages:\n  - role: user\n    content: Hi\n")
    out = run("count", "--mode", "offline", "--compare-models", "claude-sonnet-4-6,claude-opus-4-8", "p.prompt.yaml",
              cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    header = next(line for line in out.stdout.splitlines() if "part" in line and "tokens" in line)
    assert header.rstrip().endswith("cache")
    assert "5m ✓" in out.stdout and "caching: first call $" in out.stdout and "pays off from call 2" in out.stdout
    assert "claude-opus-4-8" in out.stdout and "tokenizer 4.8" in out.stdout and "tokenizer 3.0" in out.stdout

    data = json.loads(run("count", "--mode", "offline", "--format", "json", "--compare-models",
                          "claude-sonnet-4-6,claude-opus-4-8", "p.prompt.yaml", cwd=tmp_path).stdout)
    f = data["files"][0]
    assert f["caching"]["break_even_calls"] == 2
    v3, v48 = f["comparison"]
    assert v3["total"] == f["total"] and v48["tokenizer"] == "4.8" and v48["total"] != v3["total"]

    bad = run("count", "--compare-models", "gpt-4o", "p.prompt.yaml", cwd=tmp_path)
    assert bad.returncode == 2 and "`gpt-4o` is not a Claude model" in bad.stderr and "Traceback" not in bad.stderr


def test_files_without_breakpoints_stay_quiet(tmp_path: Path) -> None:
    path = write(tmp_path, "model: claude-sonnet-4-6\nmessages:\n  - role: user\n    content: '{{q}}'\n")
    r = analyze_file(path, Config(root=tmp_path))
    assert r.caching is None and not [f for f in r.findings if f.code.startswith("cache-")]
    from promptls.render.table import file_table

    assert "cache" not in file_table(r, "p.prompt.yaml")


async def test_with_exact_counts_the_prefix_is_exact(fake_api: FakeAnthropic, tmp_path: Path) -> None:
    from promptls.engine import make_report

    a = analyze("too-short.prompt.yaml")
    counter = make_counter(settings_from_env("api"), CountCache(tmp_path / FILE_NAME))
    try:
        counts = await exact_counts(a, counter)
    finally:
        await counter.aclose()
    assert counts is not None and counts.exact
    r = make_report(a, counts, Config(root=FIXTURES))
    [f] = [f for f in r.findings if f.code == "cache-prefix-too-short"]
    system = counts.parts["system"].tokens
    overhead = counts.total - sum(counts.parts[p.id].tokens for p in a.request.top_parts)
    assert f.data["exact"] is True and f.data["prefix_tokens"] == system + overhead
    assert f"is {system + overhead:,} tokens" in f.message and "≈" not in f.message


def test_compare_models_setting_picks_the_hover_models(tmp_path: Path) -> None:
    assert [m.id for m in compare.models_for(Config(root=tmp_path))] == list(compare.DEFAULT_MODELS)
    (tmp_path / "promptls.toml").write_text('compare_models = ["claude-haiku-4-5", "claude-opus-5"]\n')
    config, problems = load_config(tmp_path)
    assert problems == []
    assert [m.id for m in compare.models_for(config)] == ["claude-haiku-4-5-20251001", "claude-opus-5"]
    editor = config.with_editor_settings({"compareModels": ["claude-sonnet-5"]})
    assert [m.id for m in compare.models_for(editor)] == ["claude-sonnet-5"]
