"""YAML text -> data with exact source ranges; every kind of bad input is a located finding."""

from __future__ import annotations

import os
import random
import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from promptls import document
from promptls.document import MAX_ALIAS_NODES, MAX_DEPTH, parse_document, position_of
from promptls.model import Pos, Severity, Span

PROMPT = """\
model: claude-sonnet-4-6
messages:
  - role: user
    content: Hello
  - role: user
    content:
      - text: |
          Compare with last quarter.

      - image: charts/revenue.png
# a comment between keys
tools: []
"""


def codes(text: str) -> list[str]:
    return [f.code for f in parse_document(text, None).findings]


def only(text: str, code: str):
    doc = parse_document(text, None)
    found = [f for f in doc.findings if f.code == code]
    assert len(found) == 1, doc.findings
    return doc, found[0]


def test_data_and_the_span_of_a_nested_scalar() -> None:
    doc = parse_document(PROMPT, None)
    assert doc.findings == []
    assert doc.data["messages"][1]["content"][1] == {"image": "charts/revenue.png"}
    span = doc.spans[("messages", 1, "content", 1, "image")]
    assert span == Span(Pos(9, 15), Pos(9, 33))
    line = PROMPT.splitlines()[9]
    assert line[span.start.col:span.end.col] == "charts/revenue.png"
    assert doc.key_spans[("messages", 1, "content", 1, "image")] == Span(Pos(9, 8), Pos(9, 13))


def test_block_scalar_and_block_collections_end_at_their_last_character() -> None:
    doc = parse_document(PROMPT, None)
    # The literal block ends after "quarter.", not at the next key after the blank line.
    assert doc.spans[("messages", 1, "content", 0, "text")] == Span(Pos(6, 14), Pos(7, 36))
    # The messages list ends at its last scalar, not at the comment or `tools:`.
    assert doc.spans[("messages",)].end == Pos(9, 33)
    assert doc.spans[("messages", 0)] == Span(Pos(2, 4), Pos(3, 18))
    assert doc.key_span(("tools",)) == Span(Pos(11, 0), Pos(11, 5))


def test_span_falls_back_to_the_nearest_ancestor() -> None:
    doc = parse_document(PROMPT, None)
    assert doc.span(("messages", 1, "content", 7)) == doc.spans[("messages", 1, "content")]


def test_columns_are_code_points_and_lines_follow_lsp_breaks() -> None:
    # U+2028 is a line break for YAML but not for editors; emoji are one code point.
    text = 'a: "x\u2028y"\nb: 😀😀 z\nc: w\n'
    doc = parse_document(text, None)
    assert doc.data == {"a": "x\u2028y", "b": "😀😀 z", "c": "w"}
    assert doc.spans[("b",)] == Span(Pos(1, 3), Pos(1, 7))
    assert doc.spans[("c",)] == Span(Pos(2, 3), Pos(2, 4))


def test_position_of_counts_crlf_and_cr_as_one_break() -> None:
    text = "a\r\nbc\rd\ne"
    assert position_of(text, text.index("c")) == Pos(1, 1)
    assert position_of(text, text.index("d")) == Pos(2, 0)
    assert position_of(text, text.index("e")) == Pos(3, 0)


def test_yaml_syntax_error_has_line_column_and_readable_message() -> None:
    text = "model: x\nmessages:\n  - role: user\n    content: hi\n  oops\nbudget: 1\n"
    doc, f = only(text, "yaml-syntax")
    assert f.severity == Severity.ERROR and f.blocking
    assert f.message.startswith("YAML: could not find expected ':'")
    assert "line 5" in f.message  # where the broken key starts
    assert f.span.start == Pos(5, 0)
    assert doc.data is None


def test_unclosed_flow_sequence_points_at_the_end() -> None:
    _, f = only("messages: [\n  {role: user, content: hi}\n", "yaml-syntax")
    assert f.span.start == Pos(2, 0)
    assert "flow sequence" in f.message


def test_tab_indentation_is_explained() -> None:
    _, f = only("messages:\n\t- role: user\n", "yaml-syntax")
    assert f.span == Span(Pos(1, 0), Pos(1, 1))
    assert "tabs" in f.message


def test_duplicate_key_warns_on_the_second_and_last_wins() -> None:
    text = "model: a\nmessages:\n  - {role: user, content: one}\n  - {role: user, content: two}\nmessages: []\n"
    doc, f = only(text, "yaml-duplicate-key")
    assert f.severity == Severity.WARNING and not f.blocking
    assert f.span == Span(Pos(4, 0), Pos(4, 8))
    assert doc.data["messages"] == []
    # Ranges of the overwritten value are gone, the new ones are in place.
    assert ("messages", 1) not in doc.spans
    assert doc.spans[("messages",)] == Span(Pos(4, 10), Pos(4, 12))


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    doc, f = only("\n".join(lines) + "\n", "yaml-too-complex")
    assert time.perf_counter() - start < 2
    assert f.blocking and doc.data is None
    assert f"{MAX_ALIAS_NODES:,}" in f.message
    assert f.span.start.line > 0  # at the alias that crossed the limit


def test_moderate_aliases_expand_with_ranges() -> None:
    text = "shared: &s {role: user, content: hi}\nmessages:\n  - *s\n  - *s\n"
    doc = parse_document(text, None)
    assert doc.findings == []
    assert doc.data["messages"] == [{"role": "user", "content": "hi"}] * 2
    assert doc.spans[("messages", 1)] == Span(Pos(3, 4), Pos(3, 6))  # where the alias is written
    assert doc.spans[("messages", 1, "content")] == Span(Pos(0, 33), Pos(0, 35))  # the anchored text


def test_recursive_alias_does_not_loop() -> None:
    doc, f = only("a: &x\n  b: *x\n", "yaml-recursive-alias")
    assert f.blocking and f.span == Span(Pos(1, 5), Pos(1, 7))
    assert doc.data == {"a": {"b": None}}
    assert codes("&x [*x, *x]\n").count("yaml-recursive-alias") == 2


def test_undefined_alias() -> None:
    _, f = only("model: *nope\n", "yaml-undefined-alias")
    assert f.span == Span(Pos(0, 7), Pos(0, 12))


def test_deep_nesting_is_refused_without_recursion() -> None:
    start = time.perf_counter()
    _doc, f = only("[" * 100_000 + "]" * 100_000, "yaml-too-complex")  # PyYAML's C composer segfaults here
    assert time.perf_counter() - start < 2
    assert "deeper than" in f.message
    deep_block = "a:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(250))
    assert "yaml-too-complex" in codes(deep_block)


_DEEP = {
    # libyaml (PyYAML >= 6.0.4) stops one line of brackets at its own limit while scanning ahead.
    "one line of brackets": "messages: " + "[" * 100_000 + "]" * 100_000 + "\n",
    # One bracket per line: every PyYAML accepts this; only our depth rule refuses it.
    "a bracket per line": "messages:\n" + "  [\n" * (MAX_DEPTH + 50) + "  ]\n" * (MAX_DEPTH + 50),
    "block mappings": "a:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(MAX_DEPTH + 50)),
}


def _crossing(text: str) -> Pos:
    """Where the collection that crosses the limit starts: the root mapping is level 1, so the
    MAX_DEPTH-th bracket (or, in the block case, the key on line MAX_DEPTH) is level MAX_DEPTH + 1."""
    if "k0" in text:
        return Pos(MAX_DEPTH, 2 * MAX_DEPTH)
    return position_of(text, [i for i, ch in enumerate(text) if ch == "["][MAX_DEPTH - 1])


@pytest.mark.parametrize("text", _DEEP.values(), ids=_DEEP.keys())
@pytest.mark.parametrize("loader", ["C", "pure-Python"])
def test_depth_rule_is_ours_whatever_pyyaml_does(text: str, loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same finding, message and range with libyaml or without it, on every PyYAML version."""
    if loader == "pure-Python":
        monkeypatch.setattr(document, "_Loader", yaml.SafeLoader)
    _doc, f = only(text, "yaml-too-complex")
    assert f.message == f"YAML too complex: nested deeper than {MAX_DEPTH} levels; refusing to expand it"
    assert f.span.start == _crossing(text) and f.blocking


def test_depth_rule_accepts_the_limit_itself() -> None:
    text = "messages: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n"
    assert "yaml-too-complex" not in codes(text)


def test_an_ordinary_syntax_error_stays_a_syntax_error() -> None:
    _doc, f = only("messages: [1, 2\nmodel: x\n", "yaml-syntax")
    assert f.blocking


def test_merge_keys() -> None:
    text = "base: &b {role: user, content: default}\nmessages:\n  - <<: *b\n    content: mine\n"
    doc = parse_document(text, None)
    assert doc.findings == []
    assert doc.data["messages"] == [{"role": "user", "content": "mine"}]
    assert doc.spans[("messages", 0, "content")] == Span(Pos(3, 13), Pos(3, 17))
    assert doc.spans[("messages", 0, "role")] == Span(Pos(0, 16), Pos(0, 20))
    assert ("messages", 0, "<<") not in doc.spans


def test_empty_and_comment_only_files() -> None:
    for text in ("", "   \n\n", "# just a comment\n", "---\n", "---\n...\n"):
        doc, f = only(text, "empty-file")
        assert f.blocking and "messages:" in f.message
        assert doc.data is None


def test_non_mapping_root() -> None:
    _doc, f = only("- role: user\n  content: hi\n", "schema-root")
    assert f.blocking and "not a list" in f.message
    assert f.span == Span(Pos(0, 0), Pos(1, 13))
    _, f = only("just some prose\n", "schema-root")
    assert "just some prose" in f.message


def test_multiple_documents() -> None:
    doc, f = only("model: a\nmessages: []\n---\nmodel: b\n", "yaml-multiple-documents")
    assert f.blocking and f.span.start == Pos(2, 0)
    assert doc.data == {"model": "a", "messages": []}


def test_binary_garbage_and_nul() -> None:
    _, f = only("model: x\x00y\n", "yaml-invalid-character")
    assert f.span == Span(Pos(0, 8), Pos(0, 9)) and "binary" in f.message
    rng = random.Random(7)
    for _ in range(20):
        garbage = bytes(rng.randrange(256) for _ in range(2000)).decode("utf-8", "surrogateescape")
        doc = parse_document(garbage, None)
        assert doc.findings and all(f.blocking for f in doc.findings if f.severity == Severity.ERROR)
    doc = parse_document(os.urandom(512).decode("latin-1"), None)
    assert doc.findings


def test_invalid_utf8_byte_is_named() -> None:
    _, f = only("model: caf\udce9\n", "yaml-invalid-character")
    assert "0xe9" in f.message and f.span.start == Pos(0, 10)


def test_tags_and_odd_keys_become_plain_values() -> None:
    text = ("bin: !!binary aGVsbG8=\nwhen: 2024-05-01\nwhen2: 2024-05-01 10:00:00\ncustom: !thing value\n"
            "n: 0x10\nflag: yes\nnull_: ~\n1: one\ntrue: t\nbadint: !!int zz\n")
    doc = parse_document(text, None)
    assert doc.findings == []
    assert doc.data == {"bin": "aGVsbG8=", "when": "2024-05-01", "when2": "2024-05-01 10:00:00",
                        "custom": "value", "n": 16, "flag": True, "null_": None, "1": "one", "true": "t",
                        "badint": "zz"}


def test_bom_is_not_content() -> None:
    doc = parse_document("\ufeffmodel: x\n", None)
    assert doc.data == {"model": "x"} and doc.findings == []


def test_huge_text_parses_in_reasonable_time() -> None:
    body = ("  " + "lorem ipsum dolor sit amet, consectetur adipiscing elit " * 2 + "\n") * 44_000
    text = "model: x\nsystem: |\n" + body + "messages:\n  - role: user\n    content: hi\n"
    assert len(text) > 5_000_000
    start = time.perf_counter()
    doc = parse_document(text, None)
    assert time.perf_counter() - start < 10
    assert doc.findings == [] and len(doc.data["system"]) > 4_900_000
    assert doc.spans[("messages", 0, "content")].start.line == 44_004


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*list("ab: -[]{}&*!|>'\"#\n\t\x00?,%@`~<"), "\u2028", "é"]),
               max_size=80))
def test_never_raises(text: str) -> None:
    doc = parse_document(text, None)
    last_line = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")) - 1
    for f in doc.findings:
        assert f.span.start <= f.span.end and f.span.end.line <= last_line


def test_a_jinja_template_says_it_is_one() -> None:
    doc = parse_document('name: x\n{% import "macros.j2" as m %}\nmessages:\n  - role: user\n    content: hi\n', None)
    (f,) = doc.findings
    assert f.code == "yaml-syntax" and f.blocking and doc.data is None
    assert f.message.startswith("this is a Jinja template (`{% import \"macros.j2\" as m %}` on line 2)")
    assert f.span.start.line == 1 and f.span.start.col == 0
    plain = parse_document("messages: [\n", None).findings[0]
    assert "Jinja" not in plain.message
