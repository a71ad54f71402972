"""The native tokenizer counts exactly what ctok counts, for every input and every family.

ctok is the reference: every comparison is against `ctok.token_count(text, v)` less the frame, on
the whole text. Hypothesis drives arbitrary Unicode (combining marks, astral characters, whitespace
and newline runs, ctok's marker glyphs and their lookalikes); `tests/textgen.py` writes 5 MB of
varied text (code, prose, CJK, emoji, JSON, long numbers, ...), each document checked against one
family in turn so all of it is compared in CI. `PROMPTLS_EQUIV_FULL=1` checks every document
against every family and runs ten times the examples (the longer run in bench/results.md).
"""

from __future__ import annotations

import os
import threading

import ctok
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptls.counting import tokenizer

from .textgen import corpus

FAMILIES = ("3.0", "4.7", "4.8")
FRAMES = {"3.0": 7, "4.7": 11, "4.8": 6}
FULL = os.environ.get("PROMPTLS_EQUIV_FULL") == "1"
EXAMPLES = 3000 if FULL else 300

native = pytest.mark.skipif(tokenizer.path() != "native", reason="the native extension is not built here")


def test_the_native_path_is_built_where_ci_requires_it() -> None:
    """CI (`PROMPTLS_REQUIRE_NATIVE=1` in .ci/run) fails instead of skipping the suite below when the
    extension did not build."""
    if os.environ.get("PROMPTLS_REQUIRE_NATIVE") != "1":
        pytest.skip("PROMPTLS_REQUIRE_NATIVE is not set")
    assert tokenizer.path() == "native", tokenizer.describe()


def reference(text: str, version: str) -> int:
    return ctok.token_count(text, version) - FRAMES[version]


# Characters ctok's rules single out, so generated text meets them far more often than chance would.
SPECIAL = ("\ufdd0\ufdd1\ufdd2\ufdd3\ufdd4\ue000\ue001\ue004\uf8ff⟨⟩"  # marker glyphs, escapes, brackets
           "İıẞßΣσςϴΘǅⅫⅻⒶⓐ\u1c89\ua7cb\u0264"                           # case edges
           "'\"\u2018\u2019\u201c\u201d\u201e"                              # quotes (folded in v3)
           "\u0300\u0301\u0308\u0323\u0903\u093f\u0711\u0730\u20dd\u0cf3\ufe0e\ufe0f\u200d"  # marks, selectors
           "\u0e4d\u0e32\u0e33\u3005\u3006\u303b\u30fc〄〒。？、（）—»«•…"    # Thai, ideographic, punct
           "0123456789١٢۱۲०१½²①\U0001d7ce"                                  # digits
           " \t\n\r\x0b\x0c\x00\x01\x1f\x7f\x85\x9f\xa0\u1680\u2000\u2028\u202f\u205f\u3000")  # spaces, controls
WORD_CHARS = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co", "Cn"))
ASTRAL = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, codec="utf-8")
PIECE = st.one_of(
    st.text(WORD_CHARS, max_size=12),
    st.text(st.sampled_from(SPECIAL), min_size=1, max_size=6),
    st.text(ASTRAL, min_size=1, max_size=3),
    st.sampled_from([" " * 2, " " * 3, "\n" * 2, "\n" * 3, "\n" * 30, "\t\t", " \n", "\n ", "  \n\n  "]),
    st.sampled_from(["it's", "don't", "x'S", "'Tis", "HELLO", "Hello", "hELLO", "ΣΑΣ", "İSTANBUL", "1,000,000",
                     "e\u0301", "\u0301e", "⟨bow⟩", "⟨0x41⟩", "👍🏽", "👨‍👩‍👧", "🇺🇸", "⚖️", "文？ 1", "١ ا"]),
)
TEXTS = st.lists(PIECE, max_size=12).map("".join)


@native
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS)
def test_arbitrary_unicode_counts_as_ctok_counts(text: str) -> None:
    for version in FAMILIES:
        assert tokenizer.content_tokens(text, version) == reference(text, version), version


@native
@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(text=st.text(st.characters(codec="utf-8"), max_size=40))
def test_any_codepoint_counts_as_ctok_counts(text: str) -> None:
    for version in FAMILIES:
        assert tokenizer.content_tokens(text, version) == reference(text, version), version


@native
@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(text=st.text(max_size=30))
def test_lone_surrogates_count_as_ctok_counts(text: str) -> None:
    """A str may hold lone surrogates (from `surrogateescape` decoding); ctok folds them to U+FFFD."""
    text = text + "\ud800x\udfff"
    for version in FAMILIES:
        assert tokenizer.content_tokens(text, version) == reference(text, version), version


@native
def test_five_megabytes_of_varied_text_count_as_ctok_counts() -> None:
    checked = 0
    for i, doc in enumerate(corpus(5_000_000)):
        versions = FAMILIES if FULL else (FAMILIES[i % 3],)
        for version in versions:
            assert tokenizer.content_tokens(doc, version) == reference(doc, version), (i, version, doc[:200])
        checked += len(doc.encode("utf-8"))
    assert checked >= 5_000_000


@native
def test_the_stream_is_ctoks_marked_stream() -> None:
    """Beyond the count: the native marked stream (after the seam law) is ctok's, glyph for glyph."""
    from ctok.main import _family, _model
    from ctok.normalize import stream

    for doc in corpus(300_000, seed=3):
        for version in FAMILIES:
            assert tokenizer._vocab(version).stream(doc) == stream(doc, _model(_family(version)))


@native
def test_every_piece_is_parsed_as_ctok_parses_it() -> None:
    import json
    from importlib.resources import files

    from ctok.notation import parse_marked

    from promptls.counting import _native  # type: ignore[attr-defined]

    for name in ("pieces_v3.json", "pieces_v4_7.json"):
        doc = json.loads(files("ctok").joinpath("data", name).read_text(encoding="utf-8"))
        for group, pieces in doc["tokens"].items():
            if group == "bytes_fallback":
                continue
            for piece in pieces:
                assert _native.parse_marked(piece) == parse_marked(piece), (name, piece)


@native
def test_frames_and_meta_match_ctok() -> None:
    from ctok.main import _family, _model

    for version in FAMILIES:
        assert tokenizer.message_frame(version) == _model(_family(version)).message_overhead == FRAMES[version]


@native
def test_counting_in_threads_gives_the_same_counts() -> None:
    """The native count runs without the GIL; concurrent counts stay exact."""
    docs = list(corpus(400_000, seed=5))
    expected = {(i, v): tokenizer.content_tokens(d, v) for i, d in enumerate(docs) for v in FAMILIES}
    got: dict[tuple[int, str], int] = {}

    def work(version: str) -> None:
        for i, d in enumerate(docs):
            got[(i, version)] = tokenizer.content_tokens(d, version)

    threads = [threading.Thread(target=work, args=(v,)) for v in FAMILIES * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert got == expected


@settings(max_examples=60, deadline=None)
@given(text=TEXTS)
def test_pure_path_counts_as_ctok_counts(text: str) -> None:
    """The fallback (no compiler) is ctok without rendering token strings: the same numbers."""
    for version in FAMILIES:
        assert tokenizer._pure_count(text, version) == reference(text, version), version


def test_native_rejects_what_ctok_rejects() -> None:
    with pytest.raises(TypeError):
        tokenizer.content_tokens(b"bytes", "3.0")  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError):
        tokenizer.content_tokens("x", "2.1")
