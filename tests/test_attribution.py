"""Per-part attribution: minimal requests are valid under strict rules, parts + overhead = total,
and a one-part edit changes only one request besides the total."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from promptls.counting.attribution import (
    attribute,
    canonical,
    overhead,
    plan_request,
)
from tests.fakeapi import BadRequest, count_request, make_request, rough_estimate

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
PDF = base64.b64encode(b"%PDF-1.4\n1 0 obj\n").decode()
IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
URL_IMAGE = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
DOC = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PDF}}
WEATHER = {"name": "get_weather", "description": "Weather for a city.",
           "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
PRICE = {"name": "get_price", "description": "Latest price.",
         "input_schema": {"type": "object", "properties": {"ticker": {"type": "string"}}}}
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search"}


def conversation(question: str = "What is the weather in Paris?") -> Any:
    return copy.deepcopy(make_request(
        system="You are terse.",
        attachments=(IMAGE,),
        messages=[
            {"role": "user", "content": question},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C, clear"},
                {"type": "text", "text": "And tomorrow?"}]},
            {"role": "assistant", "content": "Probably similar."},
            {"role": "user", "content": [{"type": "text", "text": "Summarise the report."}, DOC]},
        ],
        tools=[WEATHER, PRICE],
        tool_choice={"type": "auto"},
    ))


def strict(body: dict[str, Any]) -> int:
    return count_request(body, reject_prefill=True)


def test_every_body_is_valid_under_the_strictest_rules() -> None:
    request = conversation()
    plan = plan_request(request)
    for label, body in plan.bodies():
        try:
            strict(body)
        except BadRequest as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{label}: {exc}\n{canonical(body)}")


def test_parts_plus_overhead_equal_the_exact_total_and_every_part_is_exact() -> None:
    request = conversation()
    plan = plan_request(request)
    parts, missing = attribute(plan, request, rough_estimate(request), strict)
    total = strict(plan.total)
    extra, clamped = overhead(total, parts, request)
    assert missing == []
    assert not clamped
    assert sum(parts[p.id].tokens for p in request.top_parts) + extra == total
    exact = {pid for pid, pc in parts.items() if pc.exact}
    assert exact == {p.id for p in request.parts} - {"tools[0]", "tools[1]"}


def test_a_message_is_the_sum_of_its_blocks_and_blocks_measure_their_content() -> None:
    request = conversation()
    plan = plan_request(request)
    parts, _ = attribute(plan, request, rough_estimate(request), strict)
    blocks = parts["messages[4].content[0]"].tokens + parts["messages[4].content[1]"].tokens
    assert parts["messages[4]"].tokens == blocks
    # The fake charges ceil(len/4) per text and a flat 1500 per PDF: attribution recovers exactly that.
    assert parts["messages[4].content[0]"].tokens == 6
    assert parts["messages[4].content[1]"].tokens == 1500
    assert parts["attachments[0]"].tokens == 750
    # String content has no block parts: the message is measured whole (attachment + 8 text tokens).
    assert parts["messages[0]"].tokens == 750 + 8


def test_single_tools_share_the_exact_group_and_are_marked_estimates() -> None:
    request = conversation()
    plan = plan_request(request)
    parts, _ = attribute(plan, request, rough_estimate(request), strict)
    assert parts["tools"].exact
    assert not parts["tools[0]"].exact and not parts["tools[1]"].exact
    shares = parts["tools[0]"].tokens + parts["tools[1]"].tokens
    assert abs(shares - parts["tools"].tokens) <= 0.02 * parts["tools"].tokens
    assert parts["tools[0]"].tokens > parts["tools[1]"].tokens  # WEATHER's JSON is longer than PRICE's


def changed_bodies(before: Any, after: Any) -> set[str]:
    old = {canonical(b) for _, b in plan_request(before).bodies()}
    return {canonical(b) for _, b in plan_request(after).bodies()} - old


@pytest.mark.parametrize("edit", ["message", "block", "system", "tool", "tool_result"])
def test_editing_one_part_needs_at_most_two_new_requests(edit: str) -> None:
    before = conversation()
    after = conversation()
    if edit == "message":
        after = conversation("What is the weather in Rome?")
    elif edit == "block":
        after.body["messages"][4]["content"][0]["text"] = "Summarise the report briefly."
    elif edit == "system":
        after.body["system"] = "You are verbose."
        after.part("system").fragment = after.body["system"]
    elif edit == "tool":
        after.body["tools"][1]["description"] = "Latest closing price."
    elif edit == "tool_result":
        after.body["messages"][2]["content"][0]["content"] = "21 C, cloudy"
    assert 1 <= len(changed_bodies(before, after)) <= 2
    assert len(changed_bodies(before, conversation())) == 0


def test_rejected_parts_are_never_sent_and_keep_their_estimate() -> None:
    request = make_request(messages=[{"role": "user", "content": [URL_IMAGE, {"type": "text", "text": "Describe."}]}],
                           tools=[WEATHER, WEB_SEARCH])
    plan = plan_request(request)
    sent = " ".join(canonical(b) for _, b in plan.bodies())
    assert "example.com" not in sent and "web_search" not in sent
    for _, body in plan.bodies():
        strict(body)
    estimate = rough_estimate(request)
    parts, _ = attribute(plan, request, estimate, strict)
    assert parts["messages[0].content[0]"] == estimate.parts["messages[0].content[0]"]
    assert parts["messages[0].content[1]"].exact
    assert not parts["messages[0]"].exact and not parts["tools"].exact
    assert parts["tools"].tokens > estimate.parts["tools[1]"].tokens
    assert any("messages[0].content[0]" in note and "tools[1]" in note for note in plan.notes)


def test_a_message_that_fails_alone_falls_back_to_its_estimate() -> None:
    request = make_request(messages=[{"role": "user", "content": "hi"},
                                     {"role": "assistant", "content": [{"type": "text", "text": ""}]},
                                     {"role": "user", "content": "ok"}])

    def answer(body: dict[str, Any]) -> int | None:
        try:
            return strict(body)
        except BadRequest:
            return None

    plan = plan_request(request)
    estimate = rough_estimate(request)
    parts, missing = attribute(plan, request, estimate, answer)
    assert "messages[1].content[0]" in missing
    assert parts["messages[1]"].exact is False
    assert parts["messages[0]"].exact and parts["messages[2]"].exact
