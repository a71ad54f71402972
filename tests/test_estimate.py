"""The offline estimator against the published examples, and the behaviour users see in the numbers."""

from __future__ import annotations

import base64
import io
from typing import Any

import ctok
import pytest
from PIL import Image

from promptls import catalog
from promptls.catalog import ModelInfo
from promptls.counting import estimate as est_mod
from promptls.counting import framing, tokenizer
from promptls.counting.estimate import estimate, message_frame, text_tokens
from promptls.model import Attachment, CountRequest, Counts, Part, Span

AT = Span.at(0)

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}},
        "required": ["location"],
    },
}


def info(model_id: str) -> ModelInfo:
    found = catalog.resolve(model_id)
    assert found is not None
    return found


def request(body: dict[str, Any], attachments: dict[tuple[int, int], Attachment] | None = None) -> CountRequest:
    """Parts the way docs/ARCHITECTURE.md names them, sharing fragments with the body like request.py."""
    parts: list[Part] = []
    if "system" in body:
        parts.append(Part("system", "system", "system", AT, body["system"]))
    for i, message in enumerate(body.get("messages", [])):
        pid = f"messages[{i}]"
        parts.append(Part(pid, "message", message["role"], AT, message, role=message["role"]))
        if isinstance(message["content"], list):
            for j, block in enumerate(message["content"]):
                att = (attachments or {}).get((i, j))
                parts.append(Part(f"{pid}.content[{j}]", "attachment" if att else "block", block.get("type", "?"),
                                  AT, block, parent=pid, attachment=att))
    if body.get("tools"):
        parts.append(Part("tools", "tools", "tools", AT, body["tools"]))
        for i, tool in enumerate(body["tools"]):
            parts.append(Part(f"tools[{i}]", "tool", str(tool.get("name")), AT, tool, parent="tools"))
    if "thinking" in body:
        parts.append(Part("thinking", "thinking", "thinking", AT, body["thinking"]))
    return CountRequest(body.get("model", "x"), body, parts)


def overhead(counts: Counts, req: CountRequest) -> int:
    return counts.total - sum(counts.parts[p.id].tokens for p in req.top_parts)


def png_b64(width: int, height: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def image_block(data: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


# -- text and the published examples ------------------------------------------------------------


def test_text_tokens_are_content_only() -> None:
    assert {v: message_frame(v) for v in ("3.0", "4.7", "4.8")} == {"3.0": 7, "4.7": 11, "4.8": 6}
    assert text_tokens("Hello, Claude", "3.0") == ctok.token_count("Hello, Claude", "3.0") - 7 == 3
    assert text_tokens("You are a scientist", "3.0") == 4
    assert text_tokens("", "3.0") == 0


@pytest.mark.parametrize("model_id", ["claude-sonnet-4-6", "claude-3-5-sonnet-20241022", "claude-opus-4-6"])
def test_docs_basic_example_is_exact(model_id: str) -> None:
    req = request({"model": model_id, "system": "You are a scientist",
                   "messages": [{"role": "user", "content": "Hello, Claude"}]})
    counts = estimate(req, info(model_id))
    assert counts.total == 14
    assert counts.parts["system"].tokens == 4 and counts.parts["messages[0]"].tokens == 3
    assert overhead(counts, req) == 7
    assert not counts.exact and counts.source == "estimate"
    assert all(not pc.exact for pc in counts.parts.values())


def test_docs_tool_example_within_the_stated_gap() -> None:
    # 403 was published in the Claude 3.5 Sonnet (Oct) era, whose auto overhead was 346.
    req = request({"model": "claude-3-5-sonnet-20241022", "tools": [WEATHER_TOOL],
                   "messages": [{"role": "user", "content": "What's the weather like in San Francisco?"}]})
    counts = estimate(req, info("claude-3-5-sonnet-20241022"))
    assert counts.total - 403 == framing.TOOL_EXAMPLE_GAP
    assert 0 <= framing.TOOL_EXAMPLE_GAP <= 10
    assert counts.parts["tools"].tokens == counts.parts["tools[0]"].tokens + 346


def test_docs_thinking_example_which_the_constants_were_fitted_to() -> None:
    body = {"model": "claude-sonnet-4-6", "thinking": {"type": "enabled", "budget_tokens": 16000}, "messages": [
        {"role": "user", "content": "Are there an infinite number of prime numbers such that n mod 4 == 3?"},
        {"role": "assistant", "content": [
            {"type": "thinking",
             "thinking": "This is a nice number theory question. Let's think about it step by step...",
             "signature": "EuYBCkQYAiJAgCs1le6/Pol5Z4/JMomVOouGrWdhYNsH3ukzUECbB6iWrSQtsQuRHJID6lWV..."},
            {"type": "text", "text": "Yes, there are infinitely many prime numbers p such that p mod 4 = 3..."}]},
        {"role": "user", "content": "Can you write a formal proof?"}]}
    req = request(body)
    counts = estimate(req, info("claude-sonnet-4-6"))
    assert counts.total == 88
    assert counts.parts["thinking"].tokens == framing.THINKING_CONFIG_TOKENS
    assert counts.parts["messages[1].content[0]"].tokens == 0  # earlier-turn thinking is not counted


def test_thinking_in_the_current_assistant_turn_counts() -> None:
    thought = {"type": "thinking", "thinking": "Let me weigh both options carefully before answering.",
               "signature": "s"}
    messages = [{"role": "user", "content": "Pick one."}, {"role": "assistant", "content": [thought]}]
    counts = estimate(request({"messages": messages}), info("claude-sonnet-4-6"))
    assert counts.parts["messages[1].content[0]"].tokens == text_tokens(thought["thinking"], "3.0") > 0


# -- parts, overhead, tools ---------------------------------------------------------------------


def rich_body() -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-6",
        "system": [{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Cite sources."}],
        "messages": [
            {"role": "user", "content": [
                image_block(png_b64(300, 200)),
                {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Q3 notes."},
                 "title": "notes"},
                {"type": "text", "text": "Summarise."}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather",
                                               "input": {"location": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 °C"}]},
            {"role": "user", "content": "And tomorrow?"},
        ],
        "tools": [WEATHER_TOOL, {"name": "noop", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "auto"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
    }


@pytest.mark.parametrize("correction", [1.0, 1.37, 0.8])
def test_every_part_counted_and_top_parts_plus_overhead_is_total(correction: float) -> None:
    req = request(rich_body())
    counts = estimate(req, info("claude-sonnet-4-6"), correction)
    assert set(counts.parts) == {p.id for p in req.parts}
    assert overhead(counts, req) >= message_frame("3.0")
    assert sum(counts.parts[p.id].tokens for p in req.top_parts) + overhead(counts, req) == counts.total
    assert all(pc.tokens > 0 for pc in counts.parts.values())


def test_children_add_up_to_their_message() -> None:
    req = request(rich_body())
    counts = estimate(req, info("claude-sonnet-4-6"))
    children = sum(counts.parts[f"messages[0].content[{j}]"].tokens for j in range(3))
    assert counts.parts["messages[0]"].tokens == children  # the first message has no turn frame
    assert counts.parts["messages[1]"].tokens == counts.parts["messages[1].content[0]"].tokens + framing.TURN_FRAME
    assert counts.parts["messages[3]"].tokens == text_tokens("And tomorrow?", "3.0") + framing.MERGED_TURN_FRAME


def test_tool_choice_any_costs_the_published_difference() -> None:
    model = info("claude-sonnet-4-6")
    body = rich_body()
    auto = estimate(request(body), model)
    body["tool_choice"] = {"type": "any"}
    anyc = estimate(request(body), model)
    assert anyc.total - auto.total == 589 - 497
    assert anyc.parts["tools"].tokens - auto.parts["tools"].tokens == 92


def test_tool_choice_none_without_tools_costs_nothing() -> None:
    base = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    plain = estimate(request(base), info("claude-sonnet-4-6"))
    with_none = estimate(request({**base, "tool_choice": {"type": "none"}}), info("claude-sonnet-4-6"))
    assert with_none.total == plain.total


def test_newer_tokenizer_counts_the_same_text_differently() -> None:
    text = "Tokenizers differ between Claude generations: 'NASA' and naïve café prices like €3.50."
    body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    v3 = estimate(request(body), info("claude-opus-4-6")).parts["messages[0]"].tokens
    v48 = estimate(request(body), info("claude-opus-4-8")).parts["messages[0]"].tokens
    assert v3 == text_tokens(text, "3.0") and v48 == text_tokens(text, "4.8")
    assert v48 != v3


def test_correction_scales_text_but_not_images() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": [
        image_block(png_b64(56, 56)), {"type": "text", "text": "What colour is this square, exactly?"}]}]}
    req = request(body)
    plain = estimate(req, info("claude-sonnet-4-6"))
    doubled = estimate(req, info("claude-sonnet-4-6"), correction=2.0)
    assert doubled.parts["messages[0].content[0]"].tokens == plain.parts["messages[0].content[0]"].tokens == 4
    assert doubled.parts["messages[0].content[1]"].tokens == 2 * plain.parts["messages[0].content[1]"].tokens


# -- images and documents -----------------------------------------------------------------------


@pytest.mark.parametrize(("model_id", "size", "tokens"), [
    ("claude-sonnet-4-6", (1092, 1092), 1521),
    ("claude-sonnet-4-6", (1920, 1080), 1560),
    ("claude-opus-4-7", (1920, 1080), 2691),
    ("claude-opus-4-8", (3840, 2160), 4784),
])
def test_image_attachment_uses_the_models_tier(model_id: str, size: tuple[int, int], tokens: int) -> None:
    att = Attachment("chart.png", None, "image", "image/png", width=size[0], height=size[1])
    body = {"model": model_id, "messages": [{"role": "user", "content": [image_block("")]}]}
    counts = estimate(request(body, {(0, 0): att}), info(model_id))
    assert counts.parts["messages[0].content[0]"].tokens == tokens


def test_raw_base64_image_size_is_read_from_its_header() -> None:
    data = png_b64(1000, 1000)
    counts = estimate(request({"messages": [{"role": "user", "content": [image_block(data)]}]}),
                      info("claude-sonnet-4-6"))
    assert counts.parts["messages[0].content[0]"].tokens == 1296


def test_image_header_beyond_the_prefix_still_found() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (200, 200)).save(buf, "JPEG", exif=b"Exif\x00\x00" + bytes(60_000))  # SOF after 60 kB
    data = base64.b64encode(buf.getvalue()).decode()
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": data}}
    counts = estimate(request({"messages": [{"role": "user", "content": [block]}]}), info("claude-sonnet-4-6"))
    assert counts.parts["messages[0].content[0]"].tokens == 64


@pytest.mark.parametrize(("model_id", "tokens"), [("claude-sonnet-4-6", 1568), ("claude-opus-4-7", 4784)])
def test_image_of_unknown_size_costs_the_tier_budget(model_id: str, tokens: int) -> None:
    block = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    counts = estimate(request({"messages": [{"role": "user", "content": [block]}]}), info(model_id))
    assert counts.parts["messages[0].content[0]"].tokens == tokens


def test_pdf_attachment_costs_text_plus_a_page_image_per_page() -> None:
    text = "Revenue rose 12% on the quarter. " * 40
    block = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": ""}}
    model = info("claude-sonnet-4-6")

    def pdf_tokens(pages: int, tier_model: ModelInfo = model) -> int:
        att = Attachment("f.pdf", None, "pdf", "application/pdf", pages=pages, text=text)
        body = {"messages": [{"role": "user", "content": [block]}]}
        return estimate(request(body, {(0, 0): att}), tier_model).parts["messages[0].content[0]"].tokens

    assert pdf_tokens(2) == text_tokens(text, "3.0") + 2 * 1568 + framing.DOCUMENT_FRAME
    assert pdf_tokens(3) - pdf_tokens(2) == 1568
    assert pdf_tokens(3, info("claude-opus-4-6")) == pdf_tokens(3)
    assert pdf_tokens(1, info("claude-opus-4-7")) > pdf_tokens(1)  # high tier pages, v4.7 text


def test_inline_base64_pdf_is_measured() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(612, 792)
    buf = io.BytesIO()
    writer.write(buf)
    data = base64.b64encode(buf.getvalue()).decode()
    block = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": data}}
    counts = estimate(request({"messages": [{"role": "user", "content": [block]}]}), info("claude-sonnet-4-6"))
    assert counts.parts["messages[0].content[0]"].tokens == 3 * 1568 + framing.DOCUMENT_FRAME


def test_text_document_is_text_plus_wrapper() -> None:
    notes = "Meeting notes: ship the estimator, then calibrate against exact counts."
    att = Attachment("notes.md", None, "text", "text/plain", text=notes)
    block = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": notes}}
    counts = estimate(request({"messages": [{"role": "user", "content": [block]}]}, {(0, 0): att}),
                      info("claude-sonnet-4-6"))
    assert counts.parts["messages[0].content[0]"].tokens == text_tokens(notes, "3.0") + framing.DOCUMENT_FRAME


# -- robustness and speed -----------------------------------------------------------------------


def test_garbage_fragments_never_raise() -> None:
    body: dict[str, Any] = {
        "system": {"not": "a string"},
        "messages": [
            {"role": "user", "content": 5},
            {"role": "user", "content": [None, 7, "loose string",
                                         {"type": "image", "source": {"type": "base64", "data": "!!not base64!!"}},
                                         {"type": "image", "source": "nonsense"},
                                         {"type": "document", "source": {"type": "base64", "data": "JVBERi0="}},
                                         {"type": "tool_result", "content": [{"type": "text"}]},
                                         {"type": "mystery", "payload": {"a": [1, 2]}}]},
            "not a message",
        ],
        "tools": ["bad tool", {"type": "bash_20250124", "name": "bash"}, {"name": 3, "input_schema": None}],
        "tool_choice": "sideways",
        "thinking": "yes",
    }
    req = CountRequest("m", body, [Part("system", "system", "s", AT, body["system"]),
                                   Part("weird", "mystery", "w", AT, object())])
    counts = estimate(req, info("claude-sonnet-4-6"), correction=float("nan"))
    assert counts.total > 0 and counts.parts["system"].tokens > 0


def test_text_past_the_request_limit_is_sized_without_tokenizing(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any) -> int:
        raise AssertionError("tokenizer called on a text the API could never receive")

    monkeypatch.setattr(tokenizer, "content_tokens", boom)
    text = "lorem ipsum " * (framing.HUGE_TEXT_CHARS // 12 + 1)
    assert text_tokens(text, "3.0") == pytest.approx(len(text) / 3.5, abs=1)


def test_long_text_is_counted_whole_exactly_as_ctok_counts_it() -> None:
    """No chunking error: a 0.3 MB text (chunked counting was 17 tokens off here) matches ctok."""
    text = "\n".join(f"Line {i}: the quick brown fox jumps over the lazy dog {i * 7}." for i in range(5000))
    assert len(text) > 300_000
    for version, frame in (("3.0", 7), ("4.8", 6)):
        est_mod.clear_caches()
        assert text_tokens(text, version) == ctok.token_count(text, version) - frame


def test_one_edited_message_in_200_recounts_only_that_message(monkeypatch: pytest.MonkeyPatch) -> None:
    est_mod.clear_caches()
    calls: list[str] = []
    real = tokenizer.content_tokens

    def counting(text: str, version: str) -> int:
        calls.append(text)
        return real(text, version)

    monkeypatch.setattr(tokenizer, "content_tokens", counting)
    messages = [{"role": "user" if i % 2 == 0 else "assistant",
                 "content": f"Message {i}: please review section {i} of the design document carefully."}
                for i in range(200)]
    model = info("claude-sonnet-4-6")
    first = estimate(request({"messages": messages}), model)
    assert len(calls) == 200
    calls.clear()
    edited = [dict(m) for m in messages]
    edited[117]["content"] = "Message 117: rewritten by the user just now."
    second = estimate(request({"messages": edited}), model)
    assert calls == ["Message 117: rewritten by the user just now."]
    assert second.total != first.total
