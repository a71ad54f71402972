"""Attachment loading as a user meets it: what is read, what is refused, and what the findings say."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader, PdfWriter

from promptls import attachcache
from promptls.attachments import clear_cache, load_attachment, measure_bytes
from promptls.model import Attachment, Severity, Span

ASSETS = Path(__file__).resolve().parents[1] / "examples" / "assets"
SPAN = Span.at(7, 4, 7, 20)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project root inside tmp_path, with a secret next to it (outside the root)."""
    project = tmp_path / "project"
    (project / "prompts").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("TOP SECRET KEY MATERIAL", encoding="utf-8")
    return project


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path promptls opens or stats (following links) while the test runs; a name relative to a
    `dir_fd` is recorded as the folder the descriptor really is (/proc/self/fd) joined with the name."""
    seen: list[str] = []
    real_open, real_stat = os.open, os.stat

    def where(path: Any, kwargs: dict[str, Any]) -> str:
        fd = kwargs.get("dir_fd")
        name = os.fspath(path)
        return os.path.join(os.readlink(f"/proc/self/fd/{fd}"), name) if fd is not None else name

    def spy_open(path: Any, *args: Any, **kwargs: Any) -> int:
        seen.append(where(path, kwargs))
        return real_open(path, *args, **kwargs)

    def spy_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if kwargs.get("follow_symlinks", True):  # an lstat only looks at the name
            seen.append(where(path, kwargs))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "stat", spy_stat)
    return seen


def load(ref: str, root: Path, base: Path | None = None, **kwargs: Any) -> Attachment:
    return load_attachment(ref, base_dir=base or root / "prompts", root=root, span=SPAN, **kwargs)


def codes(att: Attachment) -> list[str]:
    return [f.code for f in att.findings]


def only(att: Attachment, code: str) -> None:
    assert codes(att) == [code], att.findings
    assert att.findings[0].span == SPAN


def run_with_timeout(fn: Callable[[], Attachment], seconds: float = 5.0) -> Attachment:
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(fn).result(timeout=seconds)
    finally:
        pool.shutdown(wait=False)


def build_pdf(pages: list[list[str]]) -> bytes:
    """The hand-built text PDF of examples/assets/make_assets.py."""
    spec = importlib.util.spec_from_file_location("make_assets", ASSETS / "make_assets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_pdf(pages)


def png_header(width: int, height: int) -> bytes:
    """A PNG that is only a signature and an IHDR: the size without any pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


# -- the example assets ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "media", "size"), [
    ("square.png", "image/png", (1092, 1092)),
    ("screenshot.jpg", "image/jpeg", (1920, 1080)),
    ("chart.gif", "image/gif", (400, 300)),
    ("diagram.webp", "image/webp", (800, 600)),
])
def test_image_size_read_from_the_header(name: str, media: str, size: tuple[int, int]) -> None:
    att = load(f"assets/{name}", ASSETS.parent, base=ASSETS.parent)
    assert (att.kind, att.media_type, (att.width, att.height)) == ("image", media, size)
    raw = (ASSETS / name).read_bytes()
    assert att.data == raw and att.size == len(raw)
    assert att.sha256 == hashlib.sha256(raw).hexdigest()
    assert att.ok and att.detail() == f"{size[0]}×{size[1]} image"


def test_animated_gif_says_first_frame_only() -> None:
    att = load("assets/chart.gif", ASSETS.parent, base=ASSETS.parent)
    only(att, "image-animated")
    assert att.findings[0].severity == Severity.INFO and "first frame" in att.findings[0].message


def test_pdf_pages_and_text() -> None:
    att = load("assets/report.pdf", ASSETS.parent, base=ASSETS.parent)
    assert (att.kind, att.media_type, att.pages, att.findings) == ("pdf", "application/pdf", 2, [])
    assert "Revenue rose 12 percent" in (att.text or "")
    assert "Risks: supply chain delays" in (att.text or "")
    assert att.detail() == "2 pages"


def test_text_file() -> None:
    att = load("assets/notes.md", ASSETS.parent, base=ASSETS.parent)
    assert (att.kind, att.media_type, att.findings) == ("text", "text/plain", [])
    assert att.text == (ASSETS / "notes.md").read_text(encoding="utf-8")


def test_bytes_only_when_asked() -> None:
    att = load("assets/square.png", ASSETS.parent, base=ASSETS.parent, keep_bytes=False)
    assert att.data is None and att.width == 1092 and att.sha256


# -- confinement -----------------------------------------------------------------------------------


def test_dotdot_escape_is_refused_and_never_read(root: Path, opened: list[str]) -> None:
    att = load("../../secret.txt", root)
    only(att, "attachment-outside-root")
    assert att.findings[0].blocking and att.findings[0].severity == Severity.ERROR
    assert att.data is None and att.text is None
    assert not any("secret" in p for p in opened)


def test_absolute_path_outside_is_refused(root: Path, opened: list[str]) -> None:
    att = load(str(root.parent / "secret.txt"), root)
    only(att, "attachment-outside-root")
    assert not any("secret" in p for p in opened)


def test_absolute_path_inside_is_fine(root: Path) -> None:
    (root / "a.txt").write_text("hello", encoding="utf-8")
    assert load(str(root / "a.txt"), root).text == "hello"


def test_dotdot_that_stays_inside_is_fine(root: Path) -> None:
    (root / "shared.txt").write_text("shared", encoding="utf-8")
    assert load("../prompts/../shared.txt", root).text == "shared"


def test_symlink_inside_root_pointing_outside_is_refused_without_touching_the_target(
        root: Path, opened: list[str]) -> None:
    trap = root.parent / "trap"
    os.mkfifo(trap)  # opening it for reading would block forever
    (root / "prompts" / "innocent.txt").symlink_to(trap)
    att = run_with_timeout(lambda: load("innocent.txt", root))
    only(att, "attachment-outside-root")
    assert str(trap) in att.findings[0].message
    assert not any("trap" in p or "innocent" in p for p in opened)


def test_symlinked_directory_escape_is_refused(root: Path) -> None:
    (root / "prompts" / "docs").symlink_to(root.parent, target_is_directory=True)
    only(load("docs/secret.txt", root), "attachment-outside-root")


def test_symlink_within_root_is_followed(root: Path) -> None:
    (root / "real.md").write_text("# real", encoding="utf-8")
    (root / "prompts" / "link.md").symlink_to(root / "real.md")
    att = load("link.md", root)
    assert att.text == "# real" and att.resolved == (root / "real.md").resolve()


def test_allowed_roots_permit_an_outside_folder(root: Path) -> None:
    att = load("../../secret.txt", root, allowed_roots=[root.parent])
    assert att.ok and att.text == "TOP SECRET KEY MATERIAL"


def test_tilde_expands_then_is_confined(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = root.parent / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN KEY-----", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    only(load("~/.ssh/id_rsa", root), "attachment-outside-root")
    assert load("~/.ssh/id_rsa", root, allowed_roots=[home]).text == "-----BEGIN KEY-----"


@pytest.mark.parametrize("ref", [
    "%2e%2e/%2e%2e/secret.txt",  # percent-encoding is not decoded
    "\u2024\u2024/\u2024\u2024/secret.txt",  # ONE DOT LEADER lookalikes are not dots
    "\uff0e\uff0e/\uff0e\uff0e/secret.txt",  # FULLWIDTH FULL STOP neither
    "..\\..\\secret.txt",  # a backslash is an ordinary character on POSIX
    "file:///etc/passwd",  # only http(s) are URLs; this is a relative path
])
def test_path_tricks_are_taken_literally(root: Path, ref: str, opened: list[str]) -> None:
    att = load(ref, root)
    only(att, "attachment-missing")
    assert att.resolved is not None and att.resolved.is_relative_to(root.resolve())
    assert not any("secret" in p and "prompts" not in p for p in opened)


def test_literal_percent_name_is_a_real_file(root: Path) -> None:
    (root / "prompts" / "%2e%2e").mkdir()
    (root / "prompts" / "%2e%2e" / "x.txt").write_text("literal", encoding="utf-8")
    assert load("%2e%2e/x.txt", root).text == "literal"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ref=st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(["..", ".", "~", "secret.txt", "prompts", "/", "%2e", "\x00", "a"]),
             max_size=8).map("/".join),
))
def test_no_reference_escapes_or_raises(ref: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        (project / "prompts").mkdir(parents=True)
        (Path(tmp) / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
        att = load_attachment(ref, base_dir=project / "prompts", root=project, span=SPAN)
        assert "TOP SECRET" not in (att.text or "")
        if att.ok and att.resolved is not None:
            assert att.resolved.is_relative_to(project.resolve())
        assert all(f.span == SPAN for f in att.findings)


# -- things that are not readable files ----------------------------------------------------------


def test_missing_file(root: Path) -> None:
    att = load("nope.pdf", root)
    only(att, "attachment-missing")
    assert att.findings[0].blocking and not att.ok


def test_empty_reference(root: Path) -> None:
    only(load("  ", root), "attachment-missing")


def test_directory(root: Path) -> None:
    (root / "prompts" / "dir").mkdir()
    att = load("dir", root)
    only(att, "attachment-unreadable")
    assert "directory" in att.findings[0].message and att.findings[0].blocking


def test_fifo_is_refused_without_hanging(root: Path, opened: list[str]) -> None:
    os.mkfifo(root / "prompts" / "pipe.txt")
    att = run_with_timeout(lambda: load("pipe.txt", root))
    only(att, "attachment-unreadable")
    assert "named pipe" in att.findings[0].message
    assert not any(p.endswith("pipe.txt") for p in opened)


def test_dev_zero_is_refused_without_hanging() -> None:
    att = run_with_timeout(lambda: load_attachment(
        "/dev/zero", base_dir=Path("/"), root=Path("/nonexistent"), allowed_roots=[Path("/dev")], span=SPAN))
    only(att, "attachment-unreadable")
    assert "device" in att.findings[0].message


def test_nul_in_path_is_a_finding_not_a_crash(root: Path) -> None:
    only(load("a\x00b.png", root), "attachment-unreadable")


def test_symlink_loop(root: Path) -> None:
    (root / "prompts" / "loop").symlink_to(root / "prompts" / "loop")
    only(load("loop", root), "attachment-unreadable")


def test_file_over_the_request_limit_is_not_read(root: Path, opened: list[str]) -> None:
    big = root / "prompts" / "huge.pdf"
    with big.open("wb") as fh:
        fh.truncate(33 * 1024 * 1024)  # sparse: no disk used
    att = load("huge.pdf", root)
    only(att, "attachment-too-large")
    assert "33.0 MB" in att.findings[0].message and att.findings[0].blocking
    assert str(big) not in opened


# -- sniffing --------------------------------------------------------------------------------------


def test_extension_disagreeing_with_bytes_warns_and_uses_the_real_type(root: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(buf, "PNG")
    (root / "prompts" / "photo.jpg").write_bytes(buf.getvalue())
    att = load("photo.jpg", root)
    only(att, "attachment-type-mismatch")
    assert att.findings[0].severity == Severity.WARNING
    assert (att.kind, att.media_type, att.width, att.height) == ("image", "image/png", 30, 20)
    assert att.ok


def test_pdf_named_txt_is_a_pdf(root: Path) -> None:
    (root / "prompts" / "report.txt").write_bytes((ASSETS / "report.pdf").read_bytes())
    att = load("report.txt", root)
    assert codes(att) == ["attachment-type-mismatch"]
    assert (att.kind, att.pages) == ("pdf", 2)


def test_git_lfs_pointer_named_png_is_called_out(root: Path) -> None:
    (root / "prompts" / "chart.png").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12345\n", encoding="utf-8")
    att = load("chart.png", root)
    only(att, "attachment-type-mismatch")
    assert "git lfs pull" in att.findings[0].message


def test_binary_garbage_is_unsupported(root: Path) -> None:
    (root / "prompts" / "blob.bin").write_bytes(bytes(range(256)) * 4)
    att = load("blob.bin", root)
    only(att, "unsupported-media-type")
    assert att.findings[0].blocking and att.kind is None


def test_unsupported_image_format_is_named(root: Path) -> None:
    Image.new("RGB", (8, 8), "blue").save(root / "prompts" / "scan.tiff", "TIFF")
    att = load("scan.tiff", root)
    only(att, "unsupported-media-type")
    assert "TIFF image" in att.findings[0].message and att.findings[0].blocking


def test_utf16_text_gets_a_hint(root: Path) -> None:
    (root / "prompts" / "notes.txt").write_bytes("hello".encode("utf-16"))
    att = load("notes.txt", root)
    only(att, "unsupported-media-type")
    assert "UTF-8" in att.findings[0].message


def test_latin1_text_is_decoded_with_replacement_and_a_warning(root: Path) -> None:
    (root / "prompts" / "cafe.txt").write_bytes("Caf\xe9 menu: cr\xeape, th\xe9".encode("latin-1"))
    att = load("cafe.txt", root)
    only(att, "attachment-not-utf8")
    assert att.kind == "text" and att.text == "Caf\ufffd menu: cr\ufffdpe, th\ufffd"
    assert att.findings[0].data["offset"] == 3


def test_utf8_bom_is_dropped(root: Path) -> None:
    (root / "prompts" / "bom.csv").write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    att = load("bom.csv", root)
    assert att.findings == [] and att.text == "a,b\n1,2\n"


def test_empty_text_file_warns(root: Path) -> None:
    (root / "prompts" / "empty.md").write_bytes(b"")
    only(load("empty.md", root), "attachment-empty")


# -- image limits ----------------------------------------------------------------------------------


def test_image_over_8000_px_is_an_api_error_but_still_measured(root: Path) -> None:
    (root / "prompts" / "wide.png").write_bytes(png_header(9000, 10))
    att = load("wide.png", root)
    only(att, "image-too-large")
    f = att.findings[0]
    assert f.severity == Severity.ERROR and not f.blocking
    assert (att.width, att.height) == (9000, 10) and att.ok


def test_decompression_bomb_header_is_too_large_not_a_crash(root: Path) -> None:
    (root / "prompts" / "bomb.png").write_bytes(png_header(20000, 20000))
    att = load("bomb.png", root)
    only(att, "image-too-large")


def test_image_over_10_mb_of_base64(root: Path) -> None:
    padding = b"\0" * (8 * 1024 * 1024)  # bytes after IEND still travel in the request
    (root / "prompts" / "heavy.png").write_bytes(png_header(100, 100) + padding)
    att = load("heavy.png", root)
    only(att, "image-too-large-bytes")
    assert att.findings[0].data["base64_bytes"] > 10 * 1024 * 1024


def test_corrupt_image_is_unreadable(root: Path) -> None:
    (root / "prompts" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\xff" * 40)
    att = load("broken.png", root)
    only(att, "image-unreadable")
    assert att.findings[0].blocking


# -- PDF trouble ------------------------------------------------------------------------------------


def test_encrypted_pdf_is_refused(root: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(ASSETS / "report.pdf"))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    writer.write(root / "prompts" / "locked.pdf")
    att = load("locked.pdf", root)
    only(att, "pdf-encrypted")
    assert att.findings[0].blocking and att.pages is None


def test_garbage_pdf_is_unreadable_with_a_reason(root: Path) -> None:
    (root / "prompts" / "bad.pdf").write_bytes(b"%PDF-1.7\n" + b"garbage " * 100)
    att = load("bad.pdf", root)
    only(att, "pdf-unreadable")
    assert att.findings[0].blocking and len(att.findings[0].message) > len("not a readable PDF: ")


def test_hostile_page_content_is_skipped_quickly(root: Path) -> None:
    pages = [["Summary: revenue up."], ["word " * 20] * 12_000]  # second page: ~1.2 MB of text ops
    (root / "prompts" / "dense.pdf").write_bytes(build_pdf(pages))
    att = run_with_timeout(lambda: load("dense.pdf", root), seconds=3)
    only(att, "pdf-text-partial")
    assert att.pages == 2 and "Summary: revenue up." in (att.text or "")
    assert att.findings[0].data == {"pages_extracted": 1, "pages": 2}


def test_text_is_extracted_from_at_most_600_pages(root: Path) -> None:
    (root / "prompts" / "long.pdf").write_bytes(build_pdf([[f"page {i}"] for i in range(601)]))
    att = load("long.pdf", root)
    assert att.pages == 601 and "page 599" in (att.text or "") and "page 600" not in (att.text or "")
    only(att, "pdf-text-partial")


def test_measure_bytes_for_inline_data() -> None:
    att = measure_bytes((ASSETS / "report.pdf").read_bytes())
    assert (att.kind, att.pages, att.resolved) == ("pdf", 2, None)
    assert measure_bytes(png_header(3, 4)).width == 3


# -- URLs ------------------------------------------------------------------------------------------


def test_url_is_estimated_not_fetched(root: Path, opened: list[str]) -> None:
    att = load("https://example.com/charts/q3.PNG?v=2", root)
    assert (att.kind, att.media_type, att.resolved, att.data) == ("image", "image/png", None, None)
    only(att, "attachment-url")
    assert att.findings[0].severity == Severity.INFO and not att.findings[0].blocking
    assert opened == []
    assert load("http://example.com/filing.pdf", root).kind == "pdf"
    assert load("https://example.com/render?id=3", root).kind is None


# -- cache -----------------------------------------------------------------------------------------


def test_second_load_is_served_from_cache_with_its_own_span(root: Path, opened: list[str]) -> None:
    path = root / "prompts" / "notes.txt"
    path.write_text("first", encoding="utf-8")
    first = load("notes.txt", root)
    other_span = Span.at(20, 2, 20, 11)
    second = load_attachment("./notes.txt", base_dir=root / "prompts", root=root, span=other_span)
    assert [p for p in opened if p.endswith("notes.txt")] == [os.path.realpath(path)]
    assert second.text == first.text == "first" and second.ref == "./notes.txt"

    path.write_text("second version", encoding="utf-8")  # size and mtime change
    assert load("notes.txt", root).text == "second version"
    assert len([p for p in opened if p.endswith("notes.txt")]) == 2


def test_cached_findings_take_the_callers_span(root: Path) -> None:
    (root / "prompts" / "wide.png").write_bytes(png_header(9000, 10))
    load("wide.png", root)
    again = load_attachment("wide.png", base_dir=root / "prompts", root=root, span=Span.at(40, 0, 40, 8))
    assert [f.span for f in again.findings] == [Span.at(40, 0, 40, 8)]


def test_cache_rereads_when_bytes_become_needed(root: Path, opened: list[str]) -> None:
    raw = (ASSETS / "square.png").read_bytes()
    (root / "prompts" / "sq.png").write_bytes(raw)
    assert load("sq.png", root, keep_bytes=False).data is None
    assert load("sq.png", root).data == raw
    assert load("sq.png", root).data == raw
    assert len([p for p in opened if p.endswith("sq.png")]) == 2


def test_clear_cache_forces_a_reread(root: Path, opened: list[str]) -> None:
    (root / "prompts" / "a.md").write_text("a", encoding="utf-8")
    load("a.md", root)
    clear_cache()
    load("a.md", root)
    assert len([p for p in opened if p.endswith("a.md")]) == 2


def test_cache_is_bounded(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachcache, "CACHE_MAX_ENTRIES", 3)
    for i in range(6):
        (root / "prompts" / f"{i}.txt").write_text(str(i), encoding="utf-8")
        load(f"{i}.txt", root)
    assert len(attachcache._cache) == 3


def test_caller_cannot_corrupt_the_cache(root: Path) -> None:
    (root / "prompts" / "wide.png").write_bytes(png_header(9000, 10))
    first = load("wide.png", root)
    first.findings[0].data["width"] = 1
    first.findings.clear()
    again = load("wide.png", root)
    assert codes(again) == ["image-too-large"] and again.findings[0].data["width"] == 9000

