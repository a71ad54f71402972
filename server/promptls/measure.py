"""What attachment bytes are and what the API will make of them: sniffing, image size, PDF text, text.

The bytes decide, not the file name: they are sniffed (PNG, JPEG, GIF, WebP, PDF, else text) and
measured with the work bounded (image headers only, PDF extraction bounded in pages, characters and
time), because the repository is input and a hostile file must cost a finding, not a stall.
Findings are anchored at the file start; the loader moves them to the caller's span.
"""

from __future__ import annotations

import hashlib
import io
import time
import warnings

from .limits import MAX_IMAGE_BASE64_BYTES, MAX_IMAGE_EDGE, MiB, base64_size
from .model import FILE_START, Attachment, Finding, Severity

IMAGE_TYPES = {  # media type -> Pillow format name
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
PDF_TYPE = "application/pdf"
TEXT_TYPE = "text/plain"

EXTENSION_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": PDF_TYPE,
}
TEXT_EXTENSIONS = frozenset({
    ".txt", ".text", ".md", ".markdown", ".rst", ".adoc", ".csv", ".tsv", ".json", ".jsonl", ".ndjson",
    ".yaml", ".yml", ".toml", ".ini", ".xml", ".html", ".htm", ".log", ".tex", ".py", ".js", ".ts",
    ".java", ".go", ".rs", ".c", ".h", ".cpp", ".rb", ".sh", ".sql",
})

PDF_MAX_PAGES_EXTRACTED = 600  # the API's own page ceiling: text past it is never sent
PDF_MAX_CHARS = 8_000_000
PDF_EXTRACT_SECONDS = 10.0  # checked between pages
PDF_MAX_PAGE_CONTENT = 1 * MiB  # decoded content stream of one page; real text pages use ~10-200 KB


def measure_bytes(data: bytes) -> Attachment:
    """Sniff and measure bytes that did not come from a file (e.g. inline base64 blocks), with the
    same bounds as files. Findings are anchored at the file start; `ref` is empty."""
    att = Attachment(ref="", resolved=None, kind=None, media_type=None, size=len(data),
                     sha256=hashlib.sha256(data).hexdigest(), data=data)
    _measure(att, data)
    return att


def sniff(data: bytes) -> str | None:
    """The media type the bytes really are (PNG, JPEG, GIF, WebP, PDF); None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return PDF_TYPE
    return None


def _measure(att: Attachment, data: bytes) -> None:
    media = sniff(data)
    if media in IMAGE_TYPES:
        att.kind, att.media_type = "image", media
        _measure_image(att, data, media)
    elif media == PDF_TYPE:
        att.kind, att.media_type = "pdf", media
        _measure_pdf(att, data)
    else:
        _measure_text(att, data)


def _measure_image(att: Attachment, data: bytes, media: str) -> None:
    """Size from the header only: Pillow's open is lazy and never decodes pixels here."""
    from PIL import Image  # ~10 ms to import: only when an image is read

    name = IMAGE_TYPES[media].lower()
    animated = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[IMAGE_TYPES[media]]) as im:
                att.width, att.height = im.size
                animated = bool(getattr(im, "is_animated", False))
    except Image.DecompressionBombError:
        att.findings.append(_finding(
            "image-too-large", f"the {name} has over {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels; the API "
            f"accepts at most {MAX_IMAGE_EDGE}×{MAX_IMAGE_EDGE}", Severity.ERROR))
        return
    except Exception as exc:  # any parser failure on hostile bytes is a finding, not a crash
        att.findings.append(_finding("image-unreadable", f"not a readable {name}: {_reason(exc)}",
                                     Severity.ERROR, blocking=True))
        return
    if max(att.width, att.height) > MAX_IMAGE_EDGE:
        att.findings.append(_finding(
            "image-too-large", f"{att.width}×{att.height} px: the API refuses images over "
            f"{MAX_IMAGE_EDGE} px on a side", Severity.ERROR,
            data={"width": att.width, "height": att.height, "limit": MAX_IMAGE_EDGE}))
    encoded = base64_size(len(data))
    if encoded > MAX_IMAGE_BASE64_BYTES:
        att.findings.append(_finding(
            "image-too-large-bytes", f"{encoded / MiB:.1f} MB once base64-encoded: the API refuses images "
            f"over {MAX_IMAGE_BASE64_BYTES // MiB} MB", Severity.ERROR,
            data={"base64_bytes": encoded, "limit": MAX_IMAGE_BASE64_BYTES}))
    if animated:
        att.findings.append(_finding("image-animated", "animated image: Claude sees the first frame only",
                                     Severity.INFO))


def _measure_pdf(att: Attachment, data: bytes) -> None:
    """Page count and text, with the extraction bounded in pages, characters and time."""
    try:
        from pypdf import PdfReader  # ~50 ms to import: only when a PDF is read

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            att.findings.append(_finding(
                "pdf-encrypted", "the PDF is encrypted or password-protected; the API accepts only "
                "standard, unencrypted PDFs", Severity.ERROR, blocking=True))
            return
        pages = len(reader.pages)
    except Exception as exc:  # pypdf raises many kinds of errors on hostile files
        att.findings.append(_finding("pdf-unreadable", f"not a readable PDF: {_reason(exc)}",
                                     Severity.ERROR, blocking=True))
        return
    att.pages = pages
    texts: list[str] = []
    chars = 0
    failed = 0
    deadline = time.monotonic() + PDF_EXTRACT_SECONDS
    done = 0
    for index in range(min(pages, PDF_MAX_PAGES_EXTRACTED)):
        if chars >= PDF_MAX_CHARS or time.monotonic() > deadline:
            break
        try:
            page = reader.pages[index]
            contents = page.get_contents()
            if contents is not None and len(contents.get_data()) > PDF_MAX_PAGE_CONTENT:
                failed += 1  # pypdf parses content at ~0.5 MB/s: a hostile page would stall us
                text = ""
            else:
                text = page.extract_text() or ""
        except Exception:  # one bad page must not hide the rest
            failed += 1
            text = ""
        texts.append(text)
        chars += len(text)
        done += 1
    att.text = "\n".join(texts)
    if done < pages or failed:
        att.findings.append(_finding(
            "pdf-text-partial",
            f"text read from {done - failed} of {pages} pages (the rest are too long, damaged or past "
            f"page {PDF_MAX_PAGES_EXTRACTED}); their text is not in the estimate",
            Severity.INFO, data={"pages_extracted": done - failed, "pages": pages}))


def _measure_text(att: Attachment, data: bytes) -> None:
    """Plain text if it looks like text: UTF-8 (a BOM is fine), no NULs, few decoding errors."""
    if b"\x00" in data:
        att.findings.append(_unsupported(data))
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8-sig", errors="replace")
        bad = text.count("\ufffd")
        if bad > max(8, len(text) // 20):
            att.findings.append(_unsupported(data))
            return
        att.findings.append(_finding(
            "attachment-not-utf8", f"not valid UTF-8 (first bad byte at offset {exc.start}); "
            f"{bad} character{'s' if bad != 1 else ''} replaced with U+FFFD", Severity.WARNING,
            data={"offset": exc.start, "replaced": bad}))
    att.kind, att.media_type, att.text = "text", TEXT_TYPE, text
    if not text.strip():
        att.findings.append(_finding("attachment-empty", "the file is empty: the API rejects empty text",
                                     Severity.WARNING))


def _unsupported(data: bytes) -> Finding:
    """Name what the binary file is when we can, so the fix is obvious (convert a TIFF, re-save as UTF-8)."""
    from PIL import Image

    what = "a binary file"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        what = "UTF-16/32 text (save it as UTF-8)"
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(data)) as im:
                    what = f"a {im.format} image (convert it to PNG or JPEG)"
        except Exception:  # not an image Pillow knows: stay generic
            pass
    return _finding("unsupported-media-type", f"{what}: attachments must be PNG, JPEG, GIF, WebP, PDF "
                    "or UTF-8 text", Severity.ERROR, blocking=True)



def _finding(code: str, message: str, severity: Severity, *, blocking: bool = False,
             data: dict | None = None) -> Finding:
    return Finding(code, message, severity, FILE_START, blocking=blocking, data=data or {})


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."

