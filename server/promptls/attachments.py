"""Load the files a prompt attaches: confine, sniff, measure, and say what the API will make of them.

Safety first: a cloned repository must not be able to make promptls read (and later upload)
`~/.ssh/id_rsa`. A local reference is resolved (symlinks included) and must land inside the project
root or an extra root the user allowed before the file is even stat-ed. It is then reached from that
root one component at a time with `dir_fd` and `O_NOFOLLOW | O_DIRECTORY`, so a folder swapped for a
link between the check and the open cannot lead outside; only regular files are opened (never a FIFO
or a device, which could block or never end), and never more than the API's request limit.

Path rules, decided here and documented in the README:
- relative paths are relative to the prompt file's folder; absolute paths are taken as written;
- a leading `~` is expanded to the home folder and then confined like any other path (so it is
  refused unless the home folder is an allowed root); `~user` that names no user stays literal;
- everything else is literal: no URL-decoding (`%2e%2e` is a file name), no Unicode normalisation
  (a lookalike dot is not a dot), backslashes are ordinary characters on POSIX.

Loads are cached by (resolved path, mtime, size, inode) so the language server can call this on
every keystroke; `clear_cache()` empties the cache.

Finding codes (all carry the caller's span): blocking ERROR `attachment-missing`,
`attachment-outside-root`, `attachment-unreadable`, `attachment-too-large`, `unsupported-media-type`,
`image-unreadable`, `pdf-unreadable`, `pdf-encrypted`; non-blocking ERROR `image-too-large` (over
8000 px per side) and `image-too-large-bytes` (over 10 MB of base64): the file is fine, the API will
refuse the request, and the image is still measured and counted; WARNING `attachment-type-mismatch`,
`attachment-not-utf8`, `attachment-empty`; INFO `attachment-url`, `image-animated`,
`pdf-text-partial`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import stat
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from .limits import MAX_IMAGE_BASE64_BYTES, MAX_IMAGE_EDGE, MAX_REQUEST_BYTES, MiB, base64_size
from .model import FILE_START, Attachment, Finding, Severity, Span

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

CACHE_MAX_ENTRIES = 64
CACHE_MAX_BYTES = 256 * MiB

_CacheKey = tuple[str, int, int, int]
_cache: OrderedDict[_CacheKey, Attachment] = OrderedDict()
_cache_bytes = 0
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached load (tests; a workspace reload)."""
    global _cache_bytes
    with _cache_lock:
        _cache.clear()
        _cache_bytes = 0


def load_attachment(ref: str, *, base_dir: Path, root: Path, allowed_roots: Sequence[Path] = (),
                    span: Span, keep_bytes: bool = True) -> Attachment:
    """Load what `ref` names (a path relative to `base_dir`, or an http(s) URL). Never raises.

    `data` holds the file's bytes only when `keep_bytes` is true (they are about to be sent);
    findings say what is wrong, each anchored at `span`.
    """
    if ref.lower().startswith(("http://", "https://")):
        return _url_attachment(ref, span)
    if not ref.strip():
        return _failed(ref, None, "attachment-missing", "empty attachment path", span)

    resolved = _resolve(ref, base_dir)
    if isinstance(resolved, str):
        return _failed(ref, None, "attachment-unreadable", f"cannot use path {ref!r}: {resolved}", span)
    roots = [_resolve_root(r) for r in (root, *allowed_roots)]
    inside = [r for r in roots if resolved.is_relative_to(r)]
    if not inside:
        return _failed(
            ref, resolved, "attachment-outside-root",
            f"{ref} resolves to {resolved}, outside the project root {roots[0]}; promptls reads "
            "attachments only inside the workspace (extra folders can be allowed in your user config, "
            "`allow_attachments_from`)", span)

    try:
        parent, name = _descend(max(inside, key=lambda r: len(r.parts)), resolved)
    except (FileNotFoundError, NotADirectoryError):
        return _failed(ref, resolved, "attachment-missing", f"{ref}: no such file", span)
    except IsADirectoryError:
        return _failed(ref, resolved, "attachment-unreadable", f"{ref} is a directory, not a file", span)
    except OSError as exc:
        return _failed(ref, resolved, "attachment-unreadable", f"{ref}: {_open_error(exc)}", span)
    try:
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)  # never follow one that appears now
        except (FileNotFoundError, NotADirectoryError):
            return _failed(ref, resolved, "attachment-missing", f"{ref}: no such file", span)
        except OSError as exc:
            return _failed(ref, resolved, "attachment-unreadable", f"{ref}: {exc.strerror or exc}", span)
        problem = _not_regular(st.st_mode)
        if problem:
            return _failed(ref, resolved, "attachment-unreadable", f"{ref} is {problem}, not a file", span)
        if st.st_size > MAX_REQUEST_BYTES:
            return _failed(
                ref, resolved, "attachment-too-large",
                f"{ref} is {st.st_size / MiB:.1f} MB; the API refuses requests over "
                f"{MAX_REQUEST_BYTES // MiB} MB, so it was not read", span, data={"size": st.st_size})

        key: _CacheKey = (str(resolved), st.st_mtime_ns, st.st_size, st.st_ino)
        loaded = _cache_get(key, need_bytes=keep_bytes)
        if loaded is None:
            loaded = _read_and_measure(resolved, st, parent, name)
            if not keep_bytes:
                loaded.data = None
            if loaded.sha256:  # read and measured; open/read failures (e.g. permissions) are retried
                _cache_put(key, loaded)
    finally:
        os.close(parent)
    return _present(loaded, ref, span, keep_bytes)


# -- locating ------------------------------------------------------------------------------------


def _resolve(ref: str, base_dir: Path) -> Path | str:
    """The absolute, symlink-free path `ref` names, or why there is none. Touches only metadata."""
    path = Path(ref)
    if ref.startswith("~"):
        with contextlib.suppress(RuntimeError):  # `~user` naming no user stays literal
            path = path.expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        # realpath, not Path.resolve: the latter also stats the final target, wherever it is
        return Path(os.path.realpath(path))
    except ValueError:
        return "the path contains a NUL character"
    except (OSError, RuntimeError) as exc:
        return str(exc)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _descend(root: Path, path: Path) -> tuple[int, str]:
    """An fd of the folder holding `path` and the file's name in it, reached from `root` one component at
    a time without following links: a component swapped for a symlink after `_resolve` fails (ELOOP)
    instead of leading outside the root. The caller closes the fd."""
    parts = path.relative_to(root).parts
    if not parts:
        raise IsADirectoryError(errno.EISDIR, "is a directory")
    fd = os.open(root, _DIR_FLAGS)  # the root is the user's (resolved); everything below it is the repository's
    try:
        for part in parts[:-1]:
            child = os.open(part, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1]


def _open_error(exc: OSError) -> str:
    if exc.errno in (errno.ELOOP, errno.EMLINK):
        return "it, or a folder on its path, was replaced by a link while it was being opened"
    return exc.strerror or str(exc)


def _resolve_root(root: Path) -> Path:
    try:
        return Path(root).expanduser().resolve(strict=False)
    except (OSError, RuntimeError, ValueError):
        return Path(root).absolute()


def _not_regular(mode: int) -> str:
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link that does not resolve (a loop?)"
    return "a special file"


# -- reading -------------------------------------------------------------------------------------


def _read_and_measure(path: Path, st: os.stat_result, parent: int, name: str) -> Attachment:
    """Read a regular file that passed the checks (`name` in the folder `parent`, as `_descend` found it),
    then sniff and measure it. Findings unspanned."""
    flags = os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=parent)
    except OSError as exc:
        return _failed("", path, "attachment-unreadable", f"cannot open: {_open_error(exc)}", FILE_START)
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return _failed("", path, "attachment-unreadable", "the file changed while being opened", FILE_START)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_REQUEST_BYTES + 1)
    except OSError as exc:
        return _failed("", path, "attachment-unreadable", f"cannot read: {exc.strerror or exc}", FILE_START)
    finally:
        os.close(fd)
    if len(data) > MAX_REQUEST_BYTES:
        return _failed("", path, "attachment-too-large",
                       f"larger than the API's {MAX_REQUEST_BYTES // MiB} MB request limit", FILE_START)
    att = measure_bytes(data)
    att.resolved = path
    return att


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


# -- results -------------------------------------------------------------------------------------


def _url_attachment(ref: str, span: Span) -> Attachment:
    suffix = PurePosixPath(urlsplit(ref).path).suffix.lower()
    media = EXTENSION_TYPES.get(suffix)
    kind = None if media is None else ("pdf" if media == PDF_TYPE else "image")
    what = f"the {kind}" if kind else "the file (type unknown from the URL)"
    finding = Finding(
        "attachment-url", f"{what} is fetched by the API when the prompt is sent; count_tokens rejects "
        "URL sources, so this part is an estimate", Severity.INFO, span, data={"url": ref})
    return Attachment(ref=ref, resolved=None, kind=kind, media_type=media, findings=[finding])


def _present(loaded: Attachment, ref: str, span: Span, keep_bytes: bool) -> Attachment:
    """A caller's copy of a cached load: its ref, its span, bytes only if asked for."""
    findings = [replace(f, span=span, data=dict(f.data)) for f in loaded.findings]
    expected = _expected_type(ref)
    if expected and loaded.media_type and expected != loaded.media_type:
        lfs = (loaded.text or "").startswith("version https://git-lfs.github.com/spec/")
        what = "a Git LFS pointer, not the file itself (run `git lfs pull`)" if lfs else loaded.media_type
        findings.insert(0, Finding(
            "attachment-type-mismatch", f"{ref} is named like {expected} but its bytes are {what}; it is "
            f"sent as {loaded.media_type}", Severity.WARNING, span,
            data={"extension": expected, "actual": loaded.media_type}))
    return replace(loaded, ref=ref, data=loaded.data if keep_bytes else None, findings=findings)


def _expected_type(ref: str) -> str | None:
    suffix = PurePosixPath(ref).suffix.lower()
    if suffix in EXTENSION_TYPES:
        return EXTENSION_TYPES[suffix]
    return TEXT_TYPE if suffix in TEXT_EXTENSIONS else None


def _failed(ref: str, resolved: Path | None, code: str, message: str, span: Span,
            data: dict | None = None) -> Attachment:
    return Attachment(ref=ref, resolved=resolved, kind=None, media_type=None,
                      findings=[Finding(code, message, Severity.ERROR, span, blocking=True, data=data or {})])


def _finding(code: str, message: str, severity: Severity, *, blocking: bool = False,
             data: dict | None = None) -> Finding:
    return Finding(code, message, severity, FILE_START, blocking=blocking, data=data or {})


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# -- cache ---------------------------------------------------------------------------------------


def _weight(att: Attachment) -> int:
    return len(att.data or b"") + len(att.text or "")


def _cache_get(key: _CacheKey, *, need_bytes: bool) -> Attachment | None:
    with _cache_lock:
        hit = _cache.get(key)
        if hit is None or (need_bytes and hit.kind is not None and hit.data is None):
            return None
        _cache.move_to_end(key)
        return hit


def _cache_put(key: _CacheKey, att: Attachment) -> None:
    global _cache_bytes
    with _cache_lock:
        old = _cache.pop(key, None)
        if old is not None:
            _cache_bytes -= _weight(old)
        _cache[key] = att
        _cache_bytes += _weight(att)
        while len(_cache) > 1 and (len(_cache) > CACHE_MAX_ENTRIES or _cache_bytes > CACHE_MAX_BYTES):
            _, evicted = _cache.popitem(last=False)
            _cache_bytes -= _weight(evicted)
