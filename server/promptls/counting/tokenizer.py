"""Content-token counts of text, as ctok counts the whole text: natively when the extension is built.

`_native` (a C port of ctok's normalisation and min-cost tiling, count only) is used when it was
compiled at install time and the installed ctok is a version it was checked against; otherwise the
pure path runs ctok's own functions without rendering token strings. Both return exactly
`ctok.token_count(text, v) - frame`; `tests/test_tokenizer_equivalence.py` holds them to it.
ctok stays the reference and the source of the vocabulary: the extension reads ctok's data files
and asks ctok's own Unicode predicates for every codepoint it meets, so it cannot drift from them.
Set `PROMPTLS_NATIVE=0` to force the pure path.
"""

from __future__ import annotations

import os
import threading
from typing import Any

# The ctok releases whose algorithm `_native.c` ports. Another release may change a rule; the pure
# path (ctok itself) is then used until the port is checked against it.
VERIFIED_CTOK = frozenset({"1.3.0"})

_lock = threading.Lock()
_vocabs: dict[str, Any] = {}
_frames: dict[str, int] = {}
_state: dict[str, Any] = {}


def _ctok_version() -> str:
    """ctok's installed version, from its `.dist-info` folder name beside the package (the wheel spec's
    `{name}-{version}.dist-info`): `importlib.metadata` costs ~75 ms of imports on every start that
    counts or prints `--version`. Any other layout asks `importlib.metadata`."""
    if "ctok" not in _state:
        _state["ctok"] = _dist_info_version("ctok") or _metadata_version("ctok")
    return _state["ctok"]


def _dist_info_version(name: str) -> str | None:
    from importlib.util import find_spec

    spec = find_spec(name)
    if spec is None or not spec.origin:
        return None
    site = os.path.dirname(os.path.dirname(spec.origin))
    try:
        found = [e for e in os.listdir(site) if e.lower().startswith(f"{name}-") and e.endswith(".dist-info")]
    except OSError:
        return None
    return found[0][len(name) + 1:-len(".dist-info")] if len(found) == 1 else None


def _metadata_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _native_module() -> Any | None:
    """The extension when it is usable here, else None (with the reason kept for `describe`)."""
    if "native" in _state:
        return _state["native"]
    module: Any | None = None
    if os.environ.get("PROMPTLS_NATIVE", "1") == "0":
        _state["why"] = "PROMPTLS_NATIVE=0"
    elif _ctok_version() not in VERIFIED_CTOK:
        _state["why"] = f"the native tokenizer was not checked against ctok {_ctok_version()}"
    else:
        try:
            from . import _native  # type: ignore[attr-defined]

            module = _native
        except ImportError:
            _state["why"] = "the native extension was not built (no C compiler at install time?)"
    if module is not None:
        module.set_props(_props_block)
    _state["native"] = module
    return module


def path() -> str:
    """"native" or "pure": which implementation counts."""
    return "native" if _native_module() is not None else "pure"


def describe() -> str:
    """One line for `promptls --version`."""
    if _native_module() is not None:
        return f"tokenizer: native, ctok {_ctok_version()} vocabulary"
    return f"tokenizer: pure Python ctok {_ctok_version()}, as {_state.get('why', '')}"


# ---------------------------------------------------------------------------------------------------
# the per-codepoint facts the extension asks for, from ctok's own predicates

_CLASS = {"wordy": 0, "hard": 1, "digit": 2, "punct": 3, "space": 4}
_KIND = {"letter": 0, "punct": 1, "number": 2}
F_STRAY, F_SELECTOR, F_MLP, F_DBORDER = 1 << 3, 1 << 6, 1 << 7, 1 << 8
F_ND, F_NO, F_UPPER, F_LOWER, F_UNLOW = 1 << 9, 1 << 10, 1 << 11, 1 << 12, 1 << 13


def _props_block(block: int) -> tuple[bytes, list[tuple[int, str]]]:
    """Flags and lowercase form of the 256 codepoints of `block` (layout: see `_native.c`)."""
    import importlib
    import unicodedata

    n = importlib.import_module("ctok.normalize")  # the package's `normalize` attribute is a function

    out = bytearray()
    multi: list[tuple[int, str]] = []
    for cp in range(block * 256, block * 256 + 256):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:  # never reaches the tokenizer: surrogates are folded first
            out += (1).to_bytes(4, "little") + cp.to_bytes(4, "little")
            continue
        cat = unicodedata.category(c)
        upper, lower = n._is_upper(c), n._is_lower(c)
        low = n._lower(c)
        flags = _CLASS[n.classify(c)] | _KIND[n._hard_kind(c)] << 4
        flags |= F_STRAY * bool(n._stray_mark(c)) | F_SELECTOR * n._is_selector(c)
        flags |= F_MLP * bool(n._marks_like_punct(c)) | F_DBORDER * n._digit_border(c)
        flags |= F_ND * (cat == "Nd") | F_NO * (cat == "No") | F_UPPER * upper | F_LOWER * lower
        unlowerable = ((c in n._NEW_CASED or cat[0] in ("L", "M")) and not lower and (not upper or low == c))
        flags |= F_UNLOW * unlowerable
        if len(low) == 1:
            out += flags.to_bytes(4, "little") + ord(low).to_bytes(4, "little")
        else:
            out += flags.to_bytes(4, "little") + cp.to_bytes(4, "little")
            multi.append((cp, low))
    return bytes(out), multi


# ---------------------------------------------------------------------------------------------------
# counting


def _family(tokenizer: str) -> str:
    from ctok.main import _family as family

    return family(tokenizer)


def _document(family: str) -> tuple[bytes, dict[str, Any]]:
    """The family's vocabulary file and its meta scalars with the family's measured overrides
    applied, as ctok applies them (v4.8 borrows v4.7's file with its own frame)."""
    from importlib.resources import files

    from ctok.main import FAMILIES, _pieces_file

    data = files("ctok").joinpath("data", _pieces_file(family)).read_bytes()
    native = _native_module()
    assert native is not None  # only called once the extension is known to be usable
    return data, {**native.read_meta(data), **dict(FAMILIES[family].meta)}


def _vocab(tokenizer: str) -> Any:
    """The family's native vocabulary, built once from ctok's data file."""
    family = _family(tokenizer)
    vocab = _vocabs.get(family)
    if vocab is not None:
        return vocab
    with _lock:
        vocab = _vocabs.get(family)
        if vocab is None:
            data, meta = _document(family)
            allcaps = meta["allcaps_min"]
            native = _native_module()
            assert native is not None
            vocab = native.Vocab(data, -1 if allcaps is None else int(allcaps),
                                 bool(meta.get("frame_bow", True)), bool(meta["fold_quotes"]))
            _frames[family] = int(meta["message_overhead"])
            _vocabs[family] = vocab
    return vocab


def message_frame(tokenizer: str) -> int:
    """The one-user-message frame ctok adds to every count (v3: 7, v4.7: 11, v4.8: 6), read without
    building the vocabulary where the native path runs."""
    family = _family(tokenizer)
    if family not in _frames:
        if _native_module() is not None:
            _frames[family] = int(_document(family)[1]["message_overhead"])
        else:
            from ctok.main import _model

            _frames[family] = _model(family).message_overhead
    return _frames[family]


def content_tokens(text: str, tokenizer: str) -> int:
    """`ctok.token_count(text, tokenizer)` less the message frame, for the whole text."""
    if _native_module() is not None:
        return int(_vocab(tokenizer).count(text))
    return _pure_count(text, tokenizer)


def _pure_count(text: str, tokenizer: str) -> int:
    """ctok's tile() without rendering the tokens (a count never needs their strings)."""
    from ctok.constants import MARKER_GLYPHS
    from ctok.engine import char_cost, frame_tail, min_vocab_tile
    from ctok.main import _model
    from ctok.normalize import nfc, raw_head_space, stream_norm

    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    model = _model(_family(tokenizer))
    norm = nfc(text, fold_quotes=model.fold_quotes)
    n_tail = len(norm) - len(norm.rstrip("\n"))
    s = stream_norm(norm, model, raw_head_space=raw_head_space(text))
    tail = len(frame_tail(n_tail, model))
    if not s:
        return tail

    def unit_floor(j: int) -> int:
        ch = s[j]
        return 1 if ch in MARKER_GLYPHS else char_cost(model, ch)

    total, _spans = min_vocab_tile(s, model.trie, unit_floor)
    return int(total) + tail
