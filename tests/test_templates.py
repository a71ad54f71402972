"""`{{var}}` templates as GitHub Models files use them."""

import pytest

from promptls.document import parse_document
from promptls.model import Finding, Severity, Span
from promptls.schema import to_spec
from promptls.templates import substitute, template_findings, variables


def test_variables_in_order_of_first_use_each_once() -> None:
    text = "Summarise {{company}}'s {{ year }} filing for {{company}}; cite {{source}}."
    assert variables(text) == ["company", "year", "source"]


def test_whitespace_inside_braces_is_allowed() -> None:
    out, missing = substitute("Hello {{ name }} and {{name}} and {{\tname\t}}", {"name": "Ada"})
    assert out == "Hello Ada and Ada and Ada"
    assert missing == []


def test_unknown_variables_are_left_as_written_and_reported_once() -> None:
    out, missing = substitute("{{a}} {{ b }} {{b}} {{c}}", {"a": "x"})
    assert out == "x {{ b }} {{b}} {{c}}"
    assert missing == ["b", "c"]


def test_non_string_values_read_as_yaml_wrote_them() -> None:
    out, _ = substitute("{{n}} {{f}} {{t}} {{z}} {{items}}", {"n": 3, "f": 1.5, "t": True, "z": None,
                                                               "items": [1, 2]})
    assert out == "3 1.5 true  [1, 2]"


def test_substitution_is_one_pass() -> None:
    out, missing = substitute("{{a}}", {"a": "{{b}}", "b": "no"})
    assert out == "{{b}}"
    assert missing == []


def test_text_without_placeholders_and_odd_braces_is_unchanged() -> None:
    for text in ("plain", "{single}", "{{}}", "{{ two words }}", "json: {\"a\": {\"b\": 1}}"):
        assert substitute(text, {"two": 1, "single": 2}) == (text, [])
        assert variables(text) == []


# -- findings: values filled at run time, nested rows, missing values; each at the {{var}} --------------

ELEVEN = ["company", "product", "audience", "tone", "length", "language", "region", "channel", "goal",
          "deadline", "contact"]


def findings_of(text: str) -> list[Finding]:
    doc = parse_document(text, None)
    spec, _ = to_spec(doc, "claude-sonnet-4-6")
    assert spec is not None
    return template_findings(spec, doc)


@pytest.mark.parametrize("test_data", ["", "testData: []\n"])
def test_no_test_data_means_run_time_values_one_finding_not_one_per_variable(test_data: str) -> None:
    body = "".join(f"      {v}: {{{{{v}}}}}\n" for v in ELEVEN)
    (f,) = findings_of("messages:\n  - role: user\n    content: |\n" + body + test_data)
    assert f.code == "template-runtime-variables" and f.severity == Severity.INFO and not f.blocking
    assert f.data["variables"] == ELEVEN and "run time" in f.message and "gh models run --var" in f.message
    assert f.span == Span.at(3, 15, 3, 26)  # the first `{{company}}`, inside the block scalar


def test_declared_without_default_is_run_time_with_default_is_a_value() -> None:
    text = ("variables:\n  - name: greeting\n    default: Hello\n  - name: person\n    required: true\n"
            "messages:\n  - role: user\n    content: '{{greeting}}, {{person}}!'\n")
    (f,) = findings_of(text)
    assert f.code == "template-runtime-variables" and f.data["variables"] == ["person"]
    assert f.span == Span.at(7, 28, 7, 38)


def test_rows_nested_under_vars_say_what_happens_and_why() -> None:
    text = ("messages:\n  - role: user\n    content: Haiku about {{subject}} in {{ season }}.\n"
            "testData:\n  - vars:\n      subject: rivers\n      season: spring\n")
    (f,) = findings_of(text)
    assert f.code == "template-variable-nested" and f.severity == Severity.WARNING
    assert "`vars:`" in f.message and "line 5" in f.message and "top-level keys" in f.message
    assert "add it to testData" not in f.message and "Move them up one level" in f.message
    assert f.data["variables"] == ["subject", "season"]
    assert f.span == Span.at(2, 25, 2, 36)


def test_a_value_missing_from_a_row_is_a_warning_at_each_placeholder() -> None:
    text = ("messages:\n  - role: system\n    content: Blurbs for {{brand}}.\n  - role: user\n"
            "    content: |\n      Describe {{product}}\n      for {{audience}}.\n"
            "testData:\n  - {product: kettle, audience: cooks}\n  - {product: toaster}\n")
    brand, audience = findings_of(text)
    assert (brand.code, audience.code) == ("template-variable-missing",) * 2
    assert brand.span == Span.at(2, 24, 2, 33) and "any testData row" in brand.message
    assert audience.span == Span.at(6, 10, 6, 22) and "testData row 2" in audience.message
