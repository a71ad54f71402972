"""The prompt file format: GitHub Models files, our additions, located validation, the JSON Schema."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from promptls.document import parse_document
from promptls.model import Finding, Pos, PromptSpec, Severity, Span
from promptls.schema import KNOWN_METADATA_KEYS, json_schema, to_spec

GITHUB_MODELS = """\
name: Text Summarizer
description: Summarizes input text concisely
model: openai/gpt-4o-mini
modelParameters:
  temperature: 0.5
  maxTokens: 300
  topP: 0.9
messages:
  - role: system
    content: You are a text summarizer. Your only job is to summarize text given to you.
  - role: user
    content: |
      Summarize the given text, beginning with "Summary -":
      <text>
      {{input}}
      </text>
testData:
  - input: |
      The quick brown fox jumped over the lazy dog.
    expected: Summary - A fox jumped over a dog.
  - input: Another text.
    expected: Summary - Text.
evaluators:
  - name: Output should start with 'Summary -'
    string:
      startsWith: 'Summary -'
  - name: Similarity
    uses: github/similarity
responseFormat: text
"""

BLOCKS = """\
model: claude-sonnet-4-6
system:
  - text: You are a careful analyst.
    cache_control: {type: ephemeral}
messages:
  - role: user
    content:
      - text: Compare these.
      - document: filings/q3.pdf
        title: Q3 filing
      - image: charts/revenue.png
      - type: image
        source: {type: base64, media_type: image/png, data: iVBORw0KGgo=}
      - type: document
        source: {type: url, url: "https://example.com/a.pdf"}
      - type: text
        text: raw text block
attachments:
  - notes/brief.md
  - {path: filings/q2.pdf, title: Q2}
"""

TOOLS = """\
model: anthropic/claude-opus-4-6
messages:
  - role: user
    content: What is ACME trading at?
  - role: assistant
    content:
      - type: tool_use
        id: toolu_01
        name: get_stock_price
        input: {ticker: ACME}
  - role: user
    content:
      - type: tool_result
        tool_use_id: toolu_01
        content: "42.10"
tools:
  - name: get_stock_price
    description: Latest price for a ticker.
    input_schema: {type: object, properties: {ticker: {type: string}}, required: [ticker]}
  - type: bash_20250124
    name: bash
tool_choice: {type: tool, name: get_stock_price}
thinking: {type: enabled, budget_tokens: 2048}
max_tokens: 8192
budget: {inputTokens: 5000}
"""


def spec_of(text: str) -> tuple[PromptSpec | None, list[Finding], Any]:
    doc = parse_document(text, None)
    assert not any(f.blocking for f in doc.findings), doc.findings
    spec, findings = to_spec(doc, "claude-sonnet-4-6")
    return spec, findings, doc


def one(findings: list[Finding], code: str) -> Finding:
    found = [f for f in findings if f.code == code]
    assert len(found) == 1, findings
    return found[0]


def schema_valid(text: str) -> bool:
    return jsonschema.Draft7Validator(json_schema()).is_valid(yaml.safe_load(text))


def test_github_models_file() -> None:
    spec, findings, _ = spec_of(GITHUB_MODELS)
    assert findings == []  # metadata keys (name, description, evaluators, responseFormat) pass silently
    assert spec is not None
    assert spec.model == "openai/gpt-4o-mini"  # kept as written; the catalog decides what to count with
    assert spec.system == "You are a text summarizer. Your only job is to summarize text given to you."
    assert spec.system_path == ("messages", 0)
    assert spec.hoisted_system_paths == [("messages", 0)]
    assert [m.role for m in spec.messages] == ["user"]
    assert spec.messages[0].path == ("messages", 1)
    assert spec.max_tokens == 300
    assert [row["expected"] for row in spec.test_data] == ["Summary - A fox jumped over a dog.", "Summary - Text."]
    assert schema_valid(GITHUB_MODELS)


def test_content_blocks_and_attachments() -> None:
    spec, findings, doc = spec_of(BLOCKS)
    assert findings == []
    assert spec is not None
    assert isinstance(spec.system, list) and spec.system[0].kind == "text"
    assert spec.system[0].extra == {"cache_control": {"type": "ephemeral"}}
    blocks = spec.messages[0].content
    assert isinstance(blocks, list)
    assert [b.kind for b in blocks] == ["text", "document", "image", "raw", "raw", "text"]
    assert blocks[1].value == "filings/q3.pdf" and blocks[1].extra == {"title": "Q3 filing"}
    # The shorthand's path is the scalar naming the file, so attachment findings land on it.
    assert blocks[2].path == ("messages", 0, "content", 2, "image")
    assert doc.span(blocks[2].path) == Span(Pos(10, 15), Pos(10, 33))
    assert blocks[3].value["source"]["type"] == "base64" and blocks[3].extra == {}
    assert blocks[4].extra == {"source_type": "url"}
    assert blocks[5].value == "raw text block"
    assert [(a.ref, a.path) for a in spec.attachments] == [
        ("notes/brief.md", ("attachments", 0)), ("filings/q2.pdf", ("attachments", 1, "path"))]
    assert schema_valid(BLOCKS)


def test_tools_tool_choice_thinking_budget() -> None:
    spec, findings, _ = spec_of(TOOLS)
    assert findings == []
    assert spec is not None
    assert spec.model == "anthropic/claude-opus-4-6"
    assert [t["name"] for t in spec.tools] == ["get_stock_price", "bash"]
    assert spec.tools_path == ("tools",)
    assert spec.tool_choice == {"type": "tool", "name": "get_stock_price"}
    assert spec.thinking == {"type": "enabled", "budget_tokens": 2048}
    assert spec.max_tokens == 8192 and spec.budget_input_tokens == 5000
    kinds = [b.kind for m in spec.messages if isinstance(m.content, list) for b in m.content]
    assert kinds == ["tool_use", "tool_result"]
    assert schema_valid(TOOLS)


@pytest.mark.parametrize(("choice", "expected"), [
    ("auto", {"type": "auto"}),
    ("Any", {"type": "any"}),
    ("none", {"type": "none"}),
    ("{type: auto, disable_parallel_tool_use: true}", {"type": "auto", "disable_parallel_tool_use": True}),
    ("{type: tool, name: lookup}", {"type": "tool", "name": "lookup"}),
])
def test_tool_choice_variants(choice: str, expected: dict[str, Any]) -> None:
    text = ("messages: [{role: user, content: hi}]\n"
            "tools: [{name: lookup, input_schema: {type: object}}]\n"
            f"tool_choice: {choice}\n")
    spec, findings, _ = spec_of(text)
    assert findings == [] and spec is not None
    assert spec.tool_choice == expected


def test_tool_choice_errors() -> None:
    base = "messages: [{role: user, content: hi}]\ntools: [{name: lookup, input_schema: {type: object}}]\n"
    _, findings, _ = spec_of(base + "tool_choice: {type: tool, name: lokup}\n")
    f = one(findings, "schema-tool-choice")
    assert f.blocking and "did you mean `lookup`" in f.message
    assert f.span == Span(Pos(2, 32), Pos(2, 37))  # the misspelt name
    _, findings, _ = spec_of(base + "tool_choice: sometimes\n")
    assert one(findings, "schema-tool-choice").span == Span(Pos(2, 13), Pos(2, 22))
    _, findings, _ = spec_of("messages: [{role: user, content: hi}]\ntool_choice: any\n")
    assert "needs at least one tool" in one(findings, "schema-tool-choice").message


def test_unknown_keys_are_hints_but_metadata_keys_are_silent() -> None:
    text = ("version: 2\nauthors: [me]\ntags: [x]\nmetadata: {team: a}\n$schema: ./prompt.schema.json\n"
            "flavour: vanilla\nmesages: []\nmessages:\n  - role: user\n    content: hi\n    mood: calm\n")
    _, findings, _ = spec_of(text)
    hints = [f for f in findings if f.code == "unknown-key"]
    assert [f.data["key"] for f in hints] == ["flavour", "mesages", "mood"]
    assert all(f.severity == Severity.HINT and not f.blocking for f in hints)
    assert hints[0].span == Span(Pos(5, 0), Pos(5, 7))
    assert "did you mean `messages`" in hints[1].message
    assert {"version", "authors", "evaluators", "responseFormat", "$schema"} <= KNOWN_METADATA_KEYS


def test_missing_messages() -> None:
    _, findings, _ = spec_of("model: claude-sonnet-4-6\nsystem: hi\n")
    f = one(findings, "schema-missing")
    assert f.blocking and "messages" in f.message and f.span == Span(Pos(0, 0), Pos(0, 5))
    _, findings, _ = spec_of("messages:\n  - role: system\n    content: only a system prompt\n")
    assert "at least one user or assistant message" in one(findings, "schema-missing").message


def test_wrong_types_and_roles_point_at_the_value() -> None:
    _, findings, _ = spec_of("messages: hello\n")
    f = one(findings, "schema-type")
    assert f.blocking and f.span == Span(Pos(0, 10), Pos(0, 15)) and "not text" in f.message
    _, findings, _ = spec_of("messages:\n  - role: robot\n    content: beep\n")
    f = one(findings, "schema-role")
    assert f.blocking and f.span == Span(Pos(1, 10), Pos(1, 15))
    _, findings, _ = spec_of("messages:\n  - role: user\n")
    assert "content" in one(findings, "schema-missing").message
    _, findings, _ = spec_of("messages: [{role: user, content: [{text: a, image: b.png}]}]\n")
    assert "split it" in one(findings, "schema-type").message
    _, findings, _ = spec_of("messages: [{role: user, content: hi}]\nbudget: {input_tokens: lots}\n")
    ignored = one(findings, "schema-value-ignored")  # a budget is never sent: it cannot make the file invalid
    assert ignored.span == Span(Pos(1, 23), Pos(1, 27)) and not ignored.blocking
    _, findings, _ = spec_of("messages: [{role: user, content: hi}]\nsystem: [{image: a.png}]\n")
    assert "text only" in one(findings, "schema-type").message


def test_empty_content_is_a_warning() -> None:
    spec, findings, _ = spec_of("messages:\n  - role: user\n    content: ''\n  - role: user\n    content: []\n")
    empties = [f for f in findings if f.code == "schema-empty-content"]
    assert len(empties) == 2 and all(f.severity == Severity.WARNING and not f.blocking for f in empties)
    assert empties[0].span == Span(Pos(2, 13), Pos(2, 15))
    assert spec is not None and len(spec.messages) == 2


def test_assistant_first_and_consecutive_roles_are_fine() -> None:
    text = ("messages:\n  - {role: assistant, content: Hi}\n  - {role: User, content: a}\n"
            "  - {role: user, content: b}\n")
    spec, findings, _ = spec_of(text)
    assert findings == [] and spec is not None
    assert [m.role for m in spec.messages] == ["assistant", "user", "user"]


def test_system_key_and_system_messages_combine_into_blocks() -> None:
    text = "system: Be brief.\nmessages:\n  - {role: system, content: Use British spelling.}\n" \
           "  - {role: user, content: hi}\n"
    spec, findings, _ = spec_of(text)
    assert findings == [] and spec is not None
    assert isinstance(spec.system, list)
    assert [b.value for b in spec.system] == ["Be brief.", "Use British spelling."]
    assert [b.path for b in spec.system] == [("system",), ("messages", 0, "content")]
    assert spec.system_path == ("system",) and spec.hoisted_system_paths == [("messages", 0)]


def test_variables_fill_every_test_row() -> None:
    text = ("messages: [{role: user, content: '{{a}} {{b}}'}]\nvariables: {a: 1, b: 2}\n"
            "testData:\n  - {b: 3}\n  - {a: 4}\n")
    spec, _, _ = spec_of(text)
    assert spec is not None and spec.test_data == [{"a": 1, "b": 3}, {"a": 4, "b": 2}]
    spec, _, _ = spec_of("messages: [{role: user, content: hi}]\nvariables: {a: 1}\n")
    assert spec is not None and spec.test_data == [{"a": 1}]


@pytest.mark.parametrize(("text", "max_tokens", "budget"), [
    ("modelParameters: {maxTokens: 100}\nbudget: 900\n", 100, 900),
    ("modelParameters: {max_tokens: 200}\nbudget: {input_tokens: 800}\n", 200, 800),
    ("max_tokens: 300\n", 300, None),
])
def test_max_tokens_and_budget_spellings(text: str, max_tokens: int, budget: int | None) -> None:
    spec, findings, _ = spec_of("messages: [{role: user, content: hi}]\n" + text)
    # modelParameters.max_tokens is read, with a hint that GitHub Models reads only maxTokens
    assert [f.code for f in findings] == (["max-tokens-snake-case"] if "{max_tokens" in text else [])
    assert all(f.severity == Severity.HINT for f in findings) and spec is not None
    assert (spec.max_tokens, spec.budget_input_tokens) == (max_tokens, budget)


def test_thinking_checks() -> None:
    _, findings, _ = spec_of("messages: [{role: user, content: hi}]\nmax_tokens: 400\n"
                             "thinking: {type: enabled, budget_tokens: 500}\n")
    assert sorted(f.code for f in findings) == ["schema-thinking", "schema-thinking"]
    spec, findings, _ = spec_of("messages: [{role: user, content: hi}]\nthinking: {type: adaptive}\n")
    assert findings == [] and spec is not None and spec.thinking == {"type": "adaptive"}
    _, findings, _ = spec_of("messages: [{role: user, content: hi}]\nthinking: {type: deep}\n")
    assert one(findings, "schema-thinking").blocking


def test_duplicate_and_incomplete_tools() -> None:
    text = ("messages: [{role: user, content: hi}]\ntools:\n  - {name: a, input_schema: {}}\n"
            "  - {name: a, input_schema: {}}\n  - {name: b}\n")
    spec, findings, _ = spec_of(text)
    assert one(findings, "schema-duplicate-tool").span == Span(Pos(3, 11), Pos(3, 12))
    assert "input_schema" in one(findings, "schema-missing").message
    assert spec is not None and [t["name"] for t in spec.tools] == ["a"]


def test_non_mapping_data_gives_no_spec_and_no_repeated_finding() -> None:
    doc = parse_document("- a\n", None)
    assert to_spec(doc, "claude-sonnet-4-6") == (None, [])


def test_json_schema_rejects_what_promptls_rejects() -> None:
    validator = jsonschema.Draft7Validator(json_schema())
    assert not validator.is_valid({"messages": "hello"})
    assert not validator.is_valid({"messages": [{"role": "robot", "content": "x"}]})
    assert not validator.is_valid({"messages": [{"role": "user", "content": [{"image": 3}]}]})
    assert not validator.is_valid({"system": "x"})
    assert validator.is_valid({"messages": [{"role": "User", "content": "x"}], "anything": {"extra": 1}})


def test_shipped_schema_file_is_in_sync() -> None:
    shipped = resources.files("promptls").joinpath("prompt.schema.json").read_text(encoding="utf-8")
    assert shipped == json.dumps(json_schema(), indent=2) + "\n", \
        "regenerate: python -c 'import json; from promptls.schema import json_schema; " \
        "print(json.dumps(json_schema(), indent=2))' > server/promptls/prompt.schema.json"
    jsonschema.Draft7Validator.check_schema(json.loads(shipped))


def test_examples_directory_files_are_schema_valid() -> None:
    from pathlib import Path

    files = sorted((Path(__file__).parent.parent / "examples").rglob("*.prompt.y*ml"))
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert schema_valid(text), path
        _, findings, _ = spec_of(text)
        assert not any(f.blocking for f in findings), (path, findings)


_KEYS = st.sampled_from(["model", "system", "messages", "role", "content", "text", "image", "document", "type",
                         "source", "tools", "name", "input_schema", "tool_choice", "attachments", "path",
                         "testData", "variables", "budget", "input_tokens", "modelParameters", "maxTokens",
                         "max_tokens", "thinking", "budget_tokens", "user", "tool", "enabled", "base64", "x"])
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5000) | _KEYS | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
    max_leaves=30)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, max_size=8))
def test_to_spec_never_raises_and_spec_is_well_typed(data: dict[str, Any]) -> None:
    doc = parse_document(yaml.safe_dump(data), None)
    spec, findings = to_spec(doc, "claude-sonnet-4-6")
    assert spec is not None
    assert all(m.role in ("user", "assistant") for m in spec.messages)
    assert all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in spec.tools)
    assert all(isinstance(row, dict) for row in spec.test_data)
    assert spec.max_tokens is None or spec.max_tokens > 0
    assert all(isinstance(f.span.start.line, int) for f in findings)


# -- real repositories: what promptls does not send never makes a file invalid -------------------------

def test_variables_as_a_list_of_declarations_defaults_are_values() -> None:
    spec, findings, _ = spec_of(
        "variables:\n  - name: topic\n    description: What to write about\n    type: string\n    required: true\n"
        "  - name: tone\n    default: friendly\n  - audience\n  - {region: EU}\n"
        "messages:\n  - role: user\n    content: '{{tone}} text on {{topic}}'\n")
    assert findings == [] and spec is not None
    assert spec.test_data == [{"tone": "friendly", "region": "EU"}]
    spec, _, _ = spec_of("variables:\n  - name: tone\n    default: dry\nmessages: [{role: user, content: x}]\n"
                         "testData:\n  - {topic: a}\n  - {topic: b, tone: warm}\n")
    assert spec is not None and spec.test_data == [{"tone": "dry", "topic": "a"}, {"tone": "warm", "topic": "b"}]


@pytest.mark.parametrize("extra", [
    "variables: 42\n", "variables: [[a]]\n", "testData: {a: 1}\n", "testData: [1, {a: 2}]\n",
    "modelParameters: fast\n", "modelParameters: {maxTokens: lots}\n", "budget: lots\n", "model: 4\n",
])
def test_bad_values_in_keys_never_sent_are_warnings_not_invalid(extra: str) -> None:
    _, findings, _ = spec_of("messages: [{role: user, content: hi}]\n" + extra)
    (f,) = findings
    assert f.code == "schema-value-ignored" and f.severity == Severity.WARNING and not f.blocking


@pytest.mark.parametrize(("typo", "meant"), [("sytem", "system"), ("tols", "tools"), ("Model", "model"),
                                             ("test_data", "testData"), ("atachments", "attachments")])
def test_near_miss_of_a_sent_key_is_a_warning_with_did_you_mean(typo: str, meant: str) -> None:
    _, findings, _ = spec_of(f"messages: [{{role: user, content: hi}}]\n{typo}: [x]\n")
    f = one(findings, "key-typo")
    assert f.severity == Severity.WARNING and not f.blocking and f.span.start == Pos(1, 0)
    assert f"did you mean `{meant}`?" in f.message and "not sent or counted" in f.message


def test_misspelled_messages_and_content_are_one_located_error_each() -> None:
    _, findings, _ = spec_of("mesages:\n  - role: user\n    content: hi\n")
    (f,) = findings
    assert f.code == "schema-missing" and f.span.start == Pos(0, 0) and "did you mean `messages`?" in f.message
    _, findings, _ = spec_of("messages:\n  - role: user\n    contnet: hi\n")
    (f,) = findings
    assert f.code == "schema-missing" and f.span.start == Pos(2, 4) and "did you mean `content`?" in f.message


def test_extra_keys_of_real_repositories_are_hints_only() -> None:
    _, findings, _ = spec_of("_engine_reasoning: fast\nlast_modified: 2025-06-01\nfilepath: a/b.prompt.yml\n"
                             "messages: [{role: user, content: hi}]\n")
    assert [f.code for f in findings] == ["unknown-key"] * 3 and all(f.severity == Severity.HINT for f in findings)


def test_developer_role_is_the_system_prompt() -> None:
    spec, findings, _ = spec_of("messages:\n  - role: developer\n    content: Be brief.\n  - role: user\n"
                                "    content: hi\n")
    assert findings == [] and spec is not None and spec.system == "Be brief." and len(spec.messages) == 1
