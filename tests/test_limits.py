"""Request-wide API limits: the findings a user sees before the API would refuse the request."""

from __future__ import annotations

import base64
import io
import json
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from promptls.limits import MiB, _scan, request_limit_findings
from promptls.model import Attachment, CountRequest, Finding, Part, Severity, Span

FILE = Span.at(0, 0, 0, 5)
SMALL = SimpleNamespace(id="claude-haiku-4-5", context_window=200_000)
LARGE = SimpleNamespace(id="claude-sonnet-4-6", context_window=1_000_000)


class Builder:
    """A request shaped like request.py builds it: block dicts shared between body and parts."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.parts: list[Part] = []
        self.message = Part("messages[0]", "message", "user #1", Span.at(3), None, role="user")

    def add(self, block: dict[str, Any], attachment: Attachment | None = None) -> Part:
        j = len(self.blocks)
        part = Part(f"messages[0].content[{j}]", "block", block["type"], Span.at(10 + j, 6, 10 + j, 30),
                    block, parent="messages[0]", attachment=attachment)
        self.blocks.append(block)
        self.parts.append(part)
        return part

    def image(self, width: int, height: int) -> Part:
        att = Attachment(ref="x.png", resolved=None, kind="image", media_type="image/png", size=100,
                         width=width, height=height)
        block = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}}
        return self.add(block, att)

    def pdf(self, pages: int) -> Part:
        att = Attachment(ref="f.pdf", resolved=None, kind="pdf", media_type="application/pdf", size=100,
                         pages=pages)
        block = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                                "data": "JVBE"}}
        return self.add(block, att)

    def request(self) -> CountRequest:
        message = {"role": "user", "content": self.blocks}
        self.message.fragment = message
        body = {"model": "m", "messages": [message]}
        return CountRequest("m", body, [self.message, *self.parts])


def png_b64(width: int, height: int) -> str:
    buf = io.BytesIO()
    Image.new("L", (width, height), 0).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def raw_image(data: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def by_code(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def test_small_request_has_no_findings() -> None:
    b = Builder()
    b.image(1092, 1092)
    b.pdf(3)
    b.add({"type": "text", "text": "Compare them."})
    assert request_limit_findings(b.request(), LARGE, FILE) == []


@pytest.mark.parametrize(("info", "count", "flagged"), [
    (SMALL, 100, False), (SMALL, 101, True), (LARGE, 101, False), (LARGE, 600, False), (LARGE, 601, True),
])
def test_image_count_limit_depends_on_the_window(info: Any, count: int, flagged: bool) -> None:
    b = Builder()
    parts = [b.image(100, 100) for _ in range(count)]
    found = by_code(request_limit_findings(b.request(), info, FILE), "too-many-images")
    if not flagged:
        assert found == []
        return
    (f,) = found
    assert f.severity == Severity.ERROR and not f.blocking
    assert f.span == parts[100 if info is SMALL else 600].span  # the first image over the limit
    assert f.data == {"images": count, "limit": 100 if info is SMALL else 600}


def test_more_than_20_images_flags_each_image_over_2000_px() -> None:
    b = Builder()
    parts = [b.image(800, 600) for _ in range(19)]
    big = b.image(2500, 1000)
    tall = b.image(1000, 2001)
    ok = b.image(2000, 2000)
    found = by_code(request_limit_findings(b.request(), LARGE, FILE), "image-too-large-for-many")
    assert [f.span for f in found] == [big.span, tall.span]
    assert all(f.severity == Severity.WARNING for f in found)
    assert "2500×1000" in found[0].message
    assert ok.span not in [f.span for f in found] and len(parts) == 19


def test_twenty_images_may_be_large() -> None:
    b = Builder()
    for _ in range(19):
        b.image(100, 100)
    b.image(4000, 3000)
    assert request_limit_findings(b.request(), LARGE, FILE) == []


def test_raw_base64_image_blocks_are_counted_and_measured() -> None:
    b = Builder()
    for _ in range(20):
        b.image(100, 100)
    raw = b.add(raw_image(png_b64(2100, 10)))
    found = by_code(request_limit_findings(b.request(), LARGE, FILE), "image-too-large-for-many")
    assert [(f.span, f.data["width"]) for f in found] == [(raw.span, 2100)]


def test_images_inside_tool_results_count_toward_the_limit() -> None:
    b = Builder()
    for _ in range(100):
        b.image(10, 10)
    result = b.add({"type": "tool_result", "tool_use_id": "t1",
                    "content": [raw_image(png_b64(10, 10)), {"type": "text", "text": "chart"}]})
    (f,) = by_code(request_limit_findings(b.request(), SMALL, FILE), "too-many-images")
    assert f.span == result.span and f.data["images"] == 101


def test_pdf_pages_over_the_limit_point_at_the_pdf_that_crosses_it() -> None:
    b = Builder()
    b.pdf(60)
    second = b.pdf(50)
    (f,) = request_limit_findings(b.request(), SMALL, FILE)
    assert (f.code, f.span, f.data) == ("pdf-too-many-pages", second.span, {"pages": 110, "limit": 100})
    assert request_limit_findings(b.request(), LARGE, FILE) == []


def test_pdf_pages_limit_for_large_windows() -> None:
    b = Builder()
    b.pdf(400)
    b.pdf(201)
    (f,) = request_limit_findings(b.request(), LARGE, FILE)
    assert f.code == "pdf-too-many-pages" and f.data["limit"] == 600


def test_request_over_32_mb_is_an_error_on_the_file() -> None:
    b = Builder()
    b.add(raw_image("A" * (33 * MiB)))
    (f,) = request_limit_findings(b.request(), LARGE, FILE)
    assert (f.code, f.severity, f.span) == ("request-too-large", Severity.ERROR, FILE)
    assert f.data["bytes"] > 33 * MiB and "33.0 MB" in f.message


def test_request_just_under_32_mb_passes() -> None:
    b = Builder()
    b.add(raw_image("A" * (31 * MiB)))
    b.add({"type": "text", "text": "é" * 1000})
    assert by_code(request_limit_findings(b.request(), LARGE, FILE), "request-too-large") == []


def test_size_estimate_tracks_the_serialised_body() -> None:
    b = Builder()
    b.image(10, 10)
    b.add({"type": "text", "text": "naïve café " * 500})
    b.add(raw_image(png_b64(300, 200)))
    request = b.request()
    actual = len(json.dumps(request.body, ensure_ascii=False).encode("utf-8"))
    _, _, estimate = _scan(request)
    assert abs(estimate - actual) <= actual * 0.05


def test_works_with_the_real_catalog() -> None:
    catalog = pytest.importorskip("promptls.catalog")
    info = catalog.resolve("claude-haiku-4-5")
    if info is None or info.context_window > 200_000:
        pytest.skip("catalog has no 200k Haiku 4.5 row")
    b = Builder()
    for _ in range(101):
        b.image(10, 10)
    assert [f.code for f in request_limit_findings(b.request(), info, FILE)] == ["too-many-images"]
