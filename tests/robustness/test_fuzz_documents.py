"""Fuzzed prompt files through the whole offline pipeline: parse, validate, load attachments, build the
request, estimate, report, render, and convert to LSP diagnostics.

Nothing may raise, and every range we hand out (findings, parts) must lie inside the text it was
computed on: an editor given a range past the end of a line moves the squiggle somewhere else or
drops it. Documents come in three kinds: valid shapes with hostile values (the parser and the schema
accept the structure, the values are the attack), arbitrary text (YAML-ish and anything), and
arbitrary bytes read from disk like the CLI reads them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, example, given
from hypothesis import strategies as st
from pygls.workspace.position_codec import PositionCodec

from promptls import engine
from promptls.config import Config
from promptls.lsp.diagnostics import to_diagnostics
from promptls.lsp.positions import split_lines
from promptls.model import FileReport, Severity
from promptls.render import annotations, jsonreport, table

from ._fuzz import examples, line_lengths, span_problem

ASSETS = Path(__file__).resolve().parents[2] / "examples" / "assets"
CANARY = "OUTSIDE-CANARY-3b9d"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project with real attachments, and a secret next to it that must stay unread."""
    base = tmp_path_factory.mktemp("fuzzws")
    root = base / "ws"
    shutil.copytree(ASSETS, root / "assets")
    (root / ".git").mkdir()
    (base / "secret.txt").write_text(CANARY, encoding="utf-8")
    (root / "link.txt").symlink_to(base / "secret.txt")
    yield root


PATHS = ["assets/square.png", "assets/report.pdf", "assets/notes.md", "assets/chart.gif", "assets/diagram.webp",
         "assets/screenshot.jpg", "assets", "assets/", "missing.png", "../secret.txt", "link.txt",
         "/etc/passwd", "~/.ssh/id_rsa", "/dev/zero", "%2e%2e/secret.txt", "assets/../../secret.txt",
         "http://example.com/a.png", "https://example.com/doc.pdf", "a\x00b", "", " ", "\u2024\u2024/secret.txt"]
HOSTILE = ["", " ", "\t", "{{", "}}", "{{x}}", "{{ company }}", "{{a}}{{b}}{{", "\x00", "\ufeff", "\u2028x\u2029",
           "\r", "\r\n", "\x85", "😀" * 50, "a" * 5000, "null", "~", "- x", "key: value", "&a", "*a", "!!python/object",
           "'", '"', "#", "%YAML 1.2", "---", "...", "claude-sonnet-4-6", "anthropic/claude-opus-4-7", "gpt-4o",
           "claude-", "claude-haiku-4-5-20251001", *PATHS]

hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=80),
                         st.text(st.characters(codec="utf-8"), max_size=20))
nonempty_text = hostile_text.filter(lambda t: t.strip() != "")
scalars = st.one_of(hostile_text, st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True), st.booleans(), st.none())
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                      | st.dictionaries(hostile_text, kids, max_size=4), max_leaves=12)
paths = st.one_of(st.sampled_from(PATHS), hostile_text)
counts = st.integers(1, 2_000_000)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] = values) -> st.SearchStrategy[Any]:
    """The right shape most of the time, any value sometimes: the schema must reject it precisely."""
    return st.sampled_from([True] * 15 + [False]).flatmap(lambda ok: good if ok else bad)


blocks = mostly(st.one_of(
    st.builds(lambda t: {"text": t}, nonempty_text),
    st.builds(lambda t: {"type": "text", "text": t}, hostile_text),
    st.builds(lambda p: {"image": p}, paths),
    st.builds(lambda p, t: {"document": p, "title": t}, paths, hostile_text),
    st.builds(lambda d, m: {"type": "image", "source": {"type": "base64", "media_type": m, "data": d}},
              st.sampled_from(["iVBORw0KGgo=", "", "!!!", "JVBERi0xLjQK"]), st.sampled_from(["image/png", "x/y"])),
    st.builds(lambda i, v: {"type": "tool_use", "id": i, "name": "get", "input": v}, hostile_text, values),
    st.builds(lambda i, v: {"type": "tool_result", "tool_use_id": i, "content": v}, hostile_text, values),
))
messages = st.fixed_dictionaries(
    {"role": mostly(st.sampled_from(["user", "user", "assistant", "system"]), hostile_text),
     "content": mostly(st.one_of(nonempty_text, st.lists(blocks, min_size=1, max_size=4)))},
    optional={"name": mostly(nonempty_text)})
tools = mostly(st.fixed_dictionaries({"name": mostly(st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True),
                                                          hostile_text), "description": hostile_text,
                                      "input_schema": mostly(st.just({"type": "object", "properties": {}}))}))
documents = st.fixed_dictionaries({"messages": mostly(st.lists(messages, min_size=1, max_size=6))}, optional={
    "model": mostly(st.sampled_from(["claude-sonnet-4-6", "anthropic/claude-opus-4-7", "claude-haiku-4-5",
                                     "gpt-4o", "claude-sonnet-9-9"]), hostile_text),
    "system": mostly(st.one_of(nonempty_text, st.lists(st.builds(lambda t: {"text": t}, nonempty_text), max_size=3))),
    "tools": mostly(st.lists(tools, max_size=3)),
    "tool_choice": mostly(st.sampled_from([{"type": "auto"}, "auto", "none"])),
    "attachments": mostly(st.lists(mostly(st.sampled_from(PATHS[:6]), paths), max_size=4)),
    "testData": mostly(st.lists(st.dictionaries(hostile_text, scalars, max_size=3), max_size=4)),
    "variables": mostly(st.dictionaries(hostile_text, scalars, max_size=3)),
    "budget": mostly(st.fixed_dictionaries({"input_tokens": mostly(counts, st.integers())})),
    "modelParameters": mostly(st.fixed_dictionaries({"maxTokens": mostly(counts, st.integers())})),
    "thinking": mostly(st.fixed_dictionaries({"type": st.just("enabled"),
                                              "budget_tokens": mostly(counts, st.integers())})),
    "description": hostile_text,
    "x-unknown": values,
})


@st.composite
def dumped(draw: st.DrawFn) -> str:
    """A generated document dumped in a random YAML style, sometimes mangled by a few text edits."""
    data = draw(documents)
    try:
        text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=draw(st.booleans()),
                              default_flow_style=draw(st.sampled_from([False, True, None])),
                              width=draw(st.sampled_from([20, 80, 10_000])))
    except yaml.YAMLError:
        assume(False)
    edits = draw(st.sampled_from([0, 0, 0, 1, 3]))
    for _ in range(edits):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 5))
        text = text[:at] + draw(st.sampled_from(["", "\n", " ", ":", "- ", "{", "]", "&a ", "*a", "\t", "\r", "'"])) \
            + text[at + cut:]
    return text


YAML_TOKENS = [*"-:{}[],&*!|>'\"#?%@` \n\t\rab0.~\\", "\u2028", "\x85", "é", "😀", "role", "messages", "content",
               "{{x}}", "<<", "  ", "- role: user\n", "&a ", "*a", "!!binary ", "? "]
yamlish = st.lists(st.sampled_from(YAML_TOKENS), max_size=120).map("".join)


def check(text: str, path: Path, config: Config, report: FileReport | None = None) -> FileReport:
    """Run the pipeline on `text`; assert it returns a usable report whose ranges fit the text."""
    if report is None:
        analysis = engine.analyze_text(text, path, config)
        counts = engine.estimate_counts(analysis, config)
        report = engine.make_report(analysis, counts, config, engine.estimate_variants(analysis))
    lengths = line_lengths(text)
    for f in report.findings:
        assert isinstance(f.message, str) and f.message and f.code
        problem = span_problem(f.span, lengths)
        assert problem is None, f"finding {f.code} ({f.message[:80]}): {problem}"
    for p in report.parts:
        problem = span_problem(p.span, lengths)
        assert problem is None, f"part {p.id}: {problem}"
        assert p.tokens >= 0
    assert report.total >= 0
    json.dumps(jsonreport.file_json(report, Severity.HINT), allow_nan=False)
    table.file_table(report, "p.prompt.yaml", Severity.HINT)
    located = [("p.prompt.yaml", f) for f in report.findings]
    json.dumps(annotations.sarif(located))
    annotations.github(located)
    for encoding in ("utf-16", "utf-8"):
        to_diagnostics(report.findings, split_lines(text), PositionCodec(encoding))
    assert CANARY not in json.dumps(jsonreport.file_json(report, Severity.HINT), ensure_ascii=False)
    return report


@examples(ci=400)
@given(text=dumped())
def test_valid_shapes_with_hostile_values(workspace: Path, text: str) -> None:
    check(text, workspace / "fuzz.prompt.yaml", Config(root=workspace))


@examples(ci=250)
@given(text=st.one_of(yamlish, st.text(max_size=300)))
@example(text="? ? ")  # found by the long run: libyaml's end mark on a line the text does not have
def test_arbitrary_text(workspace: Path, text: str) -> None:
    check(text, workspace / "fuzz.prompt.yaml", Config(root=workspace))


@examples(ci=150)
@given(raw=st.one_of(st.binary(max_size=300), yamlish.map(lambda t: t.encode("utf-8", "surrogatepass")),
                     st.builds(lambda a, b: a + b, st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b""]),
                               st.binary(max_size=50))))
@example(raw=b"\xef\xbb\xbf\n\x80")  # found by the long run: the BOM shifted the reported byte and column
@example(raw=b"\r\x80")  # found by the long run: a lone \r ends a line in the editor
def test_arbitrary_bytes_from_disk(workspace: Path, raw: bytes) -> None:
    path = workspace / "bytes.prompt.yaml"
    path.write_bytes(raw)
    config = Config(root=workspace)
    report = engine.analyze_file(path, config)
    check(raw.decode("utf-8-sig", "replace") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("utf-8", "replace"),
          path, config, report)


def test_the_fuzzed_workspace_attachments_do_load(workspace: Path) -> None:
    """Guard for the fuzz above: hostile values sit next to references that really load."""
    text = "messages:\n  - role: user\n    content:\n      - image: assets/square.png\n      - text: hi\n" \
           "attachments: [assets/report.pdf, ../secret.txt, link.txt]\n"
    report = check(text, workspace / "fuzz.prompt.yaml", Config(root=workspace))
    details = {p.id: p.detail for p in report.parts}
    assert "image" in details.get("messages[0].content[0]", "")
    codes = [f.code for f in report.findings]
    assert codes.count("attachment-outside-root") == 2

