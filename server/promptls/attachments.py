"""Load the files a prompt attaches: confine, sniff, measure, and say what the API will make of them.

The reference is confined first (`confine.py`): it must resolve inside the project root or an extra
root the user allowed, and is opened without following links; never more than the API's request
limit is read. The bytes are then sniffed and measured (`measure.py`). Loads are cached
(`attachcache.py`) so the language server can call this on every keystroke; `clear_cache()` empties
the cache.

Finding codes (all carry the caller's span): blocking ERROR `attachment-missing`,
`attachment-outside-root`, `attachment-unreadable`, `attachment-too-large`, `unsupported-media-type`,
`image-unreadable`, `pdf-unreadable`, `pdf-encrypted`; non-blocking ERROR `image-too-large` (over
8000 px per side) and `image-too-large-bytes` (over 10 MB of base64): the file is fine, the API will
refuse the request, and the image is still measured and counted; WARNING `attachment-type-mismatch`,
`attachment-not-utf8`, `attachment-empty`; INFO `attachment-url`, `image-animated`,
`pdf-text-partial`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from .attachcache import CacheKey, cache_get, cache_put, clear_cache
from .confine import NOFOLLOW, descend, not_regular, open_error, resolve_ref, resolve_root
from .limits import MAX_REQUEST_BYTES, MiB
from .measure import EXTENSION_TYPES, PDF_TYPE, TEXT_EXTENSIONS, TEXT_TYPE, measure_bytes
from .model import FILE_START, Attachment, Finding, Severity, Span

__all__ = ["clear_cache", "load_attachment", "measure_bytes"]


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

    resolved = resolve_ref(ref, base_dir)
    if isinstance(resolved, str):
        return _failed(ref, None, "attachment-unreadable", f"cannot use path {ref!r}: {resolved}", span)
    roots = [resolve_root(r) for r in (root, *allowed_roots)]
    inside = [r for r in roots if resolved.is_relative_to(r)]
    if not inside:
        return _failed(
            ref, resolved, "attachment-outside-root",
            f"{ref} resolves to {resolved}, outside the project root {roots[0]}; promptls reads "
            "attachments only inside the workspace (extra folders can be allowed in your user config, "
            "`allow_attachments_from`)", span)

    try:
        parent, name = descend(max(inside, key=lambda r: len(r.parts)), resolved)
    except (FileNotFoundError, NotADirectoryError):
        return _failed(ref, resolved, "attachment-missing", f"{ref}: no such file", span)
    except IsADirectoryError:
        return _failed(ref, resolved, "attachment-unreadable", f"{ref} is a directory, not a file", span)
    except OSError as exc:
        return _failed(ref, resolved, "attachment-unreadable", f"{ref}: {open_error(exc)}", span)
    try:
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)  # never follow one that appears now
        except (FileNotFoundError, NotADirectoryError):
            return _failed(ref, resolved, "attachment-missing", f"{ref}: no such file", span)
        except OSError as exc:
            return _failed(ref, resolved, "attachment-unreadable", f"{ref}: {exc.strerror or exc}", span)
        problem = not_regular(st.st_mode)
        if problem:
            return _failed(ref, resolved, "attachment-unreadable", f"{ref} is {problem}, not a file", span)
        if st.st_size > MAX_REQUEST_BYTES:
            return _failed(
                ref, resolved, "attachment-too-large",
                f"{ref} is {st.st_size / MiB:.1f} MB; the API refuses requests over "
                f"{MAX_REQUEST_BYTES // MiB} MB, so it was not read", span, data={"size": st.st_size})

        key: CacheKey = (str(resolved), st.st_mtime_ns, st.st_size, st.st_ino)
        loaded = cache_get(key, need_bytes=keep_bytes)
        if loaded is None:
            loaded = _read_and_measure(resolved, st, parent, name)
            if not keep_bytes:
                loaded.data = None
            if loaded.sha256:  # read and measured; open/read failures (e.g. permissions) are retried
                cache_put(key, loaded)
    finally:
        os.close(parent)
    return _present(loaded, ref, span, keep_bytes)



# -- reading -------------------------------------------------------------------------------------


def _read_and_measure(path: Path, st: os.stat_result, parent: int, name: str) -> Attachment:
    """Read a regular file that passed the checks (`name` in the folder `parent`, as `descend` found it),
    then sniff and measure it. Findings unspanned."""
    flags = os.O_RDONLY | os.O_NONBLOCK | NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=parent)
    except OSError as exc:
        return _failed("", path, "attachment-unreadable", f"cannot open: {open_error(exc)}", FILE_START)
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

