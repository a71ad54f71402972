"""`{{var}}` templates as GitHub Models files use them."""

from promptls.templates import substitute, variables


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
