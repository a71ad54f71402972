"""Images and PDFs in the estimate: pixel size by the 28-px patch rule, PDF pages as images plus their text.

Attachments come measured (`measure.py`); inline base64 data is decoded here only as far as needed
(an image's header, a PDF up to a bound) and memoised, since the LSP re-estimates on every keystroke.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
from collections.abc import Mapping
from typing import Any

from ..catalog import ModelInfo
from ..model import Attachment
from . import framing
from .texttokens import LRU, Est, text_tokens

_HEADER_B64_CHARS = 65_536
_MAX_DECODE_B64_CHARS = 48 * 1024 * 1024

SIZE_CACHE = LRU(4_096)
PDF_CACHE = LRU(256)


def b64_prefix_size(data: str) -> tuple[int, int] | None:
    """Pixel size from base64 image data, decoding only the header when it can. Keyed by the
    prefix: the size is read from it."""
    head = data[:_HEADER_B64_CHARS]
    key = (len(data), hashlib.blake2b(head.encode("ascii", "replace"), digest_size=16).digest())
    hit = SIZE_CACHE.get(key)
    if hit is not None:
        return hit or None
    from PIL import Image

    size: tuple[int, int] | None = None
    candidates = [head[: len(head) // 4 * 4]]
    if len(data) > len(head) and len(data) <= _MAX_DECODE_B64_CHARS:
        candidates.append(data)
    for chunk in candidates:
        try:
            with Image.open(io.BytesIO(base64.b64decode(chunk))) as img:
                size = img.size
            break
        except (binascii.Error, ValueError, OSError, Image.DecompressionBombError):
            continue
    SIZE_CACHE.put(key, size or ())
    return size


def image_size(block: Mapping[str, Any], att: Attachment | None) -> tuple[int, int] | None:
    if att is not None and att.width and att.height:
        return att.width, att.height
    source = block.get("source")
    if isinstance(source, Mapping) and source.get("type") == "base64" and isinstance(source.get("data"), str):
        return b64_prefix_size(source["data"])
    return None


def est_image(block: Mapping[str, Any], info: ModelInfo, att: Attachment | None) -> Est:
    from .. import vision

    size = image_size(block, att)
    if size is None:
        return Est(fixed=vision.TIERS[info.image_tier].max_tokens + framing.IMAGE_FRAME)
    return Est(fixed=vision.image_tokens(size[0], size[1], info.image_tier)[0] + framing.IMAGE_FRAME)


def pdf_facts(data: str) -> tuple[int | None, str]:
    """(pages, extracted text) of base64 PDF data written inline (attachments come measured)."""
    key = hashlib.blake2b(data.encode("ascii", "replace"), digest_size=16).digest()
    hit = PDF_CACHE.get(key)
    if hit is not None:
        return hit
    facts: tuple[int | None, str] = (None, "")
    if len(data) <= _MAX_DECODE_B64_CHARS:
        try:
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(base64.b64decode(data)))
            texts = (page.extract_text() or "" for page in reader.pages)
            facts = (len(reader.pages), "\n".join(t for t in texts if t.strip()))
        except Exception:  # pypdf raises many types on damaged input; an estimate must not fail
            facts = (None, "")
    PDF_CACHE.put(key, facts)
    return facts


def est_pdf(pages: int | None, text: str, info: ModelInfo) -> Est:
    if not pages:
        pages = framing.UNKNOWN_PDF_PAGES
        known_text = Est(fixed=pages * framing.PDF_TEXT_TOKENS_PER_PAGE) if not text else Est()
    else:
        known_text = Est()
    image = pages * framing.PDF_PAGE_IMAGE_TOKENS.get(info.image_tier, framing.PDF_PAGE_IMAGE_TOKENS["standard"])
    return Est(text=text_tokens(text, info.tokenizer), fixed=image) + known_text

