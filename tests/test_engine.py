"""The engine end to end, offline: prompt text in, a FileReport with parts, ranges and findings out."""

from pathlib import Path

import pytest

from promptls.config import Config
from promptls.engine import analyze_file, analyze_text, estimate_counts, estimate_variants, make_report
from promptls.model import Span

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def report(text: str, tmp_path: Path, name: str = "p.prompt.yaml", **cfg):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    config = Config(root=tmp_path, **cfg)
    a = analyze_text(text, path, config)
    return make_report(a, estimate_counts(a, config), config, estimate_variants(a))


def test_docs_basic_example_is_exactly_14(tmp_path: Path) -> None:
    r = report("model: claude-3-5-sonnet-20241022\nsystem: You are a scientist\n"
               "messages:\n  - role: user\n    content: Hello, Claude\n", tmp_path)
    assert r.total == 14
    assert not r.exact
    assert sum(p.tokens for p in r.parts if p.parent is None) + r.overhead == r.total


def test_parts_have_the_lines_of_their_yaml_nodes(tmp_path: Path) -> None:
    text = ("model: claude-sonnet-4-6\n"          # 0
            "system: Be brief.\n"                  # 1
            "messages:\n"                          # 2
            "  - role: user\n"                     # 3
            "    content: Hi\n"                    # 4
            "  - role: assistant\n"                # 5
            "    content: Hello!\n"                # 6
            "  - role: user\n"                     # 7
            "    content:\n"                       # 8
            "      - text: What is 2+2?\n"         # 9
            "      - text: Answer briefly.\n")     # 10
    r = report(text, tmp_path)
    lines = {p.id: p.span.start.line for p in r.parts}
    assert lines == {"system": 1, "messages[0]": 3, "messages[1]": 5, "messages[2]": 7,
                     "messages[2].content[0]": 9, "messages[2].content[1]": 10}
    assert [p.parent for p in r.parts if p.id.startswith("messages[2].")] == ["messages[2]"] * 2
    assert r.valid and not r.findings


def test_role_system_message_is_hoisted(tmp_path: Path) -> None:
    r = report("messages:\n  - role: system\n    content: You are a scientist\n"
               "  - role: user\n    content: Hello, Claude\n", tmp_path, default_model="claude-3-5-sonnet-20241022")
    assert [(p.id, p.span.start.line) for p in r.parts] == [("system", 1), ("messages[0]", 3)]
    assert r.total == 14


def test_non_claude_model_is_counted_with_default_and_says_so(tmp_path: Path) -> None:
    r = report("model: openai/gpt-4o\nmessages:\n  - role: user\n    content: Hello\n", tmp_path)
    assert r.model == "claude-sonnet-4-6"
    (f,) = [f for f in r.findings if f.code == "model-not-claude"]
    assert f.span.start.line == 0 and f.severity == 3


def test_testdata_rows_give_min_and_max(tmp_path: Path) -> None:
    r = report("messages:\n  - role: user\n    content: 'Say hi to {{name}}'\n"
               "testData:\n  - name: Al\n  - name: " + "Bartholomew the Magnificent " * 10 + "\n", tmp_path)
    assert [v.row for v in r.variants] == [0, 1]
    assert r.variants[1].total > r.variants[0].total
    assert r.total == r.variants[0].total


def test_missing_template_variable_is_reported_at_the_placeholder(tmp_path: Path) -> None:
    r = report("messages:\n  - role: user\n    content: 'Hi {{who}}'\ntestData:\n  - {other: 1}\n", tmp_path)
    (f,) = [f for f in r.findings if f.code == "template-variable-missing"]
    assert f.span == Span.at(2, 17, 2, 24) and "who" in f.message and "row 1" in f.message


def test_budget_exceeded_points_at_budget(tmp_path: Path) -> None:
    r = report("messages:\n  - role: user\n    content: " + "word " * 200 + "\nbudget:\n  input_tokens: 50\n",
               tmp_path)
    (f,) = [f for f in r.findings if f.code == "budget-exceeded"]
    assert f.span.start.line == 3 and r.over_budget


def test_context_window_with_max_tokens(tmp_path: Path) -> None:
    r = report("model: claude-haiku-4-5\nmessages:\n  - role: user\n    content: hi\n"
               "modelParameters:\n  maxTokens: 200000\n", tmp_path)
    codes = {f.code for f in r.findings}
    assert "context-window-exceeded" in codes and "max-tokens-too-large" in codes


def test_attachment_outside_root_is_refused_and_not_counted(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    outside.write_text("secret " * 1000)
    root = tmp_path / "proj"
    root.mkdir()
    text = f"messages:\n  - role: user\n    content:\n      - document: ../{outside.name}\n      - text: hi\n"
    r = report(text, root)
    (f,) = [f for f in r.findings if f.code == "attachment-outside-root"]
    assert f.span.start.line == 3 and not r.valid
    assert r.parts == [] or all("secret" not in p.label for p in r.parts)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.rglob("*.prompt.y*ml")))
def test_every_example_is_valid(name: str) -> None:
    path = next(EXAMPLES.rglob(name))
    r = analyze_file(path, Config(root=EXAMPLES))
    assert r.valid, [f.to_json() for f in r.findings if f.blocking]
    assert r.total > 0 and r.parts


def test_research_example_measures_attachments() -> None:
    r = analyze_file(EXAMPLES / "research" / "earnings-review.prompt.yaml", Config(root=EXAMPLES))
    details = {p.label: p.detail for p in r.parts if p.detail}
    assert any("page" in d for d in details.values())
    assert any("image" in d for d in details.values())
    attachment = next(p for p in r.parts if p.kind == "attachment")
    assert attachment.parent == "messages[0]"


TOOLS = ("tools:\n  - name: get_price\n    description: Latest price.\n    input_schema: {type: object}\n"
         "  - name: get_news\n    description: Headlines.\n    input_schema: {type: object}\n")


def test_tool_use_system_prompt_is_its_own_row_and_tools_add_up(tmp_path: Path) -> None:
    r = report("model: claude-sonnet-4-6\n" + TOOLS + "messages:\n  - role: user\n    content: Hi\n", tmp_path)
    group = next(p for p in r.parts if p.id == "tools")
    kids = [p for p in r.parts if p.parent == "tools"]
    assert [p.id for p in kids] == ["tools.system", "tools[0]", "tools[1]"]
    row = kids[0]
    assert row.label == "tool-use system prompt" and row.kind == "tool-system" and row.tokens > 300
    assert sum(p.tokens for p in kids) == group.tokens
    assert sum(p.tokens for p in r.parts if p.parent is None) + r.overhead == r.total  # the row is not counted twice


def test_every_independent_problem_is_reported_in_one_pass(tmp_path: Path) -> None:
    r = report("tools:\n  - description: no name\nmessages:\n  - role: user\n    content:\n"
               "      - image: missing.png\n      - text: Hi {{who}}\ntestData:\n  - {other: 1}\n", tmp_path)
    codes = [f.code for f in r.findings]
    assert codes == ["schema-missing", "attachment-missing", "template-variable-missing"]  # sorted by position
    assert not r.valid and r.total == 0


def test_findings_are_sorted_by_position(tmp_path: Path) -> None:
    r = report("model: gpt-4o\nbudget: 5\nsytem: x\nmessages:\n  - role: user\n    content: 'Hi {{who}}'\n"
               "testData:\n  - {x: 1}\n", tmp_path)
    starts = [f.span.start for f in r.findings]
    assert len(starts) >= 4 and starts == sorted(starts)
