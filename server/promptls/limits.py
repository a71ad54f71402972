"""The Messages/count_tokens API's documented request-wide limits, checked before anything is sent.

A request over these limits is rejected by the API as a whole, so the user should hear about it in
the editor rather than from a 400/413. The findings are ERROR (or WARNING where the API only tightens
a rule) but not blocking: the prompt file itself is valid; the request it describes is not.
Sizes are taken as binary megabytes (MiB), the lenient reading of the docs' "32 MB" / "10 MB".

Sources (shared/reference/anthropic-api.md §1): request 32 MB; images: 100 per request for models
with a 200k-token window, 600 otherwise, 8000 px per side, ≤ 2000 px per side once a request holds
more than 20 images, 10 MB of base64 per image; PDFs: 100 pages per request for 200k-window models,
600 otherwise.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from .model import CountRequest, Finding, Part, Severity, Span

MiB = 1024 * 1024
MAX_REQUEST_BYTES = 32 * MiB
MAX_IMAGE_BASE64_BYTES = 10 * MiB
MAX_IMAGE_EDGE = 8000
MANY_IMAGES = 20  # above this many images per request ...
MANY_IMAGES_MAX_EDGE = 2000  # ... every image must stay within this on each side
SMALL_WINDOW = 200_000  # models with a window this size or smaller get the lower count limits
MAX_IMAGES = {True: 100, False: 600}  # keyed by "small window"
MAX_PDF_PAGES = {True: 100, False: 600}


class ModelLimitsInfo(Protocol):
    """What this module needs from a catalog ModelInfo."""

    id: str
    context_window: int


def base64_size(n_bytes: int) -> int:
    """Length of the base64 text for `n_bytes` bytes (what the request actually carries)."""
    return 4 * math.ceil(n_bytes / 3)


@dataclass(slots=True)
class _Image:
    part: Part | None
    width: int | None
    height: int | None


@dataclass(slots=True)
class _Pdf:
    part: Part | None
    pages: int


def request_limit_findings(request: CountRequest, info: Any, file_span: Span) -> list[Finding]:
    """Findings for every documented request-wide limit the request breaks.

    `info` is duck-typed (`.context_window`, `.id`); `file_span` anchors findings that belong to the
    whole request. Images are found wherever the API would see them (message content, tool results,
    attachments prepended by request.py), each anchored to the innermost part that holds it.
    """
    window = getattr(info, "context_window", None)
    small = window is None or window <= SMALL_WINDOW
    model = getattr(info, "id", request.model)
    images, pdfs, size = _scan(request)
    findings: list[Finding] = []

    if size > MAX_REQUEST_BYTES:
        findings.append(Finding(
            "request-too-large",
            f"the request is about {size / MiB:.1f} MB of JSON; the API refuses requests over "
            f"{MAX_REQUEST_BYTES // MiB} MB (send large files through the Files API instead)",
            Severity.ERROR, file_span, data={"bytes": size, "limit": MAX_REQUEST_BYTES}))

    max_images = MAX_IMAGES[small]
    if len(images) > max_images:
        first_over = images[max_images].part
        findings.append(Finding(
            "too-many-images",
            f"{len(images)} images in one request; {model} accepts at most {max_images}",
            Severity.ERROR, first_over.span if first_over else file_span,
            data={"images": len(images), "limit": max_images}))

    if len(images) > MANY_IMAGES:
        for img in images:
            if img.width is None or img.height is None:
                continue
            if max(img.width, img.height) > MANY_IMAGES_MAX_EDGE:
                findings.append(Finding(
                    "image-too-large-for-many",
                    f"{img.width}×{img.height} px: with more than {MANY_IMAGES} images in a request the "
                    f"API accepts at most {MANY_IMAGES_MAX_EDGE} px per side",
                    Severity.WARNING, img.part.span if img.part else file_span,
                    data={"width": img.width, "height": img.height, "limit": MANY_IMAGES_MAX_EDGE}))

    max_pages = MAX_PDF_PAGES[small]
    total_pages = 0
    for pdf in pdfs:
        total_pages += pdf.pages
        if total_pages > max_pages:
            findings.append(Finding(
                "pdf-too-many-pages",
                f"the request's PDFs have {sum(p.pages for p in pdfs)} pages in all; {model} accepts at "
                f"most {max_pages} per request",
                Severity.ERROR, pdf.part.span if pdf.part else file_span,
                data={"pages": sum(p.pages for p in pdfs), "limit": max_pages}))
            break
    return findings


def _scan(request: CountRequest) -> tuple[list[_Image], list[_Pdf], int]:
    """Images and PDFs in request order, and the estimated size of the request body in bytes.

    Every JSON node is visited once, in document order, with the innermost part that holds it.
    Strings count their UTF-8 length plus quotes (escaping is ignored); containers count their
    brackets, separators and keys. Good to a few percent, and without serialising megabytes of
    base64 on every keystroke. An explicit stack, not nested generators: this runs on every edit,
    and a generator per node cost ~15 % of the engine's work on a 200-message file.
    """
    owners = {id(p.fragment): p for p in request.parts if isinstance(p.fragment, dict)}
    images: list[_Image] = []
    pdfs: list[_Pdf] = []
    size = 0
    stack: list[tuple[Any, Part | None]] = [(request.body, None)]
    while stack:
        node, owner = stack.pop()
        if isinstance(node, str):
            size += 2 + (len(node) if node.isascii() else len(node.encode("utf-8", "replace")))
        elif isinstance(node, dict):
            owner = owners.get(id(node), owner)
            size += 2 + sum(len(str(k)) + 4 for k in node)
            kind = node.get("type")
            att = owner.attachment if owner is not None and owner.fragment is node else None
            if kind == "image":
                if att is not None and att.kind == "image":
                    images.append(_Image(owner, att.width, att.height))
                else:
                    images.append(_Image(owner, *_raw_image_size(node.get("source"))))
            elif kind == "document" and att is not None and att.kind == "pdf" and att.pages:
                pdfs.append(_Pdf(owner, att.pages))
            stack.extend([(value, owner) for value in reversed(node.values())])
        elif isinstance(node, list):
            size += 2 + len(node)
            stack.extend([(value, owner) for value in reversed(node)])
        else:
            size += len(str(node))
    return images, pdfs, size


def _raw_image_size(source: Any) -> tuple[int | None, int | None]:
    """Pixel size of an inline base64 image block, from its header; None when unknown (url/file)."""
    if not isinstance(source, dict) or source.get("type") != "base64":
        return None, None
    data = source.get("data")
    if not isinstance(data, str) or not data:
        return None, None
    return _base64_image_size(data)


@lru_cache(maxsize=64)
def _base64_image_size(data: str) -> tuple[int | None, int | None]:
    """Decode only a prefix first: PNG, GIF and WebP keep their size in the first bytes; a JPEG's
    frame header may follow large metadata, so fall back to the whole image."""
    from PIL import Image  # only for inline base64 images

    for chunk in (data[:87_384], data):  # 64 KiB of image bytes, then all of it
        try:
            raw = base64.b64decode(chunk[: len(chunk) - len(chunk) % 4], validate=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(raw)) as im:
                    return im.size
        except (binascii.Error, OSError, ValueError, Image.DecompressionBombError):
            if len(chunk) == len(data):
                break
    return None, None
